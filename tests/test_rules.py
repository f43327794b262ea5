"""Every rule in the catalogue has a workbook that breaks it and passes on the clean one.

The clean sample unit is mutated once per rule (the way units get forms wrong), all mutated
workbooks are checked as one batch, and each must raise its rule on the cell the rule is about.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from editions import EDITION_RULES, HISTORY_RULES, REPORT_RULES

from pipeline.check import check_files
from pipeline.model import Result
from pipeline.report.filling import Filling
from pipeline.settings import SCHEMAS_DIR
from tests.builders import CLEAN_UNIT, edit_workbook, sample_filling, sheet_with_title, write

Mutation = Callable[[Filling], None]
PostEdit = Callable[[openpyxl.Workbook], None]


def _set(**values: object) -> Mutation:
    def change(f: Filling) -> None:
        for key, value in values.items():
            f.values[key.replace("__", ".")] = value

    return change


def _add(key: str, delta: float) -> Mutation:
    def change(f: Filling) -> None:
        f.values[key] = round(float(f.values[key]) + delta, 2)  # type: ignore[arg-type]

    return change


def _indicator(i: int, **cells: object) -> Mutation:
    def change(f: Filling) -> None:
        for name, value in cells.items():
            setattr(f.indicators[i], name, value)

    return change


def _both(*changes: Mutation) -> Mutation:
    def change(f: Filling) -> None:
        for one in changes:
            one(f)

    return change


def _no_scores(f: Filling) -> None:
    f.values.update({"a3.total.score": None, "a3.sum.score": None})
    for ind in f.indicators:
        ind.score = None


def _project(change: Mutation) -> Mutation:
    def inner(f: Filling) -> None:
        change(f.projects[0])

    return inner


def _retitle(title: str, year: int) -> PostEdit:
    def edit(wb: openpyxl.Workbook) -> None:
        _, cell = sheet_with_title(wb, title)
        cell.value = str(cell.value).replace("2023", str(year))

    return edit


def _drop_sheet(title: str) -> PostEdit:
    def edit(wb: openpyxl.Workbook) -> None:
        ws, _ = sheet_with_title(wb, title)
        wb.remove(ws)

    return edit


def _relabel(old: str, new: str) -> PostEdit:
    def edit(wb: openpyxl.Workbook) -> None:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value == old:
                        cell.value = new

    return edit


def _budget_for_rate(f: Filling) -> None:
    exec_ = float(f.values["a2.total.exec"])  # type: ignore[arg-type]
    f.values.update({"a2.total.budget": round(exec_ / 0.8, 2), "a2.total.rate": 0.8, "a2.total.score": 8})


def _bld(kind: str) -> Mutation:
    names = {"area": ("approved", "actual"), "invest": ("budget", "actual")}[kind]
    return _set(**{f"a1__bld_{kind}_{names[0]}": 100, f"a1__bld_{kind}_{names[1]}": 90, f"a1__bld_{kind}_rate": 0.5})


# rule id → (what the unit did, the cell the finding must point at first, optional edit after writing)
BREAKERS: dict[str, tuple[Mutation, str | None, PostEdit | None]] = {
    "A1.REQ.UNIT": (_set(a1__unit_name=None), "B3", None),
    "A1.REQ.STAFF": (_set(a1__staff_quota=None), "B5", None),
    "A1.RATE.STAFF": (_set(a1__staff_rate=0.5), "F5", None),
    "A1.PLAUS.OVERSTAFF": (_set(a1__staff_actual=62, a1__staff_rate=62 / 60), "D5", None),
    "A1.SUM.SANGONG": (_add("a1.sangong.actual", 1), "F7", None),
    "A1.SUM.CAR": (_add("a1.car.budget", 1), "D8", None),
    "A1.SUM.PROJECT": (_add("a1.project.prev", 2), "B13", None),
    "A1.SUM.PUBLIC": (_add("a1.public.actual", 0.03), "F18", None),
    # a blank total whose parts are filled is reported once, by A1.SUM.PUBLIC: here the parts are blank too
    "A1.REQ.TOTALS": (
        _set(a1__public__budget=None, a1__office__budget=None, a1__utilities__budget=None, a1__meetings__budget=None),
        "D18",
        None,
    ),
    "A1.MIN.PROCUREMENT": (_set(a1__procurement__prev=-5), "B22", None),
    "A1.RATE.BLD_AREA": (_bld("area"), "D25", None),
    "A1.RATE.BLD_INVEST": (_bld("invest"), "G25", None),
    "A1.PLAUS.SANGONG": (_set(a1__sangong__budget=5.0, a1__reception__budget=-2.0), "F7", None),
    "A1.PLAUS.PUBLIC": (_set(a1__public__budget=50.0, a1__office__budget=30.0), "F18", None),
    "A1.PLAUS.LINE": (_set(a1__meetings__actual=9.0, a1__public__actual=66.1), "F21", None),
    "A1.REQ.FRUGALITY": (_set(a1__frugality=None), "B26", None),
    "A1.REQ.CONTACT": (_set(a1__phone=None), None, None),
    "A2.REQ.UNIT": (_set(a2__unit_name=None), None, None),
    "A2.REQ.FUNDS": (_set(a2__total__budget=None), "D5", None),
    "A2.RATE.EXEC": (_set(a2__total__rate=0.5), "G5", None),
    "A2.SCORE.EXEC": (_set(a2__total__score=5), "H5", None),
    "A2.WEIGHT.EXEC": (_set(a2__total__weight=15), "F5", None),
    "A2.SUM.INCOME": (_add("a2.income.general", 10), "E5", None),
    "A2.SUM.SPEND": (_add("a2.spend.basic", 10), "E5", None),
    "A2.CROSS.PROJECT": (_add("a2.spend.project", 5), None, None),
    "A2.CROSS.UNIT": (_set(a2__unit_name="另一个单位"), None, None),
    "A2.CROSS.YEAR": (_set(), None, _retitle("整体支出绩效自评表", 2022)),
    "A2.WEIGHT.CAT": (_indicator(0, weight=15, score=15), None, None),
    "A2.WEIGHT.SPLIT": (_both(_indicator(0, weight=15, score=15), _indicator(5, weight=15, score=15)), None, None),
    "A2.WEIGHT.TOTAL": (_set(a2__sum__weight=90), None, None),
    "A2.SUM.WEIGHT": (_set(a2__sum__weight=90), None, None),
    "A2.SUM.SCORE": (_add("a2.sum.score", -3), None, None),
    "A2.PLAUS.EXEC_RATE": (_budget_for_rate, "E5", None),
    "A2.REQ.GOALS": (_set(a2__goal__expected=None), None, None),
    "A2.REQ.CONTACT": (_set(a2__preparer=None), None, None),
    "A3.REQ.NAME": (_project(_set(a3__project_name=None)), None, None),
    "A3.SUM.FUNDS": (_project(_add("a3.total.initial", 1)), None, None),
    "A3.RATE.EXEC": (_project(_set(a3__total__rate=0.5)), None, None),
    "A3.SCORE.EXEC": (_project(_set(a3__total__score=3)), None, None),
    "A3.WEIGHT.CAT": (_project(_indicator(0, weight=25, score=25)), None, None),
    "A3.WEIGHT.SPLIT": (
        _project(_both(_indicator(0, weight=25, score=25), _indicator(5, weight=5, score=5))),
        None,
        None,
    ),
    "A3.SUM.SCORE": (_project(_add("a3.sum.score", -3)), None, None),
    "A3.REQ.TOTAL": (_project(_no_scores), None, None),
    "A3.CROSS.YEAR": (_set(), None, _retitle("项目支出绩效自评表", 2022)),
    "A3.REQ.GOALS": (_project(_set(a3__goal__actual=None)), None, None),
    "IND.REQ.FIELDS": (_indicator(0, target=None), None, None),
    "IND.SCORE.MAX": (_indicator(1, score=12), None, None),
    "IND.SCORE.MIN": (_indicator(1, score=-1), None, None),
    "IND.REASON": (_indicator(1, score=7, reason=None), None, None),
    "IND.SCORING": (_indicator(0, target="100%", actual="72.74%"), None, None),
    "IND.OVERACHIEVE": (_indicator(1, target="100批次", actual="150批次"), None, None),
    "SUM.ITEMISE": (_set(a1__office__actual=None, a1__utilities__actual=None, a1__meetings__actual=None), "F18", None),
    "GEN.NUMBER": (_set(a1__office__actual="约41万"), "F19", None),
    "GEN.YUAN": (_set(a1__procurement__actual=3624000), "F22", None),
    "GEN.DATE": (_set(a1__date="五月底"), None, None),
    "GEN.SHEET": (_set(), None, _drop_sheet("整体支出绩效自评表")),
    "GEN.LABEL": (_set(), None, _relabel("政府采购金额", "采购情况")),
}


def catalogue_ids() -> list[str]:
    raw = tomllib.loads((SCHEMAS_DIR / "rules.toml").read_text(encoding="utf-8"))
    return [r["id"] for r in raw["rules"]]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """The clean workbook and one broken workbook per rule, checked together as one batch."""
    folder = tmp_path_factory.mktemp("rules")
    paths: dict[str, Path] = {}
    filling, layout = sample_filling(CLEAN_UNIT)
    paths["clean"] = write(folder / "clean.xlsx", filling, layout)
    for rule, (mutate, _, post) in BREAKERS.items():
        filling, layout = sample_filling(CLEAN_UNIT)
        mutate(filling)
        path = write(folder / f"{rule}.xlsx", filling, layout)
        if post is not None:
            edit_workbook(path, post)
        paths[rule] = path
    results = check_files(list(paths.values()))
    return dict(zip(paths, results, strict=True))


def test_every_catalogue_rule_has_a_breaking_workbook() -> None:
    assert sorted(set(catalogue_ids()) - EDITION_RULES - REPORT_RULES - HISTORY_RULES) == sorted(
        BREAKERS
    )  # the others: test_editions.py


def test_clean_workbook_passes_every_rule(checked: dict[str, Result]) -> None:
    assert [(f.rule, f.sheet, f.cells) for f in checked["clean"].findings] == []
    assert checked["clean"].status == "ok"


@pytest.mark.parametrize("rule", list(BREAKERS))
def test_rule_fires_on_its_breaking_workbook(rule: str, checked: dict[str, Result]) -> None:
    result = checked[rule]
    hits = [f for f in result.findings if f.rule == rule]
    assert hits, f"{rule} did not fire; got {[f.rule for f in result.findings]}"
    cell = BREAKERS[rule][1]
    if cell is not None:
        assert hits[0].cells[0] == cell, hits[0]
    assert all(f.message and not f.message.isascii() for f in hits)


def _formula_without_value(wb: openpyxl.Workbook) -> None:
    ws, _ = sheet_with_title(wb, "基础数据表")
    ws["F18"] = "=F19+F20+F21"  # openpyxl writes formulas without a cached value


BREAKERS["GEN.FORMULA"] = (_set(), "F18", _formula_without_value)


def test_formula_with_a_cached_value_reads_as_that_value(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "cached.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("附件1")
    ws.write("A1", "2023年度预算单位整体支出绩效评价基础数据表")
    ws.write("A2", "预算单位名称")
    ws.write("B2", "测试单位")
    ws.write_formula("B3", "=1+1", None, 2)
    wb.close()
    from pipeline.read.grid import read_grid

    grid = read_grid(path)
    assert grid.sheets[0].value(2, 1) == 2 and grid.uncached == {}


def test_a_missing_sheet_gives_one_finding_not_a_cascade(checked: dict[str, Result]) -> None:
    rules = [f.rule for f in checked["GEN.SHEET"].findings]
    assert rules == ["GEN.SHEET"]


def test_an_uncalculated_total_is_unknown_not_blank(checked: dict[str, Result]) -> None:
    rules = [(f.rule, f.cells[0]) for f in checked["GEN.FORMULA"].findings]
    assert rules == [("GEN.FORMULA", "F18")]  # no 公用经费 sum or "not filled" error on top


def test_execution_score_follows_the_rate_as_written(tmp_path: Path) -> None:
    filling, layout = sample_filling(CLEAN_UNIT)
    # 全年执行数 / 全年预算数 = 0.934487…, shown as 93.45 %; 得分 from the shown rate: 9.35 (not 9.34)
    filling.values.update({"a2.total.budget": 2140.78, "a2.total.exec": 2000.55, "a2.total.rate": 0.9345})
    filling.values["a2.total.score"] = 9.35
    filling.values["a2.sum.score"] = round(float(filling.values["a2.sum.score"]) - 9.76 + 9.35, 2)  # type: ignore[arg-type]
    (result,) = check_files([write(tmp_path / "rate.xlsx", filling, layout)])
    assert [f.rule for f in result.findings if f.level == "error"] == []
