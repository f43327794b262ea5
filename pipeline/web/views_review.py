"""审核 routes behind a reviewer's login: 总览 with filters, a unit's findings with 审核意见 / 备注, 未提交, downloads.

What the pages show is what the 汇总 shows (`summary_data.year_data`, read from the ledger); a decision set here is
stored where `jixiao review` stores it (`store.decisions`), so the 汇总 shows it at its next rebuild, and one
typed into the 汇总 in OUT is read back (`decisions.harvest`) before a page shows decisions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.model import EXPLAINED_ZH, LEVEL_ZH, STATUS_ZH, cell_key
from pipeline.report.summary import summary_path
from pipeline.report.summary_data import YearData, unit_name, year_data
from pipeline.store.decisions import DECISIONS, Decision, decisions_for, harvest, store
from pipeline.store.ledger import Entry, Ledger, StoredFinding
from pipeline.store.ledger_reads import explained_ids
from pipeline.store.portal import verify_user
from pipeline.web.security import CSRF_FIELD, check_csrf, client_keys
from pipeline.web.views_check import MSG_THROTTLED, XLSX

MSG_BAD_LOGIN = "用户名或密码不正确"
SOURCE = "网页审核"
#: 有不一致: the 自评报告 disagrees with the tables, or a figure of the tables with another (an error of the forms).
REPORT_MISMATCH = ("RPT.FIGURE", "RPT.UNIT", "RPT.BREAKDOWN")
FORM_PREFIXES = ("A1.", "A2.", "A3.", "IND.")
STATUSES = ("通过", "通过（提示已说明）", "有提示", "有错误")


def _portal(request: Request) -> Any:
    return request.app.state.portal


def inconsistent(findings: list[StoredFinding]) -> bool:
    return any(f.rule in REPORT_MISMATCH or (f.level == "error" and f.rule.startswith(FORM_PREFIXES)) for f in findings)


# ------------------------------------------------------------------------------------------ login


async def login_form(request: Request) -> Response:
    return _portal(request).page(request, "login_review.html")


def _login(request: Request, name: str, password: str) -> str:
    portal = _portal(request)
    keys = client_keys(request, f"user:{name}")
    wait = portal.throttle.blocked_for(keys)
    if wait > 0:
        return MSG_THROTTLED.format(minutes=max(1, round(wait / 60)))
    with portal.ledger() as ledger:
        ok = verify_user(ledger, name, password)
    if not ok:
        portal.throttle.failed(keys)
        return MSG_BAD_LOGIN
    portal.throttle.succeeded(keys)
    request.session.pop("unit_code", None)
    request.session["reviewer"] = name
    return ""


async def login(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    name = str(form.get("name") or "").strip()
    problem = await run_in_threadpool(_login, request, name, str(form.get("password") or ""))
    if problem:
        status = 429 if "次数" in problem else 403
        return _portal(request).page(request, "login_review.html", status=status, problem=problem, name=name)
    return RedirectResponse("/review/", status_code=303)


# ------------------------------------------------------------------------------------------ pages


@dataclass(frozen=True, slots=True)
class Row:
    entry: Entry
    name: str
    department: str
    status: str
    inconsistent: bool
    returned: bool


def _year(ledger: Ledger, request: Request) -> int | None:
    years = [y for y in ledger.years() if y is not None]
    asked = request.query_params.get("year", "")
    return int(asked) if asked.isdigit() and int(asked) in years else (years[0] if years else None)


def _data(request: Request, ledger: Ledger) -> YearData:
    portal = _portal(request)
    year = _year(ledger, request)
    harvest_summary(portal, ledger, year)
    return year_data(ledger, portal.out, year, totals=False)


def harvest_summary(portal: Any, ledger: Ledger, year: int | None) -> None:
    """Decisions typed into OUT's 汇总 since it was last read: into the ledger, so the page shows them."""
    path = summary_path(portal.out, year)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return
    if portal.harvested.get(path) != mtime:
        harvest(ledger, path, year)
        portal.harvested[path] = mtime


def _rows(data: YearData) -> list[Row]:
    by_unit: dict[int, list[StoredFinding]] = {}
    for f in data.findings:
        by_unit.setdefault(f.submission_id, []).append(f)
    rows = []
    for u in data.units:
        name = unit_name(u.entry)
        listed = data.roster.found.get(name) if data.roster else None
        findings = by_unit.get(u.entry.id, [])
        returned = any(data.decision(name, f)[0] == "退回修改" for f in findings)
        rows.append(
            Row(
                u.entry,
                name,
                listed.department if listed else "",
                data.status_text(u.entry),
                inconsistent(findings),
                returned,
            )
        )
    return rows


def _overview(request: Request) -> dict[str, Any]:
    with _portal(request).ledger() as ledger:
        data = _data(request, ledger)
        rows = _rows(data)
        years = [y for y in ledger.years() if y is not None]
    q = request.query_params
    dept, status, odd = q.get("department", ""), q.get("status", ""), q.get("inconsistent", "")
    shown = [
        r
        for r in rows
        if (not dept or r.department == dept)
        and (not status or r.status == status or (status == "退回修改" and r.returned))
        and (not odd or r.inconsistent)
    ]
    departments = sorted({r.department for r in rows if r.department})
    return {
        "data": data,
        "rows": shown,
        "total": len(rows),
        "departments": departments,
        "statuses": (*STATUSES, "退回修改"),
        "years": years,
        "filters": {"department": dept, "status": status, "inconsistent": odd},
        "missing": len(data.roster.missing) if data.roster else None,
        "has_summary": summary_path(_portal(request).out, data.year).is_file(),
    }


async def overview(request: Request) -> Response:
    context = await run_in_threadpool(_overview, request)
    return _portal(request).page(request, "review.html", **context)


def _unit(request: Request) -> dict[str, Any]:
    """One workbook's findings with their decisions: read for that workbook only, not the whole year."""
    eid = request.path_params["eid"]
    with _portal(request).ledger() as ledger:
        rows = ledger.entries(where="id = ?", params=(eid,))
        if not rows or rows[0].status not in ("ok", "warnings", "errors"):
            raise HTTPException(404)
        entry = rows[0]
        harvest_summary(_portal(request), ledger, entry.year)
        decided_for = decisions_for(ledger, entry.year)
        findings = ledger.findings([entry.id])
        explained = entry.id in explained_ids(ledger, [entry.id])
    name = unit_name(entry)
    decided = [
        (f, cell_key(f.sheet, f.cells), *decided_for.get((name, f.rule, cell_key(f.sheet, f.cells)), ("", "")))
        for f in findings
    ]
    decided.sort(key=lambda x: x[0].level != "error")
    status = EXPLAINED_ZH if explained else STATUS_ZH.get(entry.status or "", "")
    return {
        "entry": entry,
        "name": name,
        "findings": decided,
        "choices": DECISIONS,
        "level_zh": LEVEL_ZH,
        "status_text": status,
    }


async def unit(request: Request) -> Response:
    context = await run_in_threadpool(_unit, request)
    return _portal(request).page(request, "review_unit.html", **context)


def _decide(request: Request, fields: dict[str, str]) -> None:
    eid = request.path_params["eid"]
    with _portal(request).ledger() as ledger:
        rows = ledger.entries(where="id = ?", params=(eid,))
        if not rows:
            raise HTTPException(404)
        entry = rows[0]
        rule, cell = fields.get("rule", ""), fields.get("cell", "")
        if not any(f.rule == rule and cell_key(f.sheet, f.cells) == cell for f in ledger.findings([entry.id])):
            raise HTTPException(404)
        decision = fields.get("decision", "")
        if decision and decision not in DECISIONS:
            raise HTTPException(400)
        note = fields.get("note", "").strip()[:500]
        store(
            ledger,
            [Decision(unit_name(entry), entry.year or 0, rule, cell, decision, note)],
            mtime=time.time(),
            source=SOURCE,
        )


async def decide(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    await run_in_threadpool(_decide, request, {k: str(v) for k, v in form.items()})
    return RedirectResponse(f"/review/units/{request.path_params['eid']}", status_code=303)


async def missing(request: Request) -> Response:
    def load() -> YearData:
        with _portal(request).ledger() as ledger:
            return _data(request, ledger)

    data = await run_in_threadpool(load)
    return _portal(request).page(request, "review_missing.html", data=data)


async def summary_file(request: Request) -> Response:
    year = request.path_params["year"]
    path = summary_path(_portal(request).out, year)
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=XLSX, filename=path.name)


async def result_file(request: Request) -> Response:
    portal = _portal(request)
    with portal.ledger() as ledger:
        rows = ledger.entries(where="id = ?", params=(request.path_params["eid"],))
    if not rows or not rows[0].output_path:
        raise HTTPException(404)
    path = (portal.out / rows[0].output_path).resolve()
    if not path.is_file() or not path.is_relative_to(Path(portal.out).resolve()):
        raise HTTPException(404)
    return FileResponse(path, media_type=XLSX, filename=path.name)


def login_routes() -> list[Route]:
    return [Route("/login/review", login_form), Route("/login/review", login, methods=["POST"])]


def routes() -> list[Route]:
    return [
        Route("/", overview),
        Route("/units/{eid:int}", unit),
        Route("/units/{eid:int}/decide", decide, methods=["POST"]),
        Route("/missing", missing),
        Route("/files/summary/{year:int}", summary_file),
        Route("/files/results/{eid:int}", result_file),
    ]
