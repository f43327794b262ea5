"""自查 and 上报 routes, open to anyone who reaches the page: upload, result, annotated download, submit, JSON API."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.errors import JixiaoError
from pipeline.model import LEVEL_ZH
from pipeline.settings import RESULT_SUFFIX
from pipeline.store.portal import submitted_check, verify_code
from pipeline.web.checks import CheckInputError, CheckRecord
from pipeline.web.security import CSRF_FIELD, check_csrf, client_keys
from pipeline.web.submit import submit
from pipeline.web.uploads import BadUpload, receive

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MSG_BAD_CODE = "提交码不正确，请核对财政局发放的提交码"
MSG_THROTTLED = "提交码或密码错误次数过多，请 {minutes} 分钟后再试"
VERDICT = {
    "ok": "未发现问题，可以上报。",
    "warnings": "没有错误，但有需要说明的提示：请在工作簿中说明或修改后上报。",
    "errors": "有错误，须修改后重新自查，再上报。",
    "rejected": "文件无法读取为绩效自评表，请按提示处理后重新上传。",
}


def _portal(request: Request) -> Any:
    return request.app.state.portal


async def home(request: Request) -> Response:
    return _portal(request).page(request, "check.html")


async def _checked(request: Request) -> tuple[CheckRecord | None, str]:
    """Receive an upload and check it: (record, "") or (None, the Chinese reason it was not checked)."""
    portal = _portal(request)
    cid, folder = await run_in_threadpool(portal.checks.new_folder)
    try:
        upload = await receive(request, folder)
        if request.url.path != "/api/check":
            check_csrf(request, upload.fields.get(CSRF_FIELD))
        return await run_in_threadpool(portal.checks.run, cid, folder, upload), ""
    except (BadUpload, CheckInputError, JixiaoError) as exc:
        portal.checks.discard(folder)
        return None, str(exc)
    except BaseException:
        portal.checks.discard(folder)
        raise


async def check(request: Request) -> Response:
    record, problem = await _checked(request)
    if record is None:
        return _portal(request).page(request, "check.html", status=400, problem=problem)
    return RedirectResponse(f"/check/{record.id}", status_code=303)


async def api_check(request: Request) -> Response:
    """`POST /api/check` (multipart, the workbook in field `workbook` or `file`): one element of `check --json`."""
    record, problem = await _checked(request)
    if record is None:
        return JSONResponse({"error": problem}, status_code=400)
    data = {k: v for k, v in record.main.items() if k not in ("status_text", "errors", "warnings")}
    return JSONResponse(data)


def _record(request: Request) -> CheckRecord:
    record = _portal(request).checks.load(request.path_params["cid"])
    if record is None:
        raise HTTPException(404)
    return record


async def result(request: Request, *, problem: str = "", status: int = 200) -> Response:
    portal = _portal(request)
    record = await run_in_threadpool(_record, request)
    with portal.ledger() as ledger:
        done = submitted_check(ledger, record.id)
    main = record.main
    findings = sorted(main["findings"], key=lambda f: f["level"] != "error")
    return portal.page(
        request,
        "result.html",
        status=status,
        record=record,
        main=main,
        findings=findings,
        level_zh=LEVEL_ZH,
        verdict=VERDICT[main["status"]],
        submitted=done,
        problem=problem,
    )


async def download(request: Request) -> Response:
    record = await run_in_threadpool(_record, request)
    path = await run_in_threadpool(_portal(request).checks.annotated, record.id)
    if path is None:
        raise HTTPException(404)
    stem = record.workbook.rsplit(".", 1)[0]
    return FileResponse(path, media_type=XLSX, filename=f"{stem}{RESULT_SUFFIX}")


async def submit_check(request: Request) -> Response:
    """上报 a checked workbook: with the unit's session, or its 提交码 typed on the result page."""
    portal = _portal(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    record = await run_in_threadpool(_record, request)
    code = str(form.get("code") or "").strip()
    if code:
        problem = await run_in_threadpool(login_unit, request, code)
        if problem:
            return await result(request, problem=problem, status=403 if "次数" not in problem else 429)
    selector = request.session.get("unit_code")
    unit = portal.unit_of_selector(str(selector)) if selector else None
    if unit is None:
        return await result(request, problem="请输入本单位的提交码", status=400)
    try:
        await run_in_threadpool(_submit, portal, unit, record)
    except JixiaoError as exc:
        return await result(request, problem=str(exc), status=400)
    return RedirectResponse("/unit/", status_code=303)


def _submit(portal: Any, unit: str, record: CheckRecord) -> None:
    book = portal.checks.workbook_path(record.id)
    if book is None:
        raise HTTPException(404)
    with portal.ledger() as ledger:
        submit(
            ledger,
            portal.inbox,
            unit=unit,
            check_id=record.id,
            workbook=book,
            client_name=record.workbook,
            found=record.main,
            report=portal.checks.report_path(record.id),
        )


def login_unit(request: Request, code: str) -> str:
    """Open a unit's session with its 提交码; the Chinese reason when it cannot be ('' when it is open)."""
    portal = _portal(request)
    keys = client_keys(request, code[:4].upper())
    wait = portal.throttle.blocked_for(keys)
    if wait > 0:
        return MSG_THROTTLED.format(minutes=max(1, round(wait / 60)))
    with portal.ledger() as ledger:
        found = verify_code(ledger, code)
    if found is None:
        portal.throttle.failed(keys)
        return MSG_BAD_CODE
    portal.throttle.succeeded(keys)
    request.session.pop("reviewer", None)
    request.session["unit_code"] = found[1]
    return ""


async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/check", check, methods=["POST"]),
        Route("/api/check", api_check, methods=["POST"]),
        Route("/check/{cid}", result),
        Route("/check/{cid}/download", download),
        Route("/check/{cid}/submit", submit_check, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
