"""预算单位名单: who has not submitted (未提交, with contacts), 总览 by 主管部门, near-miss names flagged; read
back from the 汇总 with openpyxl."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from tests.test_batch import copy_samples

SUBMITTED = ["岳阳市公共租赁房屋运营服务中心", "白云区市场监督服务中心"]
ROSTER = [
    ["单位名称", "单位编码", "主管部门", "联系人", "联系电话"],
    ["岳阳市公共租赁房屋运营服务中心", "101001", "岳阳市住房和城乡建设局", "张三", "0730-8888001"],
    ["白云区市场监督管理服务中心", "202002", "白云区市场监督管理局", "李四", "13800000002"],  # near miss
    ["青山县水务局", "303003", "青山县人民政府", "王五", "13800000003"],  # never submits
]


def _table(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    headers = [c.value for c in ws[3]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{name}_2023.xlsx" for name in SUBMITTED])
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(ROSTER)
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0", "--roster", str(roster)]) == 1
    return out


def test_units_not_submitted_are_listed_with_their_contacts(out: Path) -> None:
    book = openpyxl.load_workbook(out / "汇总_2023.xlsx")
    assert book.sheetnames[:3] == ["总览", "未提交", "问题清单"]
    missing = _table(book["未提交"])
    assert [(r["单位名称"], r["主管部门"], r["联系人"], r["联系电话"], r["备注"]) for r in missing] == [
        ("白云区市场监督管理服务中心", "白云区市场监督管理局", "李四", "13800000002",
         "收到名称相近的“白云区市场监督服务中心”，请核对是否为本单位"),
        ("青山县水务局", "青山县人民政府", "王五", "13800000003", None),
    ]  # fmt: skip


def test_overview_flags_a_near_miss_and_shows_the_roster_department(out: Path) -> None:
    rows = _table(openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"])
    by_unit = {r["预算单位"]: r for r in rows if r["序号"] is not None}
    assert by_unit["岳阳市公共租赁房屋运营服务中心"]["主管部门"] == "岳阳市住房和城乡建设局"
    assert by_unit["岳阳市公共租赁房屋运营服务中心"]["名单核对"] is None
    near = by_unit["白云区市场监督服务中心"]
    assert near["名单核对"] == "“白云区市场监督服务中心”与名单中的“白云区市场监督管理服务中心”相近，请核对单位名称"
    assert near["联系人"] == "李四"


def test_summary_rereads_the_roster_kept_in_out(out: Path) -> None:
    assert (out / "名单.csv").is_file()
    (out / "汇总_2023.xlsx").unlink()
    assert main(["summary", "--out", str(out)]) == 0
    assert "未提交" in openpyxl.load_workbook(out / "汇总_2023.xlsx").sheetnames


def test_roster_template_is_a_blank_table_with_the_columns(tmp_path: Path) -> None:
    assert main(["roster", "--template", "--out", str(tmp_path)]) == 0
    ws = openpyxl.load_workbook(tmp_path / "名单.xlsx").active
    assert [c.value for c in ws[1]] == ["单位名称", "单位编码", "主管部门", "联系人", "联系电话"]
    assert ws.max_row == 1


def test_overview_has_a_subtotal_per_department(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    units = ["岳阳市公共租赁房屋运营服务中心", "翠屏区疾病预防控制中心", "金沙县文化馆"]
    copy_samples(inbox, [f"{name}_2023.xlsx" for name in units])
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ROSTER[0],
                [units[0], "1", "住建局", "", ""],
                [units[1], "2", "卫健局", "", ""],
                [units[2], "3", "住建局", "", ""],
            ]
        )
    main(["run", str(inbox), "--out", str(out), "--workers", "0", "--roster", str(roster)])
    rows = _table(openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"])
    labels = [r["预算单位"] for r in rows if r["序号"] is None]
    # 岳阳… has errors: listed under 住建局, not counted in its 小计 (the units counted, issue #19)
    assert labels[:-1] == [
        "小计：住建局（计入 1 个单位；自评总分为平均分）",
        "小计：卫健局（计入 1 个单位；自评总分为平均分）",
    ]
    assert labels[-1].startswith("合计（计入 2 个单位")
    totals = [r["公用经费\n2023年决算数"] for r in rows if r["序号"] is None]
    assert totals[-1] == pytest.approx(totals[0] + totals[1])  # values, not formulas a filter would change
