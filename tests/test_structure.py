"""Tables recognised by their structure: variations of the template and of real filings read with the same
points and findings as their originals, the generic reading of a layout no edition describes, and refusals
that say what a workbook is."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from builders import REFERENCE_UNIT, sample_filling, write
from editions import Project, national_project, workbook
from openpyxl.cell.cell import MergedCell
from variants import (
    amounts_in_yuan,
    break_labels,
    delete_row,
    insert_column,
    jiangsu,
    rename_row,
    retitle,
    swap_in_grid,
    two_row_headers,
    vary,
    whole_unit,
)

from pipeline.check import check_files, load_submission
from pipeline.errors import RejectedFile
from pipeline.forms import load_form, load_vocabulary
from pipeline.model import Submission
from pipeline.read.extract import extract
from pipeline.read.grid import read_grid
from pipeline.read.points import to_point
from pipeline.read.structure import classify
from pipeline.rules.validate import validate

REAL = Path(__file__).parent / "data" / "real"


def real(prefix: str) -> Path:
    [path] = REAL.glob(f"{prefix}*.xlsx")
    return path


def _norm(value: Any) -> Any:
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


def points(sub: Submission) -> dict[tuple[Any, ...], Any]:
    """Every filled point and indicator cell by (table, key) or (table, indicator, column): not by cell,
    as a variation moves cells."""
    out: dict[tuple[Any, ...], Any] = {}
    for n, data in enumerate([*sub.forms.values(), *sub.projects]):
        out |= {(data.form, n, k): _norm(p.value) for k, p in data.points.items() if p.filled}
        for i, ind in enumerate(data.indicators):
            out |= {(data.form, n, i, k): _norm(p.value) for k, p in ind.cells.items() if p.filled}
    return out


def findings(path: Path) -> Counter[tuple[str, str, str]]:
    return Counter((f.rule, f.level, f.sheet) for f in check_files([path])[0].findings)


# --- variations of the template and of real filings ---------------------------------------------------------

_AMOUNTS = ("年初预算数", "全年预算数", "全年执行数", "年初预算", "调整后预算数", "预算执行数", "全年(调整)预算数")
VARIATIONS = {
    "place_prefix": [retitle("安徽省池州市贵池区")],
    "unit_prefix": [retitle("池州市贵池区城市管理局")],
    "other_wording": [retitle("某区", wording=("绩效自评表", "绩效自评情况表"))],
    "extra_column": [insert_column(("三级指标", "指标名称"), ("是否核心指标", "指标性质", "度量单位"), lambda n: "是")],
    "weights_first": [swap_in_grid(("分值", "权重", "指标权重(分)"), ("年度指标值", "指标值", "年初指标值"))],
    "sources_renamed": [rename_row("上年结转资金", "上年结转结余资金"), rename_row("其他资金", "自筹资金")],
    "source_deleted": [delete_row("上年结转资金")],
    "labels_spaced": [break_labels(" ")],
    "labels_broken": [break_labels("\n")],
    "amounts_in_yuan": [amounts_in_yuan(*_AMOUNTS)],
}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("originals")
    p = Project()
    p.total = ("0", "150.00", "135.00")  # a real habit: the total left 0 while its sources are filled
    return {
        "template": write(tmp / "template.xlsx", *sample_filling(REFERENCE_UNIT)),
        "national": workbook(tmp / "national_2022.xlsx", {"Sheet1": [national_project(p)]}),
        **{prefix: real(prefix) for prefix in ("real01", "real02", "real03", "real04", "real05", "real06", "P1")},
    }


@pytest.mark.parametrize("variation", sorted(VARIATIONS))
@pytest.mark.parametrize(
    "original", ["template", "national", "real01", "real02", "real03", "real04", "real05", "real06", "P1"]
)
def test_a_variation_reads_as_its_original(
    original: str, variation: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    src = originals[original]
    dst = vary(src, tmp_path / src.name, *VARIATIONS[variation])
    assert points(load_submission(dst)) == points(load_submission(src))
    assert findings(dst) == findings(src)


@pytest.mark.parametrize("original", ["national", "real01", "real02", "real03", "real04"])
def test_a_title_without_a_year_reads_the_same_and_says_where_the_year_came_from(
    original: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    src = originals[original]
    dst = vary(src, tmp_path / src.name, retitle(year=False))  # the file name still holds the year
    assert points(load_submission(dst)) == points(load_submission(src))
    assert findings(dst) - findings(src) == Counter({("GEN.YEAR", "warning", "Sheet1"): 1})
    assert not findings(src) - findings(dst)


def test_the_variations_change_the_workbook(originals: dict[str, Path], tmp_path: Path) -> None:
    """Each variation does what it says on the national layout (a variation that changed nothing would pass)."""
    src = originals["national"]
    grid = read_grid(src).sheets[0]
    for name, changes in VARIATIONS.items():
        changed = read_grid(vary(src, tmp_path / f"{name}.xlsx", *changes)).sheets[0]
        assert (changed.rows, changed.merged) != (grid.rows, grid.merged), name


# --- the generic reading ----------------------------------------------------------------------------------


def _without_editions(path: Path) -> Submission:
    return extract(read_grid(path), editions=[load_form("a1")])  # no 附件2/附件3 edition: structure alone


@pytest.mark.parametrize("original", ["national", "real01", "real06"])
def test_the_generic_reading_takes_the_points_an_edition_takes(original: str, originals: dict[str, Path]) -> None:
    by_edition = load_submission(originals[original])
    generic = _without_editions(originals[original])
    assert [d.edition for d in [*generic.forms.values(), *generic.projects]] == ["generic"]
    own = {"a2.goal.adjusted"}  # the Chongqing edition's 全年(调整)绩效目标: no other form has it
    expected = {k: v for k, v in points(by_edition).items() if k[2] not in own}
    assert points(generic) == expected
    # the same findings, but for the labels an edition misses (real01 is cut before its 总分 row; real06 has
    # no 部门(单位)名称 row): a generic reading asks for no label it did not find
    misses = Counter({("GEN.LABEL", "warning"): 9, ("A2.REQ.UNIT", "error"): 1})
    assert _rules(validate([generic])[0]) == _rules(validate([by_edition])[0]) - misses


def _rules(found: list[Any]) -> Counter[tuple[str, str]]:
    return Counter((f.rule, f.level) for f in found)


def test_a_layout_no_edition_has_is_read_by_its_structure(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "江苏式.xlsx")
    [data] = load_submission(path).projects
    assert (data.edition, data.year, data.missing) == ("generic", 2023, [])
    got = {k: p.value for k, p in data.points.items() if p.filled}
    assert got == {
        "a3.project_name": "社区养老服务补助",
        "a3.implementer": "XX区民政局",
        "a3.department": "XX区民政局",
        "a3.total.initial": 120.0,
        "a3.total.budget": 125.0,
        "a3.total.exec": 112.5,
        "a3.total.rate": 0.9,
        "a3.total.weight": 10.0,
        "a3.total.score": 9.0,
        "a3.goal.expected": "完成全年养老服务补助发放",
        "a3.goal.actual": "已完成",
        "a3.sum.weight": 90.0,
        "a3.sum.score": 88.0,
        "a3.year": "2023",
    }
    first = data.indicators[0]
    assert (first.level1, first.level2) == ("output", "数量指标")
    assert {k: p.value for k, p in first.cells.items() if k in ("name", "target", "weight", "actual", "score")} == {
        "name": "补助人数",
        "target": "≥500人",
        "weight": 20.0,
        "actual": "520人",
        "score": 20.0,
    }
    # what is wrong, where it is: 发放准确率 given full marks with 96% against 100%; 老人生活改善 below its
    # weight with no reason given
    found = check_files([path])[0].findings
    assert sorted(f.cells[0] for f in found) == ["G9", "H11"]
    assert not [f for f in found if f.level == "error" and f.cells[0] != "G9"]


def test_the_same_table_with_any_column_order_reads_the_same(tmp_path: Path) -> None:
    plain = load_submission(jiangsu(tmp_path / "a.xlsx")).projects[0]
    renamed = ("一级指标", "二级指标", "指标名称", "目标值", "分值(权重)", "全年实际值", "自评得分(分)", "未完成原因")
    other = load_submission(jiangsu(tmp_path / "b.xlsx", headers=renamed)).projects[0]
    assert [{k: p.value for k, p in i.cells.items()} for i in other.indicators] == [
        {k: p.value for k, p in i.cells.items()} for i in plain.indicators
    ]


def test_a_whole_unit_table_of_another_province_is_read_by_its_structure(tmp_path: Path) -> None:
    """Its title shares words with the Hunan 整体 edition, not its layout: read by structure, no false errors
    from the Hunan form's income split, footer or 附件1."""
    path = whole_unit(tmp_path / "整体.xlsx")
    sub = load_submission(path)
    [data] = sub.forms.values()
    assert (data.form, data.edition, data.year, sub.unit) == ("a2", "generic", 2022, "XX市XX局")
    assert [(k, data.points[f"a2.total.{k}"].value) for k in ("initial", "budget", "exec", "rate")] == [
        ("initial", 500.0),
        ("budget", 520.0),
        ("exec", 494.0),
        ("rate", 0.95),
    ]
    assert [(i.level1, i.cells["weight"].value) for i in data.indicators] == [
        ("投入", 20.0),
        ("过程", 20.0),
        ("产出", 20.0),
        ("效果", 30.0),
    ]
    assert [(f.rule, f.cells[0]) for f in check_files([path])[0].findings] == [("IND.REASON", "H12")]


def test_a_table_without_a_title_is_read_by_its_structure_and_says_so(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "无标题_2023.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.active["A1"] = None
    wb.save(path)
    assert [(d.edition, d.titled) for d in load_submission(path).projects] == [("generic", False)]
    [notitle] = [f for f in check_files([path])[0].findings if f.rule == "GEN.NOTITLE"]
    assert "附件3（按表格结构识别）" in notitle.message


def test_headers_over_two_rows_are_read(tmp_path: Path) -> None:
    path = two_row_headers(tmp_path / "两行表头.xlsx")
    [data] = load_submission(path).projects
    assert data.edition == "generic"
    money = {k: (p.value, p.cells) for k, p in data.points.items() if k.startswith("a3.total.")}
    assert money["a3.total.initial"] == (100.0, ("B6",)) and money["a3.total.budget"] == (110.0, ("C6",))
    assert [
        (i.level1, i.cells["name"].value, i.cells["target"].value, i.cells["score"].value) for i in data.indicators
    ] == [
        ("output", "养护里程", "≥100公里", 50.0),
        ("effect", "道路通畅率", "≥95%", 30.0),
        ("satisfaction", "群众满意度", "≥90%", 8.0),
    ]
    assert check_files([path])[0].findings == []


def test_a_declaration_under_a_self_evaluation_title_is_refused_as_one(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "申报.xlsx", completion=False)  # 自评表 in its title, no completion column
    wb = openpyxl.load_workbook(path)
    wb.active.delete_rows(4, 2)
    wb.save(path)
    with pytest.raises(RejectedFile, match=r"^这是绩效目标申报表，不是自评表"):
        load_submission(path)


def test_a_form_with_no_scores_at_all_is_read_without_false_errors(tmp_path: Path) -> None:
    """The national layout without its 分值/得分 columns (some systems export none): read by its structure,
    its sums checked, nothing reported about scores it never asked for."""
    p = Project()
    p.total = ("130.00", "150.00", "135.00")  # 130 ≠ 100 + 20: a real error, still found
    path = workbook(tmp_path / "无分值_2022.xlsx", {"Sheet1": [national_project(p)]})
    wb = openpyxl.load_workbook(path)
    ws = wb["Sheet1"]
    for header in [c for row in ws.iter_rows() for c in row if c.value in ("分值", "得分")]:
        for r in range(header.row, header.row + 12):
            if not isinstance(ws.cell(r, header.column), MergedCell):
                ws.cell(r, header.column).value = None
    wb.save(path)
    [data] = load_submission(path).projects
    assert (data.edition, data.missing, len(data.indicators)) == ("generic", [], 6)
    assert [(f.rule, f.cells[0]) for f in check_files([path])[0].findings] == [("A3.SUM.FUNDS", "D7")]


@pytest.mark.parametrize(
    ("header", "group", "key"),
    [
        ("指标得分(分)", "indicator", "score"),
        ("得分系数(%)", "indicator", "coef"),
        ("指标权重（分）", "indicator", "weight"),
        ("是否核心\n指标", "indicator", "core"),
        ("全年 完成值", "indicator", "actual"),
        ("年初指标值", "indicator", "target"),
        ("调整指标值", "indicator", "target_adj"),
        ("二级指标名称", "indicator", "level2"),
        ("全年(调整)预算数", "funds", "budget"),
        ("执行率(%)\n=全年执行数/全年预算数", "funds", "rate"),
        ("执行率得分（分）", "funds", "score"),
        ("执行率权重", "funds", "weight"),
        ("全年预算执行数", "funds", "exec"),
        ("①年初预算数", "funds", "initial"),
        ("备注", "funds", None),
    ],
)
def test_a_header_takes_the_key_of_its_most_specific_word(header: str, group: str, key: str | None) -> None:
    assert classify(header, getattr(load_vocabulary(), group)) == key


def test_amounts_with_their_unit_in_the_cell_are_read_in_wan_yuan() -> None:
    assert [to_point(v, "amount", "s", "A1").value for v in ("125000元", "12.5万元", "12.5", 12.5)] == [12.5] * 4
    assert to_point("125000元", "amount", "s", "A1").tolerance == pytest.approx(0.00005)  # to the yuan
    assert to_point("125000元", "text", "s", "A1").value == "125000元"


# --- real filings as fixtures -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["real01", "real02", "real03", "real04", "real05", "real06", "P1", "P2"])
def test_every_real_table_is_read(prefix: str) -> None:
    sub = load_submission(real(prefix))
    tables = [*sub.forms.values(), *sub.projects]
    assert tables and not sub.unread
    assert all(d.indicators or d.form == "a1" for d in tables)


def test_the_probes_appended_project_sheets_are_read() -> None:
    for probe in ("P1", "P2"):
        sub = load_submission(real(probe))
        assert sorted(d.sheet for d in sub.projects) == ["项目1", "项目2"]


# --- refusals that say what a workbook is ------------------------------------------------------------------


def test_a_report_saved_as_a_workbook_is_refused_as_a_report() -> None:
    with pytest.raises(RejectedFile) as caught:
        load_submission(real("real07"))
    assert caught.value.reason.startswith("这是自评报告的封面或正文")
    assert "绩效评价自评报告" in caught.value.reason  # the text it saw


def test_a_declaration_form_is_refused_as_one(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "申报表.xlsx", completion=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["A1"] = "XX区XX局2024年度项目支出绩效目标申报表"
    ws.delete_rows(4, 2)  # a 申报表 asks for a budget, not its execution
    wb.save(path)
    with pytest.raises(RejectedFile) as caught:
        load_submission(path)
    assert caught.value.reason.startswith("这是绩效目标申报表，不是自评表")
    assert "2024年度项目支出绩效目标申报表" in caught.value.reason and "“指标值”" in caught.value.reason


def test_a_budget_table_is_refused_as_one(tmp_path: Path) -> None:
    def budget(s):  # type: ignore[no-untyped-def]
        s.put(1, 1, "XX区民政局2024年部门预算支出表")
        for c, text in enumerate(["科目名称", "年初预算数", "上年预算数", "增减"], 1):
            s.put(2, c, text)
        for r, name in enumerate(["社会保障和就业支出", "卫生健康支出", "合计"], 3):
            s.put(r, 1, name)
            s.put(r, 2, 100 * r)

    path = workbook(tmp_path / "budget.xlsx", {"Sheet1": [budget]})
    with pytest.raises(RejectedFile) as caught:
        load_submission(path)
    assert caught.value.reason.startswith("这是预算表，不是自评表")
    assert "“年初预算数”" in caught.value.reason


def test_what_cannot_be_told_is_refused_naming_what_a_self_evaluation_has(tmp_path: Path) -> None:
    def other(s):  # type: ignore[no-untyped-def]
        s.put(1, 1, "2023年度部门决算报表")
        s.put(2, 1, "收入")
        s.put(2, 2, 100)

    path = workbook(tmp_path / "other.xlsx", {"Sheet1": [other]})
    with pytest.raises(RejectedFile) as caught:
        load_submission(path)
    assert "不是绩效自评表" in caught.value.reason and "没有绩效指标表" in caught.value.reason
