"""The 汇总 workbook, read back with openpyxl: one row per unit with its figures, totals equal to the sums
of the units' values, every link pointing at a file that exists, resubmissions superseding."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.batch.engine import run_inbox
from pipeline.check import load_submission
from pipeline.forms import for_year, load_forms
from pipeline.model import Submission
from pipeline.report.summary import grade, rebuild_summaries
from tests.test_batch import SAMPLES, age, drop

YEAR = 2023
RESENT = "金沙县文化馆"
INJECTED = '=HYPERLINK("http://example.com","点我")'
HEADER_ROW = 3  # 1-based: title, generation line, headers


def _edit(path: Path, cells: dict[tuple[str, str], object]) -> Path:
    wb = openpyxl.load_workbook(path)
    for (sheet, ref), value in cells.items():
        cell = wb[sheet][ref]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # typed text, even when it starts with "="
    wb.save(path)
    return age(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Submission]]:
    """Two runs: the samples, a junk file and a unit named like a formula; then a new version of one unit."""
    root = tmp_path_factory.mktemp("summary")
    inbox, out = root / "inbox", root / "out"
    inbox.mkdir()
    for p in SAMPLES.iterdir():
        age(Path(shutil.copyfile(p, inbox / p.name)))
    drop(inbox / "东区" / "损坏.xlsx", b"PK\x03\x04 truncated")
    source = load_submission(SAMPLES / "松涛区水利工程管理站_2023.xlsx")
    name_cells = {
        (source.forms[f].points[f"{f}.unit_name"].sheet, source.forms[f].points[f"{f}.unit_name"].cells[0]): INJECTED
        for f in ("a1", "a2")
    }
    _edit(Path(shutil.copyfile(SAMPLES / "松涛区水利工程管理站_2023.xlsx", inbox / "注入.xlsx")), name_cells)
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)

    first = load_submission(SAMPLES / f"{RESENT}_2023.xlsx")
    point = first.forms["a1"].points["a1.procurement.actual"]
    v2 = Path(shutil.copyfile(SAMPLES / f"{RESENT}_2023.xlsx", inbox / f"{RESENT}_2023_修改.xlsx"))
    _edit(v2, {(point.sheet, point.cells[0]): (point.number or 0) + 100})
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)

    latest = {}
    for path in sorted((out / "processed").iterdir()):
        sub = load_submission(path)
        if sub.unit != RESENT or "修改" in path.name:
            latest[sub.unit or ""] = sub
    return out, latest


@pytest.fixture(scope="module")
def book(built: tuple[Path, dict[str, Submission]]) -> openpyxl.Workbook:
    out, _ = built
    return openpyxl.load_workbook(out / f"汇总_{YEAR}.xlsx", data_only=True)


def table(ws: Worksheet) -> tuple[list[str], list[dict[str, object]]]:
    headers = [str(c.value) for c in ws[HEADER_ROW]]
    data = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        data.append({h: c for h, c in zip(headers, row, strict=True)})
    return headers, data


def link(cell: object, out: Path) -> Path:
    target = cell.hyperlink.target  # type: ignore[attr-defined]
    assert "\\" not in target  # '/' is followed by Excel on Windows and Mac and by LibreOffice; '\\' by Windows only
    return out / unquote(target)


def value(sub: Submission, key: str) -> float | None:
    point = sub.forms[key.split(".")[0]].points.get(key)
    return point.number if point else None


def test_overview_has_one_row_per_unit_with_its_figures(
    built: tuple[Path, dict[str, Submission]], book: openpyxl.Workbook
) -> None:
    out, latest = built
    ws = book["总览"]
    assert book.sheetnames == ["总览", "问题清单", "规则统计", "汇总数", "图表", "退回文件", "提交历史"]
    assert str(ws["A1"].value).startswith(f"{YEAR}年度") and "生成时间" in str(ws["A2"].value)
    _, rows = table(ws)
    units, totals = rows[:-1], rows[-1]
    assert sorted(str(r["预算单位"].value) for r in units) == sorted(latest)
    for row in units:
        sub = latest[str(row["预算单位"].value)]
        budget, spent, score = value(sub, "a2.total.budget"), value(sub, "a2.total.exec"), value(sub, "a2.sum.score")
        assert row["编制数\n（人）"].value == value(sub, "a1.staff_quota")
        assert row["公用经费\n2023年决算数"].value == value(sub, "a1.public.actual")
        assert row["全年执行数"].value == spent
        assert row["执行率"].value == pytest.approx(spent / budget)  # type: ignore[operator]
        assert row["自评总分"].value == score
        assert row["等级"].value == grade(score)
        assert row["提交次数"].value == (2 if sub.unit == RESENT else 1)
        if row["审核状态"].value == "通过":
            assert row["审核结果"].hyperlink is None  # nothing to annotate on a clean workbook
        else:
            assert link(row["审核结果"], out).is_file()
    statuses = {str(r["预算单位"].value): r["审核状态"].value for r in units}
    assert statuses["白云区市场监督服务中心"] == "有错误" and statuses["临湖县图书馆"] == "通过"
    assert totals["预算单位"].value == "合计（自评总分为平均分）"
    quota = sum(value(s, "a1.staff_quota") or 0 for s in latest.values())
    assert totals["编制数\n（人）"].value == quota
    spent = sum(value(s, "a2.total.exec") or 0 for s in latest.values())
    budget = sum(value(s, "a2.total.budget") or 0 for s in latest.values())
    assert totals["全年执行数"].value == pytest.approx(spent)
    assert totals["执行率"].value == pytest.approx(spent / budget)
    assert ws.freeze_panes == "C4" and ws.auto_filter.ref == f"A3:V{3 + len(units)}"
    assert (ws.page_setup.orientation, ws.page_setup.paperSize) == ("landscape", 9)


def test_a_unit_typed_formula_stays_text(book: openpyxl.Workbook) -> None:
    ws = book["总览"]
    [cell] = [c for c in ws["B"] if c.value == INJECTED]
    assert cell.data_type == "s"


def test_totals_sheet_is_the_sum_of_the_units_values(
    built: tuple[Path, dict[str, Submission]], book: openpyxl.Workbook
) -> None:
    _, latest = built
    _, overview = table(book["总览"])
    errors = {r["预算单位"].value for r in overview if r["审核状态"].value == "有错误"}
    assert errors  # the samples have units with errors: 汇总数 leaves them out by default
    latest = {unit: sub for unit, sub in latest.items() if unit not in errors}
    ws = book["汇总数"]
    assert f"汇总单位数：{len(latest)}" in str(ws["A2"].value) and f"有错误”的单位 {len(errors)} 个" in str(
        ws["A2"].value
    )
    cells = {(r, c): ws.cell(r, c).value for r in range(1, ws.max_row + 1) for c in range(1, 9)}
    checked = 0
    for form in (f for f in load_forms().values() if not f.repeatable):
        for section in form.sections:
            if section.kind != "table":
                continue
            corner = for_year(section.corner or section.side, YEAR)
            [head] = [r for (r, c), v in cells.items() if c == 1 and v == corner]
            columns = {for_year(f.label, YEAR): c for c in range(2, 9) if (f := _field(section, cells[(head, c)]))}
            for offset, row in enumerate(section.rows, start=1):
                assert cells[(head + offset, 1)] == for_year(row.label, YEAR)
                for col in section.fields:
                    if col.type != "amount" or (row.only and col.key not in row.only):
                        continue
                    key = f"{form.id}.{row.key}.{col.key}"
                    expected = sum(v for s in latest.values() if (v := value(s, key)) is not None)
                    assert cells[(head + offset, columns[for_year(col.label, YEAR)])] == pytest.approx(expected), key
                    checked += 1
    assert checked == 17 * 3 + 3  # 附件1 经费控制情况 17 rows × 3 columns; 附件2 年度资金总额 × 3
    [general] = [r for (r, c), v in cells.items() if c == 1 and v == "其中：一般公共预算"]
    assert cells[(general, 2)] == pytest.approx(sum(value(s, "a2.income.general") or 0 for s in latest.values()))


def _field(section: object, header: object) -> object:
    return next((f for f in section.fields if for_year(f.label, YEAR) == header), None)  # type: ignore[attr-defined]


def test_findings_rules_refused_and_history(built: tuple[Path, dict[str, Submission]], book: openpyxl.Workbook) -> None:
    out, _ = built
    _, findings = table(book["问题清单"])
    assert {str(r["预算单位"].value) for r in findings} >= {"白云区市场监督服务中心", "岳阳市公共租赁房屋运营服务中心"}
    assert all(link(r["审核结果"], out).is_file() for r in findings)
    errors = [r for r in findings if r["级别"].value == "错误"]
    assert ("岳阳市公共租赁房屋运营服务中心", "A1.SUM.PUBLIC") in {
        (r["预算单位"].value, r["规则编号"].value) for r in errors
    }

    _, rules = table(book["规则统计"])
    by_rule = {r["规则编号"].value: r for r in rules}
    units_with = {(r["规则编号"].value, r["预算单位"].value) for r in findings}
    for rule, row in by_rule.items():
        assert row["涉及单位数"].value == len({u for rr, u in units_with if rr == rule})

    _, refused = table(book["退回文件"])
    [junk] = refused
    assert junk["原文件"].value == "东区/损坏.xlsx" and "损坏" in str(junk["退回原因"].value)
    assert link(junk["文件位置"], out) == out / "refused" / "东区" / "损坏.xlsx"
    assert link(junk["文件位置"], out).is_file()

    _, history = table(book["提交历史"])
    resent = [r for r in history if r["预算单位"].value == RESENT]
    assert [str(r["汇总采用"].value)[:2] for r in resent] == ["已被", "采用"]


def test_charts_are_there(built: tuple[Path, dict[str, Submission]], book: openpyxl.Workbook) -> None:
    out, latest = built
    ws = book["图表"]
    bands = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(5, 12)}
    assert sum(bands.values()) == len(latest)  # type: ignore[arg-type]
    with zipfile.ZipFile(out / f"汇总_{YEAR}.xlsx") as zf:
        assert sorted(n for n in zf.namelist() if n.startswith("xl/charts/chart")) == [
            "xl/charts/chart1.xml",
            "xl/charts/chart2.xml",
        ]


def test_rebuild_from_the_ledger_alone(built: tuple[Path, dict[str, Submission]], tmp_path: Path) -> None:
    out, _ = built
    copy = tmp_path / "out"
    copy.mkdir()
    shutil.copyfile(out / "ledger.sqlite3", copy / "ledger.sqlite3")
    [path] = rebuild_summaries(copy)
    assert path == copy / f"汇总_{YEAR}.xlsx"
    rebuilt = openpyxl.load_workbook(path, data_only=True)
    original = openpyxl.load_workbook(out / f"汇总_{YEAR}.xlsx", data_only=True)
    assert [[c.value for c in r] for r in rebuilt["总览"].iter_rows(min_row=3)] == [
        [c.value for c in r] for r in original["总览"].iter_rows(min_row=3)
    ]


@pytest.mark.parametrize(
    ("score", "expected"),
    [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.5, "中"), (60, "中"), (59.9, "差"), (None, None)],
)
def test_grade(score: float | None, expected: str | None) -> None:
    assert grade(score) == expected
