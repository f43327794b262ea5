"""Safe by construction: what every request passes through, in one place.

- `BodyLimit`: a body over `PORTAL_UPLOAD_MAX_BYTES` gets the Chinese 413 page — at once when its
  Content-Length says so, else as soon as the streamed bytes pass the limit (the rest is never read).
- `Headers`: a Content-Security-Policy with no script at all (the pages need none) and styles from the
  package only; no framing, no MIME sniffing, no referrer.
- `csrf_token` / `check_csrf`: a random token kept in the session, required in every form's POST (403 without).
  The session is Starlette's signed cookie (HttpOnly, SameSite=Lax), its key kept in OUT (`secret_key`).
- `Throttle`: failed logins counted per name and per client address; past `LOGIN_ATTEMPTS` for the name (or
  `LOGIN_ATTEMPTS_PER_ADDRESS` for the address) within `LOGIN_WINDOW_S` the login is refused (429) without
  checking the code or password. A success clears the name's count, never the address's (a valid code of one's
  own must not reset the guessing of others').
- `RequireUnit` / `RequireReviewer`: the guard of every /unit and /review route; a unit's session holds its code's
  selector and is dropped once the code is renewed, a reviewer's holds the name of an existing account.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline import settings
from pipeline.store.files import cannot_write
from pipeline.web.uploads import TooLarge

SECRET_NAME = ".portal-secret"
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
MSG_CSRF = "表单已过期或来源不明，请刷新页面后重新提交"


def secret_key(out: Path) -> str:
    """The session-signing key kept in OUT (made on first use, readable by the owner only)."""
    path = Path(out) / SECRET_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="ascii") as fh:
            fh.write(key)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise cannot_write(f"门户密钥文件 {path.name}", exc) from exc
    return key


class BodyLimit:
    """ASGI middleware: bodies over `limit` bytes are answered by `too_large(scope)` (the Chinese 413)."""

    def __init__(self, app: ASGIApp, *, limit: int, too_large: Callable[[Scope], Response]) -> None:
        self.app, self.limit, self.too_large = app, limit, too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.too_large(scope)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:
                raise
            await self.too_large(scope)(scope, receive, send)


class Headers:
    """ASGI middleware: the security headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf(request: Request, sent: str | None) -> None:
    """403 unless the form carried the session's token."""
    token = request.session.get(CSRF_FIELD)
    if not token or not sent or not secrets.compare_digest(str(token), sent):
        raise HTTPException(403, MSG_CSRF)


class Throttle:
    """Failed attempts per key (`addr:` client address, `name:` what was logged in as) in a sliding window;
    thread-safe."""

    def __init__(
        self,
        *,
        attempts: int = settings.LOGIN_ATTEMPTS,
        per_address: int = settings.LOGIN_ATTEMPTS_PER_ADDRESS,
        window_s: float = settings.LOGIN_WINDOW_S,
    ) -> None:
        self.attempts, self.per_address, self.window_s = attempts, per_address, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _limit(self, key: str) -> int:
        return self.per_address if key.startswith("addr:") else self.attempts

    def blocked_for(self, keys: Sequence[str]) -> float:
        """Seconds until a login with any of `keys` may be tried again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                times[0] + self.window_s - now
                for key in keys
                if len(times := self._recent(key, now)) >= self._limit(key)
            ]
        return max(waits, default=0.0)

    def failed(self, keys: Sequence[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                if not key.startswith("addr:"):
                    self._failures.pop(key, None)


def client_keys(request: Request, name: str) -> list[str]:
    host = request.client.host if request.client else "?"
    return [f"addr:{host}", f"name:{name}"]


class _Guard:
    """ASGI middleware of a Mount: `who(request)` names the user or the request goes to `login`."""

    login = "/"
    state_key = ""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def who(self, request: Request) -> str | None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        name = self.who(request)
        if name is None:
            await RedirectResponse(self.login, status_code=303)(scope, receive, send)
            return
        scope.setdefault("state", {})[self.state_key] = name
        await self.app(scope, receive, send)


class RequireUnit(_Guard):
    """/unit/…: the session's code must still be the unit's live code."""

    login = "/login/unit"
    state_key = "unit"

    def who(self, request: Request) -> str | None:
        selector = request.session.get("unit_code")
        if not selector:
            return None
        portal: Any = request.app.state.portal
        unit = portal.unit_of_selector(str(selector))
        if unit is None:
            request.session.pop("unit_code", None)
        return unit


class RequireReviewer(_Guard):
    """/review/…: the session's reviewer must still have an account."""

    login = "/login/review"
    state_key = "reviewer"

    def who(self, request: Request) -> str | None:
        name = request.session.get("reviewer")
        portal: Any = request.app.state.portal
        if not name or not portal.reviewer_exists(str(name)):
            request.session.pop("reviewer", None)
            return None
        return str(name)
