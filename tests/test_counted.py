"""One definition of the units counted (issue #19 acceptance 2): a 汇总 built from units with errors, a blank
全年执行数 and a unit off the roster gives the same unit count and the same totals in 总览's 合计, 汇总数 and
`jixiao export`, with and without `--include-errors`; read back with openpyxl and csv."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import load_submission
from pipeline.cli import main
from tests.test_batch import copy_samples
from tests.test_summary import _edit

CLEAN = "松涛区水利工程管理站"
BLANK = "翠屏区疾病预防控制中心"  # its 全年执行数 left blank: an error, and not a zero
WRONG = "白云区市场监督服务中心"  # errors
OTHER = "金沙县文化馆"  # clean, from another city: not on the roster
GREEN = "青山县农业技术推广中心"
ROSTER = [
    ["单位名称", "单位编码", "主管部门", "联系人", "联系电话"],
    [CLEAN, "1", "水利局", "甲", "1"],
    [BLANK, "2", "卫生健康委员会", "乙", "2"],
    [WRONG, "3", "市场监督管理局", "丙", "3"],
    [GREEN, "4", "水利局", "丁", "4"],
]
BUDGET, SPENT = "a2.total.budget", "a2.total.exec"


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, float | None]]]:
    root = tmp_path_factory.mktemp("counted")
    inbox, out = root / "inbox", root / "out"
    paths = copy_samples(inbox, [f"{n}_2023.xlsx" for n in (CLEAN, BLANK, WRONG, OTHER, GREEN)])
    blank = next(p for p in paths if p.name.startswith(BLANK))
    point = load_submission(blank).forms["a2"].points[SPENT]
    _edit(blank, {(point.sheet, point.cells[0]): None})
    roster = root / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(ROSTER)
    figures = {}
    for p in paths:
        sub = load_submission(p)
        figures[sub.unit or ""] = {k: sub.forms["a2"].points[k].number for k in (BUDGET, SPENT)}
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0", "--roster", str(roster)]) == 1
    return out, figures


def _expected(figures: dict[str, dict[str, float | None]], units: list[str]) -> tuple[float, float, float, int]:
    """Σ预算数 and Σ执行数 over the units that filled each; the rate over those that filled both."""
    budget = sum(b for u in units if (b := figures[u][BUDGET]) is not None)
    spent = sum(s for u in units if (s := figures[u][SPENT]) is not None)
    both = [u for u in units if figures[u][BUDGET] is not None and figures[u][SPENT] is not None]
    rate = sum(figures[u][SPENT] or 0 for u in both) / sum(figures[u][BUDGET] or 0 for u in both)
    return budget, spent, rate, len(both)


def _overview(out: Path) -> tuple[list[dict[str, object]], dict[str, object]]:
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"]
    headers = [c.value for c in ws[3]]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]
    [total] = [r for r in rows if str(r["预算单位"]).startswith("合计")]
    return rows, total


def _totals_sheet(out: Path) -> tuple[str, float, float, float]:
    """汇总数: its subtitle, and 附件2 年度资金总额's 全年预算数, 全年执行数, 执行率."""
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["汇总数"]
    [row] = [r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("年度资金总额")]
    head = max(r for r in range(1, row) if any(ws.cell(r, c).value == "全年预算数" for c in range(2, 9)))
    col = {ws.cell(head, c).value: c for c in range(2, 9)}
    values = [ws.cell(row, col[h]).value for h in ("全年预算数", "全年执行数", "执行率")]
    return str(ws["A2"].value), *(float(v) for v in values)  # type: ignore[return-value]


def _export(out: Path) -> dict[str, str]:
    assert main(["export", "--out", str(out)]) == 0
    with (out / "总览_2023.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))[-1]


@pytest.mark.parametrize("include_errors", [False, True])
def test_overview_totals_and_export_count_the_same_units_and_agree(
    season: tuple[Path, dict[str, dict[str, float | None]]], include_errors: bool
) -> None:
    out, figures = season
    flag = "--include-errors" if include_errors else "--no-include-errors"
    assert main(["summary", "--out", str(out), flag]) == 0
    counted = [CLEAN, GREEN, *([BLANK, WRONG] if include_errors else [])]  # never OTHER: off the roster
    budget, spent, rate, both = _expected(figures, counted)

    _, total = _overview(out)
    label = str(total["预算单位"])
    assert re.search(rf"计入 {len(counted)} 个单位", label)
    assert (f"执行率按填了预算数和执行数的 {both} 个单位" in label) == (both < len(counted))
    assert total["全年预算数"] == pytest.approx(budget)
    assert total["全年执行数"] == pytest.approx(spent)
    assert total["执行率"] == pytest.approx(rate)
    if include_errors:  # the blank 全年执行数 is left out of the rate, not counted as 0
        assert rate != pytest.approx(spent / budget)

    subtitle, t_budget, t_spent, t_rate = _totals_sheet(out)
    assert f"汇总单位数：{len(counted)}（" in subtitle
    assert (t_budget, t_spent, t_rate) == (pytest.approx(budget), pytest.approx(spent), pytest.approx(rate))

    exported = _export(out)
    assert exported["预算单位"] == label
    assert float(exported["全年预算数"]) == pytest.approx(budget, abs=0.005)
    assert float(exported["全年执行数"]) == pytest.approx(spent, abs=0.005)
    assert exported["执行率"] == f"{rate * 100:.2f}%"

    book = openpyxl.load_workbook(out / "汇总_2023.xlsx")
    for name in ("总览", "问题清单", "退回名单", "规则统计", "汇总数", "图表", "退回文件", "提交历史"):
        assert f"汇总单位数：{len(counted)}（" in str(book[name]["A2"].value), name


def test_a_unit_off_the_roster_is_listed_apart_and_never_summed(
    season: tuple[Path, dict[str, dict[str, float | None]]],
) -> None:
    out, figures = season
    assert main(["summary", "--out", str(out), "--include-errors"]) == 0
    rows, total = _overview(out)
    names = [r["预算单位"] for r in rows]
    apart = next(i for i, n in enumerate(names) if str(n).startswith("名单外单位"))
    assert names.index(total["预算单位"]) < apart < names.index(OTHER)
    assert [r["名单核对"] for r in rows if r["预算单位"] == OTHER] == ["不在名单中"]
    subtotals = [r for r in rows if str(r["预算单位"]).startswith("小计：")]
    departments = [str(r["预算单位"]).split("（")[0] for r in subtotals]
    assert departments == ["小计：卫生健康委员会", "小计：市场监督管理局", "小计：水利局"]
    water = next(r for r in subtotals if "水利局" in str(r["预算单位"]))
    assert water["全年预算数"] == pytest.approx(sum(figures[u][BUDGET] or 0 for u in (CLEAN, GREEN)))
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["汇总数"]
    assert "不含：名单外 1 个" in str(ws["A2"].value)


def test_overview_prints_on_a3_at_a_legible_scale_with_contacts_on_their_own_page(
    season: tuple[Path, dict[str, dict[str, float | None]]],
) -> None:
    out, _ = season
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"]
    headers = [c.value for c in ws[3]]
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (8, "landscape")  # A3
    assert 80 <= int(ws.page_setup.scale or 100) <= 100  # 10-pt text printed at ≥ 8 pt
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    [brk] = ws.col_breaks.brk
    assert headers[brk.id] == "提交次数"  # submissions and contacts on the second page
    assert ws.print_title_rows == "$3:$3" and ws.print_title_cols == "$A:$B"
    last = openpyxl.utils.get_column_letter(len(headers) - 2)  # the link and file columns are not printed
    assert headers[-2:] == ["审核结果", "原文件"] and str(ws.print_area).endswith(f"$A$1:${last}${ws.max_row}")


def test_link_cells_show_the_files_name(season: tuple[Path, dict[str, dict[str, float | None]]]) -> None:
    out, _ = season
    ws = openpyxl.load_workbook(out / "汇总_2023.xlsx")["问题清单"]
    col = next(c.column for c in ws[3] if c.value == "审核结果")
    links = [ws.cell(r, col) for r in range(4, ws.max_row + 1) if ws.cell(r, col).hyperlink is not None]
    assert links
    for cell in links:
        assert cell.value.endswith("_审核结果.xlsx") and "/" not in cell.value and "%" not in cell.value
        assert (out / "results" / cell.value).is_file()
        [width] = [d.width for d in ws.column_dimensions.values() if d.min <= cell.column <= d.max]
        assert width >= 28
