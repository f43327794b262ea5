"""A unit's pages behind its 提交码: its submissions with status and the reviewer's 审核意见 / 备注, nothing else.

The guard (`security.RequireUnit`) puts the unit's name in `request.state.unit`; every submission a route
fetches is the unit's own or a 404, the same answer as for one that does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.model import LEVEL_ZH, STATUS_ZH
from pipeline.store.portal import submission, submissions_of
from pipeline.web.security import CSRF_FIELD, check_csrf
from pipeline.web.submit import Shown, shown
from pipeline.web.views_check import login_unit

WAITING = "已上报，等待审核"
STATUS_SHOWN = {**STATUS_ZH, "duplicate": "重复提交（与此前上报的文件相同）"}


def _portal(request: Request) -> Any:
    return request.app.state.portal


def status_text(item: Shown) -> str:
    if item.entry is None or item.entry.state == "received" or item.entry.status is None:
        return WAITING
    if item.returned:
        return "退回修改"
    return STATUS_SHOWN.get(item.entry.status, item.entry.status)


async def login_form(request: Request) -> Response:
    return _portal(request).page(request, "login_unit.html")


async def login(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    problem = await run_in_threadpool(login_unit, request, str(form.get("code") or ""))
    if problem:
        status = 429 if "次数" in problem else 403
        return _portal(request).page(request, "login_unit.html", status=status, problem=problem)
    return RedirectResponse("/unit/", status_code=303)


def _listing(request: Request) -> list[Shown]:
    portal = _portal(request)
    with portal.ledger() as ledger:
        return [shown(ledger, portal.inbox, item) for item in submissions_of(ledger, request.state.unit)]


async def home(request: Request) -> Response:
    items = await run_in_threadpool(_listing, request)
    return _portal(request).page(request, "unit.html", items=items, status_text=status_text)


def _one(request: Request) -> Shown:
    portal = _portal(request)
    with portal.ledger() as ledger:
        item = submission(ledger, request.path_params["sid"])
        if item is None or item.unit != request.state.unit:
            raise HTTPException(404)  # another unit's submission is as absent as one that never was
        return shown(ledger, portal.inbox, item)


async def detail(request: Request) -> Response:
    item = await run_in_threadpool(_one, request)
    return _portal(request).page(request, "unit_submission.html", item=item, status_text=status_text, level_zh=LEVEL_ZH)


def login_routes() -> list[Route]:
    return [Route("/login/unit", login_form), Route("/login/unit", login, methods=["POST"])]


def routes() -> list[Route]:
    return [Route("/", home), Route("/submissions/{sid:int}", detail)]
