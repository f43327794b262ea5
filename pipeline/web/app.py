"""The portal's Starlette application: `build_app(portal)`, and `Portal`, what its routes share.

Middleware, outermost first: the security headers, the body limit (Chinese 413), the signed session cookie.
The /unit and /review mounts carry their guard (`security.RequireUnit`, `RequireReviewer`): who may see a page
is decided there, and every object a route fetches by id is checked against that identity in the route's
library call. Errors become Chinese pages (`error_page`); /api answers JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from pipeline import settings
from pipeline.forms import load_profile
from pipeline.store.ledger import LEDGER_NAME, Ledger
from pipeline.store.portal import unit_of_selector, user_exists
from pipeline.web import views_check, views_review, views_unit
from pipeline.web.checker import Checker
from pipeline.web.checks import Checks
from pipeline.web.security import BodyLimit, Headers, RequireReviewer, RequireUnit, Throttle, csrf_token, secret_key

log = logging.getLogger(__name__)

SESSION_COOKIE = "jixiao_session"
STATUS_TITLES = {
    400: "请求有误",
    403: "禁止访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "上传的文件过大",
    429: "尝试次数过多",
    500: "服务器出错",
}


@dataclass
class Portal:
    """One season's portal: OUT and the inbox, the warm checker, the self-checks and the login throttle."""

    out: Path
    inbox: Path
    checker: Checker
    upload_limit: int = settings.PORTAL_UPLOAD_MAX_BYTES
    throttle: Throttle = field(default_factory=Throttle)
    harvested: dict[Path, float] = field(default_factory=dict)  # 汇总 → its mtime when its decisions were read
    checks: Checks = field(init=False)
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.out, self.inbox = Path(self.out), Path(self.inbox)
        self.checks = Checks(self.out, self.checker)
        self.templates = Environment(
            loader=PackageLoader("pipeline.web", "templates"), autoescape=select_autoescape(default=True)
        )
        self.templates.filters["when"] = when

    @contextlib.contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """OUT's ledger, one connection for the request (made when the portal is first started in OUT)."""
        with Ledger(self.out / LEDGER_NAME) as ledger:
            yield ledger

    def unit_of_selector(self, selector: str) -> str | None:
        with self.ledger() as ledger:
            return unit_of_selector(ledger, selector)

    def reviewer_exists(self, name: str) -> bool:
        with self.ledger() as ledger:
            return user_exists(ledger, name)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A template rendered with what every page shows (who is logged in, the CSRF token)."""
        scope_state = request.scope.get("state", {})
        context.setdefault("unit", scope_state.get("unit") or None)
        context.setdefault("reviewer", scope_state.get("reviewer") or request.session.get("reviewer"))
        context.setdefault("unit_logged_in", bool(request.session.get("unit_code")))
        html = self.templates.get_template(template).render(csrf=csrf_token(request), request=request, **context)
        return HTMLResponse(html, status_code=status)


def when(stamp: str | None) -> str:
    """A ledger time (`2026-12-07T03:28:22`) as pages show it: `2026-12-07 03:28`."""
    return (stamp or "").replace("T", " ")[:16]


def error_page(portal: Portal, request: Request, status: int, detail: str = "") -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail or STATUS_TITLES.get(status, "")}, status_code=status)
    title = STATUS_TITLES.get(status, "出错了")
    return portal.page(request, "error.html", status=status, title=title, detail=detail)


def _too_large(portal: Portal) -> Any:
    limit_mb = portal.upload_limit / 1024 / 1024
    detail = f"上传的文件超过 {limit_mb:g} MB 的上限，请检查是否选错了文件（绩效自评表通常不到 5 MB）"

    def answer(scope: Scope) -> Response:
        if scope["path"].startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=413)
        html = portal.templates.get_template("error.html").render(title=STATUS_TITLES[413], detail=detail, csrf="")
        return HTMLResponse(html, status_code=413, headers={"Connection": "close"})

    return answer


def build_app(portal: Portal, *, sweep_s: float = settings.PORTAL_SWEEP_S) -> Starlette:
    """The ASGI app of `portal`. Starting it (lifespan) starts the checker and the sweep of old self-checks."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with portal.ledger():
            pass  # created and migrated before the first request
        await asyncio.to_thread(portal.checker.start)
        sweeper = asyncio.create_task(_sweep(portal, sweep_s))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.to_thread(portal.checker.close)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_page(portal, request, exc.status_code, exc.detail if exc.status_code in (403, 429) else "")

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("portal error on %s", request.url.path, exc_info=exc)
        return error_page(portal, request, 500, "请稍后再试；问题持续时请联系财政局")

    static = StaticFiles(packages=[("pipeline.web", "static")])
    routes = [
        *views_check.routes(),
        *views_unit.login_routes(),
        *views_review.login_routes(),
        Mount("/unit", routes=views_unit.routes(), middleware=[Middleware(RequireUnit)]),
        Mount("/review", routes=views_review.routes(), middleware=[Middleware(RequireReviewer)]),
        Mount("/static", app=static, name="static"),
    ]
    middleware = [
        Middleware(Headers),
        Middleware(BodyLimit, limit=portal.upload_limit, too_large=_too_large(portal)),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key(portal.out),
            session_cookie=SESSION_COOKIE,
            max_age=settings.SESSION_MAX_AGE_S,
            same_site="lax",
            https_only=False,  # a bureau's own network, often plain http; the cookie is HttpOnly either way
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.portal = portal
    return app


async def _sweep(portal: Portal, every_s: float) -> None:
    while True:
        await asyncio.to_thread(portal.checks.sweep)
        await asyncio.sleep(every_s)


def make_portal(out: Path, inbox: Path, *, profile: str = "default", workers: int = settings.PORTAL_WORKERS) -> Portal:
    """A portal over OUT and INBOX with a checker of `workers` reader processes (not started yet)."""
    return Portal(out, inbox, Checker(profile=load_profile(profile), workers=workers))
