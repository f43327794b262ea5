"""Reviewer decisions (审核意见, 备注) typed into 问题清单 survive `jixiao summary`, a new run, the unit's
resubmission and `jixiao review FILE`; read back from the rebuilt 汇总 with openpyxl."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pipeline.batch.engine import run_inbox
from pipeline.check import load_submission
from pipeline.cli import main
from pipeline.report.summary import rebuild_summaries
from pipeline.store.ledger import Ledger
from tests.test_batch import SAMPLES, age, copy_samples

YEAR = 2023
UNIT = "岳阳市公共租赁房屋运营服务中心"
HEADER_ROW = 3


def _rows(path: Path) -> tuple[openpyxl.Workbook, list[dict[str, openpyxl.cell.Cell]]]:
    wb = openpyxl.load_workbook(path)
    ws = wb["问题清单"]
    headers = [str(c.value) for c in ws[HEADER_ROW]]
    return wb, [dict(zip(headers, row, strict=True)) for row in ws.iter_rows(min_row=HEADER_ROW + 1)]


def _find(rows: list[dict[str, openpyxl.cell.Cell]], unit: str, rule: str) -> dict[str, openpyxl.cell.Cell]:
    return next(r for r in rows if r["预算单位"].value == unit and r["规则编号"].value == rule)


def _decided(path: Path) -> set[tuple[str, str, str, str, str]]:
    _, rows = _rows(path)
    return {
        (r["预算单位"].value, r["规则编号"].value, r["单元格"].value, r["审核意见"].value, r["备注"].value or "")
        for r in rows
        if r["审核意见"].value or r["备注"].value
    }


def _type(path: Path, edits: dict[tuple[str, str], tuple[str | None, str | None]]) -> None:
    """A reviewer types 审核意见 and 备注 into rows (unit, rule) and saves."""
    wb, rows = _rows(path)
    for (unit, rule), (decision, note) in edits.items():
        row = _find(rows, unit, rule)
        row["审核意见"].value = decision
        row["备注"].value = note
    wb.save(path)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{UNIT}_2023.xlsx", "白云区市场监督服务中心_2023.xlsx"])
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    return out


def test_the_findings_list_offers_a_drop_down_for_the_decision(out: Path) -> None:
    wb, rows = _rows(out / f"汇总_{YEAR}.xlsx")
    col = rows[0]["审核意见"].column_letter
    validations = wb["问题清单"].data_validations.dataValidation
    assert [(v.type, v.formula1) for v in validations if col in str(v.sqref)] == [("list", '"认可,不认可,退回修改"')]


def test_a_decision_survives_summary_a_new_run_and_the_units_resubmission(out: Path, tmp_path: Path) -> None:
    summary = out / f"汇总_{YEAR}.xlsx"
    _type(summary, {(UNIT, "A1.REQ.FRUGALITY"): ("认可", "已电话核实，单位无此项制度")})
    expected = {(UNIT, "A1.REQ.FRUGALITY", "B26", "认可", "已电话核实，单位无此项制度")}

    rebuild_summaries(out)
    assert _decided(summary) == expected

    # the unit fixes its error (公用经费) and sends the workbook again: the warning is the same finding
    source = load_submission(SAMPLES / f"{UNIT}_2023.xlsx")
    point = source.forms["a1"].points["a1.public.actual"]
    fixed = Path(shutil.copyfile(SAMPLES / f"{UNIT}_2023.xlsx", tmp_path / "inbox" / f"{UNIT}_2023_修改.xlsx"))
    wb = openpyxl.load_workbook(fixed)
    wb[point.sheet][point.cells[0]].value = 64.70
    wb.save(fixed)
    age(fixed)
    run_inbox(tmp_path / "inbox", out, workers=0, settle_s=0, wait_s=0)

    _, rows = _rows(summary)
    assert all(r["规则编号"].value != "A1.SUM.PUBLIC" for r in rows if r["预算单位"].value == UNIT)  # new version
    assert _decided(summary) == expected
    with Ledger.open_existing(out) as ledger:
        stored = ledger.conn.execute("SELECT unit, year, rule, cell, decision FROM decisions").fetchall()
    assert stored == [(UNIT, YEAR, "A1.REQ.FRUGALITY", "附件1 基础数据表!B26", "认可")]


def test_a_decision_cleared_in_the_summary_stays_cleared(out: Path) -> None:
    summary = out / f"汇总_{YEAR}.xlsx"
    _type(summary, {(UNIT, "A1.SUM.PUBLIC"): ("退回修改", "请按各项之和填写")})
    rebuild_summaries(out)
    assert {d[3] for d in _decided(summary)} == {"退回修改"}
    _type(summary, {(UNIT, "A1.SUM.PUBLIC"): (None, None)})
    rebuild_summaries(out)
    assert _decided(summary) == set()


def test_review_imports_decisions_from_a_copy_edited_elsewhere(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = out / f"汇总_{YEAR}.xlsx"
    _type(summary, {(UNIT, "A1.REQ.FRUGALITY"): ("认可", "")})
    rebuild_summaries(out)
    copy = Path(shutil.copyfile(summary, tmp_path / "科长审阅.xlsx"))
    _type(copy, {("白云区市场监督服务中心", "A1.SUM.SANGONG"): ("不认可", "三公经费合计应为各项之和")})

    assert main(["review", str(copy), "--out", str(out)]) == 0
    assert "已导入审核意见 1 条" in capsys.readouterr().out
    decided = {(d[0], d[1], d[3], d[4]) for d in _decided(summary)}
    assert decided == {
        (UNIT, "A1.REQ.FRUGALITY", "认可", ""),
        ("白云区市场监督服务中心", "A1.SUM.SANGONG", "不认可", "三公经费合计应为各项之和"),
    }


def test_review_of_a_workbook_without_a_findings_list_is_refused_in_chinese(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = next((out / "results").iterdir())
    assert main(["review", str(other), "--out", str(out)]) == 2
    assert "问题清单" in capsys.readouterr().err
