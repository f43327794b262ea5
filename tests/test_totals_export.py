"""Totals a bureau can use (#12 item 5): 汇总数 leaves out units with errors unless told otherwise (and the
choice is kept), 总览 shows the unit's own 填表人 and 联系电话, `jixiao export` writes 总览 and 问题清单 as CSV
with a BOM. Read back with openpyxl and csv."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import load_submission
from pipeline.cli import main
from tests.test_batch import SAMPLES, copy_samples
from tests.test_summary import _edit

CLEAN = "松涛区水利工程管理站"
WRONG = "白云区市场监督服务中心"  # the sample has errors
FORMULA_NAME = "=1+2"


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    headers = [c.value for c in ws[3]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]


def _total(out: Path, label: str) -> float:
    """The 汇总数 value of the 附件1 row `label`, column 2023年决算数."""
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["汇总数"]
    [head] = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "经费控制情况(万元)"]
    col = next(c for c in range(2, 9) if ws.cell(head, c).value == "2023年决算数")
    [row] = [r for r in range(head, ws.max_row + 1) if ws.cell(r, 1).value == label]
    return float(ws.cell(row, col).value)


def _public(name: str) -> float:
    return float(load_submission(SAMPLES / f"{name}_2023.xlsx").forms["a1"].points["a1.public.actual"].value)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{CLEAN}_2023.xlsx", f"{WRONG}_2023.xlsx"])
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 1
    return out


def test_totals_leave_out_units_with_errors_and_say_how_many(out: Path) -> None:
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["汇总数"]
    assert "汇总单位数：1" in ws["A2"].value and "不含：有错误 1 个" in ws["A2"].value
    assert _total(out, "公用经费") == pytest.approx(_public(CLEAN))


def test_include_errors_adds_them_in_and_is_kept_for_later_rebuilds(out: Path) -> None:
    assert main(["summary", "--out", str(out), "--include-errors"]) == 0
    both = _public(CLEAN) + _public(WRONG)
    assert _total(out, "公用经费") == pytest.approx(both)
    assert main(["summary", "--out", str(out)]) == 0  # no flag: the choice stays
    assert _total(out, "公用经费") == pytest.approx(both)
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["汇总数"]
    assert "汇总单位数：2" in ws["A2"].value and "含有错误和退回修改的单位" in ws["A2"].value
    assert main(["summary", "--out", str(out), "--no-include-errors"]) == 0
    assert _total(out, "公用经费") == pytest.approx(_public(CLEAN))


def test_overview_shows_the_units_own_preparer_and_phone(out: Path) -> None:
    rows = {r["预算单位"]: r for r in _rows(openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"]) if r["序号"]}
    for name in (CLEAN, WRONG):
        a1 = load_submission(SAMPLES / f"{name}_2023.xlsx").forms["a1"].points
        assert rows[name]["填表人"] == a1["a1.preparer"].value
        assert rows[name]["联系电话\n（表内）"] == a1["a1.phone"].value and rows[name]["联系电话\n（表内）"]


def test_export_writes_overview_and_findings_as_csv_excel_opens(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    [path] = copy_samples(inbox, [f"{WRONG}_2023.xlsx"])
    a1 = load_submission(path).forms["a1"].points["a1.unit_name"]
    a2 = load_submission(path).forms["a2"].points["a2.unit_name"]
    _edit(path, {(a1.sheet, a1.cells[0]): FORMULA_NAME, (a2.sheet, a2.cells[0]): FORMULA_NAME})
    copy_samples(inbox, [f"{CLEAN}_2023.xlsx"])
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 1
    assert main(["export", "--out", str(out)]) == 0

    raw = (out / "总览_2023.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    with (out / "总览_2023.csv").open(encoding="utf-8-sig", newline="") as fh:
        overview = list(csv.DictReader(fh))
    book = openpyxl.load_workbook(out / "汇总_2023.xlsx")
    sheet_rows = [r for r in _rows(book["总览"]) if r["序号"]]
    assert [r["预算单位"] for r in overview] == [
        "'" + FORMULA_NAME if n == FORMULA_NAME else n for n in (r["预算单位"] for r in sheet_rows)
    ] + ["合计（计入 1 个单位；自评总分为平均分）"]
    clean = next(r for r in overview if r["预算单位"] == CLEAN)
    assert clean["公用经费2023年决算数"] == f"{_public(CLEAN):.2f}" and clean["审核状态"] == "通过"
    assert clean["执行率"].endswith("%")
    total = overview[-1]
    assert float(total["公用经费2023年决算数"]) == pytest.approx(_public(CLEAN))  # the unit with errors is left out

    with (out / "问题清单_2023.csv").open(encoding="utf-8-sig", newline="") as fh:
        findings = list(csv.DictReader(fh))
    sheet_findings = _rows(book["问题清单"])
    assert len(findings) == len(sheet_findings) > 0
    assert [(f["规则编号"], f["单元格"]) for f in findings] == [(r["规则编号"], r["单元格"]) for r in sheet_findings]
    assert all(f["预算单位"] == "'" + FORMULA_NAME for f in findings)


def test_export_before_any_run_says_so(tmp_path: Path) -> None:
    assert main(["export", "--out", str(tmp_path)]) == 2  # no ledger: a Chinese message, exit code 2
