"""`jixiao serve`: one process that watches the inbox as `jixiao watch` does and serves the portal.

The engine's watch loop (`engine.watch_inbox`) runs on a thread of its own and holds OUT's lock for the life of
the server, as `watch` does (a `jixiao run` on the same OUT is told the folder is in use); files units submit
in the portal are written into the inbox and taken by that loop like e-mailed ones. uvicorn serves the app on
the main thread (it handles Ctrl-C); when it stops, the loop is asked to stop between files and is waited for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.batch.engine import watch_inbox
from pipeline.batch.inbox import MSG_NO_INBOX
from pipeline.batch.outcomes import Listener, RunReport
from pipeline.errors import JixiaoError
from pipeline.store.files import OutputLock
from pipeline.store.ledger import LEDGER_NAME, Ledger
from pipeline.web.app import build_app, make_portal

log = logging.getLogger(__name__)

MSG_WATCH_FAILED = "收件箱监视已停止：{error}"


class Watcher:
    """The watch loop on a thread: `start()` returns once it holds OUT's lock (or raises what stopped it)."""

    def __init__(
        self,
        inbox: Path,
        out: Path,
        *,
        workers: int | None = None,
        profile: str = "default",
        listener: Listener | None = None,
        on_pass: Callable[[RunReport], None] | None = None,
        **options: Any,
    ) -> None:
        self.args = (inbox, out)
        self.kwargs = {"workers": workers, "profile": profile, "listener": listener, "on_pass": on_pass, **options}
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="jixiao-watch", daemon=True)

    def _run(self) -> None:
        try:
            watch_inbox(*self.args, stop=self.stop, **self.kwargs)
        except BaseException as exc:
            self.error = exc
            log.error("the watch loop stopped: %s", exc)

    def start(self) -> Watcher:
        inbox, out = self.args
        if not Path(inbox).is_dir():
            raise JixiaoError(MSG_NO_INBOX.format(path=inbox))
        with OutputLock(Path(out)), Ledger(Path(out) / LEDGER_NAME):
            pass  # busy: said now, before anything is served; the ledger migrated here, before two threads open it
        self._thread.start()
        return self

    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 60.0) -> None:
        self.stop.set()
        self._thread.join(timeout)


def serve(
    inbox: Path,
    out: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    profile: str = "default",
    listener: Listener | None = None,
    on_pass: Callable[[RunReport], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Watch `inbox` into `out` and serve the portal until interrupted (Ctrl-C, SIGTERM); `on_ready()` once OUT
    is held, before the server starts."""
    import uvicorn

    watcher = Watcher(inbox, out, workers=workers, profile=profile, listener=listener, on_pass=on_pass).start()
    if on_ready is not None:
        on_ready()
    portal = make_portal(out, inbox, profile=profile)
    try:
        uvicorn.run(build_app(portal), host=host, port=port, log_level="warning", server_header=False)
    finally:
        watcher.close()
    if watcher.error is not None:
        raise JixiaoError(MSG_WATCH_FAILED.format(error=watcher.error)) from watcher.error
