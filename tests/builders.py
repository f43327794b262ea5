"""Workbook builders shared by the tests: fixtures come from the sample fillings via the template writer."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import openpyxl

from pipeline.report.filling import Filling, Layout
from pipeline.report.template import write_workbook
from pipeline.synth.samples import SAMPLES, YEAR

CLEAN_UNIT = "翠屏区疾病预防控制中心"  # clean, with two filled 附件3 project sheets
REFERENCE_UNIT = "岳阳市公共租赁房屋运营服务中心"


def sample_filling(unit: str) -> tuple[Filling, Layout]:
    sample = next(s for s in SAMPLES if s.unit == unit)
    return copy.deepcopy(sample.make()), copy.deepcopy(sample.layout)


def write(path: Path, filling: Filling, layout: Layout | None = None, *, year: int = YEAR) -> Path:
    return write_workbook(path, year=year, filling=filling, layout=layout or Layout())


def edit_workbook(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    """Change a written workbook the way a unit would in Excel (openpyxl keeps values and merges)."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def sheet_with_title(wb: openpyxl.Workbook, text: str):  # type: ignore[no-untyped-def]
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=4):
            for cell in row:
                if isinstance(cell.value, str) and text in cell.value:
                    return ws, cell
    raise LookupError(text)
