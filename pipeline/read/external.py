"""Formulas and links in a submitted .xlsx that reach outside the workbook, found in the package's XML text.

A unit's workbook may hold, typed or pasted, formulas that fetch or run something elsewhere when the file is
opened and recalculated: WEBSERVICE / FILTERXML and other calls out (RTD, CALL, REGISTER, IMAGE…), DDE
(`cmd|' /C calc'!A0`), HYPERLINK (to any target), references into other workbooks (`'[other.xlsx]Sheet1'!A1`,
stored as `[1]Sheet1!A1` with an externalLink part), defined names holding any of them, and cell hyperlinks
whose relationship points outside. The annotated workbook is jixiao's own output, written locally, so Excel
opens it outside Protected View: none of these may survive into it (`report/package_links.py` strips them,
keeping the cached value), and the unit is told which cells held them (提示 `GEN.EXTERNAL`, from
`Grid.external`, which `read/grid.py` fills with `external_cells`). Ordinary in-workbook formulas stay.

The tests here are on the formula text with its string literals blanked out: `"[a]b!c"` typed as text inside
a formula is not a reference.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

#: Functions that fetch, link or run something outside the workbook (Excel writes newer ones as `_xlfn.NAME`).
CALLS_OUT = (
    "WEBSERVICE",
    "FILTERXML",
    "HYPERLINK",
    "RTD",
    "DDE",
    "CALL",
    "REGISTER",
    "REGISTER.ID",
    "EXEC",
    "IMAGE",
    "STOCKHISTORY",
    "SQL.REQUEST",
)
_STRING = re.compile(r'"(?:[^"]|"")*"')
_QUOTED = re.compile(r"'(?:[^']|'')*'")  # a quoted sheet name: `'附件3 项目支出自评表(2)'!A1`
_CALL = re.compile(r"(?<![\w.])(?:_xl\w+\.)*(?:" + "|".join(re.escape(n) for n in CALLS_OUT) + r")\s*\(", re.I)
#: `[1]Sheet1!A1`, `'[other.xlsx]Sheet 1'!A1`, `'C:\dir\[b.xlsx]S'!A1`, `[1]!Name`: a bracket, then `!`.
_OTHER_BOOK = re.compile(r"\[[^\[\]]+\][^\[\]!(),;]*!")
_DDE = "|"  # not an Excel operator: outside a string it is the DDE `application|topic!item`

_CELL = re.compile(rb"<(?:[A-Za-z]\w*:)?c\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z]\w*:)?c>)", re.S)
_FORMULA = re.compile(rb"<(?:[A-Za-z]\w*:)?f\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z]\w*:)?f>)", re.S)
_REF = re.compile(rb'\sr="\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"')
_SI = re.compile(rb'\ssi="(\d+)"')
_SHARED = re.compile(rb'\st="shared"')
_HYPERLINK = re.compile(rb"<(?:[A-Za-z]\w*:)?hyperlink\b[^>]*>")
_HYPERLINK_REF = re.compile(rb'\sref="\$?([A-Za-z]{1,3})\$?([0-9]{1,7})')
_REL_ID = re.compile(rb'\s[A-Za-z]\w*:id="')
_DEFINED_NAME = re.compile(r"<(?:\w+:)?definedName\b([^>]*)>(.*?)</(?:\w+:)?definedName>", re.S)
_NAME_ATTR = re.compile(r'\sname="([^"]*)"')


def reaches_out(formula: str, names: Iterable[str] = ()) -> bool:
    """Whether a formula (as Excel stores it, without `=`) reaches outside the workbook, or uses one of
    `names` (defined names that do)."""
    names = tuple(names)
    unquoted = _QUOTED.sub("''", formula) if "'" in formula else formula  # sheet names may hold ( and |
    if not names and "[" not in formula and "(" not in unquoted and _DDE not in unquoted:
        return False  # no call, no other book, no DDE: `'附件3(2)'!$F$11`, `F19+F20` (the common case, cheap)
    text = _STRING.sub('""', formula)
    if _DDE in _QUOTED.sub("''", text) or _CALL.search(text) or _OTHER_BOOK.search(text):
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w(.])", text, re.I) for n in names)


def outside_names(book: str) -> set[str]:
    """Defined names of a workbook part whose formula reaches outside (a name may use another: followed)."""
    start = book.find("definedName")
    unquoted = _QUOTED.sub("", book[start:]) if start >= 0 else ""
    if start < 0 or ("[" not in book[start:] and "(" not in unquoted and _DDE not in unquoted):
        return set()  # no name holds a call, another book or DDE (a template's 400 `'附件1'!$F$11`: cheap)
    defined = [(m.group(1), html.unescape(m.group(2))) for m in _DEFINED_NAME.finditer(book)]
    named = [(n.group(1), text) for attrs, text in defined if (n := _NAME_ATTR.search(attrs))]
    bad: set[str] = set()
    while True:
        more = {name for name, text in named if name not in bad and reaches_out(text, bad)}
        if not more:
            return bad
        bad |= more


def formula_text(body: bytes) -> str:
    """A `<f>` element's formula as text (XML entities resolved)."""
    return html.unescape(body.decode("utf-8", errors="replace"))


def outside_groups(sheet: bytes, names: Iterable[str] = ()) -> set[bytes]:
    """The `si` of each shared formula whose master reaches out: every cell of that group does."""
    names = list(names)
    groups: set[bytes] = set()
    for f in _FORMULA.finditer(sheet):
        attrs, body = f.group(1), f.group(2)
        if body and _SHARED.search(attrs) and (si := _SI.search(attrs)) and reaches_out(formula_text(body), names):
            groups.add(si.group(1))
    return groups


def cell_reaches_out(cell_body: bytes, names: Iterable[str], groups: set[bytes]) -> bool:
    """Whether a cell's XML (what is inside `<c>`) holds a formula that reaches out."""
    f = _FORMULA.search(cell_body)
    if f is None:
        return False
    attrs, body = f.group(1), f.group(2)
    if _SHARED.search(attrs) and (si := _SI.search(attrs)) and si.group(1) in groups:
        return True
    return bool(body) and reaches_out(formula_text(body), names)


def external_cells(sheet: bytes, names: Iterable[str] = ()) -> Iterator[tuple[str, int]]:
    """(column letters, row number) of each cell of a sheet part holding a formula or a hyperlink relationship
    that reaches out, in the sheet's order (cells first, then the hyperlinks)."""
    names = list(names)
    has_formula = b"<f" in sheet or b":f" in sheet
    if has_formula and not names:  # most formulas are plain sums: the cells are looked at only if one is not
        has_formula = any(f.group(2) and reaches_out(formula_text(f.group(2))) for f in _FORMULA.finditer(sheet))
    groups = outside_groups(sheet, names) if has_formula else set()
    seen: set[tuple[str, int]] = set()
    for cell in _CELL.finditer(sheet) if has_formula else ():
        body = cell.group(2)
        if body and cell_reaches_out(body, names, groups) and (ref := _REF.search(cell.group(1))):
            key = (ref.group(1).decode().upper(), int(ref.group(2)))
            if key not in seen:
                seen.add(key)
                yield key
    for link in _HYPERLINK.finditer(sheet) if b"hyperlink" in sheet else ():
        tag = link.group(0)
        if _REL_ID.search(tag) and (ref := _HYPERLINK_REF.search(tag)):
            key = (ref.group(1).decode().upper(), int(ref.group(2)))
            if key not in seen:
                seen.add(key)
                yield key
