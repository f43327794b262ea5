"""The annotated workbook as a patch of the submitted .xlsx package itself: no openpyxl load, no rewrite.

`patch_package` copies every part of the unit's file and changes only what the annotation needs:
 - the 审核结果 sheet goes in first: its XML, styles, defined names (filter, print titles) are lifted from a
   small xlsxwriter workbook (`mini`: the summary sheet, then one sheet per commented submitted sheet
   holding only its 批注), its strings made inline, its styles appended to the unit's styles.xml;
 - a marked cell gets a new cell format: its own one with the fill and font colour of its level, or a
   dashed frame (fonts, fills, borders and formats appended to styles.xml, one per distinct need);
   a cell missing from the sheet XML is added; a row holding a mark is shown if hidden;
 - the 批注 parts (comments XML and the VML boxes) of the mini workbook are attached to their sheet;
 - the summary becomes the active tab, sheet-scoped defined names move one index along.
Everything else — values, formulas, data validation, defined names, conditional formats, print setup,
widths — stays byte for byte, so a unit can correct that very file and send it back.

Anything this does not expect (macros, strict OOXML, prefixed SpreadsheetML, existing VML parts, cells
without references) raises `Unpatchable`; the caller then rewrites the workbook the old way.
≈ 5–8 ms for a 5-sheet form with a few findings, against ≈ 60–95 ms for the openpyxl-styled rewrite.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from defusedxml import ElementTree

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_T_SHEET = f"{_REL_NS}/worksheet"
_T_STYLES = f"{_REL_NS}/styles"
_T_COMMENTS = f"{_REL_NS}/comments"
_T_VML = f"{_REL_NS}/vmlDrawing"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#: deflate level of the written parts: level 1 is ≈ 4× faster than 6 and the parts are small.
_COMPRESS_LEVEL = 1

#: Level → (fill, font colour, frame colour), as ARGB.
Colours = Mapping[str, tuple[str, str, str]]


class Unpatchable(Exception):
    """The package holds something this module does not patch; rewrite the workbook instead."""


def patch_package(
    src: Path,
    dest: Path,
    *,
    mini: bytes,
    summary_name: str,
    marks: Mapping[str, tuple[Mapping[tuple[int, int], str], Mapping[tuple[int, int], str]]],
    commented: Mapping[str, int],
    colours: Colours,
) -> None:
    """Write to `dest` the package of `src` annotated: `marks` per sheet name (fills, frames: cell → level),
    `commented` sheet name → number of the mini workbook's sheet holding its 批注 (2, 3, …)."""
    try:
        with zipfile.ZipFile(src) as zin:
            infos = zin.infolist()
            parts = {i.filename: zin.read(i) for i in infos}
        with zipfile.ZipFile(io.BytesIO(mini)) as zmini:
            small = {n: zmini.read(n) for n in zmini.namelist()}
    except (zipfile.BadZipFile, OSError, KeyError, NotImplementedError, RuntimeError) as exc:
        raise Unpatchable(f"cannot read the package: {exc}") from exc
    original = dict(parts)
    _Patch(parts, small, colours).apply(summary_name, marks, commented)
    with (
        open(src, "rb") as fin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as zout,
    ):
        for info in infos:
            name = info.filename
            if parts.get(name) is original[name] and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                _copy_raw(fin, info, zout)
            elif name in parts:
                zout.writestr(_info(name, info.date_time), parts[name])
        for name, data in parts.items():
            if name not in original:
                zout.writestr(_info(name, (1980, 1, 1, 0, 0, 0)), data)


def _copy_raw(fin: BinaryIO, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> None:
    """Copy a member's compressed bytes as they are (no inflate, no deflate): most parts are untouched.

    Uses what `zipfile` itself uses to write a member (`FileHeader`, `filelist`, `NameToInfo`,
    `start_dir`); the CRC and sizes are the source's, checked when the source was read."""
    fin.seek(info.header_offset)
    header = fin.read(30)
    if header[:4] != b"PK\x03\x04":
        raise Unpatchable(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fin.seek(info.header_offset + 30 + name_len + extra_len)
    data = fin.read(info.compress_size)
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type, copy.CRC = info.compress_type, info.CRC
    copy.compress_size, copy.file_size = info.compress_size, info.file_size
    copy.external_attr, copy.create_system = info.external_attr, info.create_system
    assert zout.fp is not None
    copy.header_offset = zout.fp.tell()
    zout.fp.write(copy.FileHeader(zip64=False))
    zout.fp.write(data)
    zout.filelist.append(copy)
    zout.NameToInfo[copy.filename] = copy
    zout.start_dir = zout.fp.tell()


def _info(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# ---------------------------------------------------------------------------------------------------
# Relationships and part names


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def _rels(parts: Mapping[str, bytes], part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, target part name) of a part's relationships."""
    data = parts.get(_rels_name(part))
    if data is None:
        return []
    root = ElementTree.fromstring(data)
    out = []
    for rel in root.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        name = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
        )
        out.append((rel.get("Id", ""), rel.get("Type", ""), name))
    return out


def _add_rels(parts: dict[str, bytes], part: str, rels: list[tuple[str, str, str]]) -> None:
    """Append relationships (Id, Type, Target relative to the part's folder) to a part's .rels."""
    name = _rels_name(part)
    xml = parts.get(name, b"").decode("utf-8") or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
    )
    add = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels)
    if "</Relationships>" not in xml:
        xml = xml.replace("/>", f">{add}</Relationships>", 1) if xml.rstrip().endswith("/>") else xml
        if add not in xml:
            raise Unpatchable(f"unexpected {name}")
    else:
        xml = xml.replace("</Relationships>", f"{add}</Relationships>", 1)
    parts[name] = xml.encode("utf-8")


def _free(parts: Mapping[str, bytes], pattern: str) -> str:
    n = 1
    while pattern.format(n) in parts:
        n += 1
    return pattern.format(n)


def _free_id(rels: list[tuple[str, str, str]], base: str = "rIdJx") -> str:
    taken = {i for i, _, _ in rels}
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


# ---------------------------------------------------------------------------------------------------
# Tags and attributes of XML held as text


def _set_attr(element: str, name: str, value: str) -> str:
    """`element` (text starting with its opening tag) with attribute `name` set in that tag."""
    end = element.index(">")
    if element[end - 1] == "/":
        end -= 1
    tag = element[:end]
    pattern = re.compile(rf'(\s{name}=")[^"]*(")')
    tag = pattern.sub(rf"\g<1>{value}\g<2>", tag, count=1) if pattern.search(tag) else f'{tag} {name}="{value}"'
    return tag + element[end:]


def _attr(element: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', element[: element.index(">")])
    return m.group(1) if m else None


def _drop_attr(element: str, name: str) -> str:
    end = element.index(">")
    return re.sub(rf'\s{name}="[^"]*"', "", element[:end], count=1) + element[end:]


def _children(text: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*?(?:/>|>.*?</{tag}>)", text, re.S)


# ---------------------------------------------------------------------------------------------------
# styles.xml: append fonts, fills, borders, formats


class _Styles:
    _SECTIONS = (("numFmts", "numFmt"), ("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf"))

    def __init__(self, xml: bytes) -> None:
        self.text = xml.decode("utf-8")
        if "<styleSheet" not in self.text:
            raise Unpatchable("prefixed or empty styles part")
        self.items: dict[str, list[str]] = {}
        self.added: dict[str, list[str]] = {}
        for section, child in self._SECTIONS:
            m = re.search(rf"<{section}\b[^>]*?(?:/>|>(.*?)</{section}>)", self.text, re.S)
            if m is None and section != "numFmts":
                raise Unpatchable(f"styles part without {section}")
            self.items[section] = _children(m.group(1) or "", child) if m else []
            self.added[section] = []
        self._marked: dict[tuple[int, str | None, str | None], int] = {}

    def add(self, section: str, element: str) -> int:
        self.added[section].append(element)
        return len(self.items[section]) + len(self.added[section]) - 1

    def xf(self, index: int) -> str:
        xfs = self.items["cellXfs"] + self.added["cellXfs"]
        return xfs[index] if 0 <= index < len(xfs) else xfs[0]

    def marked(self, index: int, fill: str | None, frame: str | None, colours: Colours) -> int:
        """The cell format `index` with the fill and font colour of level `fill`, the frame of level `frame`."""
        key = (index, fill, frame)
        if key not in self._marked:
            xf = self.xf(index)
            if fill is not None and fill in colours:
                bg, fg, _ = colours[fill]
                fonts = self.items["fonts"] + self.added["fonts"]
                font_id = int(_attr(xf, "fontId") or 0)
                font = fonts[font_id] if font_id < len(fonts) else "<font/>"
                xf = _set_attr(xf, "fontId", str(self.add("fonts", _coloured_font(font, fg))))
                solid = f'<patternFill patternType="solid"><fgColor rgb="{bg}"/><bgColor indexed="64"/></patternFill>'
                fill_xml = f"<fill>{solid}</fill>"
                xf = _set_attr(_set_attr(xf, "fillId", str(self.add("fills", fill_xml))), "applyFill", "1")
                xf = _set_attr(xf, "applyFont", "1")
            if frame is not None and frame in colours:
                side = f'style="mediumDashed"><color rgb="{colours[frame][2]}"/>'
                border = "".join(f"<{s} {side}</{s}>" for s in ("left", "right", "top", "bottom"))
                xf = _set_attr(xf, "borderId", str(self.add("borders", f"<border>{border}<diagonal/></border>")))
                xf = _set_attr(xf, "applyBorder", "1")
            self._marked[key] = self.add("cellXfs", xf)
        return self._marked[key]

    def merge(self, other: _Styles) -> dict[int, int]:
        """Append another workbook's cell formats (and what they use); its format index → ours."""
        offsets = {s: len(self.items[s]) + len(self.added[s]) for s in ("fonts", "fills", "borders")}
        for section in offsets:
            self.added[section] += other.items[section]
        formats: dict[str, str] = {}
        taken = [int(_attr(f, "numFmtId") or 0) for f in self.items["numFmts"] + self.added["numFmts"]]
        next_id = max([163, *taken]) + 1
        for fmt in other.items["numFmts"]:
            formats[_attr(fmt, "numFmtId") or ""] = str(next_id)
            self.add("numFmts", _set_attr(fmt, "numFmtId", str(next_id)))
            next_id += 1
        mapping = {}
        for i, xf in enumerate(other.items["cellXfs"]):
            for attr, section in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
                xf = _set_attr(xf, attr, str(int(_attr(xf, attr) or 0) + offsets[section]))
            fmt = _attr(xf, "numFmtId") or "0"
            xf = _set_attr(_set_attr(xf, "numFmtId", formats.get(fmt, fmt)), "xfId", "0")
            mapping[i] = self.add("cellXfs", xf)
        return mapping

    def xml(self) -> bytes:
        text = self.text
        for section, _ in self._SECTIONS:
            if not self.added[section]:
                continue
            count = len(self.items[section]) + len(self.added[section])
            new = "".join(self.added[section])
            m = re.search(rf"<{section}\b[^>]*?(/>|>.*?</{section}>)", text, re.S)
            if m is None:  # numFmts: the first section of a styleSheet
                start = text.index(">", text.index("<styleSheet")) + 1
                text = f'{text[:start]}<numFmts count="{count}">{new}</numFmts>{text[start:]}'
                continue
            element = m.group(0)
            body = (
                element[:-2] + f">{new}</{section}>"
                if m.group(1) == "/>"
                else element.replace(f"</{section}>", f"{new}</{section}>")
            )
            text = text[: m.start()] + _set_attr(body, "count", str(count)) + text[m.end() :]
        return text.encode("utf-8")


def _coloured_font(font: str, rgb: str) -> str:
    colour = f'<color rgb="{rgb}"/>'
    if font.endswith("/>") and "</font>" not in font:
        return font[:-2] + f">{colour}</font>"
    font = re.sub(r"<color\b[^>]*?(?:/>|>.*?</color>)", "", font, flags=re.S)
    at = font.find("<name")
    at = at if at >= 0 else font.rindex("</font>")
    return font[:at] + colour + font[at:]


# ---------------------------------------------------------------------------------------------------
# The patch


class _Patch:
    def __init__(self, parts: dict[str, bytes], mini: dict[str, bytes], colours: Colours) -> None:
        self.parts, self.mini, self.colours = parts, mini, colours
        self.types = parts.get("[Content_Types].xml", b"").decode("utf-8")
        if (
            "xl/workbook.xml" not in parts
            or f'PartName="/xl/workbook.xml" ContentType="{_CT_WORKBOOK}"' not in self.types
        ):
            raise Unpatchable("not a plain .xlsx workbook (macros, template, strict or renamed parts)")
        if any(name.endswith(".vml") for name in parts):
            raise Unpatchable("the workbook has VML parts (comments or controls) of its own")
        self.book = parts["xl/workbook.xml"].decode("utf-8")
        if "<sheets>" not in self.book:
            raise Unpatchable("prefixed workbook part")
        self.book_rels = _rels(parts, "xl/workbook.xml")
        styles = [name for _, t, name in self.book_rels if t == _T_STYLES]
        if not styles or styles[0] not in parts:
            raise Unpatchable("no styles part")
        self.styles_name = styles[0]
        self.styles = _Styles(parts[self.styles_name])

    def apply(self, summary_name: str, marks: Mapping[str, tuple], commented: Mapping[str, int]) -> None:
        root = ElementTree.fromstring(self.parts["xl/workbook.xml"])
        targets = {i: name for i, t, name in self.book_rels if t == _T_SHEET}
        sheets = {}
        for node in root.iter(f"{_MAIN_NS}sheet"):
            rid = node.get(f"{{{_REL_NS}}}id")
            if rid not in targets or targets[rid] not in self.parts:
                raise Unpatchable(f"sheet {node.get('name')!r} has no part")
            sheets[node.get("name", "")] = (rid, targets[rid])
        if not set(marks) | set(commented) <= set(sheets):
            raise Unpatchable("a marked sheet is not in the workbook")
        for name, (rid, part) in sheets.items():
            if name not in marks and name not in commented and b'tabSelected="1"' not in self.parts[part]:
                continue  # copied as it is
            xml = self.parts[part].decode("utf-8")
            if "<sheetData" not in xml:
                raise Unpatchable(f"prefixed or chart sheet {name!r}")
            xml = xml.replace('tabSelected="1"', 'tabSelected="0"')
            if name in marks:
                xml = self._mark(xml, *marks[name])
                self.book = _show_sheet(self.book, rid)
            if name in commented:
                xml = self._attach_comments(xml, part, commented[name])
            self.parts[part] = xml.encode("utf-8")
        self._add_summary(summary_name)
        self.parts[self.styles_name] = self.styles.xml()
        self.parts["xl/workbook.xml"] = self.book.encode("utf-8")
        self.parts["[Content_Types].xml"] = self.types.encode("utf-8")

    # -- marks on a submitted sheet ------------------------------------------------------------------

    def _mark(self, xml: str, fills: Mapping[tuple[int, int], str], frames: Mapping[tuple[int, int], str]) -> str:
        wanted: dict[int, dict[int, tuple[str | None, str | None]]] = {}
        for cell in set(fills) | set(frames):
            wanted.setdefault(cell[0] + 1, {})[cell[1] + 1] = (fills.get(cell), frames.get(cell))
        m = re.search(r"<sheetData\s*/>|<sheetData\b[^>]*>(.*?)</sheetData>", xml, re.S)
        if m is None:
            raise Unpatchable("no sheetData")
        body = m.group(1) or ""
        col_styles = _ColumnStyles(xml)
        body = _splice(
            body,
            r"<row\b[^>]*?(?:/>|>.*?</row>)",
            lambda row: int(_required(row, "r")),
            sorted(wanted),
            lambda n: self._mark_row(f'<row r="{n}"/>', wanted[n], col_styles),
            lambda row, n: self._mark_row(row, wanted[n], col_styles),
        )
        return f"{xml[: m.start()]}<sheetData>{body}</sheetData>{xml[m.end() :]}"

    def _mark_row(self, row: str, cells: Mapping[int, tuple[str | None, str | None]], col_styles: _ColumnStyles) -> str:
        opening = _drop_attr(row[: row.index(">") + 1], "hidden")  # a finding must never sit in a hidden row
        if opening.endswith("/>"):
            opening, inner = opening[:-2] + ">", ""
        else:
            inner = row[row.index(">") + 1 : -len("</row>")]
        row_style = int(_attr(opening, "s") or 0) if _attr(opening, "customFormat") in ("1", "true") else None
        number = _attr(opening, "r")

        def new(c: int) -> str:
            base = row_style if row_style is not None else col_styles.get(c, 0)
            return f'<c r="{_letters(c)}{number}" s="{self._style(base, cells[c])}"/>'

        def change(cell: str, c: int) -> str:
            return _set_attr(cell, "s", str(self._style(int(_attr(cell, "s") or 0), cells[c])))

        cell_ref = lambda cell: _column(_required(cell, "r"))  # noqa: E731
        inner = _splice(inner, r"<c\b[^>]*?(?:/>|>.*?</c>)", cell_ref, sorted(cells), new, change)
        return f"{opening}{inner}</row>"

    def _style(self, base: int, levels: tuple[str | None, str | None]) -> int:
        return self.styles.marked(base, levels[0], levels[1], self.colours)

    # -- 批注 -------------------------------------------------------------------------------------------

    def _attach_comments(self, xml: str, part: str, mini_sheet: int) -> str:
        if "<legacyDrawing " in xml or "<legacyDrawing>" in xml:
            raise Unpatchable("the sheet already has a legacy drawing")
        mini_rels = _rels(self.mini, f"xl/worksheets/sheet{mini_sheet}.xml")
        comments = next((n for _, t, n in mini_rels if t == _T_COMMENTS), None)
        vml = next((n for _, t, n in mini_rels if t == _T_VML), None)
        if comments is None or vml is None:
            raise Unpatchable("the mini workbook has no comments for the sheet")
        new_comments = _free(self.parts, "xl/comments{}.xml")
        self.parts[new_comments] = self.mini[comments]
        new_vml = _free(self.parts, "xl/drawings/vmlDrawing{}.vml")
        self.parts[new_vml] = self.mini[vml]
        rels = _rels(self.parts, part)
        vml_id = _free_id(rels)
        comments_id = _free_id([*rels, (vml_id, "", "")])
        folder = posixpath.dirname(part)
        _add_rels(
            self.parts,
            part,
            [
                (vml_id, _T_VML, posixpath.relpath(new_vml, folder)),
                (comments_id, _T_COMMENTS, posixpath.relpath(new_comments, folder)),
            ],
        )
        self._content_type(new_comments, _CT_COMMENTS)
        if 'Extension="vml"' not in self.types:
            self.types = self.types.replace(
                "<Default ", f'<Default Extension="vml" ContentType="{_CT_VML}"/><Default ', 1
            )
        element = f'<legacyDrawing xmlns:r="{_REL_NS}" r:id="{vml_id}"/>'
        later = re.search(
            r"<(legacyDrawingHF|drawingHF|picture|oleObjects|controls|webPublishItems|tableParts|extLst)\b", xml
        )
        at = later.start() if later else xml.rindex("</worksheet>")
        return xml[:at] + element + xml[at:]

    def _content_type(self, part: str, content_type: str) -> None:
        override = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        self.types = self.types.replace("</Types>", f"{override}</Types>", 1)

    # -- the 审核结果 sheet --------------------------------------------------------------------------------

    def _add_summary(self, name: str) -> None:
        mini_styles = _Styles(self.mini["xl/styles.xml"])
        mapping = self.styles.merge(mini_styles)
        strings = _children(self.mini.get("xl/sharedStrings.xml", b"").decode("utf-8"), "si")
        sheet = self.mini["xl/worksheets/sheet1.xml"].decode("utf-8")

        def inline(m: re.Match[str]) -> str:
            text = strings[int(m.group(3))]
            return f'<c{m.group(1)} t="inlineStr"{m.group(2)}><is>{text[text.index(">") + 1 : -len("</si>")]}</is></c>'

        sheet = re.sub(r'<c\b([^>]*?)\st="s"([^>]*)><v>(\d+)</v></c>', inline, sheet)
        sheet = re.sub(r'(<(?:c|row)\b[^>]*?\ss=")(\d+)"', lambda m: f'{m.group(1)}{mapping[int(m.group(2))]}"', sheet)
        sheet = re.sub(r'(<col\b[^>]*?\sstyle=")(\d+)"', lambda m: f'{m.group(1)}{mapping[int(m.group(2))]}"', sheet)
        part = _free(self.parts, "xl/worksheets/sheet{}.xml")
        self.parts[part] = sheet.encode("utf-8")
        self._content_type(part, _CT_SHEET)
        rid = _free_id(self.book_rels)
        _add_rels(self.parts, "xl/workbook.xml", [(rid, _T_SHEET, posixpath.relpath(part, "xl"))])
        ids = [int(x) for x in re.findall(r'<sheet\b[^>]*?\ssheetId="(\d+)"', self.book)]
        escaped = name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        element = f'<sheet xmlns:r="{_REL_NS}" name="{escaped}" sheetId="{max(ids, default=0) + 1}" r:id="{rid}"/>'
        book = self.book.replace("<sheets>", f"<sheets>{element}", 1)
        book = re.sub(r'(\slocalSheetId=")(\d+)"', lambda m: f'{m.group(1)}{int(m.group(2)) + 1}"', book)
        book = re.sub(r'(<workbookView\b[^>]*?)\s(?:activeTab|firstSheet)="\d+"', r"\1", book)
        book = re.sub(r'(<workbookView\b[^>]*?)\s(?:activeTab|firstSheet)="\d+"', r"\1", book)
        names = "".join(
            re.findall(r"<definedName\b[^>]*>.*?</definedName>", self.mini["xl/workbook.xml"].decode("utf-8"), re.S)
        )
        if names:
            book = book.replace("<definedNames/>", "<definedNames></definedNames>", 1)
            if "<definedNames>" in book:
                book = book.replace("<definedNames>", f"<definedNames>{names}", 1)
            else:
                after = "</externalReferences>" if "</externalReferences>" in book else "</sheets>"
                book = book.replace(after, f"{after}<definedNames>{names}</definedNames>", 1)
        self.book = book


def _splice(
    body: str,
    pattern: str,
    key: Callable[[str], int],
    wanted: list[int],
    new: Callable[[int], str],
    change: Callable[[str, int], str],
) -> str:
    """`body` with its elements matching `pattern` (in ascending `key` order, as rows and cells are) changed
    where their key is wanted, and a new element made, in its place in the order, for each wanted key missing."""
    out: list[str] = []
    pos = 0
    pending = list(wanted)
    for m in re.finditer(pattern, body, re.S):
        k = key(m.group(0))
        out.append(body[pos : m.start()])
        while pending and pending[0] < k:
            out.append(new(pending.pop(0)))
        out.append(change(m.group(0), pending.pop(0)) if pending and pending[0] == k else m.group(0))
        pos = m.end()
    out.append(body[pos:])
    out += [new(k) for k in pending]
    return "".join(out)


def _required(element: str, name: str) -> str:
    value = _attr(element, name)
    if value is None:
        raise Unpatchable(f"an element without its {name!r}: {element[:40]}")
    return value


def _show_sheet(book: str, rid: str) -> str:
    """The workbook part with the sheet of relationship `rid` visible (a finding must never be hidden)."""
    m = re.search(rf'<sheet\b[^>]*?:id="{re.escape(rid)}"[^>]*>', book)
    if m is None or "state=" not in m.group(0):
        return book
    return book[: m.start()] + _drop_attr(m.group(0), "state") + book[m.end() :]


class _ColumnStyles:
    """Column → its style, from <cols> (a missing cell of a styled column shows that style)."""

    def __init__(self, xml: str) -> None:
        self.ranges: list[tuple[int, int, int]] = []
        for col in re.findall(r"<col\b[^>]*>", xml):
            style, lo, hi = _attr(col, "style"), _attr(col, "min"), _attr(col, "max")
            if style and lo and hi:
                self.ranges.append((int(lo), int(hi), int(style)))

    def get(self, col: int, default: int = 0) -> int:
        return next((s for lo, hi, s in self.ranges if lo <= col <= hi), default)


def _column(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + ord(ch.upper()) - 64
    return n


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out
