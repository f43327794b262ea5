"""Reading the look of an .xlsx/.xlsm package: the one place styles are read, for annotate.py.

`read_styles` makes one expat pass over styles.xml, the theme and each worksheet part and returns
xlsxwriter format properties per cellXfs entry plus, per sheet, the style index of every styled cell,
column widths, row heights and orientation. Measured on 3-sheet forms (166–264 merged ranges, ~1,400
styled cells) on a shared 2-core machine: ≈ 7 ms, against ≈ 40–50 ms for openpyxl read-only (which
re-parses the merged ranges and does not expose column widths) and ≈ 200–450 ms for a full load, plus
openpyxl's ≈ 140 ms import in each worker process. Values and merged ranges come from the calamine
grid, not from here.

Colours resolve like Excel: rgb, theme index (theme 0 = lt1, 1 = dk1) with tint, legacy indexed palette
(overridable in styles.xml). Not carried over: conditional formats, rich text runs, gradient fills,
diagonal borders, cell-style inheritance (cellStyleXfs), hidden rows and columns (shown on purpose:
a finding must never sit in a hidden row).
"""

from __future__ import annotations

import colorsys
import functools
import logging
import posixpath
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from pipeline.settings import MAX_SHEET_CELLS, MAX_SHEET_ROWS, MAX_UNZIPPED_BYTES

log = logging.getLogger(__name__)

#: Built-in number formats that show dates or times (ids 27–36 and 50–58 are the CJK ones).
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])


def is_date_format(num_format: str | int) -> bool:
    """Whether a number format shows a date or time (built-in index or format code)."""
    if isinstance(num_format, int):
        return num_format in _BUILTIN_DATE_FORMATS
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", num_format)
    return re.search(r"[yYmMdDhHsS]", code) is not None and code.lower() != "general"


@dataclass(slots=True)
class SheetLook:
    """One sheet's look: cellXfs index per styled cell, widths, heights, orientation (0-based)."""

    cells: dict[tuple[int, int], int] = field(default_factory=dict)
    columns: list[tuple[int, int, float]] = field(default_factory=list)  # (first, last, width)
    row_heights: dict[int, float] = field(default_factory=dict)
    default_col_width: float | None = None
    landscape: bool = False


@dataclass(slots=True)
class BookLook:
    """xlsxwriter format properties per cellXfs index, and each sheet's look by sheet name."""

    styles: list[dict[str, Any]]
    sheets: dict[str, SheetLook]


def read_styles(path: Path) -> BookLook | None:
    """Read the look of an .xlsx/.xlsm package; None (values only) when it cannot be read."""
    started = time.perf_counter()
    try:
        with zipfile.ZipFile(path) as archive:
            package = _Package(archive)
            sheet_parts, styles_part, theme_part = package.parts()
            theme = _read_theme(package.read(theme_part)) if theme_part else _DEFAULT_THEME
            styles = _read_stylesheet(package.read(styles_part), theme) if styles_part else [{}]
            sheets = {name: _read_sheet(package.read(part)) for name, part in sheet_parts.items()}
    except Exception as exc:  # styles are cosmetic: the annotated workbook must still be written
        log.warning("styles of %s not read, writing values only: %s", path.name, exc)
        return None
    log.debug("read styles of %s in %.1f ms", path.name, (time.perf_counter() - started) * 1000)
    return BookLook(styles=styles, sheets=sheets)


def _parse(
    data: bytes,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], object] | None = None,
    *,
    raw: bool = False,
) -> None:
    """Stream `data` through expat, calling start(local name, attributes); DTDs are refused.

    Namespaces are not resolved (parts use fixed vocabularies; prefixes are dropped). With `raw`, the
    handler gets the tag as written and strips a prefix itself: one call less per cell of a sheet.
    """
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise ValueError("DTD in an OOXML part")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start if raw else lambda tag, attrs: start(tag.rpartition(":")[2], attrs)
    if end is not None:
        parser.EndElementHandler = lambda tag: end(tag.rpartition(":")[2])
    parser.Parse(data, True)


class _Package:
    """Parts of an OPC package found through their relationships, names matched case-insensitively."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = {name.lower(): name for name in archive.namelist()}

    def read(self, part: str) -> bytes:
        info = self.archive.getinfo(self.names[part.lower()])
        if info.file_size > MAX_UNZIPPED_BYTES:
            raise ValueError(f"{part} declares {info.file_size} bytes")
        return self.archive.read(info)

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type's last segment, target part) for `part`."""
        folder, _, base = part.rpartition("/")
        rels_part = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        found: dict[str, tuple[str, str]] = {}
        if rels_part.lower() not in self.names:
            return found

        def start(name: str, attrs: dict[str, str]) -> None:
            if name == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                found[attrs.get("Id", "")] = (attrs.get("Type", "").rpartition("/")[2], posixpath.normpath(path))

        _parse(self.read(rels_part), start)
        return found

    def parts(self) -> tuple[dict[str, str], str | None, str | None]:
        """Sheet name → worksheet part, the styles part, the theme part."""
        workbook = next(t for kind, t in self.rels("").values() if kind == "officeDocument")
        rels = self.rels(workbook)
        sheets: dict[str, str] = {}

        def start(name: str, attrs: dict[str, str]) -> None:
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            if name == "sheet" and rels.get(rid, ("",))[0] == "worksheet":
                sheets[attrs.get("name", "")] = rels[rid][1]

        _parse(self.read(workbook), start)
        by_kind = {kind: target for kind, target in rels.values()}
        return sheets, by_kind.get("styles"), by_kind.get("theme")


#: Office's default theme colours, in SpreadsheetML theme index order (lt1, dk1, lt2, dk2, accents, links).
_DEFAULT_THEME = [
    "FFFFFF",
    "000000",
    "E7E6E6",
    "44546A",
    "4472C4",
    "ED7D31",
    "A5A5A5",
    "FFC000",
    "5B9BD5",
    "70AD47",
    "0563C1",
    "954F72",
]
#: The legacy indexed palette (indexes 64 and 65 are the system colours: left to the default).
_PALETTE = ["000000", "FFFFFF", "FF0000", "00FF00", "0000FF", "FFFF00", "FF00FF", "00FFFF"] * 2 + [
    "800000",
    "008000",
    "000080",
    "808000",
    "800080",
    "008080",
    "C0C0C0",
    "808080",
    "9999FF",
    "993366",
    "FFFFCC",
    "CCFFFF",
    "660066",
    "FF8080",
    "0066CC",
    "CCCCFF",
    "000080",
    "FF00FF",
    "FFFF00",
    "00FFFF",
    "800080",
    "800000",
    "008080",
    "0000FF",
    "00CCFF",
    "CCFFFF",
    "CCFFCC",
    "FFFF99",
    "99CCFF",
    "FF99CC",
    "CC99FF",
    "FFCC99",
    "3366FF",
    "33CCCC",
    "99CC00",
    "FFCC00",
    "FF9900",
    "FF6600",
    "666699",
    "969696",
    "003366",
    "339966",
    "003300",
    "333300",
    "993300",
    "993366",
    "333399",
    "333333",
]


def _read_theme(data: bytes) -> list[str]:
    """Theme colours in SpreadsheetML index order: theme 0 is lt1 and theme 1 is dk1 (sic)."""
    scheme: dict[str, str] = {}
    stack: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if len(stack) >= 2 and stack[-2] == "clrScheme" and name in ("srgbClr", "sysClr"):
            scheme[stack[-1]] = attrs.get("val" if name == "srgbClr" else "lastClr", "")
        stack.append(name)

    _parse(data, start, lambda _: stack.pop())
    order = ["lt1", "dk1", "lt2", "dk2", *(f"accent{i}" for i in range(1, 7)), "hlink", "folHlink"]
    return [scheme.get(key) or default for key, default in zip(order, _DEFAULT_THEME, strict=True)]


@dataclass(slots=True)
class _RawStyles:
    """styles.xml as read: colours stay raw attributes until the indexed palette is known."""

    num_formats: dict[int, str] = field(default_factory=dict)
    fonts: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    borders: list[dict[str, Any]] = field(default_factory=list)
    xfs: list[dict[str, Any]] = field(default_factory=list)
    palette: list[str] = field(default_factory=list)


def _read_stylesheet(data: bytes, theme: list[str]) -> list[dict[str, Any]]:
    """styles.xml → xlsxwriter format properties for every cellXfs entry."""
    raw = _RawStyles()
    stack: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        _collect_style(raw, stack, name, attrs)
        stack.append(name)

    _parse(data, start, lambda _: stack.pop())
    palette = raw.palette if len(raw.palette) >= 8 else _PALETTE

    def resolve(attrs: dict[str, str] | None) -> str | None:
        return colour(attrs, theme, palette)

    fonts = [_font_props(font, resolve) for font in raw.fonts]
    fills = [_fill_props(fill, resolve) for fill in raw.fills]
    borders = [_border_props(border, resolve) for border in raw.borders]
    styles = []
    for xf in raw.xfs:
        props: dict[str, Any] = {}
        for table, key in ((fonts, "fontId"), (fills, "fillId"), (borders, "borderId")):
            index = int(xf.get(key) or 0)
            props.update(table[index] if 0 <= index < len(table) else {})
        fmt_id = int(xf.get("numFmtId") or 0)
        if fmt_id in raw.num_formats:
            props["num_format"] = raw.num_formats[fmt_id]
        elif 0 < fmt_id < 164:
            props["num_format"] = fmt_id  # a built-in format: xlsxwriter writes its index
        props.update(_alignment_props(xf.get("alignment", {})))
        styles.append(props)
    return styles or [{}]


def _collect_style(raw: _RawStyles, stack: list[str], name: str, attrs: dict[str, str]) -> None:
    """One element of styles.xml, placed by its ancestors (dxfs hold fonts and fills too: ignored)."""
    parent, grand = stack[-1] if stack else "", stack[-2] if len(stack) > 1 else ""
    if parent == "numFmts" and name == "numFmt":
        raw.num_formats[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "General")
    elif parent == "fonts" and name == "font":
        raw.fonts.append({})
    elif (grand, parent) == ("fonts", "font"):
        raw.fonts[-1][name] = attrs
    elif parent == "fills" and name == "fill":
        raw.fills.append({})
    elif (grand, parent) == ("fills", "fill") and name == "patternFill":
        raw.fills[-1]["pattern"] = attrs.get("patternType", "none")
    elif grand == "fill" and parent == "patternFill" and len(stack) > 2 and stack[-3] == "fills":
        raw.fills[-1][name] = attrs
    elif parent == "borders" and name == "border":
        raw.borders.append({})
    elif (grand, parent) == ("borders", "border"):
        raw.borders[-1][name] = {"style": attrs.get("style")}
    elif len(stack) > 2 and stack[-3:-1] == ["borders", "border"] and name == "color":
        raw.borders[-1][parent]["color"] = attrs
    elif parent == "cellXfs" and name == "xf":
        raw.xfs.append(dict(attrs))
    elif (grand, parent) == ("cellXfs", "xf") and name == "alignment":
        raw.xfs[-1]["alignment"] = attrs
    elif parent == "indexedColors" and name == "rgbColor":
        raw.palette.append(attrs.get("rgb", "")[-6:])


def colour(attrs: dict[str, str] | None, theme: list[str], palette: list[str]) -> str | None:
    """A SpreadsheetML colour (rgb, theme + tint, indexed) as #RRGGBB; None for automatic."""
    if not attrs or attrs.get("auto") in ("1", "true"):
        return None
    rgb: str | None = None
    if "rgb" in attrs:
        rgb = attrs["rgb"][-6:]
    elif "theme" in attrs:
        index = int(attrs["theme"])
        rgb = theme[index] if 0 <= index < len(theme) else None
    elif "indexed" in attrs:
        index = int(attrs["indexed"])
        rgb = palette[index] if 0 <= index < len(palette) else None
    if rgb is None or not re.fullmatch(r"[0-9A-Fa-f]{6}", rgb):
        return None
    tint = float(attrs.get("tint") or 0)
    return "#" + (_tint(rgb, tint) if tint else rgb).upper()


def _tint(rgb: str, tint: float) -> str:
    """Excel's tint: darken (tint < 0) or lighten (tint > 0) the luminance in HLS space."""
    red, green, blue = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lum, sat = colorsys.rgb_to_hls(red, green, blue)
    lum = lum * (1 + tint) if tint < 0 else lum * (1 - tint) + tint
    return "".join(f"{round(v * 255):02X}" for v in colorsys.hls_to_rgb(hue, min(max(lum, 0), 1), sat))


def _flag(attrs: dict[str, str] | None) -> bool:
    """<b/>, <i/>, <strike/>: present means on unless val says 0/false."""
    return attrs is not None and attrs.get("val", "1") not in ("0", "false")


_UNDERLINES = {"single": 1, "double": 2, "singleAccounting": 33, "doubleAccounting": 34}


def _font_props(font: dict[str, Any], resolve: Callable[[dict[str, str] | None], str | None]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if "name" in font:
        props["font_name"] = font["name"].get("val", "")
    if "sz" in font:
        props["font_size"] = float(font["sz"].get("val") or 11)
    if _flag(font.get("b")):
        props["bold"] = True
    if _flag(font.get("i")):
        props["italic"] = True
    if _flag(font.get("strike")):
        props["font_strikeout"] = True
    if "u" in font and font["u"].get("val", "single") in _UNDERLINES:
        props["underline"] = _UNDERLINES[font["u"].get("val", "single")]
    if (font_colour := resolve(font.get("color"))) is not None:
        props["font_color"] = font_colour
    return props


_PATTERNS = [
    "none",
    "solid",
    "mediumGray",
    "darkGray",
    "lightGray",
    "darkHorizontal",
    "darkVertical",
    "darkDown",
    "darkUp",
    "darkGrid",
    "darkTrellis",
    "lightHorizontal",
    "lightVertical",
    "lightDown",
    "lightUp",
    "lightGrid",
    "lightTrellis",
    "gray125",
    "gray0625",
]


def _fill_props(fill: dict[str, Any], resolve: Callable[[dict[str, str] | None], str | None]) -> dict[str, Any]:
    pattern = fill.get("pattern", "none")
    if pattern not in _PATTERNS or pattern == "none":
        return {}
    fg, bg = resolve(fill.get("fgColor")), resolve(fill.get("bgColor"))
    if pattern == "solid":  # xlsxwriter names a solid fill's colour bg_color
        return {"pattern": 1, "bg_color": fg or "#000000"}
    props: dict[str, Any] = {"pattern": _PATTERNS.index(pattern)}
    if fg:
        props["fg_color"] = fg
    if bg:
        props["bg_color"] = bg
    return props


_BORDER_STYLES = [
    "none",
    "thin",
    "medium",
    "dashed",
    "dotted",
    "thick",
    "double",
    "hair",
    "mediumDashed",
    "dashDot",
    "mediumDashDot",
    "dashDotDot",
    "mediumDashDotDot",
    "slantDashDot",
]
_SIDES = {"left": "left", "start": "left", "right": "right", "end": "right", "top": "top", "bottom": "bottom"}


def _border_props(border: dict[str, Any], resolve: Callable[[dict[str, str] | None], str | None]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for element, side in _SIDES.items():
        spec = border.get(element)
        if not spec or spec.get("style") not in _BORDER_STYLES[1:]:
            continue
        props[side] = _BORDER_STYLES.index(spec["style"])
        if (side_colour := resolve(spec.get("color"))) is not None:
            props[f"{side}_color"] = side_colour
    return props


_HORIZONTAL = {
    "left": "left",
    "center": "center",
    "right": "right",
    "fill": "fill",
    "justify": "justify",
    "centerContinuous": "center_across",
    "distributed": "distributed",
}
_VERTICAL = {
    "top": "top",
    "center": "vcenter",
    "bottom": "bottom",
    "justify": "vjustify",
    "distributed": "vdistributed",
}


def _alignment_props(alignment: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if alignment.get("horizontal") in _HORIZONTAL:
        props["align"] = _HORIZONTAL[alignment["horizontal"]]
    props["valign"] = _VERTICAL.get(alignment.get("vertical", "bottom"), "bottom")
    if alignment.get("wrapText") in ("1", "true"):
        props["text_wrap"] = True
    if alignment.get("shrinkToFit") in ("1", "true"):
        props["shrink"] = True
    if (indent := int(float(alignment.get("indent") or 0))) > 0:
        props["indent"] = indent
    rotation = int(float(alignment.get("textRotation") or 0))
    if 0 < rotation <= 90:
        props["rotation"] = rotation
    elif 90 < rotation <= 180:
        props["rotation"] = 90 - rotation
    elif rotation == 255:
        props["rotation"] = 270  # stacked text
    return props


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _position(ref: str) -> tuple[int, int]:
    """A1 reference → 0-based (row, col); a cell attribute parsed thousands of times per form."""
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"bad cell reference {ref!r}")
    return int(match[2]) - 1, _column(match[1].upper())


@functools.lru_cache(maxsize=1024)
def _column(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _read_sheet(data: bytes) -> SheetLook:
    """One worksheet part → styled cells, column widths, row heights; hidden rows and columns are shown."""
    look = SheetLook()
    position = [-1, -1]  # current row, column (0-based)

    def start(name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            position[:] = _position(ref) if ref else (position[0], position[1] + 1)
            style = attrs.get("s")
            if style and style != "0" and position[0] < MAX_SHEET_ROWS and len(look.cells) < MAX_SHEET_CELLS:
                look.cells[(position[0], position[1])] = int(style)
        elif name == "row":
            position[:] = (int(attrs["r"]) - 1 if attrs.get("r") else position[0] + 1, -1)
            if attrs.get("ht") and attrs.get("hidden") not in ("1", "true"):
                look.row_heights[position[0]] = float(attrs["ht"])
        elif name == "col" and attrs.get("width") and attrs.get("hidden") not in ("1", "true"):
            first, last = int(attrs.get("min", 1)) - 1, int(attrs.get("max", 1)) - 1
            if float(attrs["width"]) > 0 and 0 <= first <= last:
                look.columns.append((first, last, float(attrs["width"])))
        elif name == "sheetFormatPr" and attrs.get("defaultColWidth"):
            look.default_col_width = float(attrs["defaultColWidth"])
        elif name == "pageSetup":
            look.landscape = attrs.get("orientation") == "landscape"

    _parse(data, start, raw=True)
    return look
