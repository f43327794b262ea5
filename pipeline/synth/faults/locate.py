"""Where each expected finding points: the written workbook read back with python-calamine and the form
definitions' labels — not with jixiao's extractor, so the answer key does not inherit its mistakes."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import python_calamine

from pipeline.forms import Field, Row, Section, for_year, load_form
from pipeline.model import cell_ref
from pipeline.report.filling import indicator_total_key
from pipeline.synth.units import Draft


# -- locating cells in the written workbook ----------------------------------------------------------
class _Book:
    """A written workbook's sheets as calamine reads them (absolute coordinates, merged ranges)."""

    def __init__(self, path: Path) -> None:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        self.sheets: dict[str, tuple[list[list[Any]], dict[tuple[int, int], tuple[int, int]]]] = {}
        try:
            for name in wb.sheet_names:
                s = wb.get_sheet_by_name(name)
                merged = {(r0, c0): (r1, c1) for (r0, c0), (r1, c1) in (s.merged_cell_ranges or [])}
                self.sheets[name] = (s.to_python(skip_empty_area=False), merged)
        finally:
            wb.close()


def _find(
    rows: list[list[Any]], match: Callable[[str], bool], *, start: int = 0, stop_col: int | None = None
) -> tuple[int, int]:
    for r in range(start, len(rows)):
        row = rows[r]
        for c in range(len(row) if stop_col is None else min(len(row), stop_col)):
            if isinstance(row[c], str) and match(row[c].strip()):
                return r, c
    raise LookupError("label not found")


@cache
def _sections(fid: str) -> dict[str, tuple[str, Any, Any]]:
    """Point key → (section kind, row or field, column or section) of a form definition."""
    form = load_form(fid)
    out: dict[str, tuple[str, Any, Any]] = {}
    for sec in form.sections:
        if sec.kind == "table":
            for row in sec.rows:
                for col in sec.fields:
                    if not row.only or col.key in row.only:
                        out[f"{fid}.{row.key}.{col.key}"] = ("table", row, col)
        elif sec.kind == "record":
            for f in sec.fields:
                out[f"{fid}.{f.key}"] = ("record", f, sec)
        elif sec.kind == "fields":
            for line in sec.field_rows:
                for f in line:
                    out[f"{fid}.{f.key}"] = ("fields", f, sec)
        elif sec.kind == "indicators":
            out[f"{fid}.ind"] = ("indicators", None, sec)
            for name in ("weight", "score"):
                out[indicator_total_key(form, name)] = ("total", name, sec)
    return out


def _point(
    rows: list[list[Any]], merged: dict[tuple[int, int], tuple[int, int]], fid: str, key: str, year: int
) -> tuple[int, int]:
    kind, a, b = _sections(fid)[key]
    if kind == "table":
        row, col = a, b
        assert isinstance(row, Row) and isinstance(col, Field)
        header = for_year(col.label, year)
        hr, hc = _find(rows, lambda t: t == header)
        rr, _ = _find(rows, lambda t: t == row.label, start=hr + 1, stop_col=hc)
        return rr, hc
    if kind == "record":
        label = for_year(a.label, year)
        hr, hc = _find(rows, lambda t: t == label)
        return merged.get((hr, hc), (hr, hc))[0] + 1, hc
    if kind == "fields":
        sec: Section = b
        label = for_year(a.label, year)
        if sec.footer:
            r, c = _find(rows, lambda t: t == label + "：")
        else:
            r, c = _find(rows, lambda t: t == label or t.startswith(label + "："))
            if str(rows[r][c]).strip() != label and str(rows[r][c]).strip()[len(label) + 1 :].strip():
                return r, c  # the value is inside the label cell
        return r, merged.get((r, c), (r, c))[1] + 1
    hr, cols = _indicator_header(rows, fid)
    tr, _ = _find(rows, lambda t: t == b.total.get("label", "总分"), start=hr + 1)
    return tr, cols[a]


def _indicator_header(rows: list[list[Any]], fid: str) -> tuple[int, dict[str, int]]:
    sec = next(s for s in load_form(fid).sections if s.kind == "indicators")
    hr, _ = _find(rows, lambda t: t == sec.column("name").label)
    cols = {
        f.key: next(c for c, v in enumerate(rows[hr]) if isinstance(v, str) and v.strip() == f.label)
        for f in sec.fields
    }
    return hr, cols


def _where(book: _Book, d: Draft, where: tuple[str, ...]) -> tuple[str | None, str | None]:
    if where[0] == "nosheet":
        return None, None
    sid = where[1]
    sheet = d.layout.sheet_names[sid]
    if where[0] == "sheet":
        return sheet, None
    rows, merged = book.sheets[sheet]
    fid = sid.partition(".")[0]
    if where[0] == "title":
        tail = load_form(fid).title.replace("{Y}", "")
        r, c = _find(rows, lambda t: re.fullmatch(r"\d{4}" + re.escape(tail), t) is not None)
    elif where[0] == "point":
        r, c = _point(rows, merged, fid, where[2], d.year)
    else:
        _, _, name, col = where
        hr, cols = _indicator_header(rows, fid)
        r = next(r for r in range(hr + 1, len(rows)) if str(rows[r][cols["name"]]).strip() == name)
        c = cols[col]
    return sheet, cell_ref(r, c)


def locate(path: Path, d: Draft) -> list[dict[str, Any]]:
    """The answer-key entries of a written workbook: each expected finding with its sheet and cell."""
    book = _Book(path)
    out: list[dict[str, Any]] = []
    for e in d.expects:
        sheet, cell = _where(book, d, e.where)
        out.append(
            {
                "fault": e.fault,
                "rule": e.rule,
                "kind": e.kind,
                "sheet": sheet,
                "cell": cell,
                "description": e.description,
            }
        )
    return out
