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

from pipeline.model import LEVEL_ZH, STATUS_ZH
from pipeline.report.final_copy import record_reviews
from pipeline.report.summary_counted import counted_text, group_totals, total_row
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
    file_link,
    print_a3,
)
from pipeline.report.summary_reports import add_report_column, colour_report_column
from pipeline.report.summary_returns import returned_sheet
from pipeline.report.summary_roster import missing_sheet, roster_columns, roster_values
from pipeline.report.summary_totals import charts_sheet, totals_sheet
from pipeline.store.decisions import DECISIONS, Tally, harvest, import_file
from pipeline.store.files import OutputLock, cannot_write, fsync_dir
from pipeline.store.ledger import Ledger, StoredFinding
from pipeline.store.reviews import REVIEW_ZH, recorded

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
        record_reviews(ledger, Path(out), data)  # the decisions' effect kept in the ledger; 定稿 up to date
        data.recorded = {sid: status for sid, (status, _) in recorded(ledger).items() if status}
        written.append(_write_atomic(summary_path(out, year), lambda wb, d=data: _fill(wb, d, now)))  # type: ignore[misc]
    return written


def rebuild_summaries(out: Path) -> list[Path]:
    """`jixiao summary`: rebuild the summaries of an output folder from its ledger.

    Holds OUT's lock like a run: a run starting meanwhile would delete the summary's temporary file
    (`OUT/.*.tmp`, a leftover to it) and write the same summaries. JixiaoError when a run holds it."""
    with Ledger.open_existing(out) as ledger, OutputLock(Path(out)):
        return write_summaries(ledger, Path(out))


def review_file(out: Path, path: Path) -> tuple[Tally, list[Path]]:
    """`jixiao review FILE`: take the 审核意见 and 备注 of a 汇总 copy edited elsewhere into OUT's ledger and
    rebuild the summaries; returns what the file changed in the ledger and the files written. ValueError when
    FILE has no 问题清单 to read."""
    with Ledger.open_existing(out) as ledger, OutputLock(Path(out)):
        tally = import_file(ledger, Path(path))
        return tally, write_summaries(ledger, Path(out))


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
    wb.set_properties({"title": f"{data.label}预算单位整体支出绩效自评审核汇总", "author": "jixiao"})
    info = _info(data, now)
    _overview(wb, st, data, info)
    if data.roster is not None:
        missing_sheet(wb, st, data, info)
    _findings_sheet(wb, st, data, info)
    returned_sheet(wb, st, data, info)
    _rule_stats(wb, st, data, info)
    totals_sheet(wb, st, data, info)
    charts_sheet(wb, st, data, info)
    _refused(wb, st, data, info)
    _history(wb, st, data, info)


def _info(data: YearData, now: datetime) -> str:
    """Every sheet's subtitle: when, how many units are counted (the same words everywhere), their statuses."""
    counts = Counter(data.status_key(u.entry) for u in data.units)
    inner = [f"提示已说明 {counts['explained']}" if counts["explained"] else "", ""]
    inner[1] = f"审核认可 {counts['accepted']}" if counts["accepted"] else ""
    detail = f"（其中{'，'.join(t for t in inner if t)}）" if any(inner) else ""
    passed = counts["ok"] + counts["explained"] + counts["accepted"]
    returned = f"，退回修改 {counts['returned']}" if counts["returned"] else ""
    return (
        f"生成时间：{now.strftime('%Y-%m-%d %H:%M')}    {counted_text(data)}    单位 {len(data.units)} 个："
        f"通过 {passed}{detail}，有提示 {counts['warnings']}，有错误 {counts['errors']}{returned}；"
        f"退回文件 {len(data.refused)}"
    )


# ---------------------------------------------------------------------------------------- 总览


def _overview(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    """One row per unit; under each 主管部门 its 小计, then the 合计 (both over the units counted, values the
    library computed: a formula over the rows would add in the units left out); 名单外 units after it."""
    cols, rows = overview_table(data)
    at = {col.header: c for c, col in enumerate(cols)}
    title = f"{data.label}预算单位整体支出绩效自评审核汇总"
    sheet = ListSheet(wb, st, "总览", title, info, cols, note=(len(cols) - 3, "金额单位：万元"))
    dept = at.get("主管部门")
    listed = [(u, r) for u, r in zip(data.units, rows, strict=True) if not data.off_roster(u.entry)]
    apart = [r for u, r in zip(data.units, rows, strict=True) if data.off_roster(u.entry)]
    groups = 0
    for n, (_, row) in enumerate(listed):
        sheet.add(row)
        if dept is None or (n + 1 < len(listed) and listed[n + 1][1][dept] == row[dept]):
            continue  # no roster, or the department goes on
        if row[dept]:
            members = [u for u, r in listed if r[dept] == row[dept] and data.is_counted(u)]
            sheet.add(total_row(cols, group_totals(members), row[dept]), total=True)
            groups += 1
    sheet.add(total_row(cols, group_totals(data.counted)), total=True)
    if apart:
        sheet.add([None, f"名单外单位 {len(apart)} 个（不计入合计）"] + [None] * (len(cols) - 2))
        for row in apart:
            sheet.add(row)
    first, last = HEADER_ROW + 1, sheet.row - 1
    sheet.finish(filter_rows=None if apart else len(listed) + groups)
    sheet.colour_by_text(at["审核状态"], last, {k: v for k, v in STATUS_FILL.items() if k != "重复提交"})
    colour_report_column(sheet, cols, last, data)
    rate = xlsxwriter.utility.xl_rowcol_to_cell(first, at["执行率"], col_abs=True)
    low = {"type": "formula", "criteria": f"=AND(ISNUMBER({rate}),{rate}<0.9)", "format": st.fills["有提示"]}
    sheet.ws.conditional_format(first, at["执行率"], max(last, first), at["执行率"], low)  # blank is not 0
    sheet.ws.freeze_panes(HEADER_ROW + 1, 2)
    print_a3(sheet, second_page="提交次数", unprinted=2)  # submissions and contacts on a page of their own
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
        Col("审核状态", 15, "center"),
        Col("错误数", 7, "int"),
        Col("提示数", 7, "int"),
        Col("提交次数", 7, "int"),
        Col("收到时间", 16, "text"),
        Col("审核结果", 44, "link"),
        Col("原文件", 44, "wrap"),
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
        file_link(e.output_path),
        e.original_path,
    ]


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
        Col("审核结果", 30, "link"),
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
                file_link(entry.output_path),
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
        Col("文件位置", 30, "link"),
    ]
    sheet = ListSheet(wb, st, "退回文件", f"{data.label}退回文件（无法读取的文件，请通知报送单位重新提交）", info, cols)
    for i, e in enumerate(data.refused, start=1):
        where = file_link(e.dest_path)
        sheet.add([i, e.original_path, e.received_at.replace("T", " ")[:16], e.reason or "", where])
    sheet.finish()


# -------------------------------------------------------------------------------------- 提交历史


def _history(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols = [
        Col("序号", 6, "int"),
        Col("收到时间", 16, "text"),
        Col("预算单位", 28, "wrap"),
        Col("原文件", 36, "wrap"),
        Col("审核状态", 15, "center"),
        Col("错误数", 7, "int"),
        Col("提示数", 7, "int"),
        Col("汇总采用", 40, "wrap"),
        Col("审核结果", 30, "link"),
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
        if e.id in current:
            status = data.status_text(e)
        elif e.kind == "report" and e.status == "ok":
            status = "自评报告"
        else:  # what the reviewer made of it while it was the unit's newest, else what the check found
            status = REVIEW_ZH.get(data.recorded.get(e.id, "")) or STATUS_TEXT.get(e.status or "", e.status or "")
        sheet.add(
            [
                i,
                e.received_at.replace("T", " ")[:16],
                unit_name(e) if e.unit or e.kind == "workbook" else None,  # a report names no unit till paired
                e.original_path,
                status,
                e.errors if e.status != "duplicate" and e.kind == "workbook" else None,  # a report's are its unit's
                e.warnings if e.status != "duplicate" and e.kind == "workbook" else None,
                use,
                file_link(e.output_path),
            ]
        )
    sheet.finish()
    sheet.colour_by_text(4, sheet.row - 1, STATUS_FILL)
