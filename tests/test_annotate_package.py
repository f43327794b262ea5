"""The annotated workbook of an .xlsx is the unit's own package, patched: read back with openpyxl."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import check_files
from tests.builders import REFERENCE_UNIT, sample_filling, write


def _load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the data-validation extension it drops
        return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("package")
    source = write(folder / "unit.xlsx", sample_filling(REFERENCE_UNIT)[0])  # the reference has warnings
    [result] = check_files([source], out_dir=folder / "out")
    assert result.findings and result.output is not None
    return source, result.output


def test_keeps_defined_names_and_data_validation(annotated: tuple[Path, Path]) -> None:
    source, output = annotated
    before, after = _load(source), _load(output)
    assert after.sheetnames == ["审核结果", *before.sheetnames]
    for old in before.worksheets:
        new = after[old.title]
        assert dict(new.defined_names).keys() == dict(old.defined_names).keys()
        assert {n: d.attr_text for n, d in new.defined_names.items()} == {
            n: d.attr_text for n, d in old.defined_names.items()
        }
        got = [(str(v.sqref), v.type, v.formula1) for v in new.data_validations.dataValidation]
        assert got == [(str(v.sqref), v.type, v.formula1) for v in old.data_validations.dataValidation]
    assert sum(len(ws.data_validations.dataValidation) for ws in before.worksheets) > 0
    assert sum(len(ws.defined_names) for ws in before.worksheets) > 0


def test_marks_and_comments_on_the_submitted_sheets(annotated: tuple[Path, Path]) -> None:
    source, output = annotated
    [result] = check_files([source])
    wb = _load(output)
    for finding in result.findings:
        if not finding.cells or finding.sheet not in wb.sheetnames:
            continue
        cell = wb[finding.sheet][finding.cells[0]]
        if cell.coordinate in wb[finding.sheet].merged_cells:
            continue
        assert cell.fill.fgColor.rgb in ("FFFFC7CE", "FFFFEB9C")
        assert cell.comment is not None and finding.rule in cell.comment.text
    assert wb.active.title == "审核结果"
    assert [bool(ws.sheet_view.tabSelected) for ws in wb.worksheets] == [True] + [False] * (len(wb.worksheets) - 1)


def test_untouched_parts_are_copied_byte_for_byte(annotated: tuple[Path, Path]) -> None:
    source, output = annotated
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(output) as b:
        same = [n for n in a.namelist() if n in b.namelist() and a.read(n) == b.read(n)]
        assert "xl/sharedStrings.xml" in same and "docProps/custom.xml" in same
        assert b.testzip() is None
