"""Strip from a package being patched every formula and link that reaches outside the workbook (package.py).

What `read/external.py` finds — WEBSERVICE / FILTERXML / HYPERLINK and other calls out, DDE, references into
other workbooks, defined names holding them, hyperlinks to outside targets — is removed from the copy a
reviewer opens, which Excel trusts as a local file of ours:
 - a cell's formula goes, its cached value stays (a text result becomes an inline string; a formula never
   calculated leaves the text as typed, `=WEBSERVICE(…)`, as a string); a shared formula's whole group goes;
 - defined names holding one go (cells using them count as reaching out themselves);
 - every relationship with `TargetMode="External"` goes, with the elements that use it (cell hyperlinks,
   `r:link` of linked pictures, click links of shapes); an emptied `<hyperlinks>` goes;
 - externalLink parts go, with their relationships, content types and `<externalReferences>`;
 - the calculation chain goes when a formula went (Excel rebuilds it; a stale one makes it "repair" the file).
Then it checks what it left: anything still reaching out raises `Unpatchable`, and the workbook is rewritten
from its values instead, where nothing of the kind can survive. Ordinary in-workbook formulas stay.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import MutableMapping

from pipeline.read.external import cell_reaches_out, external_cells, outside_groups, outside_names
from pipeline.report.package_xml import Unpatchable, attr, drop_attr, set_attr

_CELL = re.compile(rb"<((?:[A-Za-z]\w*:)?c)\b([^>]*?)(/>|>(.*?)</(?:[A-Za-z]\w*:)?c>)", re.S)
_VALUE = re.compile(rb"<(?:[A-Za-z]\w*:)?v\b[^>]*>(.*?)</(?:[A-Za-z]\w*:)?v>", re.S)
_FORMULA_BODY = re.compile(rb"<(?:[A-Za-z]\w*:)?f\b[^>]*>(.*?)</(?:[A-Za-z]\w*:)?f>", re.S)
_HYPERLINK = re.compile(rb"<(?:[A-Za-z]\w*:)?hyperlink\b[^>]*?(?:/>|>.*?</(?:[A-Za-z]\w*:)?hyperlink>)", re.S)
_REL_ID_ATTR = re.compile(rb'\s[A-Za-z]\w*:id="')
_EMPTY_HYPERLINKS = re.compile(rb"<((?:[A-Za-z]\w*:)?hyperlinks)\b[^>]*?(?:/>|>\s*</\1>)", re.S)
_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*?(?:/>|>.*?</Relationship>)", re.S)
_DEFINED_NAME = re.compile(r"<((?:\w+:)?definedName)\b[^>]*>.*?</\1>", re.S)
_EXTERNAL_REFS = re.compile(r"<((?:\w+:)?externalReferences)\b[^>]*?(?:/>|>.*?</\1>)", re.S)
_EMPTY_NAMES = re.compile(r"<((?:\w+:)?definedNames)\b[^>]*?(?:/>|>\s*</\1>)", re.S)
_T_EXTERNAL_LINK = "/externalLink"
_EXTERNAL_LINKS = "xl/externalLinks/"
_T_CALC_CHAIN = "/calcChain"

Parts = MutableMapping[str, bytes]


def strip_outside(parts: Parts, types: str, book: str, sheets: list[str]) -> tuple[str, str]:
    """Remove what reaches outside (module docstring) from `parts` (a sheet part name per `sheets`); returns
    the content types and workbook part as text, changed. Unpatchable when something would still reach out."""
    names = outside_names(book)
    if names:
        book = _DEFINED_NAME.sub(lambda m: "" if _defined(m.group(0)) in names else m.group(0), book)
        book = _EMPTY_NAMES.sub("", book)
    formulas_gone, changed = False, []
    for part in sheets:
        data = parts[part]
        if next(external_cells(data, names), None) is None:
            continue
        stripped = _strip_cells(data, names)
        formulas_gone |= stripped != data
        parts[part] = _EMPTY_HYPERLINKS.sub(b"", _HYPERLINK.sub(_drop_external_link, stripped))
        changed.append(part)
    if "externalReference" in book or any(name.startswith(_EXTERNAL_LINKS) for name in parts):
        book = _drop_external_links(parts, book)
        types = _drop_part_types(parts, types)
    for rels in [name for name in parts if name.endswith(".rels")]:
        _drop_external_relationships(parts, rels)
    if formulas_gone:
        types = _drop_calc_chain(parts, types)
    _verify(book, [parts[part] for part in changed])  # the sheets left as they were held nothing reaching out
    return types, book


def _defined(element: str) -> str:
    return attr(element, "name") or ""


def _drop_external_link(m: re.Match[bytes]) -> bytes:
    """A cell hyperlink through a relationship points outside (an in-workbook one uses `location` only)."""
    tag = m.group(0)[: m.group(0).index(b">")]
    return b"" if _REL_ID_ATTR.search(tag) else m.group(0)


def _strip_cells(data: bytes, names: set[str]) -> bytes:
    groups = outside_groups(data, names)

    def cell(m: re.Match[bytes]) -> bytes:
        tag, attrs, body = m.group(1), m.group(2), m.group(4)
        if not body or not cell_reaches_out(body, names, groups):
            return m.group(0)
        opening = (b"<" + tag + attrs + b">").decode("utf-8")
        value, formula = _VALUE.search(body), _FORMULA_BODY.search(body)
        kind = attr(opening, "t")
        if value is not None and kind != "str":
            inner = value.group(0)  # a number, boolean, error or shared string: its cached value
        else:
            text = value.group(1) if value is not None else b"=" + formula.group(1) if formula is not None else b""
            if not text:
                return (drop_attr(opening, "t")[:-1] + "/>").encode("utf-8")
            opening = set_attr(opening, "t", "inlineStr")
            inner = b'<is><t xml:space="preserve">' + text + b"</t></is>"
        return opening.encode("utf-8") + inner + b"</" + tag + b">"

    return _CELL.sub(cell, data)


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def _owner_of(rels: str) -> str:
    folder, base = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


def _drop_external_links(parts: Parts, book: str) -> str:
    """externalLink parts, their relationships from the workbook and `<externalReferences>`."""
    links = [name for name in parts if name.startswith(_EXTERNAL_LINKS)]
    for name in links:
        del parts[name]
    book_rels = "xl/_rels/workbook.xml.rels"
    if book_rels in parts:
        xml = parts[book_rels].decode("utf-8")
        kept = _RELATIONSHIP.sub(lambda m: "" if _is_type(m.group(0), _T_EXTERNAL_LINK) else m.group(0), xml)
        if kept != xml:
            parts[book_rels] = kept.encode("utf-8")
    return _EXTERNAL_REFS.sub("", book)


def _is_type(relationship: str, suffix: str) -> bool:
    return (attr(relationship, "Type") or "").endswith(suffix)


def _drop_part_types(parts: Parts, types: str) -> str:
    """Content-type overrides of parts no longer in the package."""

    def keep(m: re.Match[str]) -> str:
        name = (attr(m.group(0), "PartName") or "").lstrip("/")
        return m.group(0) if not name or name in parts else ""

    return re.sub(r"<Override\b[^>]*?/>", keep, types)


def _drop_external_relationships(parts: Parts, rels: str) -> None:
    """Relationships pointing outside the package, and the elements of their owner that use them."""
    if b"External" not in parts[rels]:
        return
    xml = parts[rels].decode("utf-8")
    gone = [m.group(0) for m in _RELATIONSHIP.finditer(xml) if (attr(m.group(0), "TargetMode") or "") == "External"]
    for element in gone:
        xml = xml.replace(element, "", 1)
    if re.search(r"TargetMode\s*=\s*[\"']External", xml, re.I):  # written in a way the pattern did not take
        raise Unpatchable(f"an outside relationship is left in {rels}")
    if not gone:
        return
    parts[rels] = xml.encode("utf-8")
    owner = _owner_of(rels)
    if owner not in parts:
        return
    data = parts[owner]
    for rid in (attr(element, "Id") or "" for element in gone):
        quoted = re.escape(rid.encode("utf-8"))
        data = re.sub(rb"<[\w:]+\b[^<>]*\s[A-Za-z]\w*:id=\"" + quoted + rb"\"[^<>]*/>", b"", data)
        data = re.sub(rb"\s[A-Za-z]\w*:link=\"" + quoted + rb"\"", b"", data)
    parts[owner] = _EMPTY_HYPERLINKS.sub(b"", data)


def _drop_calc_chain(parts: Parts, types: str) -> str:
    book_rels = "xl/_rels/workbook.xml.rels"
    if book_rels in parts:
        xml = parts[book_rels].decode("utf-8")
        parts[book_rels] = _RELATIONSHIP.sub(
            lambda m: "" if _is_type(m.group(0), _T_CALC_CHAIN) else m.group(0), xml
        ).encode("utf-8")
    if "xl/calcChain.xml" in parts:
        del parts["xl/calcChain.xml"]
    return _drop_part_types(parts, types)


def _verify(book: str, sheets: list[bytes]) -> None:
    """Nothing reaching out is left in the workbook part or the sheets changed; else the caller rewrites the
    workbook from its values (the relationships were checked as they were cleaned)."""
    if outside_names(book) or "externalReference" in book:
        raise Unpatchable("an outside reference is left in the workbook part")
    if any(next(external_cells(data), None) is not None for data in sheets):
        raise Unpatchable("a formula or link reaching out is left in a sheet")
