"""The patched package's 审核结果 sheet and 批注 are written as XML text: they must read back as xlsxwriter's do."""

from __future__ import annotations

import pickle
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from pipeline.batch.workers import write_worker
from pipeline.check import check_files, load_submission
from pipeline.model import Finding, Result
from pipeline.read.grid import read_grid
from pipeline.report.annotate import write_annotated
from pipeline.report.comments import comment_options
from pipeline.report.marks import Annotation
from pipeline.report.package import Package
from pipeline.report.sheet_xml import note_parts
from tests.builders import REFERENCE_UNIT, sample_filling, write
from tests.test_annotate import AT, FINDINGS, make_source

SUMMARY = "审核结果"


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the data-validation extension it drops
        return openpyxl.load_workbook(path)


def _colour(c: Any) -> Any:
    return (c.type, c.rgb if c.type == "rgb" else c.theme if c.type == "theme" else c.indexed) if c else None


def _sheet(ws: Any) -> dict[str, Any]:
    """What a reader sees of a sheet: values, looks, merges, links, sizes, frozen rows, filter, print setup."""
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            f, b, a = c.font, c.border, c.alignment
            cells[c.coordinate] = (
                c.value,
                (f.name, f.sz, f.b, f.u, _colour(f.color)),
                (c.fill.fill_type, _colour(c.fill.fgColor) if c.fill.fill_type else None),
                tuple((getattr(b, s).style, _colour(getattr(b, s).color)) for s in ("left", "right", "top", "bottom")),
                (a.horizontal, a.vertical, a.wrap_text, c.protection.locked),
                (c.hyperlink.location, c.hyperlink.tooltip, c.hyperlink.display) if c.hyperlink else None,
            )
    return {
        "cells": cells,
        "merged": sorted(str(m) for m in ws.merged_cells.ranges),
        "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height},
        "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
        "view": (ws.freeze_panes, ws.auto_filter.ref, ws.print_title_rows, ws.page_setup.orientation),
        "page": (ws.page_setup.paperSize, ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage),
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("xml") / "unit.xlsx")


def test_the_summary_sheet_reads_back_as_the_rewritten_ones(source: Path, tmp_path: Path) -> None:
    explained = Finding("A1.X", "warning", "附件1", ("C4",), "说明过的提示 & <标记>", " 1", "2 ")
    result = Result(file=source, findings=[*FINDINGS, explained])
    patched = write_annotated(result, source, tmp_path / "patched.xlsx", checked_at=AT)
    rewritten = tmp_path / "rewritten.xlsx"
    workbook = xlsxwriter.Workbook(rewritten, {"strings_to_formulas": False, "strings_to_urls": False})
    from pipeline.report.annotate import _fill_workbook

    _fill_workbook(workbook, Annotation.of(result), read_grid(source), AT)
    workbook.close()
    with zipfile.ZipFile(patched) as z:
        assert "xl/worksheets/sheet3.xml" in z.namelist()  # patched: the unit's two sheets, then ours
    a, b = _load(patched)[SUMMARY], _load(rewritten)[SUMMARY]
    assert _sheet(a) == _sheet(b)
    assert a["E12"].hyperlink is not None and a.freeze_panes == "A11"


@pytest.mark.parametrize(
    "cells",
    [
        [(0, 0), (4, 2), (4, 3), (30, 7)],
        [(1_048_573, 16_381), (1_048_574, 16_382), (1_048_575, 16_383), (6, 0)],
    ],
)
def test_comment_parts_are_xlsxwriters(tmp_path: Path, cells: list[tuple[int, int]]) -> None:
    texts = ["【错误】规则 A\n第一行", " 前后空格 ", "a & b < c\n\n" + "很长的一行" * 40, "控制\x01字符 _x0041_"]
    notes = {pos: (text, comment_options(text)) for pos, text in zip(cells, texts, strict=True)}
    path = tmp_path / "x.xlsx"
    workbook = xlsxwriter.Workbook(path)
    workbook.add_worksheet()
    ws = workbook.add_worksheet()
    for (row, col), (text, options) in notes.items():
        ws.write_comment(row, col, text, options)
    workbook.close()
    with zipfile.ZipFile(path) as z:
        theirs = z.read("xl/comments1.xml"), z.read("xl/drawings/vmlDrawing1.vml")
    comments, vml = note_parts(notes, 1)
    assert (comments, vml) == theirs


def test_merged_ranges_from_the_package_are_the_grids(tmp_path: Path) -> None:
    path = write(tmp_path / "unit.xlsx", sample_filling(REFERENCE_UNIT)[0])
    grid = read_grid(path)
    with Package(path) as package:
        assert package.sheet_names == [s.name for s in grid.sheets]
        for (_, _, part), sheet in zip(package.sheets, grid.sheets, strict=True):
            assert sorted(package.merged(part)) == sorted(sheet.merged)


def test_the_writer_gets_a_small_item_and_writes_the_same_workbook(tmp_path: Path) -> None:
    path = write(tmp_path / "unit.xlsx", sample_filling(REFERENCE_UNIT)[0])
    [checked] = check_files([path])
    result = Result(file=path, findings=checked.findings, submission=load_submission(path))
    job = Annotation.of(result)
    assert len(pickle.dumps(job)) * 5 < len(pickle.dumps(result))
    assert (job.unit, job.year, job.status_text, job.errors, job.warnings) == (
        result.unit,
        result.year,
        result.status_text,
        result.errors,
        result.warnings,
    )
    one, two = tmp_path / "a" / "unit.xlsx", tmp_path / "b" / "unit.xlsx"
    assert write_worker((1, pickle.loads(pickle.dumps(job)), str(path), str(one))) == ("ok", str(one))
    assert write_worker((1, result, str(path), str(two))) == ("ok", str(two))
    a, b = _load(one), _load(two)
    assert a.sheetnames == b.sheetnames == [SUMMARY, *[s.name for s in read_grid(path).sheets]]
    for name in a.sheetnames:
        got, want = _sheet(a[name]), _sheet(b[name])
        got["cells"].pop("C8", None), want["cells"].pop("C8", None)  # 审核时间
        assert got == want


def test_an_xls_is_rewritten_from_its_grid_read_only_then(tmp_path: Path) -> None:
    xls = Path(__file__).parent.parent / "sample_inputs"
    sources = sorted(xls.glob("*.xls"))
    if not sources:
        pytest.skip("no .xls sample")
    path = shutil.copy(sources[0], tmp_path / sources[0].name)
    [checked] = check_files([Path(path)])
    out = write_annotated(Result(file=Path(path), findings=checked.findings), Path(path), tmp_path / "out.xlsx")
    assert _load(out).sheetnames[0] == SUMMARY and len(_load(out).sheetnames) > 1
