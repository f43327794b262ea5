"""Decisions that act (issue #19 acceptance 3): a reviewer's 退回修改 typed into 问题清单 makes the unit
退回修改 in 总览, export, the ledger and 退回名单, and `jixiao notices` writes its notice; 认可 on every error
makes a unit 通过（审核认可）; `jixiao review` says what it changed; 提交历史 says what happened to each version.
Workbooks read back with openpyxl, notices with python-docx."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import docx
import openpyxl
import pytest

from pipeline.batch.engine import run_inbox
from pipeline.cli import main
from pipeline.store.ledger import Ledger
from pipeline.store.reviews import ACCEPTED, RETURNED, WARNINGS, Decided, review_of
from tests.test_batch import SAMPLES, age, copy_samples
from tests.test_review import _rows, _type

YEAR = 2023
RETURN = "岳阳市公共租赁房屋运营服务中心"
ACCEPT = "白云区市场监督服务中心"
NOTE = "公用经费合计应为各项之和，请更正"


def _overview(out: Path) -> dict[str, dict[str, object]]:
    ws = openpyxl.load_workbook(out / f"汇总_{YEAR}.xlsx")["总览"]
    headers = [c.value for c in ws[3]]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]
    return {str(r["预算单位"]): r for r in rows if r["序号"]}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{RETURN}_2023.xlsx", f"{ACCEPT}_2023.xlsx", "松涛区水利工程管理站_2023.xlsx"])
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    return out


def _decide(out: Path) -> None:
    """The reviewer returns one unit over its error and accepts every finding of the other, then rebuilds."""
    summary = out / f"汇总_{YEAR}.xlsx"
    _, rows = _rows(summary)
    accepted = {(ACCEPT, str(r["规则编号"].value)): ("认可", "") for r in rows if r["预算单位"].value == ACCEPT}
    _type(summary, {(RETURN, "A1.SUM.PUBLIC"): ("退回修改", NOTE), **accepted})
    assert main(["summary", "--out", str(out)]) == 0


def test_a_returned_unit_is_returned_everywhere_and_listed_with_what_to_fix(out: Path) -> None:
    _decide(out)
    overview = _overview(out)
    assert overview[RETURN]["审核状态"] == "退回修改"
    assert overview[ACCEPT]["审核状态"] == "通过（审核认可）"

    ws = openpyxl.load_workbook(out / f"汇总_{YEAR}.xlsx")["退回名单"]
    headers = [c.value for c in ws[3]]
    listed = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]
    assert [(r["预算单位"], r["规则编号"], r["审核意见"], r["审核备注"]) for r in listed] == [
        (RETURN, "A1.SUM.PUBLIC", "退回修改", NOTE)
    ]
    assert listed[0]["联系人"] and listed[0]["联系电话"]  # the unit's own 填表人 and phone: no roster here

    with Ledger.open_existing(out) as ledger:
        stored = dict(
            ledger.conn.execute("SELECT s.unit, r.status FROM reviews r JOIN submissions s ON s.id = r.submission_id")
        )
    assert stored[RETURN] == RETURNED and stored[ACCEPT] == ACCEPTED

    assert main(["export", "--out", str(out)]) == 0
    with (out / f"总览_{YEAR}.csv").open(encoding="utf-8-sig", newline="") as fh:
        exported = {r["预算单位"]: r["审核状态"] for r in csv.DictReader(fh)}
    assert exported[RETURN] == "退回修改" and exported[ACCEPT] == "通过（审核认可）"


def test_notices_writes_the_returned_units_notice_and_a_covering_list(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _decide(out)
    assert main(["notices", "--out", str(out)]) == 0
    folder = out / "退回通知"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"退回单位清单_未列主管部门_{YEAR}.docx",
        f"退回通知_{RETURN}_{YEAR}.docx",
    ]
    assert "已生成" in capsys.readouterr().out
    notice = docx.Document(str(folder / f"退回通知_{RETURN}_{YEAR}.docx"))
    text = "\n".join(p.text for p in notice.paragraphs)
    assert f"{RETURN}：" in text and "收到本通知后10个工作日内" in text  # the deadline of the default profile
    [table] = notice.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0][4] == "需修改的问题"
    assert [(r[2], r[3], r[6]) for r in cells[1:]] == [("附件1 基础数据表", "F18、F19、F20、F21", f"退回修改：{NOTE}")]
    covering = docx.Document(str(folder / f"退回单位清单_未列主管部门_{YEAR}.docx"))
    assert [row.cells[1].text for row in covering.tables[0].rows][1:] == [RETURN]

    # the unit is accepted after all: its notice goes, nothing is left to send
    _type(out / f"汇总_{YEAR}.xlsx", {(RETURN, "A1.SUM.PUBLIC"): ("认可", "")})
    assert main(["notices", "--out", str(out)]) == 0
    assert list(folder.iterdir()) == []
    assert "没有审核意见为退回修改的单位" in capsys.readouterr().out


def test_history_says_the_replaced_version_was_returned(out: Path, tmp_path: Path) -> None:
    _decide(out)
    fixed = Path(shutil.copyfile(SAMPLES / f"{RETURN}_2023.xlsx", tmp_path / "inbox" / f"{RETURN}_2023_修改.xlsx"))
    wb = openpyxl.load_workbook(fixed)
    wb["附件1 基础数据表"]["F18"].value = 64.70
    wb.save(fixed)
    age(fixed)
    run_inbox(tmp_path / "inbox", out, workers=0, settle_s=0, wait_s=0)
    ws = openpyxl.load_workbook(out / f"汇总_{YEAR}.xlsx")["提交历史"]
    headers = [c.value for c in ws[3]]
    history = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]
    assert [r["审核状态"] for r in history if r["预算单位"] == RETURN] == ["退回修改", "有提示"]


def test_review_says_how_many_rows_it_read_and_what_each_did(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = out / f"汇总_{YEAR}.xlsx"
    _type(summary, {(RETURN, "A1.REQ.FRUGALITY"): ("认可", "")})
    assert main(["summary", "--out", str(out)]) == 0
    copy = Path(shutil.copyfile(summary, tmp_path / "科长审阅.xlsx"))
    _type(copy, {(RETURN, "A1.SUM.PUBLIC"): ("退回修改", NOTE), (ACCEPT, "A1.SUM.SANGONG"): ("不认可", "")})
    assert main(["review", str(copy), "--out", str(out)]) == 0
    said = capsys.readouterr().out.replace("\n", "")
    assert "已导入审核意见 2 条" in said
    assert "填写了审核意见或备注的 3 行：新增 2 条，修改 0 条，清除 0 条，与账本相同 1 条" in said


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([Decided("warning", "退回修改", False)], RETURNED),
        ([Decided("warning", "不认可", True)], RETURNED),  # the unit's explanation is not accepted
        ([Decided("error", "不认可", False)], None),  # the error stands: 有错误
        ([Decided("error", "认可", False), Decided("warning", "", True)], ACCEPTED),
        ([Decided("error", "认可", False), Decided("warning", "", False)], WARNINGS),
        ([Decided("error", "认可", False), Decided("error", "", False)], None),
        ([Decided("warning", "", True)], None),  # 通过（提示已说明）, as the check said
    ],
)
def test_what_the_decisions_make_of_a_unit(findings: list[Decided], expected: str | None) -> None:
    assert review_of(findings) == expected
