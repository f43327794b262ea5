"""Editing a written workbook in place: zip parts rewritten, formulas put into total cells (with or without a
cached value)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from pipeline.model import cell_ref
from pipeline.synth.faults.base import COLS, FAULTS, SUMS
from pipeline.synth.faults.locate import _Book, _point
from pipeline.synth.units import Draft


# -- editing a written workbook ---------------------------------------------------------------------
def rewrite_zip(path: Path, edits: Mapping[str, Callable[[bytes], bytes]] | None = None) -> None:
    """Rewrite a workbook's zip with pinned entry timestamps, applying `edits` to named parts."""
    edits = edits or {}
    with zipfile.ZipFile(path) as src:
        parts = [(info.filename, src.read(info)) for info in src.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts:
            if name in edits:
                data = edits[name](data)
            dst.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    tmp.replace(path)


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → its worksheet part ("xl/worksheets/sheet2.xml"), from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'<Relationship Id="([^"]+)" Type="[^"]+" Target="([^"]+)"', rels))
    out: dict[str, str] = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"', book):
        target = targets[rid].lstrip("/")
        out[name.replace("&amp;", "&")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


#: 附件1 totals a unit may have written as formulas over their parts (no inserted rows among the parts).
FORMULA_ROWS = ("sangong", "car", "public")


def formula_edit(
    d: Draft, cells: list[tuple[str, str]], *, cached: bool, outside: bool = False
) -> Callable[[Path], None]:
    """An edit turning 附件1 totals ((row, col) pairs) into `=part+part…` formulas; with `cached`, the
    value stays as Excel would have saved it, without, the formula has no calculated value at all. With
    `outside`, the formula takes the total from another workbook instead (`'[2022年决算.xlsx]附件1'!F18`)."""

    def edit(path: Path) -> None:
        book = _Book(path)
        sheet = d.layout.sheet_names["a1"]
        rows, merged = book.sheets[sheet]
        changes: dict[str, str] = {}
        for row, col in cells:
            total = cell_ref(*_point(rows, merged, "a1", f"a1.{row}.{col}", d.year))
            parts = [cell_ref(*_point(rows, merged, "a1", f"a1.{p}.{col}", d.year)) for p in SUMS[row]]
            changes[total] = f"'[{d.year - 1}年决算.xlsx]附件1'!{total}" if outside else "+".join(parts)

        def change(data: bytes) -> bytes:
            for ref, formula in changes.items():
                pattern = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*)><v>([^<]*)</v></c>')
                value = rb"<v>\2</v>" if cached else b""
                data, n = pattern.subn(
                    rb'<c r="' + ref.encode() + rb'"\1><f>' + formula.encode() + b"</f>" + value + b"</c>", data
                )
                assert n == 1, (ref, n)
            return data

        rewrite_zip(path, {_sheet_parts(path)[sheet]: change})

    return edit


def formula_totals(d: Draft) -> None:
    """Layout variety: some 附件1 totals written as formulas (with their calculated values), as units do."""
    if any(FAULTS[a].alone for a in d.applied):
        return  # the deleted-sheet fault re-saves with openpyxl, which keeps no calculated values
    v = d.a1.values
    options = [
        (row, col)
        for row in FORMULA_ROWS
        for col in COLS
        if all(
            isinstance(v.get(f"a1.{k}.{col}"), float) and f"a1.{k}.{col}" not in d.touched for k in (row, *SUMS[row])
        )
    ]
    if options:
        picked = d.rng.sample(options, min(len(options), d.rng.randint(1, 4)))
        d.post.insert(0, formula_edit(d, sorted(picked), cached=True))


def _retitle(title: str, new: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        old = f"<t>{title}</t>".encode()

        def change(data: bytes) -> bytes:
            assert data.count(old) == 1, title
            return data.replace(old, f"<t>{new}</t>".encode())

        rewrite_zip(path, {"xl/sharedStrings.xml": change})

    return edit
