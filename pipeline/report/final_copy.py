"""The clean final copy (定稿) of each accepted unit, and the review status the ledger keeps.

When a unit's newest workbook is accepted (通过, 通过（提示已说明）, 通过（审核认可）), `OUT/定稿/{单位}_{年度}.xlsx`
holds it as the unit filled it. A unit that answered in the annotated workbook we sent carries our marks in
its file; exactly those are taken off:

 - the 审核结果 sheet (annotate.py) and the 审核说明 sheet (template.py), found by their titles;
 - the 批注 whose author is jixiao's (comments.py);
 - on a marked cell, the fill and font colour of a level and the dashed frame (package_xml.Styles.marked,
   annotate.py `_MARK`): the cell gets back the fill, font and border it had in the unit's earlier workbook
   that carried no marks (the one we annotated), or, when there is none, loses only what matches ours.

A workbook without any of that is copied byte for byte. A unit no longer accepted loses its 定稿 file.
The copy is made once per submission (the `reviews` table records it), so a rebuild does not redo it.
"""

from __future__ import annotations

import copy
import logging
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Border, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.naming import safe_filename
from pipeline.read.explanations import EXPLAIN_TITLE, RESULT_TITLE
from pipeline.report.annotate import MARK_COLOURS
from pipeline.report.comments import COMMENT_AUTHOR
from pipeline.report.summary_data import UNKNOWN_YEAR, YearData, unit_name
from pipeline.store.files import cannot_write
from pipeline.store.ledger import Entry, Ledger
from pipeline.store.reviews import record, recorded

log = logging.getLogger(__name__)

FINAL_DIR = "定稿"
ACCEPTED_KEYS = ("ok", "explained", "accepted")
_FILLS = {fill for fill, _, _ in MARK_COLOURS.values()}
_FONTS = {font for _, font, _ in MARK_COLOURS.values()}
_FRAMES = {frame for _, _, frame in MARK_COLOURS.values()}
_TITLE_ROWS = 3
_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et")  # what a unit's 定稿 may be named with


def record_reviews(ledger: Ledger, out: Path, data: YearData) -> int:
    """Keep each unit's review status in the ledger and its 定稿 up to date; returns how many rows changed."""
    before = recorded(ledger, [u.entry.id for u in data.units])
    rows: dict[int, tuple[str, str | None]] = {}
    for unit in data.units:
        key = data.status_key(unit.entry)
        review = key if key in ("returned", "accepted", "warnings") else ""
        final = final_path(data, unit.entry)
        old = before.get(unit.entry.id, ("", None))[1]
        if key in ACCEPTED_KEYS and unit.entry.unit:
            done = (old == final and (out / final).is_file()) or write_final(ledger, out, unit.entry, out / final)
            rows[unit.entry.id] = (review, final if done else None)
        else:
            for suffix in _SUFFIXES:  # a stat each, not a listing of 定稿/ per unit
                Path(out / final).with_suffix(suffix).unlink(missing_ok=True)
            rows[unit.entry.id] = (review, None)
    return record(ledger, rows)


def final_path(data: YearData, entry: Entry) -> str:
    """定稿/{单位}_{年度}{后缀}, relative to OUT."""
    year = data.year if data.year is not None else UNKNOWN_YEAR
    suffix = Path(entry.archive_path).suffix.lower() or ".xlsx"
    return f"{FINAL_DIR}/{safe_filename(f'{unit_name(entry)}_{year}')}{suffix}"


def write_final(ledger: Ledger, out: Path, entry: Entry, dest: Path) -> bool:
    """Write the unit's workbook, our marks taken off, to `dest`; False when its archive copy is gone (a
    ledger copied elsewhere). OutputError when it cannot be written."""
    source = out / entry.archive_path
    if not source.is_file():
        log.warning("no 定稿 for %s: its archive copy %s is missing", entry.unit, source)
        return False
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not _has_our_marks(source):
            shutil.copyfile(source, dest)
            return True
        earlier = _unmarked_original(ledger, out, entry)
        strip_marks(source, dest, original=earlier)
        return True
    except OSError as exc:
        raise cannot_write(f"定稿 {dest.name}", exc) from exc


def _has_our_marks(path: Path) -> bool:
    """Whether an .xlsx may carry our sheet or 批注 (any comments part, any sheet titled as ours)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False  # .xls and others: we never write those, nothing of ours can be in them
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any("comments" in n for n in names):
                return True
            strings = archive.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
            return any(t.encode() in strings for t in (RESULT_TITLE, EXPLAIN_TITLE)) or _inline_titles(archive, names)
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _inline_titles(archive: zipfile.ZipFile, names: list[str]) -> bool:
    sheets = [n for n in names if n.startswith("xl/worksheets/sheet")]
    return any(RESULT_TITLE.encode() in archive.read(n) or EXPLAIN_TITLE.encode() in archive.read(n) for n in sheets)


def _unmarked_original(ledger: Ledger, out: Path, entry: Entry) -> Path | None:
    """The unit's newest earlier workbook of the year that carries none of our marks (the one we annotated)."""
    earlier_versions = ledger.entries(
        where="unit = ? AND year IS ? AND id < ? AND status IN ('ok', 'warnings', 'errors')",
        params=(entry.unit, entry.year, entry.id),
    )
    for earlier in reversed(earlier_versions):
        path = out / earlier.archive_path
        if path.is_file() and path.suffix.lower() == ".xlsx" and not _has_our_marks(path):
            return path
    return None


def strip_marks(source: Path, dest: Path, *, original: Path | None = None) -> None:
    """Save `source` to `dest` without our sheets, 批注, fills, font colours and frames."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about parts it does not keep (extensions); none is ours
        wb = openpyxl.load_workbook(source)
        before = openpyxl.load_workbook(original, read_only=False) if original is not None else None
    for ws in list(wb.worksheets):
        if _title(ws) in (RESULT_TITLE, EXPLAIN_TITLE):
            wb.remove(ws)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False
        old = before[ws.title] if before is not None and ws.title in before.sheetnames else None
        _unmark(ws, old)
    if wb.worksheets:
        wb.active = 0
        wb.worksheets[0].sheet_view.tabSelected = True
    wb.save(dest)


def _uncoloured(font: Font) -> Font:
    plain = copy.copy(font)
    plain.color = None
    return plain


def _title(ws: Worksheet) -> str:
    for row in ws.iter_rows(max_row=_TITLE_ROWS, values_only=True):
        for value in row:
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _unmark(ws: Worksheet, old: Worksheet | None) -> None:
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None and cell.comment.author == COMMENT_AUTHOR:
                cell.comment = None
            fill = cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in _FILLS
            font = cell.font.color is not None and cell.font.color.rgb in _FONTS
            sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
            frame = any(s is not None and s.style == "mediumDashed" and s.color is not None and s.color.rgb in _FRAMES
                        for s in sides)  # fmt: skip
            if not (fill or frame):
                continue
            was = old[cell.coordinate] if old is not None else None
            if fill:
                cell.fill = copy.copy(was.fill) if was is not None else PatternFill()
                if font:
                    cell.font = copy.copy(was.font) if was is not None else _uncoloured(cell.font)
            if frame:
                cell.border = copy.copy(was.border) if was is not None else Border()
