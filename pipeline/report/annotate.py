"""Annotated workbook: a findings sheet, then every submitted sheet with its problem cells marked.

The reviewer opens `<stem>_审核结果.xlsx`. Its first sheet, 审核结果, states the verdict and lists every
finding (errors first) with a link to its cell. The submitted sheets follow under their own names with
their values, merged ranges and, for .xlsx/.xlsm, the unit's own look (widths, heights, fonts, borders,
fills, number formats). A finding's first cell is filled red (error) or yellow (warning) and carries a
批注 naming the rule, the expected and the actual value; the other cells the finding names get a dashed
frame in the same colour, so a wrong total shows which parts it was checked against.

An .xlsx is annotated by patching its own package (package.py; the 审核结果 sheet and the 批注 as XML
text, sheet_xml.py) without reading its grid: ≈ 5 ms CPU per workbook on the benchmark corpus, fsync
included (≈ 14–15 ms when it read the grid and built the sheet with xlsxwriter) — every
other part is kept byte for byte, defined names and data validation included. Other sources (.xls/.ods,
odd packages) are rewritten here from their grid: styles from `styles.read_styles` (openpyxl, ≈ 40–50 ms)
or a default grid.

Everything a unit typed goes through `write_string` in a workbook opened with the string conversions
off, so `=HYPERLINK(…)`, `+1` or `http://…` in a cell never become formulas or links in the output.
The 批注 texts and their boxes are made in comments.py.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError, OverlappingRange
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipeline.errors import RejectedFile
from pipeline.model import EXPLAINED_ZH, LEVEL_ZH, Finding, Grid, Result, SheetGrid
from pipeline.read.explanations import is_old_result
from pipeline.report.comments import MAX_COMMENT, comment_block, comment_options, display_width
from pipeline.report.marks import CELL_RE, LEVEL_RANK, MAX_COL, Annotation, Marks, drawable
from pipeline.report.package import Package, Unpatchable, patch_package
from pipeline.report.sheet_xml import SheetXml, XfFormats
from pipeline.settings import TITLE_SEARCH_ROWS
from pipeline.store.files import cannot_write

if TYPE_CHECKING:
    from pipeline.report.styles import SheetLook

log = logging.getLogger(__name__)

SUMMARY_SHEET = "审核结果"
TITLE = "绩效自评审核结果"

#: The workbook never interprets text: what a unit typed stays text.
_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
    "in_memory": True,  # no temporary file per XML part: ≈ 10 ms less per workbook
}

#: Fill, font and frame colours per level (Excel's own "Bad" / "Neutral" cell styles).
_MARK = {
    "error": {"fill": "#FFC7CE", "font": "#9C0006", "frame": "#C00000"},
    "warning": {"fill": "#FFEB9C", "font": "#9C5700", "frame": "#BF8F00"},
}
#: The same as ARGB (fill, font, frame), for package.py.
_COLOURS = {level: ("FF" + m["fill"][1:], "FF" + m["font"][1:], "FF" + m["frame"][1:]) for level, m in _MARK.items()}
MARK_COLOURS = _COLOURS  # (fill, font, frame) ARGB per level: what final_copy takes off again
_STATUS_COLOURS = {
    "errors": ("#FFC7CE", "#9C0006"),
    "warnings": ("#FFEB9C", "#9C5700"),
    "ok": ("#C6EFCE", "#006100"),
    "rejected": ("#D9D9D9", "#404040"),
}

_DATE_FORMATS: dict[type, str] = {
    datetime: "yyyy-mm-dd hh:mm:ss",
    date: "yyyy-mm-dd",
    dtime: "hh:mm:ss",
    timedelta: "[h]:mm:ss",
}
#: Cells of .xls/.ods sources (no styles read) and of cells beyond a sheet's styles.
_PLAIN_CELL: dict[str, Any] = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "text_wrap": True}
_GRID_CELL: dict[str, Any] = {**_PLAIN_CELL, "border": 1, "border_color": "#808080"}
_TITLE_CELL: dict[str, Any] = {**_PLAIN_CELL, "bold": True, "font_size": 14, "align": "center"}

_SUMMARY_COLUMNS = [  # header, width (characters)
    ("序号", 6),
    ("级别", 7),
    ("规则编号", 20),
    ("工作表", 22),
    ("单元格", 26),
    ("问题说明", 56),
    ("期望值", 14),
    ("实际值", 14),
    ("单位说明", 36),  # the unit's 出错说明 for a warning, typed here and read back when it sends this file back
]
_EXPLAIN_COL = len(_SUMMARY_COLUMNS) - 1
_EXPLAIN_FILL = "#FFF9E5"  # an input cell: pale, unlocked, wrapping
_LEGEND = [
    ("error", "红色单元格"),
    (None, " = 错误（强制性，必须修改）；"),
    ("warning", "黄色单元格"),
    (None, " = 提示（请核实或在偏差原因中说明）；"),
    (None, "鼠标移到单元格上可看批注；"),
    ("frame", "红/黄色虚线框"),
    (None, " = 同一问题涉及的其他单元格（如合计的各组成项）。"),
    (None, "\n改正红色单元格、在“单位说明”列写明各项提示的原因后，保存本文件原样报回即可。"),
]


# ---------------------------------------------------------------------------------------------------
# Public entry point


def write_annotated(
    result: Result | Annotation,
    source: Grid | Path | None,
    out_path: Path,
    *,
    checked_at: datetime | None = None,
) -> Path:
    """Write the annotated workbook to `out_path` atomically and return `out_path`.

    `source` is the submitted workbook: its grid, or the file itself — an .xlsx is then patched without
    reading its grid, which is read only when the workbook has to be rewritten. None (or a rejected
    result): only the 审核结果 sheet is written. Raises OutputError when the file cannot be written.
    """
    job = result if isinstance(result, Annotation) else Annotation.of(result)
    out_path = Path(out_path)
    at = checked_at or datetime.now()
    started = time.perf_counter()
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=".tmp", dir=out_path.parent)
        os.close(fd)
        path = source if isinstance(source, Path) else source.path if source and source.fmt == "xlsx" else None
        if job.rejected or path is None or not _write_patched(job, path, Path(tmp), at):
            workbook = xlsxwriter.Workbook(tmp, _WORKBOOK_OPTIONS)
            _fill_workbook(workbook, job, None if job.rejected else _grid(source), at)
            workbook.close()
        os.replace(tmp, out_path)
        tmp = None
    except (OSError, FileCreateError) as exc:
        raise cannot_write(f"审核结果文件 {out_path.name}", exc) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    log.debug("wrote %s in %.1f ms", out_path.name, (time.perf_counter() - started) * 1000)
    return out_path


def _grid(source: Grid | Path | None) -> Grid | None:
    """The grid of the submitted workbook, read when it was not; None when it cannot be read."""
    if not isinstance(source, Path):
        return source
    from pipeline.read.grid import read_grid
    from pipeline.read.sniff import sniff

    try:
        return read_grid(source, fmt=sniff(source))
    except RejectedFile:
        return None


def _fill_workbook(workbook: xlsxwriter.Workbook, result: Annotation, grid: Grid | None, at: datetime) -> None:
    formats = _Formats(workbook)
    sheets = [s for s in grid.sheets if not is_old_result(s)] if grid is not None and not result.rejected else []
    out_names = _output_names([s.name for s in sheets])
    # Findings name their sheet by its submitted name; a damaged workbook can hold two sheets of one name:
    # the findings (and the links) go to the first of them.
    names: dict[str, str] = {}
    for sheet, out_name in zip(sheets, out_names, strict=True):
        names.setdefault(sheet.name, out_name)
    summary = workbook.add_worksheet(_summary_name(out_names))
    _write_summary(summary, formats, result, names, at)
    if not sheets:
        return
    assert grid is not None
    from pipeline.report.styles import read_styles  # openpyxl: only when a workbook is rewritten

    look = read_styles(grid.path) if grid.fmt in ("xlsx", "xlsm") else None
    for sheet, out_name in zip(sheets, out_names, strict=True):
        own = [f for f in result.findings if f.sheet == sheet.name] if names[sheet.name] == out_name else []
        marks = Marks.of(sheet, own)
        sheet_look = look.sheets.get(sheet.name) if look else None
        styles = look.styles if look and sheet_look else [{}]
        _write_sheet(workbook.add_worksheet(out_name), formats, sheet, marks, sheet_look, styles)


def _write_patched(result: Annotation, source: Path, out: Path, at: datetime) -> bool:
    """The unit's own .xlsx with the 审核结果 sheet and the marks patched in (package.py); False when the
    workbook is to be rewritten instead (not an .xlsx, or a package package.py does not patch)."""
    try:
        with Package(source) as package:
            names = package.sheet_names
            merged = {name: package.merged(part) for name, _, part in package.sheets}
            if _output_names(names) != names or any(not drawable(*rng) for ranges in merged.values() for rng in ranges):
                return False  # names to change, or a merge over a whole sheet (a viewer would bind it cell by cell)
            summary_name = _summary_name(names)
            summary = SheetXml(XfFormats(package.styles))
            _write_summary(summary, summary.formats, result, {n: n for n in names}, at)
            marks: dict[str, tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]] = {}
            notes: dict[str, dict[tuple[int, int], tuple[str, dict[str, Any]]]] = {}
            for name in names:
                own = Marks.of(SheetGrid(name, [], merged[name]), (f for f in result.findings if f.sheet == name))
                if own.fills or own.frames:
                    marks[name] = (own.fills, own.frames)
                if own.notes:
                    notes[name] = {}
                    for pos, findings in own.notes.items():
                        text = "\n\n".join(comment_block(f) for f in findings)[:MAX_COMMENT]
                        notes[name][pos] = (text, comment_options(text))
            patch_package(
                package, out, summary=summary, summary_name=summary_name, marks=marks, notes=notes, colours=_COLOURS
            )
    except Unpatchable as exc:
        log.info("rewriting %s instead of patching it: %s", source.name, exc)
        return False
    return True


def _output_names(submitted: list[str]) -> list[str]:
    """A valid Excel sheet name for each submitted sheet, in order, unique even when the submitted names
    are not (unchanged whenever it already is a valid, unique one)."""
    names: list[str] = []
    taken: set[str] = set()
    for name in submitted:
        base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "Sheet"
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base[: 31 - len(str(n)) - 2]}({n})"
        names.append(candidate)
        taken.add(candidate.lower())
    return names


def _summary_name(taken: Iterable[str]) -> str:
    """审核结果, unless a submitted sheet already has that name: the copy keeps its name, we move."""
    lowered = {name.lower() for name in taken}
    for candidate in (SUMMARY_SHEET, f"{SUMMARY_SHEET}_jixiao", *(f"{SUMMARY_SHEET}({n})" for n in range(2, 99))):
        if candidate.lower() not in lowered:
            return candidate
    raise ValueError("no free name for the summary sheet")  # 99 sheets named 审核结果(n): not a submission


class _Formats:
    """One xlsxwriter Format per distinct set of properties (Excel caps a file at 64,000 styles)."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[tuple[str, Any], ...], Format] = {}

    def get(self, props: dict[str, Any]) -> Format:
        key = tuple(sorted(props.items()))
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self._workbook.add_format(props)
        return fmt


# ---------------------------------------------------------------------------------------------------
# The 审核结果 sheet


def _write_summary(
    ws: Worksheet | SheetXml, formats: _Formats | XfFormats, result: Annotation, names: dict[str, str], at: datetime
) -> None:
    last = len(_SUMMARY_COLUMNS) - 1
    for col, (_, width) in enumerate(_SUMMARY_COLUMNS):
        ws.set_column(col, col, width)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, last, "", formats.get({**_PLAIN_CELL, "bold": True, "font_size": 16}))
    ws.write_string(0, 0, TITLE, formats.get({**_PLAIN_CELL, "bold": True, "font_size": 16}))
    row = _write_header_block(ws, formats, result, at)
    if not result.rejected:
        row = _write_legend(ws, formats, row)
        _write_findings_table(ws, formats, result.findings, names, row, result.explanation)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def _header_lines(result: Annotation, at: datetime) -> list[tuple[str, str | int]]:
    unknown = "（未识别）"
    lines: list[tuple[str, str | int]] = [
        ("文件", result.file.name),
        ("预算单位", result.unit or unknown),
        ("年度", str(result.year) if result.year else unknown),
        ("审核结论", result.status_text),
    ]
    if result.rejected:
        lines.append(("退回原因", "；".join(f.message for f in result.findings) or "文件无法处理"))
    else:
        lines += [("错误数", result.errors), ("提示数", result.warnings)]
        if result.explained:
            lines.append(("已说明提示数", result.explained))
    lines.append(("审核时间", at.strftime("%Y-%m-%d %H:%M")))
    if result.note:
        lines.append(("说明", result.note))
    return lines


def _write_header_block(
    ws: Worksheet | SheetXml, formats: _Formats | XfFormats, result: Annotation, at: datetime
) -> int:
    """文件 / 预算单位 / … as label–value lines under the title; returns the next free row."""
    last = len(_SUMMARY_COLUMNS) - 1
    label = formats.get({**_PLAIN_CELL, "bold": True, "align": "right"})
    plain = formats.get({**_PLAIN_CELL, "align": "left"})
    fill, font = _STATUS_COLOURS["ok" if result.status_text == EXPLAINED_ZH else result.status]
    status = formats.get({**_PLAIN_CELL, "bold": True, "pattern": 1, "bg_color": fill, "font_color": font})
    row = 1
    for key, value in _header_lines(result, at):
        ws.merge_range(row, 0, row, 1, "", label)
        ws.write_string(row, 0, f"{key}：", label)
        if key == "审核结论":
            ws.write_string(row, 2, str(value), status)  # one coloured cell, like a stamp
        elif isinstance(value, int):
            ws.write_number(row, 2, value, plain)
        else:
            ws.merge_range(row, 2, row, last, "", plain)
            ws.write_string(row, 2, value, plain)
        row += 1
    return row


def _write_legend(ws: Worksheet | SheetXml, formats: _Formats | XfFormats, row: int) -> int:
    """One line saying what the colours and frames mean (rich text: only the key words coloured)."""
    cell = formats.get({**_PLAIN_CELL, "pattern": 1, "bg_color": "#F2F2F2"})
    parts: list[Any] = []
    for key, text in _LEGEND:
        colour = _MARK[key]["font"] if key in _MARK else _MARK["error"]["frame"] if key == "frame" else None
        props = {"font_name": "宋体", "bold": True, "font_color": colour} if colour else {"font_name": "宋体"}
        parts += [formats.get(props), text]
    ws.set_row(row, 44)
    ws.merge_range(row, 0, row, len(_SUMMARY_COLUMNS) - 1, "", cell)
    ws.write_rich_string(row, 0, *parts, cell)
    return row + 1


def _write_findings_table(
    ws: Worksheet | SheetXml,
    formats: _Formats | XfFormats,
    findings: Sequence[Finding],
    names: dict[str, str],
    row: int,
    explained: Callable[[Finding], str | None],
) -> None:
    header = formats.get({**_GRID_CELL, "bold": True, "align": "center", "pattern": 1, "bg_color": "#D9E1F2"})
    for col, (title, _) in enumerate(_SUMMARY_COLUMNS):
        ws.write_string(row, col, title, header)
    ws.freeze_panes(row + 1, 0)
    ws.repeat_rows(row)
    ordered = sorted(findings, key=lambda f: -LEVEL_RANK.get(f.level, 0))  # stable: errors, then warnings
    if not ordered:
        ws.merge_range(row + 1, 0, row + 1, len(_SUMMARY_COLUMNS) - 1, "", formats.get(_GRID_CELL))
        ws.write_string(row + 1, 0, "未发现问题", formats.get({**_GRID_CELL, "align": "center"}))
        return
    for number, finding in enumerate(ordered, start=1):
        _write_finding_row(ws, formats, row + number, number, finding, names)
        _write_explanation(ws, formats, row + number, finding, explained(finding))
    ws.autofilter(row, 0, row + len(ordered), len(_SUMMARY_COLUMNS) - 1)


def _write_finding_row(
    ws: Worksheet | SheetXml,
    formats: _Formats | XfFormats,
    row: int,
    number: int,
    finding: Finding,
    names: dict[str, str],
) -> None:
    text = formats.get({**_GRID_CELL, "valign": "top"})
    centred = formats.get({**_GRID_CELL, "valign": "top", "align": "center"})
    mark = _MARK.get(finding.level, _MARK["warning"])
    level = formats.get(
        {
            **_GRID_CELL,
            "valign": "top",
            "align": "center",
            "bold": True,
            "pattern": 1,
            "bg_color": mark["fill"],
            "font_color": mark["font"],
        }
    )
    ws.write_number(row, 0, number, centred)
    ws.write_string(row, 1, LEVEL_ZH.get(finding.level, finding.level), level)
    ws.write_string(row, 2, finding.rule, text)
    ws.write_string(row, 3, finding.sheet or "—", text)
    ref = _first_cell(finding)
    if ref is None:
        ws.write_string(row, 4, "—", centred)
    elif finding.sheet in names:
        quoted = names[finding.sheet].replace("'", "''")
        target = f"internal:'{quoted}'!{ref}"
        link = formats.get({**_GRID_CELL, "valign": "top", "font_color": "#0563C1", "underline": 1})
        ws.write_url(row, 4, target, link, string=f"{finding.sheet}!{ref}", tip="跳转到该单元格")
    else:  # the sheet is not in the workbook (e.g. a missing 附件2): nothing to link to
        ws.write_string(row, 4, f"{finding.sheet}!{ref}" if finding.sheet else ref, text)
    ws.write_string(row, 5, finding.message, text)
    ws.write_string(row, 6, finding.expected or "", text)
    ws.write_string(row, 7, finding.actual or "", text)
    ws.set_row(row, _row_height(finding))


def _write_explanation(
    ws: Worksheet | SheetXml, formats: _Formats | XfFormats, row: int, finding: Finding, text: str | None
) -> None:
    """单位说明: an unlocked, wrapping input cell on a warning row, holding what the unit already wrote."""
    if finding.level == "warning":
        fmt = formats.get({**_GRID_CELL, "valign": "top", "pattern": 1, "bg_color": _EXPLAIN_FILL, "locked": False})
    else:  # an error is fixed, not explained; the cell stays usable for a remark all the same
        fmt = formats.get({**_GRID_CELL, "valign": "top", "locked": False})
    ws.write_string(row, _EXPLAIN_COL, text or "", fmt)
    if text:
        lines = -(-display_width(text) // (_SUMMARY_COLUMNS[_EXPLAIN_COL][1] - 1))
        ws.set_row(row, max(_row_height(finding), lines * 14.5 + 4))


def _row_height(finding: Finding) -> float:
    """Points for a findings row: wrapped text does not grow rows by itself in every viewer."""
    texts = [
        "",
        "",
        finding.rule,
        finding.sheet,
        f"{finding.sheet}!{_first_cell(finding) or ''}",
        finding.message,
        finding.expected or "",
        finding.actual or "",
        "",
    ]
    lines = max(
        -(-display_width(text) // max(width - 1, 1)) for text, (_, width) in zip(texts, _SUMMARY_COLUMNS, strict=True)
    )
    return max(lines, 1) * 14.5 + 4


def _first_cell(finding: Finding) -> str | None:
    """The finding's first cell as a clean A1 reference, or None when it names no (valid) cell."""
    if not finding.cells:
        return None
    ref = finding.cells[0].replace("$", "").strip().upper()
    return ref if CELL_RE.fullmatch(ref) else None


# ---------------------------------------------------------------------------------------------------
# A submitted sheet, reproduced


def _write_sheet(
    ws: Worksheet,
    formats: _Formats,
    sheet: SheetGrid,
    marks: Marks,
    look: SheetLook | None,
    styles: list[dict[str, Any]],
) -> None:
    _set_dimensions(ws, sheet, look)
    values = {(r, c): v for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if v not in ("", None)}
    positions = _positions(sheet, look, marks, values)
    titles = _title_cells(sheet) if look is None else set()
    chosen: dict[tuple[int, type | None, str | None, str | None], Format] = {}

    def cell_format(pos: tuple[int, int]) -> Format:
        index = look.cells.get(pos, 0) if look is not None else -2 if pos in titles else -1
        value = values.get(pos)
        key = (index, _date_kind(value), marks.fills.get(pos), marks.frames.get(pos))
        if key not in chosen:
            base = {-2: _TITLE_CELL, -1: _GRID_CELL}.get(index) or (styles[index] if index < len(styles) else styles[0])
            chosen[key] = formats.get(_cell_props(base, value, key[2], key[3]))
        return chosen[key]

    for r0, c0, r1, c1 in sheet.merged:
        if (r0, c0) != (r1, c1) and drawable(r0, c0, r1, c1):
            try:
                ws.merge_range(r0, c0, r1, c1, "", cell_format((r0, c0)))
            except OverlappingRange as exc:
                log.warning("sheet %s: merged range skipped: %s", sheet.name, exc)
    for pos in sorted(positions):
        _write_value(ws, pos, values.get(pos), cell_format(pos))
    for pos, findings in marks.notes.items():
        text = "\n\n".join(comment_block(f) for f in findings)[:MAX_COMMENT]
        ws.write_comment(*pos, text, comment_options(text))
    ws.set_paper(9)
    if look is not None and look.landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _positions(
    sheet: SheetGrid, look: SheetLook | None, marks: Marks, values: dict[tuple[int, int], Any]
) -> set[tuple[int, int]]:
    """Cells to write: values, styled cells, marked cells and every cell of a merged range."""
    if look is not None:
        positions = set(values) | set(look.cells)
    else:  # no styles read: frame the whole used area so the form still reads as a table
        positions = {(r, c) for r in range(sheet.n_rows) for c in range(sheet.n_cols)}
    positions |= set(marks.fills) | set(marks.frames)
    for r0, c0, r1, c1 in sheet.merged:
        if drawable(r0, c0, r1, c1):
            positions.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        else:
            positions.add((r0, c0))
    return positions


def _title_cells(sheet: SheetGrid) -> set[tuple[int, int]]:
    """Cells of a merged range spanning the used width near the top: the form's title, when unstyled."""
    return {
        (r, c)
        for r0, c0, r1, c1 in sheet.merged
        if r0 < TITLE_SEARCH_ROWS and c0 == 0 and c1 >= sheet.n_cols - 1 > 0 and drawable(r0, c0, r1, c1)
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
    }


def _cell_props(base: dict[str, Any], value: Any, fill: str | None, frame: str | None) -> dict[str, Any]:
    """A cell's own look, plus a date format when needed, plus the marks of its findings."""
    from pipeline.report.styles import is_date_format

    props = dict(base)
    kind = _date_kind(value)
    if kind is not None and not is_date_format(props.get("num_format", 0)):
        props["num_format"] = _DATE_FORMATS[kind]
    if fill in _MARK:
        props.update(pattern=1, bg_color=_MARK[fill]["fill"], font_color=_MARK[fill]["font"])
        props.pop("fg_color", None)
    if frame in _MARK:
        props.update(border=8, border_color=_MARK[frame]["frame"])  # medium dashed
        for side in ("left", "right", "top", "bottom"):
            props.pop(side, None)
            props.pop(f"{side}_color", None)
    return props


def _date_kind(value: Any) -> type | None:
    """datetime, date, time or timedelta for a date-like value (the key of its default format)."""
    return next((kind for kind in _DATE_FORMATS if isinstance(value, kind)), None) if value is not None else None


def _write_value(ws: Worksheet, pos: tuple[int, int], value: Any, fmt: Format) -> None:
    row, col = pos
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, date) and value.year < 1900:  # before Excel's epoch: keep it readable as text
        ws.write_string(row, col, value.isoformat(), fmt)
    elif isinstance(value, (date, dtime, timedelta)):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _set_dimensions(ws: Worksheet, sheet: SheetGrid, look: SheetLook | None) -> None:
    """Column widths and row heights: the source's when read, else widths guessed from the content."""
    if look is None:
        for col, width in _guess_widths(sheet).items():
            ws.set_column(col, col, width)
        return
    if look.default_col_width:
        ws.set_column_pixels(0, max(sheet.n_cols - 1, 0), _pixels(look.default_col_width))
    for first, last, width in look.columns:
        ws.set_column_pixels(first, min(last, MAX_COL), _pixels(width))
    for row, height in look.row_heights.items():
        ws.set_row(row, height)


def _pixels(width: float) -> int:
    """A stored column width (characters, padding included) → the pixels xlsxwriter stores it back as."""
    return int(width * 7 + 0.5)


def _guess_widths(sheet: SheetGrid) -> dict[int, float]:
    """Width per column from its longest unmerged text (a CJK character counts double), 6 to 40."""
    merged = {(r, c0) for r0, c0, r1, c1 in sheet.merged if c1 > c0 for r in range(r0, min(r1, sheet.n_rows) + 1)}
    widths: dict[int, float] = {}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value in ("", None) or (r, c) in merged:
                continue
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            widths[c] = max(widths.get(c, 0), display_width(text) + 2)
    return {c: min(max(w, 6), 40) for c, w in widths.items()} | {c: 10 for c in range(sheet.n_cols) if c not in widths}
