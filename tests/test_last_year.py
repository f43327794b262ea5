"""Last year (#12 item 4): with the unit's previous year in the ledger, this year's {Y-1}年决算数 is checked
against last year's {Y}年决算数 by the catalogue rule A1.PREV.ACTUAL over `prev.*` points, and 总览 shows last
year's 自评总分 and 执行率. Real workbooks through `jixiao run`; the 汇总 read back with openpyxl."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import check_files, load_submission
from pipeline.cli import main
from pipeline.forms import load_profile
from pipeline.rules.catalogue import load_rules
from tests.test_batch import SAMPLES, age

UNIT = "松涛区水利工程管理站"
THIS_YEAR = SAMPLES / f"{UNIT}_2023.xlsx"
LAST_SCORE = 88.5
CHANGED = {"public": 1.0, "office": 1.0}  # last year's 决算数 lower by this; the sum of 公用经费 still holds


def _last_year(dest: Path) -> Path:
    """The sample moved back a year: titles say 2022, its {Y}年决算数 column holds what the 2023 workbook
    says about 2022 (its {Y-1} column), except the rows in CHANGED; 自评总分 LAST_SCORE."""
    sub = load_submission(THIS_YEAR)
    a1, a2 = sub.forms["a1"].points, sub.forms["a2"].points
    wb = openpyxl.load_workbook(THIS_YEAR)
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = cell.value.replace("2022", "2021").replace("2023", "2022")
    for key, point in a1.items():
        if key.endswith(".prev"):
            row = key.split(".")[1]
            for prev_cell, actual_cell in zip(point.cells, a1[f"a1.{row}.actual"].cells, strict=True):
                value = wb[point.sheet][prev_cell].value
                wb[point.sheet][actual_cell].value = value - CHANGED.get(row, 0) if value is not None else None
    score = a2["a2.sum.score"]
    wb[score.sheet][score.cells[0]].value = LAST_SCORE
    wb.save(dest)
    return age(dest)


def _roster(folder: Path) -> str:
    """A roster giving the unit its code: last year's workbook is then matched by code, and its figures and
    file name may be quoted (a match by name alone quotes neither: tests/test_reliability.py row 6)."""
    path = folder / "名单.csv"
    path.write_text(f"单位名称,单位编码\n{UNIT},430601001\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("last_year")
    out = root / "out"
    (root / "in22").mkdir()
    _last_year(root / "in22" / f"{UNIT}_2022.xlsx")
    main(["run", str(root / "in22"), "--out", str(out), "--workers", "0", "--roster", _roster(root)])
    (root / "in23").mkdir()
    age(Path(shutil.copyfile(THIS_YEAR, root / "in23" / THIS_YEAR.name)))
    main(["run", str(root / "in23"), "--out", str(out), "--workers", "0"])
    return out


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    headers = [c.value for c in ws[3]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]


def test_a_changed_prior_year_figure_is_flagged_naming_both_files(out: Path) -> None:
    findings = _rows(openpyxl.load_workbook(out / "汇总_2023.xlsx")["问题清单"])
    flagged = [f for f in findings if f["规则编号"] == "A1.PREV.ACTUAL"]
    a1 = load_submission(THIS_YEAR).forms["a1"].points
    assert sorted(f["单元格"] for f in flagged) == sorted(a1[f"a1.{row}.prev"].cells[0] for row in CHANGED)
    public = next(f for f in flagged if f["单元格"] == a1["a1.public.prev"].cells[0])
    assert public["级别"] == "提示"
    assert public["实际值"] == f"{a1['a1.public.prev'].value:.2f}"
    assert public["期望值"] == f"{a1['a1.public.prev'].value - 1:.2f}"
    assert f"本年文件“{UNIT}_2023.xlsx”" in public["问题说明"] and f"上年文件“{UNIT}_2022.xlsx”" in public["问题说明"]
    assert "2022年决算数" in public["问题说明"]


def test_the_first_year_has_nothing_to_compare_with(out: Path) -> None:
    findings = _rows(openpyxl.load_workbook(out / "汇总_2022.xlsx")["问题清单"])
    assert findings and not [f for f in findings if f["规则编号"].startswith("A1.PREV")]
    [result] = check_files([THIS_YEAR], workers=0)  # no ledger: prev.* unknown, the rule says nothing
    assert not [f for f in result.findings if f.rule == "A1.PREV.ACTUAL"]


def test_overview_shows_last_years_score_and_rate_beside_this_years(out: Path) -> None:
    rows = _rows(openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"])
    [unit] = [r for r in rows if r["预算单位"] == UNIT]
    headers = list(unit)
    assert headers.index("上年\n自评总分") == headers.index("自评总分") + 1
    assert headers.index("上年\n执行率") == headers.index("执行率") + 1
    a2 = load_submission(THIS_YEAR).forms["a2"].points
    assert unit["上年\n自评总分"] == LAST_SCORE and unit["自评总分"] == a2["a2.sum.score"].value
    assert unit["上年\n执行率"] == pytest.approx(a2["a2.total.exec"].value / a2["a2.total.budget"].value)
    older = _rows(openpyxl.load_workbook(out / "汇总_2022.xlsx")["总览"])
    assert "上年\n自评总分" not in older[0]  # no year before 2022 in the ledger: no such columns


def test_the_rule_is_catalogue_data_over_prev_points() -> None:
    [rule, *_] = [r for r in load_rules(load_profile()) if r.id == "A1.PREV.ACTUAL"]
    assert rule.kind == "compare" and any(p.startswith("prev.a1.") for p in rule.points)


@pytest.mark.parametrize(("chunk", "workers"), [(250, 0), (1, 0), (1, 2)], ids=["one-chunk", "two-chunks", "workers"])
def test_last_years_workbook_in_the_same_run_is_compared_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, workers: int
) -> None:
    """Both years sent in one batch: this year's is checked against last year's before either is recorded
    (one chunk), or while last year's is still being written (two chunks)."""
    from pipeline import settings

    monkeypatch.setattr(settings, "BATCH_CHUNK_FILES", chunk)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _last_year(inbox / f"{UNIT}_2022.xlsx")
    age(Path(shutil.copyfile(THIS_YEAR, inbox / THIS_YEAR.name)), seconds=1800)  # received after last year's
    main(["run", str(inbox), "--out", str(out), "--workers", str(workers), "--roster", _roster(tmp_path)])
    findings = _rows(openpyxl.load_workbook(out / "汇总_2023.xlsx")["问题清单"])
    flagged = [f for f in findings if f["规则编号"] == "A1.PREV.ACTUAL"]
    a1 = load_submission(THIS_YEAR).forms["a1"].points
    assert sorted(f["单元格"] for f in flagged) == sorted(a1[f"a1.{row}.prev"].cells[0] for row in CHANGED)
    assert all(f"上年文件“{UNIT}_2022.xlsx”" in f["问题说明"] for f in flagged)
