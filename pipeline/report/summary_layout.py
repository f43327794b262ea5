"""How the 汇总 workbooks look: formats, the list-sheet layout, links and print setup.

Shared by `summary` (the list sheets) and `summary_totals` (汇总数, 图表); nothing here reads the ledger.
Cells a unit typed are written with `write_string` into a workbook opened with OPTIONS (string
conversions off), so text stays text.

The list sheets stream (xlsxwriter `constant_memory`): each row goes to a temporary file once the next one
starts, so a 汇总 of 10,000 units holds one row in memory, not the sheet. A streamed sheet is written top to
bottom, each row once (a cell written above the current row is silently dropped), and writes its text as
inline strings. 汇总数 and 图表 are small and stay in memory: a chart caches the values of its cells, which a
streamed sheet no longer holds (`add_sheet`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.url import Url
from xlsxwriter.worksheet import Worksheet

from pipeline.settings import MAX_LINKS_PER_SHEET

OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,  # per sheet: see add_sheet
}
FONT = "宋体"
STATUS_FILL = {  # Excel's Good / Neutral / Bad cell styles
    "通过": ("#C6EFCE", "#006100"),
    "通过（提示已说明）": ("#C6EFCE", "#006100"),
    "有提示": ("#FFEB9C", "#9C5700"),
    "有错误": ("#FFC7CE", "#9C0006"),
    "退回": ("#D9D9D9", "#404040"),
    "退回修改": ("#D9D9D9", "#404040"),
    "通过（审核认可）": ("#C6EFCE", "#006100"),
    "重复提交": ("#EDEDED", "#595959"),
}
LEVEL_FILL = {"错误": STATUS_FILL["有错误"], "提示": STATUS_FILL["有提示"]}
DECISION_FILL = (STATUS_FILL["通过"], STATUS_FILL["有错误"], STATUS_FILL["退回"])  # 认可, 不认可, 退回修改
HEADER_ROW = 2  # rows 0–1: title and generation line; 2: column headers; data from 3


def add_sheet(wb: xlsxwriter.Workbook, name: str, *, streamed: bool) -> Worksheet:
    """A worksheet whose rows stream to a temporary file (`streamed`: written in order, each row once) or are
    held until the workbook closes. xlsxwriter reads the workbook's mode when a sheet is added."""
    wb.constant_memory = streamed
    return wb.add_worksheet(name)


def close(wb: xlsxwriter.Workbook) -> None:
    """Close a workbook that mixes streamed and held sheets (the streamed ones' files are gone by then;
    xlsxwriter's own final pass would try to close a file the held ones never had)."""
    wb.constant_memory = False
    wb.close()


def discard(wb: xlsxwriter.Workbook) -> None:
    """Remove the row files of a workbook that will not be closed (its writing failed)."""
    for ws in wb.worksheets():
        if ws.row_data_fh is not None:
            ws.row_data_fh.close()
        if ws.row_data_filename and os.path.exists(ws.row_data_filename):
            os.unlink(ws.row_data_filename)


class Styles:
    """The workbook's formats, made once."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "border": 1, "border_color": "#A6A6A6"}
        self.base = base
        self.wb = wb
        self.title = wb.add_format({"font_name": FONT, "bold": True, "font_size": 16, "valign": "vcenter"})
        self.subtitle = wb.add_format({"font_name": FONT, "font_size": 10, "font_color": "#595959"})
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
        self.link = wb.add_format({**base, "font_color": "#0563C1", "underline": 1, "text_wrap": True})
        total = {**base, "bold": True, "bg_color": "#F2F2F2", "pattern": 1, "top": 6}
        self.total_text = wb.add_format(total)
        self.total_wrap = wb.add_format({**total, "text_wrap": True})
        self.total_int = wb.add_format({**total, "num_format": "0"})
        self.total_amount = wb.add_format({**total, "num_format": "#,##0.00"})
        self.total_percent = wb.add_format({**total, "num_format": "0.00%"})
        self.total_score = wb.add_format({**total, "num_format": "0.00"})
        self.section = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "pattern": 1, "text_wrap": True})
        self.muted = wb.add_format({**base, "align": "center", "font_color": "#A6A6A6"})
        self.fills = {
            text: wb.add_format({"bg_color": fill, "font_color": font, "pattern": 1})
            for text, (fill, font) in {**STATUS_FILL, **LEVEL_FILL}.items()
        }
        for text, (fill, font) in zip(("认可", "不认可", "退回修改"), DECISION_FILL, strict=True):
            self.fills[text] = wb.add_format({"bg_color": fill, "font_color": font, "pattern": 1})

    def number(self, kind: str, *, total: bool = False) -> Format:
        return getattr(self, f"total_{kind}" if total else kind)


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    width: float
    kind: str = "text"  # text | wrap | center | int | amount | percent | score | link


class ListSheet:
    """A list sheet: title, generation line, header row, rows; frozen, filtered, printable."""

    def __init__(
        self,
        wb: xlsxwriter.Workbook,
        st: Styles,
        name: str,
        title: str,
        info: str,
        cols: list[Col],
        *,
        note: tuple[int, str] | None = None,
    ) -> None:
        """`note`: (column, text) written on the generation line, right of it (总览's 金额单位)."""
        self.ws: Worksheet = add_sheet(wb, name, streamed=True)
        self.st, self.cols = st, cols
        self.row = HEADER_ROW + 1
        self.links = 0
        ws = self.ws
        ws.set_row(0, 28)
        ws.write_string(0, 0, title, st.title)
        ws.write_string(1, 0, info, st.subtitle)
        if note is not None:
            ws.write_string(1, note[0], note[1], st.subtitle)
        ws.set_row(HEADER_ROW, 30)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
            ws.write_string(HEADER_ROW, c, col.header, st.header)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        print_setup(ws, title, repeat_row=HEADER_ROW)

    def add(self, values: Sequence[Any], *, total: bool = False) -> int:
        """Write a row (`total`: a 合计 / 小计 row, bold on grey); returns its index."""
        lines = 1
        for c, (col, value) in enumerate(zip(self.cols, values, strict=True)):
            if total:
                self._total_cell(c, col.kind, value)
            else:
                self.cell(self.row, c, col.kind, value)
            if col.kind == "wrap" and isinstance(value, str):
                lines = max(lines, _lines(value, col.width))
            elif col.kind == "link" and isinstance(value, tuple):
                lines = max(lines, _lines(str(value[1]), col.width))
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
                link = _RelativeLink(f"external:{_link_target(target)}")
                link.text, link.tip = text, target  # write_url ignores its string and tip for a Url object
                ws.write_url(r, c, link, st.link)
                self.links += 1
            else:
                ws.write_string(r, c, target or text, st.wrap)  # no link: where the file is, in full
        elif isinstance(value, int | float) and kind in ("int", "amount", "percent", "score"):
            ws.write_number(r, c, value, getattr(st, kind))
        else:
            ws.write_string(r, c, str(value), getattr(st, kind if kind in ("wrap", "center") else "text"))

    def _total_cell(self, c: int, kind: str, value: Any) -> None:
        ws, st = self.ws, self.st
        if isinstance(value, int | float) and kind in ("int", "amount", "percent", "score"):
            ws.write_number(self.row, c, value, st.number(kind, total=True))
        elif isinstance(value, str) and value:
            ws.write_string(self.row, c, value, st.total_wrap)
        else:
            ws.write_blank(self.row, c, None, st.total_text)

    def finish(self, *, filter_rows: int | None = None) -> None:
        last = self.row - 1 if filter_rows is None else HEADER_ROW + filter_rows
        self.ws.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), len(self.cols) - 1)

    def colour_by_text(self, col: int, last_row: int, colours: dict[str, tuple[str, str]]) -> None:
        for text in colours:
            self.ws.conditional_format(
                HEADER_ROW + 1,
                col,
                max(last_row, HEADER_ROW + 1),
                col,
                {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": self.st.fills[text]},
            )


def file_link(rel: str | None) -> tuple[str, str] | None:
    """A link cell's value: the path relative to OUT, shown as the file's name (not the path: it would show
    escaped and run past the table)."""
    return (rel, rel.rsplit("/", 1)[-1]) if rel else None  # POSIX relative paths: "\\" is part of a name


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


class _RelativeLink(Url):
    """A link to a file relative to the summary, written with '/' as Excel for Windows and Mac and
    LibreOffice all follow it; xlsxwriter writes an external link with '\\', which only Windows follows."""

    def _parse_url(self) -> None:
        super()._parse_url()
        self._link: str = self._link.replace("\\", "/")
        self._relationship_link: str = self._relationship_link.replace("\\", "/")


def _link_target(rel: str) -> str:
    """A path relative to OUT as an external link: '#', '%' and spaces escaped (xlsxwriter splits at '#')."""
    if any(ch in rel for ch in '#% "<>'):
        for ch, code in (("%", "%25"), ("#", "%23"), (" ", "%20"), ('"', "%22"), ("<", "%3C"), (">", "%3E")):
            rel = rel.replace(ch, code)
    return rel


def print_setup(ws: Worksheet, title: str, *, repeat_row: int | None = None) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&L{_escape_hf(title)}&R第 &P 页，共 &N 页")
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)


#: 总览 on paper: A3 landscape, its printable width (mm, 0.4" margins) and the smallest scale (10-pt text → 8 pt).
A3_PAPER, A3_PRINT_WIDTH_MM, MIN_PRINT_SCALE = 8, 420 - 2 * 0.4 * 25.4, 80
#: Pixels (at 96 dpi) a column takes per character of width: Excel's are 7, LibreOffice's about 10 for these
#: workbooks; the larger, so the first page's columns fit whichever program prints.
_PRINT_PX_PER_CHAR = 10


def print_a3(sheet: ListSheet, *, second_page: str | None = None, unprinted: int = 0) -> None:
    """A wide list sheet on paper: A3 landscape; the columns (before `second_page`, when given) on the first page
    width at 100 % or just small enough to fit, never below 80 % (10-pt text → 8 pt); the columns from
    `second_page` on on a page of their own beside it, 序号 and 预算单位 repeated; the header row on every page;
    the last `unprinted` columns (links, file names) left off."""
    ws, cols = sheet.ws, sheet.cols[: len(sheet.cols) - unprinted]
    split = next((c for c, col in enumerate(cols) if col.header == second_page), len(cols))
    pixels = sum(col.width * _PRINT_PX_PER_CHAR + 5 for col in cols[:split])
    fit = int(A3_PRINT_WIDTH_MM / 25.4 * 96 / pixels * 100) if pixels else 100
    ws.set_paper(A3_PAPER)
    ws.set_print_scale(max(MIN_PRINT_SCALE, min(100, fit)))  # a fixed scale: Excel ignores page breaks when fitting
    ws.fit_page = False
    if split < len(cols):
        ws.set_v_pagebreaks([split])
        ws.repeat_columns(0, 1)
    ws.print_area(0, 0, max(sheet.row - 1, HEADER_ROW), len(cols) - 1)


def _escape_hf(text: str) -> str:
    return text.replace("&", "&&")
