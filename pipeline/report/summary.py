"""Consolidated summary (汇总) workbooks, one per reporting year, built from the ledger alone.

`OUT/汇总_{Y}.xlsx` is what the bureau reads first. Each unit counts once, by its newest workbook
(a resubmission supersedes; duplicates never do); every earlier version stays listed in 提交历史.

    总览      one row per unit: staffing, key amounts, execution, score and grade, status, counts,
              a link to its annotated workbook; a totals row (SUBTOTAL: follows the filter)
    问题清单  every finding of every unit, filterable, each linked to its workbook
    规则统计  for each rule, how many units break it
    汇总数    the sum across units of every amount in 附件1 and 附件2, laid out like the template
    图表      distribution of 自评总分, and units by status
    退回文件  every refused file by its original name, with the reason
    提交历史  every file received for the year, which version counts, and why the others do not

Because it reads only the ledger, `jixiao summary` rebuilds it at any time. Everything a unit typed
(unit names, file names, messages quoting cell text) goes through `write_string` in a workbook opened
with string conversions off: a unit named `=HYPERLINK(…)` stays text.

This module holds the entry points and the list sheets; what a year shows (`YearData`) is read from the
ledger in `summary_data`, 汇总数 and 图表 are in `summary_totals`, the formats and the list-sheet layout they
share in `summary_layout`.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from pipeline.model import EXPLAINED_ZH, LEVEL_ZH, STATUS_ZH
from pipeline.report.summary_data import UNKNOWN_YEAR, UnitRow, YearData, unit_name, year_data
from pipeline.report.summary_layout import (
    DECISION_FILL,
    HEADER_ROW,
    LEVEL_FILL,
    OPTIONS,
    STATUS_FILL,
    Col,
    ListSheet,
    Styles,
    close,
    discard,
)
from pipeline.report.summary_reports import add_report_column, colour_report_column
from pipeline.report.summary_roster import missing_sheet, roster_columns, roster_values
from pipeline.report.summary_totals import charts_sheet, totals_sheet
from pipeline.store.decisions import DECISIONS, harvest, import_file
from pipeline.store.files import OutputLock, cannot_write, fsync_dir
from pipeline.store.ledger import Ledger, StoredFinding

log = logging.getLogger(__name__)

STATUS_TEXT = {**STATUS_ZH, "duplicate": "重复提交"}
GRADES = ((90.0, "优"), (80.0, "良"), (60.0, "中"), (float("-inf"), "差"))


def grade(score: float | None) -> str | None:
    """等级 from 自评总分: 优 ≥ 90, 良 80–89, 中 60–79, 差 < 60."""
    if score is None:
        return None
    return next(name for low, name in GRADES if score >= low)


def summary_path(out: Path, year: int | None) -> Path:
    return Path(out) / f"汇总_{year if year is not None else UNKNOWN_YEAR}.xlsx"


def summary_paths(ledger: Ledger, out: Path) -> list[Path]:
    """The summary files the ledger calls for: one per year of the workbooks read."""
    years = ledger.years()
    if not years and ledger.refused():
        years = [None]  # only refused files so far: they still need listing somewhere
    return [summary_path(out, y) for y in years]


def write_summaries(ledger: Ledger, out: Path, *, now: datetime | None = None) -> list[Path]:
    """(Re)write every year's summary from the ledger; returns the files written."""
    now = now or datetime.now()
    written = []
    years = ledger.years() or ([None] if ledger.refused() else [])
    for year in years:
        harvest(ledger, summary_path(out, year), year)  # what a reviewer typed into the old one is kept
        data = year_data(ledger, Path(out), year)
        written.append(_write_atomic(summary_path(out, year), lambda wb, d=data: _fill(wb, d, now)))  # type: ignore[misc]
    return written


def rebuild_summaries(out: Path) -> list[Path]:
    """`jixiao summary`: rebuild the summaries of an output folder from its ledger.

    Holds OUT's lock like a run: a run starting meanwhile would delete the summary's temporary file
    (`OUT/.*.tmp`, a leftover to it) and write the same summaries. JixiaoError when a run holds it."""
    with Ledger.open_existing(out) as ledger, OutputLock(Path(out)):
        return write_summaries(ledger, Path(out))


def review_file(out: Path, path: Path) -> tuple[int, list[Path]]:
    """`jixiao review FILE`: take the 审核意见 and 备注 of a 汇总 copy edited elsewhere into OUT's ledger and
    rebuild the summaries; returns how many decisions changed and the files written. ValueError when FILE
    has no 问题清单 to read."""
    with Ledger.open_existing(out) as ledger, OutputLock(Path(out)):
        changed = import_file(ledger, Path(path))
        return changed, write_summaries(ledger, Path(out))


# ------------------------------------------------------------------------------------- writing


def _write_atomic(path: Path, fill: Callable[[xlsxwriter.Workbook], None]) -> Path:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        workbook = xlsxwriter.Workbook(tmp, OPTIONS)
        try:
            fill(workbook)
            close(workbook)
        except BaseException:
            discard(workbook)
            raise
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except (OSError, FileCreateError) as exc:
        raise cannot_write(f"汇总表 {path.name}", exc) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _fill(wb: xlsxwriter.Workbook, data: YearData, now: datetime) -> None:
    st = Styles(wb)
    stamp = now.strftime("%Y-%m-%d %H:%M")
    counts = Counter(data.status_text(u.entry) for u in data.units)
    explained = f"（其中提示已说明 {counts[EXPLAINED_ZH]}）" if counts[EXPLAINED_ZH] else ""
    info = (
        f"生成时间：{stamp}    单位数：{len(data.units)}（各单位最新提交）    "
        f"通过 {counts['通过'] + counts[EXPLAINED_ZH]}{explained}，有提示 {counts['有提示']}，"
        f"有错误 {counts['有错误']}；退回文件 {len(data.refused)}"
    )
    wb.set_properties({"title": f"{data.label}预算单位整体支出绩效自评审核汇总", "author": "jixiao"})
    _overview(wb, st, data, info)
    if data.roster is not None:
        missing_sheet(wb, st, data, info)
    _findings_sheet(wb, st, data, info)
    _rule_stats(wb, st, data, info)
    totals_sheet(wb, st, data, info)
    charts_sheet(wb, st, data, info)
    _refused(wb, st, data, info)
    _history(wb, st, data, info)


# ---------------------------------------------------------------------------------------- 总览


def _overview(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols, rows = overview_table(data)
    at = {col.header: c for c, col in enumerate(cols)}
    title = f"{data.label}预算单位整体支出绩效自评审核汇总"
    sheet = ListSheet(wb, st, "总览", title, info, cols, note=(len(cols) - 3, "金额单位：万元"))
    dept = at.get("主管部门")
    groups = 0
    start = sheet.row
    for n, row in enumerate(rows):
        sheet.add(row)
        if dept is None or (n + 1 < len(rows) and rows[n + 1][dept] == row[dept]):
            continue  # no roster, or the department goes on
        if row[dept]:  # 主管部门小计 (SUBTOTAL: the 合计 below does not count it twice)
            _totals_row(sheet, cols, [r for r in rows if r[dept] == row[dept]], start, sheet.row - 1, row[dept])
            groups += 1
        start = sheet.row
    first, last = HEADER_ROW + 1, sheet.row - 1
    _totals_row(sheet, cols, rows, first, last)
    sheet.finish(filter_rows=len(data.units) + groups)
    sheet.colour_by_text(at["审核状态"], last, {k: v for k, v in STATUS_FILL.items() if k != "重复提交"})
    colour_report_column(sheet, cols, last, data)
    low = {"type": "cell", "criteria": "<", "value": 0.9, "format": st.fills["有提示"]}
    sheet.ws.conditional_format(first, at["执行率"], max(last, first), at["执行率"], low)
    sheet.ws.freeze_panes(HEADER_ROW + 1, 2)
    sheet.ws.print_area(0, 0, sheet.row - 1, len(cols) - 3)  # paper has no use for the link and file columns
    sheet.ws.activate()


def overview_table(data: YearData) -> tuple[list[Col], list[list[Any]]]:
    """总览's columns and one row per unit (no 合计): what the sheet and the CSV export show."""
    cols = _overview_cols(data.year if data.year is not None else "本")
    cols[-2:-2] = contact_columns()
    if data.roster is not None:
        cols[-2:-2] = roster_columns()
    rows = []
    for i, unit in enumerate(data.units, start=1):
        row = _overview_row(i, unit, data.status_text(unit.entry))
        row[-2:-2] = data.contact(unit.entry)
        if data.roster is not None:
            row[-2:-2] = roster_values(data, unit.entry)
        rows.append(row)
    if data.previous:
        _beside_last_year(data, cols, rows)
    add_report_column(data, cols, rows)
    return cols, rows


def _beside_last_year(data: YearData, cols: list[Col], rows: list[list[Any]]) -> None:
    """上年执行率 and 上年自评总分 next to this year's, from the unit's newest workbook of the year before."""
    lasts = [data.last_year(unit.entry) for unit in data.units]
    for header, new, value in (
        ("自评总分", Col("上年\n自评总分", 8, "score"), lambda u: u.score),
        ("执行率", Col("上年\n执行率", 9, "percent"), lambda u: u.rate),
    ):
        at = next(c for c, col in enumerate(cols) if col.header == header) + 1
        cols.insert(at, new)
        for row, last in zip(rows, lasts, strict=True):
            row.insert(at, value(last) if last is not None else None)


def contact_columns() -> list[Col]:
    """填表人 and 联系电话 as the unit wrote them in its own forms (the 名单's 联系人 may differ)."""
    return [Col("填表人", 8, "text"), Col("联系电话\n（表内）", 13, "text")]


def _overview_cols(y: int | str) -> list[Col]:
    return [
        Col("序号", 5, "int"),
        Col("预算单位", 30, "wrap"),
        Col("编制数\n（人）", 8, "int"),
        Col("在职人数\n（人）", 8, "int"),
        Col(f"三公经费\n{y}年决算数", 11, "amount"),
        Col(f"项目支出\n{y}年决算数", 11, "amount"),
        Col(f"公用经费\n{y}年决算数", 11, "amount"),
        Col("全年预算数", 12, "amount"),
        Col("全年执行数", 12, "amount"),
        Col("执行率", 9, "percent"),
        Col("自评总分", 8, "score"),
        Col("等级", 6, "center"),
        Col("审核状态", 9, "center"),
        Col("错误数", 7, "int"),
        Col("提示数", 7, "int"),
        Col("提交次数", 7, "int"),
        Col("收到时间", 16, "text"),
        Col("审核结果", 10, "link"),
        Col("原文件", 34, "wrap"),
    ]


def _overview_row(i: int, unit: UnitRow, status: str) -> list[Any]:
    e = unit.entry
    return [
        i,
        unit_name(e),
        unit.get("a1.staff_quota"),
        unit.get("a1.staff_actual"),
        unit.get("a1.sangong.actual"),
        unit.get("a1.project.actual"),
        unit.get("a1.public.actual"),
        unit.get("a2.total.budget"),
        unit.get("a2.total.exec"),
        unit.rate,
        unit.score,
        grade(unit.score),
        status,
        e.errors,
        e.warnings,
        unit.versions,
        e.received_at.replace("T", " ")[:16],
        (e.output_path, "打开") if e.output_path else None,
        e.original_path,
    ]


def _totals_row(
    sheet: ListSheet, cols: list[Col], rows: list[list[Any]], first: int, last: int, group: str | None = None
) -> None:
    """合计 (or one 主管部门's 小计): sums (SUBTOTAL, so a filter narrows them and a 合计 skips the 小计 rows
    inside its range), 执行率 from the sums, 自评总分 averaged."""
    ws, st, r = sheet.ws, sheet.st, sheet.row
    col_of = {col.header: c for c, col in enumerate(cols)}

    def numbers(c: int) -> list[float]:
        return [float(row[c]) for row in rows if isinstance(row[c], int | float)]

    def cell(c: int) -> str:
        return f"{xlsxwriter.utility.xl_col_to_name(c)}{r + 1}"

    budget, spent = col_of["全年预算数"], col_of["全年执行数"]
    for c, col in enumerate(cols):
        letter = xlsxwriter.utility.xl_col_to_name(c)
        span = f"{letter}{first + 1}:{letter}{last + 1}"
        if c == 1:
            label = f"小计：{group}（{len(rows)} 个单位）" if group else "合计（自评总分为平均分）"
            ws.write_string(r, c, label, st.total_text)
        elif c == 0 or not rows:
            ws.write_blank(r, c, None, st.total_text)
        elif col.kind in ("int", "amount") and col.header != "提交次数":
            ws.write_formula(r, c, f"=SUBTOTAL(109,{span})", st.number(col.kind, total=True), sum(numbers(c)))
        elif col.header == "执行率":
            total_budget = sum(numbers(budget))
            value = sum(numbers(spent)) / total_budget if total_budget else ""
            ws.write_formula(r, c, f'=IF({cell(budget)}=0,"",{cell(spent)}/{cell(budget)})', st.total_percent, value)
        elif col.header == "自评总分" and numbers(c):
            ws.write_formula(r, c, f"=SUBTOTAL(101,{span})", st.total_score, sum(numbers(c)) / len(numbers(c)))
        else:
            ws.write_blank(r, c, None, st.total_text)
    sheet.row += 1


# -------------------------------------------------------------------------------------- 问题清单


def _findings_sheet(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols, rows = findings_table(data)
    sheet = ListSheet(wb, st, "问题清单", f"{data.label}审核问题清单", info, cols)
    for row in rows:
        sheet.add(row)
    sheet.finish()
    sheet.colour_by_text(2, sheet.row - 1, LEVEL_FILL)
    _decision_inputs(sheet, len(cols) - 3)


def findings_table(data: YearData) -> tuple[list[Col], list[list[Any]]]:
    """问题清单's columns and rows: every finding of every unit, a unit's errors first."""
    cols = [
        Col("序号", 6, "int"),
        Col("预算单位", 26, "wrap"),
        Col("级别", 6, "center"),
        Col("规则编号", 20, "text"),
        Col("工作表", 18, "wrap"),
        Col("单元格", 12, "wrap"),
        Col("问题说明", 56, "wrap"),
        Col("期望值", 12, "wrap"),
        Col("实际值", 12, "wrap"),
        Col("单位说明", 30, "wrap"),
        Col("审核意见", 10, "center"),
        Col("备注", 30, "wrap"),
        Col("审核结果", 10, "link"),
    ]
    units = data.by_id()
    ordered = sorted(
        data.findings, key=lambda f: (unit_name(units[f.submission_id].entry), f.level != "error", f.submission_id)
    )
    rows = []
    for i, f in enumerate(ordered, start=1):
        entry = units[f.submission_id].entry
        rows.append(
            [
                i,
                unit_name(entry),
                LEVEL_ZH.get(f.level, f.level),
                f.rule,
                f.sheet,
                f.cells.replace(",", "、") if f.cells else "",
                f.message,
                f.expected,
                f.actual,
                data.explanation(f),
                *data.decision(unit_name(entry), f),
                (entry.output_path, "打开") if entry.output_path else None,
            ]
        )
    return cols, rows


def _decision_inputs(sheet: ListSheet, col: int) -> None:
    """审核意见 as a drop-down (its colours follow the choice); 审核意见 and 备注 are the reviewer's to type in."""
    first, last = HEADER_ROW + 1, max(sheet.row - 1, HEADER_ROW + 1) + 200  # room for rows pasted below
    sheet.ws.data_validation(
        first,
        col,
        last,
        col,
        {
            "validate": "list",
            "source": list(DECISIONS),
            "input_title": "审核意见",
            "input_message": "请选择：" + "／".join(DECISIONS),
            "error_title": "审核意见",
            "error_message": "请从下拉列表中选择：" + "／".join(DECISIONS),
        },
    )
    sheet.colour_by_text(col, last, dict(zip(DECISIONS, DECISION_FILL, strict=True)))


# -------------------------------------------------------------------------------------- 规则统计


def _rule_stats(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols = [
        Col("规则编号", 22, "text"),
        Col("级别", 6, "center"),
        Col("问题说明（示例）", 60, "wrap"),
        Col("涉及单位数", 10, "int"),
        Col("占单位比例", 10, "percent"),
        Col("出现次数", 9, "int"),
    ]
    sheet = ListSheet(wb, st, "规则统计", f"{data.label}各审核规则触发情况", info, cols)
    units: dict[str, set[int]] = defaultdict(set)
    times: Counter[str] = Counter()
    example: dict[str, StoredFinding] = {}
    for f in data.findings:
        units[f.rule].add(f.submission_id)
        times[f.rule] += 1
        example.setdefault(f.rule, f)
    total = len(data.units)
    for rule in sorted(units, key=lambda r: (-len(units[r]), example[r].level != "error", r)):
        f = example[rule]
        n = len(units[rule])
        sheet.add([rule, LEVEL_ZH.get(f.level, f.level), f.message, n, n / total if total else None, times[rule]])
    sheet.finish()
    sheet.colour_by_text(1, sheet.row - 1, LEVEL_FILL)
    if units:
        sheet.ws.conditional_format(
            HEADER_ROW + 1, 3, sheet.row - 1, 3, {"type": "data_bar", "bar_color": "#F4B183", "data_bar_2010": False}
        )


# -------------------------------------------------------------------------------------- 退回文件


def _refused(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols = [
        Col("序号", 6, "int"),
        Col("原文件", 40, "wrap"),
        Col("收到时间", 16, "text"),
        Col("退回原因", 60, "wrap"),
        Col("文件位置", 12, "link"),
    ]
    sheet = ListSheet(wb, st, "退回文件", f"{data.label}退回文件（无法读取的文件，请通知报送单位重新提交）", info, cols)
    for i, e in enumerate(data.refused, start=1):
        where = (e.dest_path, "打开") if e.dest_path else None
        sheet.add([i, e.original_path, e.received_at.replace("T", " ")[:16], e.reason or "", where])
    sheet.finish()


# -------------------------------------------------------------------------------------- 提交历史


def _history(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols = [
        Col("序号", 6, "int"),
        Col("收到时间", 16, "text"),
        Col("预算单位", 28, "wrap"),
        Col("原文件", 36, "wrap"),
        Col("审核状态", 9, "center"),
        Col("错误数", 7, "int"),
        Col("提示数", 7, "int"),
        Col("汇总采用", 40, "wrap"),
        Col("审核结果", 10, "link"),
    ]
    sheet = ListSheet(wb, st, "提交历史", f"{data.label}全部收到文件（含被新版本取代的和重复提交的）", info, cols)
    current = {u.entry.id for u in data.units}
    newest = {(u.entry.unit or u.entry.sha256): u.entry for u in data.units}
    for i, e in enumerate(itertools.chain(data.history, data.waiting_reports), start=1):
        if e.id in current:
            use = "采用（该单位最新提交）"
        elif e.status == "duplicate":
            use = e.reason or "重复提交，未重复审核"
        elif e.status == "rejected":
            use = "退回"
        elif e.kind == "report":
            use = "自评报告，已与该单位工作簿一并审核" if e.unit else "自评报告，待配对（尚未收到同名单位的工作簿）"
        else:
            later = newest.get(e.unit or e.sha256)
            use = f"已被 {later.received_at.replace('T', ' ')[:16]} 收到的新版本取代" if later else "已被新版本取代"
        sheet.add(
            [
                i,
                e.received_at.replace("T", " ")[:16],
                unit_name(e) if e.unit or e.kind == "workbook" else None,  # a report names no unit till paired
                e.original_path,
                "自评报告" if e.kind == "report" and e.status == "ok" else STATUS_TEXT.get(e.status or "", e.status),
                e.errors if e.status != "duplicate" and e.kind == "workbook" else None,  # a report's are its unit's
                e.warnings if e.status != "duplicate" and e.kind == "workbook" else None,
                use,
                (e.output_path, "打开") if e.output_path else None,
            ]
        )
    sheet.finish()
    sheet.colour_by_text(4, sheet.row - 1, STATUS_FILL)
