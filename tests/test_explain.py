"""出错说明 round trip: a unit fixes the red cells in its annotated workbook, types 单位说明 and sends that
file back; jixiao reads it as a submission, the explained warnings are 已说明, and the explanations reach
the ledger and the 汇总. Everything read back with openpyxl."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pipeline.batch.engine import run_inbox
from pipeline.check import check_files
from pipeline.store.ledger import Ledger
from tests.test_batch import SAMPLES, age, copy_samples

UNIT = "岳阳市公共租赁房屋运营服务中心"
SOURCE = SAMPLES / f"{UNIT}_2023.xlsx"
A1 = "附件1 基础数据表"
EXPLAINED = {
    "A1.REQ.FRUGALITY": "本单位厉行节约措施已在自评报告第三部分说明",
    "A2.REQ.GOALS": "年度总体目标见部门预算批复，系统导出时未带出",
}


def _result_rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> tuple[int, list[dict[str, object]]]:
    head = next(r for r in range(1, 20) if ws.cell(r, 3).value == "规则编号")
    headers = [c.value for c in ws[head]]
    rows = [dict(zip(headers, row, strict=True)) for row in ws.iter_rows(min_row=head + 1)]
    return head, rows


def _send_back(annotated: Path, dest: Path, *, fix: bool, notes: dict[str, str]) -> Path:
    """What a unit does: fix 公用经费 (or not), write 单位说明 against rules, save, send the file back."""
    wb = openpyxl.load_workbook(annotated)
    if fix:
        wb[A1]["F18"].value = 64.70
    ws = wb["审核结果"]
    head, rows = _result_rows(ws)
    col = next(c.column for c in ws[head] if c.value == "单位说明")
    for i, row in enumerate(rows):
        if row["规则编号"].value in notes:
            ws.cell(head + 1 + i, col).value = notes[row["规则编号"].value]
    wb.save(dest)
    return age(dest)


@pytest.fixture
def first_round(tmp_path: Path) -> tuple[Path, Path, Path]:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [SOURCE.name])
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    (annotated,) = (out / "results").iterdir()
    return inbox, out, annotated


def test_a_returned_workbook_with_fixes_and_explanations_passes_with_warnings_explained(
    first_round: tuple[Path, Path, Path],
) -> None:
    inbox, out, annotated = first_round
    notes = {**EXPLAINED, "A2.REQ.GOALS": EXPLAINED["A2.REQ.GOALS"]}
    _send_back(annotated, inbox / f"{UNIT}_2023_报回.xlsx", fix=True, notes=notes)
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)

    with Ledger.open_existing(out) as ledger:
        (newest, versions), *_ = ledger.latest(2023)
        stored = ledger.conn.execute(
            "SELECT rule, cell, text FROM explanations WHERE submission_id = ? ORDER BY cell", (newest.id,)
        ).fetchall()
    assert (newest.status, newest.errors, versions) == ("warnings", 0, 2)
    assert stored == [
        ("A1.REQ.FRUGALITY", f"{A1}!B26", EXPLAINED["A1.REQ.FRUGALITY"]),
        ("A2.REQ.GOALS", "附件2 整体支出自评表!B12", EXPLAINED["A2.REQ.GOALS"]),
        ("A2.REQ.GOALS", "附件2 整体支出自评表!F12", EXPLAINED["A2.REQ.GOALS"]),
    ]

    book = openpyxl.load_workbook(out / "汇总_2023.xlsx")
    overview = book["总览"]
    status_col = next(c.column for c in overview[3] if c.value == "审核状态")
    assert overview.cell(4, status_col).value == "通过（提示已说明）"
    findings = book["问题清单"]
    headers = [c.value for c in findings[3]]
    listed = [dict(zip(headers, (c.value for c in row), strict=True)) for row in findings.iter_rows(min_row=4)]
    assert {(r["规则编号"], r["单位说明"]) for r in listed} == {
        ("A1.REQ.FRUGALITY", EXPLAINED["A1.REQ.FRUGALITY"]),
        ("A2.REQ.GOALS", EXPLAINED["A2.REQ.GOALS"]),
    }

    # the new annotated workbook: one 审核结果 sheet (the old one is not copied as a form), explanations kept
    (second,) = [p for p in (out / "results").iterdir() if "报回" in p.name]
    wb = openpyxl.load_workbook(second)
    assert [n for n in wb.sheetnames if n.startswith("审核结果")] == ["审核结果"]
    ws = wb["审核结果"]
    block = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, 12) if ws.cell(r, 1).value}
    assert (block["审核结论："], block["已说明提示数："]) == ("通过（提示已说明）", 3)
    stamp = next(ws.cell(r, 3) for r in range(2, 12) if ws.cell(r, 1).value == "审核结论：")
    assert stamp.fill.fgColor.rgb == "FFC6EFCE"  # green like 通过, not yellow
    _, rows = _result_rows(ws)
    assert {(r["规则编号"].value, r["单位说明"].value) for r in rows} == set(EXPLAINED.items())


def test_an_explanation_does_not_clear_an_error(first_round: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, _, annotated = first_round
    notes = {**EXPLAINED, "A1.SUM.PUBLIC": "四舍五入造成的差异"}
    back = _send_back(annotated, tmp_path / "报回.xlsx", fix=False, notes=notes)
    (result,) = check_files([back], out_dir=None)
    assert result.status == "errors"
    assert [(f.rule, f.level) for f in result.findings if f.level == "error"] == [("A1.SUM.PUBLIC", "error")]
    assert result.status_text == "有错误"
    assert result.explanation(result.findings[0]) == "四舍五入造成的差异"  # kept, shown, but not clearing
    assert result.explained == 3


def test_a_units_own_explanation_sheet_is_read(tmp_path: Path) -> None:
    path = Path(shutil.copyfile(SOURCE, tmp_path / "unit.xlsx"))
    wb = openpyxl.load_workbook(path)
    wb[A1]["F18"].value = 64.70
    ws = wb.create_sheet("说明")
    ws.append(["审核说明"])
    ws.append(["规则编号", "工作表", "单元格", "说明"])
    ws.append(["A1.REQ.FRUGALITY", "", "B26", "无单独制度，执行上级规定"])
    wb.save(path)
    (result,) = check_files([path], out_dir=None)
    assert [f.rule for f in result.findings if f.rule.startswith("GEN.")] == []  # the sheet is not a form
    explained = {f.rule: result.explanation(f) for f in result.findings if result.explanation(f)}
    assert explained == {"A1.REQ.FRUGALITY": "无单独制度，执行上级规定"}
    assert (result.status, result.status_text) == ("warnings", "有提示")  # A2.REQ.GOALS still unexplained


def test_an_error_the_profile_lets_a_unit_explain(tmp_path: Path) -> None:
    import dataclasses

    from pipeline.forms import load_profile

    path = Path(shutil.copyfile(SOURCE, tmp_path / "unit.xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("说明")
    ws.append(["审核说明"])
    ws.append(["规则编号", "工作表", "单元格", "说明"])
    ws.append(["A1.SUM.PUBLIC", A1, "F18", "含其他商品和服务支出 0.03 万元"])
    for rule, note in EXPLAINED.items():
        for cell in ("B26", "B12", "F12"):
            ws.append([rule, "", cell, note])
    wb.save(path)
    (strict,) = check_files([path])
    assert strict.status == "errors"  # by default an explanation never clears an error
    lenient = dataclasses.replace(load_profile(), explainable=("A1.SUM.PUBLIC",))
    (result,) = check_files([path], profile=lenient)
    [public] = [f for f in result.findings if f.rule == "A1.SUM.PUBLIC"]
    assert public.level == "warning" and "可由单位说明" in public.message
    assert (result.status, result.status_text) == ("warnings", "通过（提示已说明）")


def test_the_template_carries_an_explanation_sheet_a_unit_can_fill(tmp_path: Path) -> None:
    from pipeline.report.template import write_template

    template = write_template(tmp_path / "模板_2023.xlsx", year=2023)
    wb = openpyxl.load_workbook(template)
    ws = wb["审核说明"]
    assert [c.value for c in ws[3]] == ["规则编号", "工作表", "单元格", "说明"]
    assert ws["A4"].protection.locked is False
    (blank,) = check_files([template])
    assert [f.rule for f in blank.findings if f.rule == "GEN.UNREAD"] == []  # the blank sheet is not a table
    ws.append(["A1.REQ.FRUGALITY", "", "B26", "本单位执行上级规定"])
    wb.save(template)
    (filled,) = check_files([template])
    assert "本单位执行上级规定" in filled.submission.explanations.values()  # type: ignore[union-attr]
