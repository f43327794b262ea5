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
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipeline.forms import Form, Section, for_year, load_forms, load_profile
from pipeline.inbox import cannot_write, fsync_dir
from pipeline.ledger import Entry, Ledger, StoredFinding
from pipeline.model import LEVEL_ZH, STATUS_ZH
from pipeline.rules import load_rules
from pipeline.settings import MAX_LINKS_PER_SHEET

log = logging.getLogger(__name__)

STATUS_TEXT = {**STATUS_ZH, "duplicate": "重复提交"}
GRADES = ((90.0, "优"), (80.0, "良"), (60.0, "中"), (float("-inf"), "差"))
SCORE_BANDS = (  # (label, low, high): 自评总分 distribution on the 图表 sheet
    ("60分以下（差）", float("-inf"), 60.0),
    ("60–69分（中）", 60.0, 70.0),
    ("70–79分（中）", 70.0, 80.0),
    ("80–89分（良）", 80.0, 90.0),
    ("90–94分（优）", 90.0, 95.0),
    ("95分及以上（优）", 95.0, float("inf")),
)
UNKNOWN_YEAR = "未知年度"

_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True}
_FONT = "宋体"
_STATUS_FILL = {  # Excel's Good / Neutral / Bad cell styles
    "通过": ("#C6EFCE", "#006100"),
    "有提示": ("#FFEB9C", "#9C5700"),
    "有错误": ("#FFC7CE", "#9C0006"),
    "退回": ("#D9D9D9", "#404040"),
    "重复提交": ("#EDEDED", "#595959"),
}
_LEVEL_FILL = {"错误": _STATUS_FILL["有错误"], "提示": _STATUS_FILL["有提示"]}
_HEADER_ROW = 2  # rows 0–1: title and generation line; 2: column headers; data from 3


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
        data = YearData.load(ledger, year)
        written.append(_write_atomic(summary_path(out, year), lambda wb, d=data: _fill(wb, d, now)))  # type: ignore[misc]
    return written


def rebuild_summaries(out: Path) -> list[Path]:
    """`jixiao summary`: rebuild the summaries of an output folder from its ledger."""
    with Ledger.open_existing(out) as ledger:
        return write_summaries(ledger, Path(out))


# ------------------------------------------------------------------------------------- data


@dataclass(slots=True)
class UnitRow:
    entry: Entry
    versions: int
    values: dict[str, float]

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    @property
    def score(self) -> float | None:
        return self.get("a2.sum.score")

    @property
    def rate(self) -> float | None:
        budget, spent = self.get("a2.total.budget"), self.get("a2.total.exec")
        if budget and spent is not None:
            return spent / budget
        return self.get("a2.total.rate")


@dataclass(slots=True)
class YearData:
    """What one year's summary shows, read from the ledger."""

    year: int | None
    units: list[UnitRow]
    findings: list[StoredFinding]
    history: list[Entry]
    refused: list[Entry]

    @classmethod
    def load(cls, ledger: Ledger, year: int | None) -> YearData:
        latest = ledger.latest(year)
        ids = [e.id for e, _ in latest]
        numbers = ledger.numbers(ids)
        units = [UnitRow(e, n, numbers.get(e.id, {})) for e, n in latest]
        return cls(year, units, ledger.findings(ids), ledger.history(year), ledger.refused())

    @property
    def label(self) -> str:
        return f"{self.year}年度" if self.year is not None else UNKNOWN_YEAR

    def by_id(self) -> dict[int, UnitRow]:
        return {u.entry.id: u for u in self.units}


def unit_name(entry: Entry) -> str:
    return entry.unit or f"（未填写单位名称：{Path(entry.original_path).name}）"


# ------------------------------------------------------------------------------------- writing


def _write_atomic(path: Path, fill: Callable[[xlsxwriter.Workbook], None]) -> Path:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        workbook = xlsxwriter.Workbook(tmp, _OPTIONS)
        fill(workbook)
        workbook.close()
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


class _Styles:
    """The workbook's formats, made once."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10, "valign": "vcenter", "border": 1, "border_color": "#A6A6A6"}
        self.base = base
        self.wb = wb
        self.title = wb.add_format({"font_name": _FONT, "bold": True, "font_size": 16, "valign": "vcenter"})
        self.subtitle = wb.add_format({"font_name": _FONT, "font_size": 10, "font_color": "#595959"})
        self.header = wb.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center", "pattern": 1}
        )
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.center = wb.add_format({**base, "align": "center"})
        self.int = wb.add_format({**base, "num_format": "0"})
        self.amount = wb.add_format({**base, "num_format": "#,##0.00"})
        self.percent = wb.add_format({**base, "num_format": "0.00%"})
        self.score = wb.add_format({**base, "num_format": "0.00"})
        self.link = wb.add_format({**base, "font_color": "#0563C1", "underline": 1})
        total = {**base, "bold": True, "bg_color": "#F2F2F2", "pattern": 1, "top": 6}
        self.total_text = wb.add_format(total)
        self.total_int = wb.add_format({**total, "num_format": "0"})
        self.total_amount = wb.add_format({**total, "num_format": "#,##0.00"})
        self.total_percent = wb.add_format({**total, "num_format": "0.00%"})
        self.total_score = wb.add_format({**total, "num_format": "0.00"})
        self.section = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "pattern": 1, "text_wrap": True})
        self.muted = wb.add_format({**base, "align": "center", "font_color": "#A6A6A6"})
        self.fills = {
            text: wb.add_format({"bg_color": fill, "font_color": font, "pattern": 1})
            for text, (fill, font) in {**_STATUS_FILL, **_LEVEL_FILL}.items()
        }

    def number(self, kind: str, *, total: bool = False) -> Format:
        return getattr(self, f"total_{kind}" if total else kind)


@dataclass(frozen=True, slots=True)
class _Col:
    header: str
    width: float
    kind: str = "text"  # text | wrap | center | int | amount | percent | score | link


class _Sheet:
    """A list sheet: title, generation line, header row, rows; frozen, filtered, printable."""

    def __init__(
        self, wb: xlsxwriter.Workbook, st: _Styles, name: str, title: str, info: str, cols: list[_Col]
    ) -> None:
        self.ws: Worksheet = wb.add_worksheet(name)
        self.st, self.cols = st, cols
        self.row = _HEADER_ROW + 1
        self.links = 0
        ws = self.ws
        ws.set_row(0, 28)
        ws.write_string(0, 0, title, st.title)
        ws.write_string(1, 0, info, st.subtitle)
        ws.set_row(_HEADER_ROW, 30)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
            ws.write_string(_HEADER_ROW, c, col.header, st.header)
        ws.freeze_panes(_HEADER_ROW + 1, 0)
        _print_setup(ws, title, repeat_row=_HEADER_ROW)

    def add(self, values: Sequence[Any]) -> int:
        lines = 1
        for c, (col, value) in enumerate(zip(self.cols, values, strict=True)):
            self.cell(self.row, c, col.kind, value)
            if col.kind == "wrap" and isinstance(value, str):
                lines = max(lines, _lines(value, col.width))
        # Excel and LibreOffice do not grow a row for wrapped text they did not lay out themselves.
        self.ws.set_row(self.row, 13.5 * lines + 3)
        self.row += 1
        return self.row - 1

    def cell(self, r: int, c: int, kind: str, value: Any) -> None:
        ws, st = self.ws, self.st
        if value is None or value == "":
            ws.write_blank(r, c, None, st.text)
        elif kind == "link":
            target, text = value
            if target and self.links < MAX_LINKS_PER_SHEET and _linkable(target):
                ws.write_url(r, c, f"external:{_link_target(target)}", st.link, text, tip=target)
                self.links += 1
            else:
                ws.write_string(r, c, target or text, st.text)
        elif isinstance(value, int | float) and kind in ("int", "amount", "percent", "score"):
            ws.write_number(r, c, value, getattr(st, kind))
        else:
            ws.write_string(r, c, str(value), getattr(st, kind if kind in ("wrap", "center") else "text"))

    def finish(self, *, filter_rows: int | None = None) -> None:
        last = self.row - 1 if filter_rows is None else _HEADER_ROW + filter_rows
        self.ws.autofilter(_HEADER_ROW, 0, max(last, _HEADER_ROW), len(self.cols) - 1)

    def colour_by_text(self, col: int, last_row: int, colours: dict[str, tuple[str, str]]) -> None:
        for text in colours:
            self.ws.conditional_format(
                _HEADER_ROW + 1,
                col,
                max(last_row, _HEADER_ROW + 1),
                col,
                {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": self.st.fills[text]},
            )


def _lines(text: str, width: float) -> int:
    """Lines `text` wraps to in a column `width` characters wide (CJK characters count about double)."""
    total = 0
    for line in text.splitlines() or [""]:
        units = sum(1.6 if ord(ch) > 0x2E7F else 0.9 for ch in line)  # 10-pt text against 11-pt "0" widths
        total += max(1, math.ceil(units / max(width - 1, 1)))
    return total


def _linkable(rel: str) -> bool:
    """Whether a path relative to OUT may become a link. processed/ and refused/ keep the names units gave
    their files; Windows would follow a '\\', '..' or drive ':' in one out of OUT (to a program, say)."""
    return not any(ch in rel for ch in "\\:") and ".." not in rel.split("/") and not rel.startswith("/")


def _link_target(rel: str) -> str:
    """A path relative to OUT as an external link: '#', '%' and spaces escaped (xlsxwriter splits at '#')."""
    if any(ch in rel for ch in '#% "<>'):
        for ch, code in (("%", "%25"), ("#", "%23"), (" ", "%20"), ('"', "%22"), ("<", "%3C"), (">", "%3E")):
            rel = rel.replace(ch, code)
    return rel


def _print_setup(ws: Worksheet, title: str, *, repeat_row: int | None = None) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&L{_escape_hf(title)}&R第 &P 页，共 &N 页")
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)


def _escape_hf(text: str) -> str:
    return text.replace("&", "&&")


def _fill(wb: xlsxwriter.Workbook, data: YearData, now: datetime) -> None:
    st = _Styles(wb)
    stamp = now.strftime("%Y-%m-%d %H:%M")
    counts = Counter(u.entry.status for u in data.units)
    info = (
        f"生成时间：{stamp}    单位数：{len(data.units)}（各单位最新提交）    "
        f"通过 {counts['ok']}，有提示 {counts['warnings']}，有错误 {counts['errors']}；退回文件 {len(data.refused)}"
    )
    wb.set_properties({"title": f"{data.label}预算单位整体支出绩效自评审核汇总", "author": "jixiao"})
    _overview(wb, st, data, info)
    _findings_sheet(wb, st, data, info)
    _rule_stats(wb, st, data, info)
    _totals(wb, st, data, info)
    _charts(wb, st, data, info)
    _refused(wb, st, data, info)
    _history(wb, st, data, info)


# ---------------------------------------------------------------------------------------- 总览


def _overview(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    y = data.year if data.year is not None else "本"
    cols = [
        _Col("序号", 5, "int"),
        _Col("预算单位", 30, "wrap"),
        _Col("编制数\n（人）", 8, "int"),
        _Col("在职人数\n（人）", 8, "int"),
        _Col(f"三公经费\n{y}年决算数", 11, "amount"),
        _Col(f"项目支出\n{y}年决算数", 11, "amount"),
        _Col(f"公用经费\n{y}年决算数", 11, "amount"),
        _Col("全年预算数", 12, "amount"),
        _Col("全年执行数", 12, "amount"),
        _Col("执行率", 9, "percent"),
        _Col("自评总分", 8, "score"),
        _Col("等级", 6, "center"),
        _Col("审核状态", 9, "center"),
        _Col("错误数", 7, "int"),
        _Col("提示数", 7, "int"),
        _Col("提交次数", 7, "int"),
        _Col("收到时间", 16, "text"),
        _Col("审核结果", 10, "link"),
        _Col("原文件", 34, "wrap"),
    ]
    sheet = _Sheet(wb, st, "总览", f"{data.label}预算单位整体支出绩效自评审核汇总", info, cols)
    sheet.ws.write_string(1, len(cols) - 3, "金额单位：万元", st.subtitle)
    rows: list[list[Any]] = []
    for i, unit in enumerate(data.units, start=1):
        e = unit.entry
        rows.append(
            [
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
                STATUS_TEXT.get(e.status or "", e.status),
                e.errors,
                e.warnings,
                unit.versions,
                e.received_at.replace("T", " ")[:16],
                (e.output_path, "打开") if e.output_path else None,
                e.original_path,
            ]
        )
        sheet.add(rows[-1])
    first, last = _HEADER_ROW + 1, sheet.row - 1
    _totals_row(sheet, cols, rows, first, last)
    sheet.finish(filter_rows=len(data.units))
    sheet.colour_by_text(12, last, {k: v for k, v in _STATUS_FILL.items() if k != "重复提交"})
    sheet.ws.conditional_format(
        first, 9, max(last, first), 9, {"type": "cell", "criteria": "<", "value": 0.9, "format": st.fills["有提示"]}
    )
    sheet.ws.freeze_panes(_HEADER_ROW + 1, 2)
    sheet.ws.print_area(0, 0, sheet.row - 1, len(cols) - 3)  # paper has no use for the link and file columns
    sheet.ws.activate()


def _totals_row(sheet: _Sheet, cols: list[_Col], rows: list[list[Any]], first: int, last: int) -> None:
    """合计: sums (SUBTOTAL, so a filter narrows them), 执行率 from the sums, 自评总分 averaged."""
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
            ws.write_string(r, c, "合计（自评总分为平均分）", st.total_text)
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


def _findings_sheet(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    cols = [
        _Col("序号", 6, "int"),
        _Col("预算单位", 26, "wrap"),
        _Col("级别", 6, "center"),
        _Col("规则编号", 20, "text"),
        _Col("工作表", 18, "wrap"),
        _Col("单元格", 12, "wrap"),
        _Col("问题说明", 56, "wrap"),
        _Col("期望值", 12, "wrap"),
        _Col("实际值", 12, "wrap"),
        _Col("审核结果", 10, "link"),
    ]
    sheet = _Sheet(wb, st, "问题清单", f"{data.label}审核问题清单", info, cols)
    units = data.by_id()
    ordered = sorted(
        data.findings, key=lambda f: (unit_name(units[f.submission_id].entry), f.level != "error", f.submission_id)
    )
    for i, f in enumerate(ordered, start=1):
        entry = units[f.submission_id].entry
        sheet.add(
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
                (entry.output_path, "打开") if entry.output_path else None,
            ]
        )
    sheet.finish()
    sheet.colour_by_text(2, sheet.row - 1, _LEVEL_FILL)


# -------------------------------------------------------------------------------------- 规则统计


def _rule_stats(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    cols = [
        _Col("规则编号", 22, "text"),
        _Col("级别", 6, "center"),
        _Col("问题说明（示例）", 60, "wrap"),
        _Col("涉及单位数", 10, "int"),
        _Col("占单位比例", 10, "percent"),
        _Col("出现次数", 9, "int"),
    ]
    sheet = _Sheet(wb, st, "规则统计", f"{data.label}各审核规则触发情况", info, cols)
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
    sheet.colour_by_text(1, sheet.row - 1, _LEVEL_FILL)
    if units:
        sheet.ws.conditional_format(
            _HEADER_ROW + 1, 3, sheet.row - 1, 3, {"type": "data_bar", "bar_color": "#F4B183", "data_bar_2010": False}
        )


# ---------------------------------------------------------------------------------------- 汇总数


def total_values(units: Sequence[UnitRow]) -> dict[str, float]:
    """Σ over units of every numeric point (units lacking a value add nothing), ratios recomputed from the sums."""
    sums: dict[str, float] = defaultdict(float)
    for unit in units:
        for key, value in unit.values.items():
            sums[key] += value
    out = dict(sums)
    for result, numerator, denominator in _ratio_points():
        den = sums.get(denominator)
        if den:
            out[result] = sums.get(numerator, 0.0) / den
        else:
            out.pop(result, None)
    return out


def _ratio_points() -> list[tuple[str, str, str]]:
    """(result, numerator, denominator) of every ratio rule in the catalogue: how a rate is computed."""
    rules = load_rules(load_profile())
    return [r.points[:3] for r in rules if r.kind == "ratio" and len(r.points) >= 3]  # type: ignore[misc]


def _totals(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    ws = wb.add_worksheet("汇总数")
    year = data.year if data.year is not None else 0
    values = total_values(data.units)
    scores = [u.score for u in data.units if u.score is not None]
    averages = {"a2.sum.score": sum(scores) / len(scores)} if scores else {}
    ws.set_column(0, 0, 34)
    ws.set_column(1, 8, 14)
    ws.write_string(0, 0, f"{data.label}预算单位整体支出绩效基础数据汇总表", st.title)
    ws.set_row(0, 28)
    ws.write_string(1, 0, f"汇总单位数：{len(data.units)}（各单位最新提交）    {info.split('    ')[0]}", st.subtitle)
    ws.write_string(2, 0, "金额单位：万元；控制率、执行率由汇总数重新计算", st.subtitle)
    row = 4
    ratios = {r for r, _, _ in _ratio_points()}
    for form in load_forms().values():
        if form.repeatable:
            continue  # 附件3: one sheet per project, not one per unit
        ws.merge_range(row, 0, row, 6, "", st.section)
        ws.write_string(
            row, 0, f"{form.attachment}  {for_year(form.title, year) if year else form.title}（汇总）", st.section
        )
        row += 1
        for section in form.sections:
            row = _totals_section(ws, st, form, section, year, values, averages, ratios, row)
        row += 1
    _print_setup(ws, "汇总数")
    ws.fit_to_pages(1, 0)
    ws.set_portrait()


def _totals_section(
    ws: Worksheet,
    st: _Styles,
    form: Form,
    section: Section,
    year: int,
    values: dict[str, float],
    averages: dict[str, float],
    ratios: set[str],
    row: int,
) -> int:
    label = (lambda t: for_year(t, year)) if year else (lambda t: t)

    def value_cell(r: int, c: int, key: str, ftype: str) -> None:
        if ftype in ("text", "date", "score") or (ftype == "percent" and key not in ratios):
            ws.write_string(r, c, "—", st.muted)
        elif key in values:
            kind = {"int": "int", "percent": "percent"}.get(ftype, "amount")
            ws.write_number(r, c, values[key], getattr(st, kind))
        else:
            ws.write_blank(r, c, None, st.text)

    if section.kind == "table":
        ws.write_string(row, 0, label(section.corner or section.side), st.header)
        for c, col in enumerate(section.fields, start=1):
            ws.write_string(row, c, label(col.label), st.header)
        row += 1
        for r in section.rows:
            ws.write_string(row, 0, label(r.label), st.text)
            for c, col in enumerate(section.fields, start=1):
                if r.only and col.key not in r.only:
                    ws.write_blank(row, c, None, st.text)
                else:
                    value_cell(row, c, f"{form.id}.{r.key}.{col.key}", col.type)
            row += 1
        return row
    if section.kind == "record" and any(f.type not in ("text", "date") for f in section.fields):
        ws.write_string(row, 0, label(section.side), st.header)
        for c, f in enumerate(section.fields, start=1):
            ws.write_string(row, c, label(f.label), st.header)
        ws.write_string(row + 1, 0, "合计", st.text)
        for c, f in enumerate(section.fields, start=1):
            value_cell(row + 1, c, f"{form.id}.{f.key}", f.type)
        return row + 2
    if section.kind == "fields" and not section.footer:
        numeric = [[f for f in line if f.type not in ("text", "date")] for line in section.field_rows]
        if not any(numeric):
            return row
        if section.headers:
            for c, (text, _) in enumerate(section.headers):
                ws.write_string(row, c * 2, label(text), st.header)
                ws.write_blank(row, c * 2 + 1, None, st.header)
            row += 1
        for line in numeric:
            for c, f in enumerate(line):
                ws.write_string(row, c * 2, label(f.label), st.text)
                value_cell(row, c * 2 + 1, f"{form.id}.{f.key}", f.type)
            row += 1
        return row
    if section.kind == "indicators" and "score" in section.total:
        average = averages.get(f"{form.id}.{section.total['score']}")
        ws.write_string(row, 0, f"{section.total.get('label', '总分')} 得分（各单位平均）", st.text)
        if average is None:
            ws.write_string(row, 1, "—", st.muted)
        else:
            ws.write_number(row, 1, average, st.score)
        return row + 1
    return row


# ---------------------------------------------------------------------------------------- 图表


def _charts(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    ws = wb.add_worksheet("图表")
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 10)
    ws.write_string(0, 0, f"{data.label}自评总分分布与审核状态", st.title)
    ws.set_row(0, 28)
    ws.write_string(1, 0, info, st.subtitle)
    scores = [u.score for u in data.units]
    ws.write_string(3, 0, "自评总分", st.header)
    ws.write_string(3, 1, "单位数", st.header)
    bands = [(name, sum(1 for s in scores if s is not None and low <= s < high)) for name, low, high in SCORE_BANDS]
    bands.append(("未填写总分", sum(1 for s in scores if s is None)))
    for i, (name, n) in enumerate(bands, start=4):
        ws.write_string(i, 0, name, st.text)
        ws.write_number(i, 1, n, st.int)
    last_band = 4 + len(bands) - 1
    status_row = last_band + 2
    ws.write_string(status_row, 0, "审核状态", st.header)
    ws.write_string(status_row, 1, "数量", st.header)
    counts = Counter(u.entry.status for u in data.units)
    statuses = [("通过", counts["ok"]), ("有提示", counts["warnings"]), ("有错误", counts["errors"])]
    statuses.append(("退回", len(data.refused)))
    for i, (name, n) in enumerate(statuses, start=status_row + 1):
        ws.write_string(i, 0, name, st.text)
        ws.write_number(i, 1, n, st.int)

    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "单位数",
            "categories": ["图表", 4, 0, last_band, 0],
            "values": ["图表", 4, 1, last_band, 1],
            "fill": {"color": "#5B9BD5"},
            "data_labels": {"value": True},
            "gap": 60,
        }
    )
    chart.set_title({"name": "自评总分分布", "name_font": {"name": _FONT, "size": 12}})
    chart.set_x_axis({"num_font": {"name": _FONT, "size": 9}})
    chart.set_y_axis({"name": "单位数", "name_font": {"name": _FONT}, "major_gridlines": {"visible": True}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 320})
    ws.insert_chart(3, 3, chart)

    pie = wb.add_chart({"type": "column"})
    pie.add_series(
        {
            "name": "数量",
            "categories": ["图表", status_row + 1, 0, status_row + len(statuses), 0],
            "values": ["图表", status_row + 1, 1, status_row + len(statuses), 1],
            "points": [{"fill": {"color": _STATUS_FILL[name][1]}} for name, _ in statuses],
            "data_labels": {"value": True},
            "gap": 80,
        }
    )
    pie.set_title({"name": "审核状态（单位数；退回为文件数）", "name_font": {"name": _FONT, "size": 12}})
    pie.set_x_axis({"num_font": {"name": _FONT, "size": 9}})
    pie.set_legend({"none": True})
    pie.set_size({"width": 620, "height": 320})
    ws.insert_chart(21, 3, pie)
    _print_setup(ws, "图表")


# -------------------------------------------------------------------------------------- 退回文件


def _refused(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    cols = [
        _Col("序号", 6, "int"),
        _Col("原文件", 40, "wrap"),
        _Col("收到时间", 16, "text"),
        _Col("退回原因", 60, "wrap"),
        _Col("文件位置", 12, "link"),
    ]
    sheet = _Sheet(wb, st, "退回文件", f"{data.label}退回文件（无法读取的文件，请通知报送单位重新提交）", info, cols)
    for i, e in enumerate(data.refused, start=1):
        where = (e.dest_path, "打开") if e.dest_path else None
        sheet.add([i, e.original_path, e.received_at.replace("T", " ")[:16], e.reason or "", where])
    sheet.finish()


# -------------------------------------------------------------------------------------- 提交历史


def _history(wb: xlsxwriter.Workbook, st: _Styles, data: YearData, info: str) -> None:
    cols = [
        _Col("序号", 6, "int"),
        _Col("收到时间", 16, "text"),
        _Col("预算单位", 28, "wrap"),
        _Col("原文件", 36, "wrap"),
        _Col("审核状态", 9, "center"),
        _Col("错误数", 7, "int"),
        _Col("提示数", 7, "int"),
        _Col("汇总采用", 40, "wrap"),
        _Col("审核结果", 10, "link"),
    ]
    sheet = _Sheet(wb, st, "提交历史", f"{data.label}全部收到文件（含被新版本取代的和重复提交的）", info, cols)
    current = {u.entry.id for u in data.units}
    newest = {(u.entry.unit or u.entry.sha256): u.entry for u in data.units}
    for i, e in enumerate(data.history, start=1):
        if e.id in current:
            use = "采用（该单位最新提交）"
        elif e.status == "duplicate":
            use = e.reason or "重复提交，未重复审核"
        elif e.status == "rejected":
            use = "退回"
        else:
            later = newest.get(e.unit or e.sha256)
            use = f"已被 {later.received_at.replace('T', ' ')[:16]} 收到的新版本取代" if later else "已被新版本取代"
        sheet.add(
            [
                i,
                e.received_at.replace("T", " ")[:16],
                unit_name(e),
                e.original_path,
                STATUS_TEXT.get(e.status or "", e.status),
                e.errors if e.status != "duplicate" else None,
                e.warnings if e.status != "duplicate" else None,
                use,
                (e.output_path, "打开") if e.output_path else None,
            ]
        )
    sheet.finish()
    sheet.colour_by_text(4, sheet.row - 1, _STATUS_FILL)
