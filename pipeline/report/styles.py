"""Reading the look of an .xlsx/.xlsm workbook with openpyxl: the one place styles are read, for annotate.py.

`read_styles` loads the workbook read-only and returns xlsxwriter format properties per distinct cell
style (openpyxl's `style_array`), plus, per sheet, the style of every styled cell, column widths, row
heights and orientation. Values and merged ranges come from the calamine grid, not from here.

Read-only worksheets do not expose widths, heights or page setup, and a full `load_workbook` of a
3-sheet form costs ≈ 200–290 ms (median of 10, shared 2-core machine; most of it binding merged
cells), so `_sheet_frame` reads those few attributes from the sheet XML with defusedxml (≈ 5 ms).
All of `read_styles` on 白云区市场监督服务中心_2023.xlsx: ≈ 40–48 ms, against ≈ 5–11 ms for the
home-made expat reader it replaces; plus openpyxl's ≈ 150 ms import once per process.

Colours resolve like Excel: rgb, theme index (theme 0 = lt1, 1 = dk1) with tint, indexed palette
(overridable in styles.xml). Not carried over: conditional formats, rich text runs, gradient fills,
diagonal borders, hidden rows and columns (shown on purpose: a finding must never sit in a hidden
row), and a theme stored anywhere but xl/theme/theme1.xml (openpyxl reads only that part).
"""

from __future__ import annotations

import colorsys
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import openpyxl
from defusedxml.ElementTree import fromstring, iterparse
from openpyxl.cell.read_only import ReadOnlyCell
from openpyxl.styles import PatternFill
from openpyxl.styles.colors import COLOR_INDEX, Color
from openpyxl.styles.numbers import is_date_format as _is_date_code

from pipeline.settings import MAX_SHEET_CELLS, MAX_SHEET_ROWS

log = logging.getLogger(__name__)

#: Built-in number formats that show dates or times (ids 27–36 and 50–58 are the CJK ones).
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])


def is_date_format(num_format: str | int) -> bool:
    """Whether a number format shows a date or time (built-in index or format code)."""
    if isinstance(num_format, int):
        return num_format in _BUILTIN_DATE_FORMATS
    return bool(_is_date_code(num_format))


@dataclass(slots=True)
class SheetLook:
    """One sheet's look: style index per styled cell, widths, heights, orientation (0-based)."""

    cells: dict[tuple[int, int], int] = field(default_factory=dict)
    columns: list[tuple[int, int, float]] = field(default_factory=list)  # (first, last, width)
    row_heights: dict[int, float] = field(default_factory=dict)
    default_col_width: float | None = None
    landscape: bool = False


@dataclass(slots=True)
class BookLook:
    """xlsxwriter format properties per style index (0 = the workbook's default), each sheet's look by name."""

    styles: list[dict[str, Any]]
    sheets: dict[str, SheetLook]


def read_styles(path: Path) -> BookLook | None:
    """Read the look of an .xlsx/.xlsm workbook; None (values only) when it cannot be read."""
    started = time.perf_counter()
    try:
        # Our own handle: openpyxl leaves the file it opened open when it fails half-way through a workbook.
        with path.open("rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about parts it drops; none of them is a look
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
            try:
                look = _read_book(wb)
            finally:
                wb.close()
    except Exception as exc:  # styles are cosmetic: the annotated workbook must still be written
        log.warning("styles of %s not read, writing values only: %s", path.name, exc)
        return None
    log.debug("read styles of %s in %.1f ms", path.name, (time.perf_counter() - started) * 1000)
    return look


def _read_book(wb: openpyxl.Workbook) -> BookLook:
    theme = _theme_colours(wb.loaded_theme)
    palette = getattr(wb, "_colors", None) or COLOR_INDEX  # styles.xml's indexedColors, when it has them

    def resolve(color: Color | None) -> str | None:
        return colour(color, theme, palette)

    styles: list[dict[str, Any]] = []
    ids: dict[Any, int] = {}  # openpyxl's StyleArray → index in `styles`: one format per distinct style
    sheets: dict[str, SheetLook] = {}
    for ws in wb.worksheets:  # chartsheets are not among them
        if not styles:  # index 0: what a cell without a style of its own looks like
            styles.append(_props(ReadOnlyCell(ws, 1, 1, None), resolve))
        with ws._get_source() as source:  # openpyxl has no public accessor for the sheet part
            sheets[ws.title] = look = _sheet_frame(source)
        ws.reset_dimensions()  # a wrong <dimension> would otherwise pad every row out to it
        for cell in _styled_cells(ws):
            index = ids.get(cell.style_array)
            if index is None:
                index = ids[cell.style_array] = len(styles)
                styles.append(_props(cell, resolve))
            look.cells[(cell.row - 1, cell.column - 1)] = index
    return BookLook(styles=styles or [{}], sheets=sheets)


def _styled_cells(ws: Any) -> Iterator[ReadOnlyCell]:
    """The cells of a read-only sheet that have a style of their own, within the sheet limits."""
    count = 0
    for row in ws.iter_rows(max_row=MAX_SHEET_ROWS):
        for cell in row:
            if isinstance(cell, ReadOnlyCell) and cell.has_style:
                yield cell
                count += 1
                if count >= MAX_SHEET_CELLS:
                    return


def _sheet_frame(source: IO[bytes]) -> SheetLook:
    """Column widths, row heights, default width and orientation of one worksheet part.

    openpyxl's read-only API lacks them and a full load is ≈ 5× slower than the whole read-only pass
    (see the module docstring). Hidden rows and columns get no size: they are shown on purpose.
    """
    look = SheetLook()
    row = -1
    for event, elem in iterparse(source, events=("start", "end")):
        name = elem.tag.rpartition("}")[2]
        if event == "end":
            if name == "row":
                elem.clear()  # the cells are openpyxl's business: keep memory flat
            continue
        attrs = elem.attrib
        if name == "row":
            row = int(attrs["r"]) - 1 if attrs.get("r") else row + 1
            if attrs.get("ht") and attrs.get("hidden") not in ("1", "true"):
                look.row_heights[row] = float(attrs["ht"])
        elif name == "col" and attrs.get("width") and attrs.get("hidden") not in ("1", "true"):
            first, last = int(attrs.get("min", 1)) - 1, int(attrs.get("max", 1)) - 1
            if float(attrs["width"]) > 0 and 0 <= first <= last:
                look.columns.append((first, last, float(attrs["width"])))
        elif name == "sheetFormatPr" and attrs.get("defaultColWidth"):
            look.default_col_width = float(attrs["defaultColWidth"])
        elif name == "pageSetup":
            look.landscape = attrs.get("orientation") == "landscape"
    return look


#: Office's default theme colours, in SpreadsheetML theme index order.
_DEFAULT_THEME = (
    *("FFFFFF", "000000", "E7E6E6", "44546A"),  # lt1, dk1, lt2, dk2
    *("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47", "0563C1", "954F72"),  # accent1–6, links
)
_DRAWINGML = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
_HEX = re.compile(r"[0-9A-Fa-f]{6}")


def _theme_colours(xml: bytes | str | None) -> list[str]:
    """The theme's colours in SpreadsheetML index order, from openpyxl's `loaded_theme` XML."""
    scheme = fromstring(xml).find(".//a:clrScheme", _DRAWINGML) if xml else None
    if scheme is None:
        return list(_DEFAULT_THEME)
    # a:clrScheme lists dk1, lt1, dk2, lt2, accent1–6, hlink, folHlink: srgbClr val or sysClr lastClr
    found = [next((c.get("lastClr") or c.get("val") for c in slot), None) for slot in scheme][:12]
    found += [None] * (12 - len(found))
    found[:4] = [found[1], found[0], found[3], found[2]]  # theme index 0 is lt1, 1 dk1, 2 lt2, 3 dk2 (sic)
    return [c if c and _HEX.fullmatch(c) else d for c, d in zip(found, _DEFAULT_THEME, strict=True)]


def colour(color: Color | None, theme: Sequence[str], palette: Sequence[str]) -> str | None:
    """An openpyxl Color (rgb, theme + tint, indexed) as #RRGGBB; None for automatic or system colours."""
    if color is None or color.type == "auto":
        return None
    rgb: str | None = None
    if color.type == "rgb":
        rgb = str(color.rgb)[-6:]
    elif color.type == "theme" and 0 <= color.theme < len(theme):
        rgb = theme[color.theme]
    elif color.type == "indexed" and 0 <= color.indexed < min(len(palette), 64):  # 64, 65: system colours
        rgb = palette[color.indexed][-6:]
    if rgb is None or not _HEX.fullmatch(rgb):
        return None
    tint = float(color.tint or 0)
    return "#" + (_tint(rgb, tint) if tint else rgb).upper()


def _tint(rgb: str, tint: float) -> str:
    """Excel's tint: darken (tint < 0) or lighten (tint > 0) the luminance in HLS space."""
    red, green, blue = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lum, sat = colorsys.rgb_to_hls(red, green, blue)
    lum = lum * (1 + tint) if tint < 0 else lum * (1 - tint) + tint
    return "".join(f"{round(v * 255):02X}" for v in colorsys.hls_to_rgb(hue, min(max(lum, 0), 1), sat))


_UNDERLINES = {"single": 1, "double": 2, "singleAccounting": 33, "doubleAccounting": 34}
#: xlsxwriter's pattern and border indexes are positions in these lists.
_PATTERNS = [
    *("none", "solid", "mediumGray", "darkGray", "lightGray", "darkHorizontal", "darkVertical", "darkDown"),
    *("darkUp", "darkGrid", "darkTrellis", "lightHorizontal", "lightVertical", "lightDown", "lightUp"),
    *("lightGrid", "lightTrellis", "gray125", "gray0625"),
]
_BORDER_STYLES = [
    *("none", "thin", "medium", "dashed", "dotted", "thick", "double", "hair", "mediumDashed", "dashDot"),
    *("mediumDashDot", "dashDotDot", "mediumDashDotDot", "slantDashDot"),
]
_HORIZONTAL = {"centerContinuous": "center_across"}  # the other names are xlsxwriter's too
_VERTICAL = {"center": "vcenter", "justify": "vjustify", "distributed": "vdistributed", "top": "top"}


def _props(cell: ReadOnlyCell, resolve: Callable[[Color | None], str | None]) -> dict[str, Any]:
    """One cell style as xlsxwriter format properties."""
    props: dict[str, Any] = {}
    font = cell.font
    if font.name:
        props["font_name"] = font.name
    if font.sz:
        props["font_size"] = float(font.sz)
    for key, on in (("bold", font.b), ("italic", font.i), ("font_strikeout", font.strike)):
        if on:
            props[key] = True
    if font.u in _UNDERLINES:
        props["underline"] = _UNDERLINES[font.u]
    if (font_colour := resolve(font.color)) is not None:
        props["font_color"] = font_colour
    props.update(_fill_props(cell.fill, resolve))
    for side in ("left", "right", "top", "bottom"):
        edge = getattr(cell.border, side)
        if edge is not None and edge.style in _BORDER_STYLES[1:]:
            props[side] = _BORDER_STYLES.index(edge.style)
            if (edge_colour := resolve(edge.color)) is not None:
                props[f"{side}_color"] = edge_colour
    fmt_id = cell.style_array.numFmtId
    if fmt_id >= 164:
        props["num_format"] = cell.number_format
    elif fmt_id > 0:
        props["num_format"] = fmt_id  # built-in (the CJK date ones too, which openpyxl does not name)
    props.update(_alignment_props(cell.alignment))
    return props


def _fill_props(fill: Any, resolve: Callable[[Color | None], str | None]) -> dict[str, Any]:
    if not isinstance(fill, PatternFill) or fill.patternType not in _PATTERNS[1:]:
        return {}  # none, or a gradient fill
    fg = resolve(fill.fgColor)
    if fill.patternType == "solid":  # xlsxwriter names a solid fill's colour bg_color
        return {"pattern": 1, "bg_color": fg or "#000000"}
    props: dict[str, Any] = {"pattern": _PATTERNS.index(fill.patternType)}
    if fg:
        props["fg_color"] = fg
    if fill.bgColor != Color() and (bg := resolve(fill.bgColor)):  # Color() is openpyxl's stand-in for absent
        props["bg_color"] = bg
    return props


def _alignment_props(alignment: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if alignment.horizontal and alignment.horizontal != "general":
        props["align"] = _HORIZONTAL.get(alignment.horizontal, alignment.horizontal)
    props["valign"] = _VERTICAL.get(alignment.vertical, "bottom")
    if alignment.wrap_text:
        props["text_wrap"] = True
    if alignment.shrink_to_fit:
        props["shrink"] = True
    if (indent := int(alignment.indent or 0)) > 0:
        props["indent"] = indent
    if rotation := int(alignment.text_rotation or 0):  # 0–180, or 255 for stacked text
        props["rotation"] = 270 if rotation == 255 else rotation if rotation <= 90 else 90 - rotation
    return props
