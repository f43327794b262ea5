"""File → grid: cell values and merged ranges per sheet, read with python-calamine.

python-calamine reads .xlsx/.xlsm/.xls/.ods in about a quarter of a millisecond per form, merged ranges
included; the whole grid of a workbook, guards and package scans with it, costs about half a millisecond
per form (≈ 2 ms for the bench corpus's workbooks). openpyxl is used elsewhere only where styles are needed
(annotate.py). An .xlsx package is opened once for everything read from it besides calamine: the guard
against references beyond the grid (which notes formulas on the way), the document properties, and for
workbooks written by `jixiao template` the sheet-scoped defined names (jx.<point key>), read straight from
the package XML (`_parse_part`: defusedxml, or ElementTree's C parser for a part that cannot hold a DTD),
which costs far less than loading openpyxl.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import multiprocessing
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as StdElementTree

import python_calamine
from defusedxml import ElementTree

from pipeline import settings
from pipeline.errors import RejectedFile
from pipeline.model import Grid, SheetGrid, parse_ref
from pipeline.read.external import external_cells, outside_names
from pipeline.read.sniff import MSG_CORRUPT, MSG_LYING_SIZES
from pipeline.settings import MAX_SHEET_CELLS, MAX_SHEET_ROWS, TEMPLATE_ID

log = logging.getLogger(__name__)

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NAME_PREFIX = "jx."
_NAME_TARGET = re.compile(r"^'?(?P<sheet>.+?)'?!\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")
_NS_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"

MSG_DAMAGED = "文件内容已损坏（读取程序无法解析其内部结构），请在 Excel 或 WPS 中打开后重新另存为 .xlsx 再提交"
MSG_BAD_REF = "文件已损坏：单元格地址 {ref} 超出 Excel 的范围（最多 1048576 行、XFD 列），请重新导出后提交"
MSG_OUT_OF_RANGE = "文件中有超出范围的日期或时间数值（单元格格式为日期/时间，数值过大），无法读取，请检查后重新提交"


def read_grid(path: Path, *, fmt: str | None = None) -> Grid:
    """Read every sheet's values and merged ranges. Raises RejectedFile when the file cannot be read."""
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "xlsm"):
        return Grid(path=path, fmt=fmt, sheets=_read_sheets(path))
    try:
        archive: zipfile.ZipFile | None = zipfile.ZipFile(path)  # opened once for every scan of the package
    except (zipfile.BadZipFile, OSError, NotImplementedError):
        archive = None  # calamine says what is wrong with it
    try:
        seen = _guard_references(archive) if archive is not None else _Seen()
        sheets = _read_sheets(path, _without_lying_counts(archive) if archive is not None else None)
        properties = _custom_properties(archive, path) if archive is not None else {}
        names = (
            _point_names(archive, path)
            if archive is not None and properties.get("jixiao_template") == TEMPLATE_ID
            else {}
        )
        uncached = _uncached_formulas(archive, path, sheets, seen)
        external = _external_cells(archive, path) if seen.formula or seen.hyperlink or not seen.complete else {}
    finally:
        if archive is not None:
            archive.close()
    return Grid(
        path=path, fmt=fmt, sheets=sheets, properties=properties, names=names, uncached=uncached, external=external
    )


def _read_sheets(path: Path, repaired: bytes | None = None) -> list[SheetGrid]:
    with _native_stderr_muted():
        return _read_sheets_now(path, repaired)


_SST_TAG = re.compile(rb"<(?:[A-Za-z]\w*:)?sst\b[^>]*>")
_SST_COUNT = re.compile(rb"""\s(?:uniqueCount|count)\s*=\s*["']\s*([0-9]+)\s*["']""")
_SST_PART = "xl/sharedStrings.xml"


def _without_lying_counts(archive: zipfile.ZipFile) -> bytes | None:
    """The package with its shared-string counts dropped, when they declare more strings than the part can
    hold (each takes ≥ 5 bytes: `<si/>`); None when they are plausible (nearly always).

    calamine reserves memory for `uniqueCount` strings before reading one: `uniqueCount="99999999"` is
    2.4 GB, which aborts a worker under its memory cap but reads in an uncapped process. Dropped, the counts
    are optional (the part lists its strings anyway), and both ways read the same file the same way."""
    try:
        info = archive.getinfo(_SST_PART)
        with archive.open(info) as part:
            head = part.read(settings.XML_PROLOG_BYTES)
    except (KeyError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error, EOFError):
        return None  # no shared strings, or damaged: calamine says what is wrong
    tag = _SST_TAG.search(head)
    counts = [int(n[:12]) for n in _SST_COUNT.findall(tag.group(0))] if tag else []
    if not counts or max(counts) <= info.file_size // 5 + 1:
        return None
    log.info("shared strings declare %d entries in %d bytes: counts dropped", max(counts), info.file_size)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
        for member in archive.infolist():
            data = archive.read(member)
            if member.filename == _SST_PART:
                data = _SST_TAG.sub(lambda m: _SST_COUNT.sub(b"", m.group(0)), data, count=1)
            copy.writestr(member.filename, data)
    return out.getvalue()


@contextmanager
def _native_stderr_muted() -> Iterator[None]:
    """In a worker process, while calamine reads: its file descriptor 2 goes to /dev/null.

    A Rust panic inside calamine prints Rust's message and stack trace on stderr before Python gets it as an
    exception, which becomes a refusal with a Chinese reason (`_damaged`): the user's terminal should show
    that reason, not the Rust lines. Not in the user's own process (`--workers 0`), where other threads may
    be writing to stderr at the same time.
    """
    if multiprocessing.parent_process() is None:
        yield
        return
    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _read_sheets_now(path: Path, repaired: bytes | None) -> list[SheetGrid]:
    try:
        with path.open("rb") if repaired is None else io.BytesIO(repaired) as fh:  # by content: a renamed .xls reads
            workbook = python_calamine.CalamineWorkbook.from_filelike(fh)
    except python_calamine.PasswordError as exc:
        raise RejectedFile("文件已加密，请取消密码后重新提交", code="encrypted") from exc
    except (python_calamine.CalamineError, OSError, ValueError) as exc:
        raise RejectedFile(f"文件无法读取（已损坏或不是 Excel 工作簿）：{_short(exc)}", code="corrupt") from exc
    except BaseException as exc:
        if _passes_through(exc):
            raise
        raise _damaged(exc) from exc
    sheets: list[SheetGrid] = []
    try:
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            rows = _sheet_rows(name, sheet)
            merged = [
                (r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or []) if r1 < max(len(rows), 1)
            ]
            sheets.append(SheetGrid(name=name, rows=rows, merged=merged))
    except python_calamine.CalamineError as exc:
        raise RejectedFile(f"文件内容已损坏，无法读取：{_short(exc)}", code="corrupt") from exc
    except OverflowError as exc:  # a date or duration far beyond year 9999, e.g. 1e308 formatted [h]:mm:ss
        raise RejectedFile(MSG_OUT_OF_RANGE, code="corrupt") from exc
    except RejectedFile:
        raise
    except BaseException as exc:
        if _passes_through(exc):
            raise
        raise _damaged(exc) from exc
    finally:
        workbook.close()
    return sheets


def _sheet_rows(name: str, sheet: python_calamine.CalamineSheet) -> list[list[Any]]:
    """A sheet's rows from A1; RejectedFile when it is far larger than a form. A sheet tall only because of a
    few stray cells far down (one value typed at A1048576) is read down to MAX_SHEET_ROWS, the strays left."""
    rows_n, cols_n = sheet.total_height + 1, sheet.total_width + 1  # what to_python will hold (last index + 1)
    if rows_n <= MAX_SHEET_ROWS and rows_n * cols_n <= MAX_SHEET_CELLS:
        return sheet.to_python(skip_empty_area=False)
    keep = min(rows_n, MAX_SHEET_ROWS)
    if keep * cols_n > MAX_SHEET_CELLS or _filled_beyond(sheet, keep) > settings.MAX_STRAY_CELLS:
        raise RejectedFile(f"工作表“{name}”过大（{rows_n} 行 × {cols_n} 列），不是绩效自评表", code="oversized")
    rows = sheet.to_python(skip_empty_area=False, nrows=keep)
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    log.info("sheet %s: stray cells below row %d left unread", name, keep)
    return rows


def _filled_beyond(sheet: python_calamine.CalamineSheet, start: int) -> int:
    """Cells holding something from row `start` on, counted up to one past MAX_STRAY_CELLS."""
    filled = 0
    for row in itertools.islice(sheet.iter_rows(), start, None):
        filled += sum(v not in ("", None) for v in row)
        if filled > settings.MAX_STRAY_CELLS:
            break
    return filled


_REF_ATTR = re.compile(rb"""\s(?:r|ref)\s*=\s*(?:"([^"]{0,300})"|'([^']{0,300})')""")
# Where `_REF_ATTR` may match a value beyond the grid: every `r`/`ref` value but the plain shapes Excel
# writes (A1, 12, A1:C3), which have at most two letters and six digits in a row (ZZ is column 702, 999999 a
# row inside the grid). The literal comes first and the whitespace is checked behind it, so that the scan
# skips through the part instead of trying every byte.
_PLAIN = rb"[A-Z]{1,2}[0-9]{1,6}"
_SUSPECT = (
    re.compile(rb'r="(?!' + _PLAIN + rb'"|[0-9]{1,6}")(?<=\sr=")'),
    re.compile(rb'ref="(?!' + _PLAIN + rb"(?::" + _PLAIN + rb')?")(?<=\sref=")'),
    re.compile(rb"='|(?:r|ref)(?:\s+=|=\s)"),  # quoted with ' or spaced out (Excel writes neither): always looked at
)
_CELL = re.compile(r"\$?([A-Za-z]*)\$?([0-9]*)")
_CHUNK = 1 << 20
_MAX_ROW, _MAX_COL = 1_048_576, 16_384  # Excel's grid: rows 1…1048576, columns A…XFD


@dataclass(slots=True)
class _Seen:
    """What the guard's pass over the worksheet parts saw on the way: whether any holds a formula element,
    and whether it read them all (a part it could not open leaves `_has_formulas` to decide)."""

    formula: bool = False
    complete: bool = True
    hyperlink: bool = False  # any `<hyperlink`: with `formula`, what `_external_cells` needs to look for


def _guard_references(archive: zipfile.ZipFile) -> _Seen:
    """Refuse a worksheet naming a cell beyond Excel's grid (`<c r="ZZZZZZ1">`, `<row r="99999999">`).

    calamine sizes its buffers by the largest reference: such a file makes it abort the whole process
    (SIGABRT) or exhaust memory, so it must not reach the reader. Streams each worksheet part once
    (≈ 0.1 ms a form); the zip guard in `sniff` has bounded what they may inflate to.
    """
    seen = _Seen()
    for info in archive.infolist():
        _guard_part(archive, info, seen)
    return seen


def _guard_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, seen: _Seen) -> None:
    name = info.filename
    if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
        return
    try:
        part = archive.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
        seen.complete = False
        return
    with part:
        tail = b""
        while chunk := _read_checked(part):
            seen.formula = seen.formula or _holds_formula(chunk)
            seen.hyperlink = seen.hyperlink or b"hyperlink" in chunk
            text = tail + chunk
            if any(rx.search(text) for rx in _SUSPECT):  # else every reference in it is a plain one
                _refuse_beyond_grid(text, name)
            tail = text[-320:]


def ref_values(text: bytes) -> Iterator[str]:
    """The values of the `r` and `ref` attributes in a piece of worksheet XML, however quoted."""
    for match in _REF_ATTR.finditer(text):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        yield value.decode("ascii", "replace")


def _refuse_beyond_grid(text: bytes, name: str) -> None:
    for value in ref_values(text):
        bad = _beyond_grid(value)
        if bad:
            log.info("cell reference %r beyond the grid in %s", bad, name)
            raise RejectedFile(MSG_BAD_REF.format(ref=bad[:20]), code="corrupt")


def _read_checked(part: IO[bytes]) -> bytes:
    """The next chunk of a member: one that inflates past its declared size or fails its CRC lies about
    its size; one whose deflate stream is broken is damaged."""
    try:
        return part.read(_CHUNK)
    except zipfile.BadZipFile as exc:
        log.info("zip member inflates to other than declared: %s", exc)
        raise RejectedFile(MSG_LYING_SIZES, code="corrupt") from exc
    except (zlib.error, EOFError) as exc:
        log.info("zip member cannot be inflated: %s", exc)
        raise RejectedFile(MSG_CORRUPT, code="corrupt") from exc


def _beyond_grid(value: str) -> str | None:
    """The first reference in an `r`/`ref` value (`A1`, `7`, `A1:C3`, `A1 B2:C3`) outside Excel's grid."""
    for ref in value.replace(":", " ").split():
        m = _CELL.fullmatch(ref)
        if not m:
            continue  # not a reference calamine sizes anything by; it reports malformed ones itself
        letters, digits = m.groups()
        col = 0
        for ch in letters.upper():
            col = col * 26 + ord(ch) - 64
            if col > _MAX_COL:
                return ref
        if digits and int(digits[:8]) > _MAX_ROW:
            return ref
    return None


def _passes_through(exc: BaseException) -> bool:
    """Ctrl-C, exits and memory exhaustion are not the file's damage: the caller decides about those."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError)


def _damaged(exc: BaseException) -> RejectedFile:
    """The refusal for an exception out of calamine that is none of its documented errors.

    A Rust panic inside calamine (a slice index out of range on a damaged .xls, found by fuzzing)
    arrives as `pyo3_runtime.PanicException`, a BaseException: it would pass every `except Exception`
    and, in a worker, fail to pickle.
    """
    log.info("reader failed on a damaged file: %s: %s", type(exc).__name__, _short(exc))  # refused, said why
    return RejectedFile(MSG_DAMAGED, code="corrupt")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


_PLAIN_PROLOG = re.compile(  # an optional byte-order mark and declaration of UTF-8, then the root element
    rb'(?:\xef\xbb\xbf)?(?:<\?xml version="1\.0"(?: encoding="(?i:utf-8)")?(?: standalone="(?:yes|no)")?\?>\s*)?'
    rb"<[A-Za-z_]"
)


def _parse_part(data: bytes) -> StdElementTree.Element:
    """A package part as a tree, DTDs refused.

    defusedxml runs expat through ElementTree's pure-Python parser; the C one takes half the time (a
    template's workbook.xml holds a few hundred names). All that defusedxml guards against sits in a DTD,
    which a part in UTF-8 can only write with the bytes `<!`: a part plainly declared UTF-8, with no NUL
    byte (UTF-16 and UTF-32 have them) and no `<!` anywhere, is parsed by the C parser; any other by
    defusedxml, which refuses a DTD.
    """
    return StdElementTree.fromstring(data) if _without_dtd(data) else ElementTree.fromstring(data)


def _without_dtd(data: bytes) -> bool:
    """Whether a part plainly cannot hold a DTD: declared UTF-8 (or not declared), no NUL, no `<!`."""
    return b"<!" not in data and b"\x00" not in data and _PLAIN_PROLOG.match(data) is not None


def _custom_properties(archive: zipfile.ZipFile, path: Path) -> dict[str, str]:
    """docProps/custom.xml name → value; empty when absent or unreadable (it is only a hint)."""
    try:
        if "docProps/custom.xml" not in archive.namelist():
            return {}
        root = _parse_part(archive.read("docProps/custom.xml"))
    except Exception as exc:  # a hint only: any failure means "not a jixiao template"
        log.debug("no custom properties in %s: %s", path, exc)
        return {}
    props: dict[str, str] = {}
    for prop in root.findall(f"{_NS_CUSTOM}property"):
        name = prop.get("name")
        if name and len(prop):
            props[name] = (prop[0].text or "").strip()
    return props


def _point_names(archive: zipfile.ZipFile, path: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """Sheet-scoped names `jx.<point key>` that `jixiao template` gives every input cell.

    Excel moves them with the cells when a unit inserts rows, so they locate inputs exactly; a name
    whose target was deleted (#REF!) is simply absent and the label reading covers it.
    """
    try:
        root = _parse_part(archive.read("xl/workbook.xml"))
    except Exception as exc:  # names are an accelerator only
        log.debug("no defined names in %s: %s", path, exc)
        return {}
    sheets = [s.get("name", "") for s in root.iter(f"{_NS_MAIN}sheet")]
    by_local = {str(i): s for i, s in enumerate(sheets)}  # localSheetId as Excel writes it
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for node in root.iter(f"{_NS_MAIN}definedName"):
        name, local = node.get("name", ""), node.get("localSheetId")
        if not name.startswith(_NAME_PREFIX) or local is None or not local.isdigit():
            continue
        target = _name_target((node.text or "").strip())
        if target is None:
            continue
        sheet = by_local.get(local)
        if sheet is None:
            sheet = sheets[int(local)] if int(local) < len(sheets) else ""
        if target[0] != sheet:
            continue
        out.setdefault(sheet, {})[name[len(_NAME_PREFIX) :]] = target[1]
    return out


@functools.lru_cache(maxsize=4096)
def _name_target(text: str) -> tuple[str, tuple[int, int]] | None:
    """`'附件1'!$F$5` → ("附件1", (4, 5)): the sheet and 0-based cell a name points to (cached: a template's
    names point to the same few hundred cells in every workbook made from it)."""
    m = _NAME_TARGET.match(text)
    if not m:
        return None
    return m.group("sheet").replace("''", "'"), parse_ref(m.group("col") + m.group("row"))


_FORMULA_TAG = re.compile(rb"f[ >](?<=[<:]f[ >])")  # <f>, <f , :f> or :f  (found from the rarer "f")


def _holds_formula(chunk: bytes) -> bool:
    return _FORMULA_TAG.search(chunk) is not None


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet part holds a formula element: a byte scan, far cheaper than loading styles."""
    for info in archive.infolist():
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            with archive.open(info) as part:
                while chunk := part.read(_CHUNK):
                    if _holds_formula(chunk):
                        return True
    return False


_FORMULA_CELL = re.compile(rb"<(?:[A-Za-z]\w*:)?c\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z]\w*:)?c>)", re.S)
_FORMULA = re.compile(rb"<(?:[A-Za-z]\w*:)?f[\s/>]")
_CELL_REF = re.compile(rb'\sr="\$?([A-Z]{1,3})\$?([0-9]{1,7})"')
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class _NoReference(Exception):
    """A formula cell without its `r` attribute: its position needs a real parser."""


def _uncached_formulas(
    archive: zipfile.ZipFile | None, path: Path, sheets: list[SheetGrid], seen: _Seen
) -> dict[str, list[tuple[int, int]]]:
    """Cells holding a formula that was never calculated (files written by scripts, some converters).

    python-calamine gives the cached value of a formula and '' when there is none, which would read as
    a blank. Whether there is any formula at all was seen by the guard's pass over the sheet parts; the
    formula cells are found by a byte scan of each sheet part (≈ 0.3 ms a form); openpyxl is loaded
    only for a sheet whose formula cells do not say where they are.
    """
    try:
        if archive is None:
            raise zipfile.BadZipFile("the package could not be opened")
        if not (seen.formula if seen.complete else _has_formulas(archive)):
            return {}
        return _scan_formulas(archive, sheets)
    except _NoReference:
        return _uncached_by_openpyxl(path, sheets)
    except Exception as exc:  # the values were read; this is a refinement only
        log.warning("could not look for formulas in %s: %s", path, exc)
        return {}


def _sheet_parts(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """(sheet name, part name) of each sheet the workbook part lists."""
    book = _parse_part(archive.read("xl/workbook.xml"))
    rels = _parse_part(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    for node in book.iter(f"{_NS_MAIN}sheet"):
        part = targets.get(node.get(_NS_REL_ID))
        if part is not None:
            yield node.get("name", ""), part


def _external_cells(archive: zipfile.ZipFile | None, path: Path) -> dict[str, list[tuple[int, int]]]:
    """Cells whose formula or hyperlink reaches outside the workbook (`read/external.py`), by sheet name."""
    if archive is None:
        return {}
    out: dict[str, list[tuple[int, int]]] = {}
    try:
        names = outside_names(archive.read("xl/workbook.xml").decode("utf-8", errors="replace"))
        for sheet, part in _sheet_parts(archive):
            for col, row in external_cells(archive.read(part), names):
                out.setdefault(sheet, []).append(parse_ref(f"{col}{row}"))
    except Exception as exc:  # the values were read; the writer strips what it finds in any case
        log.info("could not look for external formulas in %s: %s", path, exc)
    return out


def _scan_formulas(archive: zipfile.ZipFile, sheets: list[SheetGrid]) -> dict[str, list[tuple[int, int]]]:
    by_name = {s.name: s for s in sheets}
    out: dict[str, list[tuple[int, int]]] = {}
    for name, part in _sheet_parts(archive):
        grid = by_name.get(name)
        if grid is None:
            continue
        data = archive.read(part)
        for cell in _FORMULA_CELL.finditer(data):
            body = cell.group(2)
            if not body or not _FORMULA.search(body):
                continue
            ref = _CELL_REF.search(cell.group(1))
            if ref is None:
                raise _NoReference(part)
            r, c = parse_ref(ref.group(1).decode() + ref.group(2).decode())
            if grid.value(r, c) in ("", None):
                out.setdefault(grid.name, []).append((r, c))
    return out


def _uncached_by_openpyxl(path: Path, sheets: list[SheetGrid]) -> dict[str, list[tuple[int, int]]]:
    """The same as `_scan_formulas`, with openpyxl (for formula cells without their reference)."""
    import openpyxl

    by_name = {s.name: s for s in sheets}
    out: dict[str, list[tuple[int, int]]] = {}
    # Our own handle: openpyxl leaves the file it opened open when it fails half-way through a workbook.
    with path.open("rb") as fh:
        try:
            workbook = openpyxl.load_workbook(fh, read_only=True, data_only=False, keep_links=False)
        except Exception as exc:  # the values were read; this is a refinement only
            log.warning("could not look for formulas in %s: %s", path, exc)
            return {}
        try:
            for ws in workbook.worksheets:
                grid = by_name.get(ws.title)
                for row in ws.iter_rows():  # parses lazily: a value openpyxl cannot take (`nan`) raises here
                    for cell in row:
                        if cell.data_type == "f" and grid is not None:
                            r, c = cell.row - 1, cell.column - 1  # type: ignore[operator]
                            if grid.value(r, c) in ("", None):
                                out.setdefault(ws.title, []).append((r, c))
        except Exception as exc:  # still a refinement: calamine read the values; keep what was found
            log.warning("could not finish looking for formulas in %s: %s", path, exc)
        finally:
            workbook.close()
    return out
