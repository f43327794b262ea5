"""Rule semantics on real layouts (issue #17): real filings from tests/data/real, edited cell by cell, and the
primary and 湖南 2018 editions written by the test builders.

- a sum over parts all blank or absent is "not itemised", never "≠ 0.00"; a blank total over filled parts
  stays an error;
- a table that reports whole-point scores is judged after rounding, with the exact figure in the message;
- a 一级 weight split other than the profile's is a 提示 when the table adds up to 100 (a profile may make it
  an error);
- one blank cell is reported once;
- full marks with the target missed, a score above its weight, a score below it with no reason: found at the
  cell in every edition, on point keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from editions import Hunan2018, Hunan2018Index, hunan2018_a1, hunan2018_index, workbook

from pipeline.check import check_files
from pipeline.model import Finding, FormData, Indicator
from pipeline.rules.builtins import REVERSE_NAMES
from pipeline.settings import SCHEMAS_DIR
from tests.builders import CLEAN_UNIT, sample_filling, write

REAL = Path(__file__).resolve().parent / "data" / "real"
NATIONAL = "real01_安徽贵池棠溪镇_委托业务项目_2022.xlsx"
SICHUAN = "real03_四川青神县发改局_工资性支出_2023.xlsx"
HUNAN = "real05_湖南式_部门整体支出基础数据表_2018.xlsx"
CHONGQING = "real06_重庆科学城融媒体中心_部门整体绩效自评表_2021.xlsx"
#: real01 with its 年度资金总额 row filled as its source rows add up (the filed row is 0: see test_real).
FUNDS_FILLED = {"D7": 90, "E7": 89.974, "F7": 89.974, "H7": 1, "I7": 10}


def edited(tmp_path: Path, source: Path, cells: dict[str, Any], sheet: str | None = None) -> Path:
    """A copy of a workbook with some cells changed (None blanks one)."""
    wb = openpyxl.load_workbook(source)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    for ref, value in cells.items():
        ws[ref] = value
    out = tmp_path / f"{len(list(tmp_path.iterdir()))}_{source.name}"
    wb.save(out)
    return out


def findings(path: Path, **options: Any) -> list[Finding]:
    (result,) = check_files([path], **options)
    assert not result.rejected, result.findings
    return result.findings


def at(found: list[Finding], cell: str) -> list[tuple[str, str]]:
    """(rule, level) of the findings that start at a cell."""
    return [(f.rule, f.level) for f in found if f.cells[:1] == (cell,)]


# -- sums over blank parts ------------------------------------------------------------------------------------


def test_a_total_over_blank_parts_is_not_itemised_never_zero(tmp_path: Path) -> None:
    blank_parts = {**FUNDS_FILLED, "D8": None, "E8": None, "F8": None}
    found = findings(edited(tmp_path, REAL / NATIONAL, blank_parts))
    assert [at(found, c) for c in ("D7", "E7", "F7")] == [[("SUM.ITEMISE", "warning")]] * 3
    assert not [f for f in found if f.rule == "A3.SUM.FUNDS"]
    message = next(f.message for f in found if f.rule == "SUM.ITEMISE")
    assert message.startswith(
        "年度资金总额（年初预算数）填写了 90.00，但其下各项（当年财政拨款、上年结转资金、其他资金）均未填写"
    )
    assert "不等于" not in message


def test_a_total_over_parts_the_table_does_not_have_is_not_judged(tmp_path: Path) -> None:
    """其中 rows left out (labels and values gone): nothing to itemise, nothing to add up."""
    gone = {**FUNDS_FILLED, **{f"{c}{r}": None for c in "CDEF" for r in (8, 9, 10)}}
    found = findings(edited(tmp_path, REAL / NATIONAL, gone))
    assert not [f for f in found if f.rule in ("A3.SUM.FUNDS", "SUM.ITEMISE")]
    assert [f.level for f in found if f.rule == "GEN.LABEL" and "财政拨款" in f.message] == ["warning"]


def test_a_blank_total_over_filled_parts_stays_an_error_reported_once(tmp_path: Path) -> None:
    found = findings(edited(tmp_path, REAL / NATIONAL, {**FUNDS_FILLED, "E7": None}))
    assert at(found, "E7") == [("A3.SUM.FUNDS", "error")]  # not A3.REQ.FUNDS again
    assert "（空）" in next(f.message for f in found if f.cells[:1] == ("E7",))


def test_hunan_totals_left_blank_are_reported_once_each(tmp_path: Path) -> None:
    found = findings(REAL / HUNAN)
    for cell, rule in (("B13", "A1.SUM.PROJECT"), ("D13", "A1.SUM.PROJECT"), ("F16", "A1.SUM.PUBLIC")):
        assert at(found, cell) == [(rule, "error")]


# -- whole-point scores ---------------------------------------------------------------------------------------

#: 86 of 100 executed: the exact 执行率得分 is 8.6.
EXEC_86 = {"D7": 100, "E7": 100, "F7": 86, "D8": 100, "E8": 100, "F8": 86, "H7": 0.86}


def test_whole_point_scores_are_compared_after_rounding(tmp_path: Path) -> None:
    found = findings(edited(tmp_path, REAL / NATIONAL, {**EXEC_86, "I7": 9}))
    assert at(found, "I7") == []


def test_a_whole_point_score_that_rounds_wrong_is_an_error_with_the_exact_figure(tmp_path: Path) -> None:
    found = findings(edited(tmp_path, REAL / NATIONAL, {**EXEC_86, "I7": 8}))
    (hit,) = [f for f in found if f.cells[:1] == ("I7",)]
    assert (hit.rule, hit.level) == ("A3.SCORE.EXEC", "error")
    assert "8.6" in hit.message and "四舍五入为 9 分" in hit.message


def test_a_table_with_fractional_scores_is_compared_exactly(tmp_path: Path) -> None:
    found = findings(edited(tmp_path, REAL / NATIONAL, {**EXEC_86, "I7": 9, "H14": 7.5, "I14": "人员调整"}))
    assert at(found, "I7") == [("A3.SCORE.EXEC", "error")]


# -- the split of 一级 weights ----------------------------------------------------------------------------------


def test_another_split_of_weights_adding_up_to_100_is_a_warning(tmp_path: Path) -> None:
    found = findings(REAL / SICHUAN)  # 预算执行 10 + 产出 60 + 效益 30
    assert at(found, "I15") == [("A3.WEIGHT.SPLIT", "warning")]
    assert not [f for f in found if f.rule == "A3.WEIGHT.CAT"]


def test_a_profile_may_make_the_split_an_error(tmp_path: Path) -> None:
    profile = tmp_path / "strict.toml"
    text = (SCHEMAS_DIR / "profiles" / "default.toml").read_text(encoding="utf-8")
    profile.write_text(text + '"A3.WEIGHT.SPLIT" = "error"\n', encoding="utf-8")
    found = findings(REAL / SICHUAN, profile=str(profile))
    assert at(found, "I15") == [("A3.WEIGHT.SPLIT", "error")]


def test_weights_that_do_not_add_up_to_100_stay_an_error(tmp_path: Path) -> None:
    found = findings(edited(tmp_path, REAL / SICHUAN, {"I16": 20}))  # 10 + 60 + 20
    assert at(found, "I15") == [("A3.WEIGHT.CAT", "error")] and at(found, "I16") == [("A3.WEIGHT.CAT", "error")]


# -- one blank cell, one finding ------------------------------------------------------------------------------


def test_a_prompt_left_in_a_goal_is_reported_once() -> None:
    assert at(findings(REAL / SICHUAN), "G6") == [("GEN.PROMPT", "warning")]


def test_a_blank_score_does_not_break_the_sums_that_read_it() -> None:
    """重庆: the last indicator's 得分 is blank; 自评总分 is not reported as ≠ the other scores' sum."""
    found = findings(REAL / CHONGQING)
    assert at(found, "J28") == [("IND.REQ.FIELDS", "error")]
    assert not [f for f in found if f.rule == "A2.SUM.SCORE"]


def test_a_label_the_table_lacks_is_reported_once_as_a_label() -> None:
    found = findings(REAL / CHONGQING)  # no 部门(单位)名称 row on this table
    assert not [f for f in found if f.rule == "A2.REQ.UNIT"]
    assert [f.level for f in found if f.rule == "GEN.LABEL" and "名称" in f.message] == ["warning"]


# -- scoring in every edition ---------------------------------------------------------------------------------


def _primary(tmp_path: Path) -> Path:
    filling, layout = sample_filling(CLEAN_UNIT)
    return write(tmp_path / "primary.xlsx", filling, layout)


def _hunan2018(tmp_path: Path) -> Path:
    sheets = {"附件1": [hunan2018_a1(Hunan2018())], "附件2": [hunan2018_index(Hunan2018Index())]}
    return workbook(tmp_path / "hunan2018.xlsx", sheets)


#: edition → how to get a workbook in it
SOURCES = {
    "a2": _primary,
    "a3": _primary,
    "a3_national": lambda _: REAL / NATIONAL,
    "a3_sichuan": lambda _: REAL / SICHUAN,
    "a2_chongqing": lambda _: REAL / CHONGQING,
    "a2_hunan2018": _hunan2018,
}


def _target(path: Path, edition: str) -> tuple[FormData, Indicator]:
    """The table read with an edition, and its first indicator scored the usual way round (higher is better)."""
    (result,) = check_files([path])
    assert result.submission is not None
    tables = [*result.submission.forms.values(), *result.submission.projects]
    data = next(d for d in tables if d.edition == edition)
    ind = next(
        i
        for i in data.indicators
        if i.level2 != "成本指标" and not any(w in str(i.cells["name"].value) for w in REVERSE_NAMES)
    )
    return data, ind


def _scenario(tmp_path: Path, edition: str, change: dict[str, Any]) -> tuple[list[Finding], Indicator]:
    source = SOURCES[edition](tmp_path)
    data, ind = _target(source, edition)
    cells = {ind.cells[k].cells[0]: v for k, v in change.items() if k in ind.cells and ind.cells[k].cells}
    weight = ind.cells["weight"].number
    assert weight is not None
    cells = {ref: (weight + v if isinstance(v, Delta) else v) for ref, v in cells.items()}
    if "coef" in ind.cells:  # 重庆: 得分 = 权重 × 得分系数, kept in step
        score = cells.get(ind.cells["score"].cells[0], weight)
        cells[ind.cells["coef"].cells[0]] = score / weight
    return findings(edited(tmp_path, source, cells, data.sheet)), ind


class Delta(float):
    """A change relative to the indicator's 分值."""


SCENARIOS = {
    "numeric": ({"target": 100, "actual": 60, "score": Delta(0)}, "IND.SCORING"),
    "qualitative": ({"target": "达到预期", "actual": "未达成", "score": Delta(0)}, "IND.SCORING"),
    "above": ({"score": Delta(1)}, "IND.SCORE.MAX"),
    "below": ({"score": Delta(-1), "reason": None, "explain": None}, "IND.REASON"),
}
CASES = [
    (edition, scenario)
    for edition in SOURCES
    for scenario in SCENARIOS
    if not (edition == "a2_hunan2018" and scenario in ("numeric", "qualitative"))  # no 指标值 / 完成值 columns
]


@pytest.mark.parametrize(("edition", "scenario"), CASES)
def test_scoring_rules_find_the_cell_in_every_edition(tmp_path: Path, edition: str, scenario: str) -> None:
    change, rule = SCENARIOS[scenario]
    found, ind = _scenario(tmp_path, edition, change)
    row = {c for p in ind.cells.values() for c in p.cells}
    hits = [f for f in found if f.rule == rule and row & set(f.cells)]  # the real file's own findings aside
    first = {"IND.SCORING": ("coef", "score"), "IND.SCORE.MAX": ("score",), "IND.REASON": ("reason", "explain")}
    first["IND.REASON"] += ("score",)
    where = next(ind.cells[k].cells[0] for k in first[rule] if k in ind.cells and ind.cells[k].cells)
    assert [f.cells[0] for f in hits] == [where], [(f.rule, f.cells[:2], f.message) for f in found]


def test_hunan2018_has_no_target_to_miss() -> None:
    """The 湖南 2018 指标表 scores by 评价标准, without 指标值 / 完成值 columns: full marks cannot be judged there."""
    text = (SCHEMAS_DIR / "forms" / "a2_hunan2018.toml").read_text(encoding="utf-8")
    assert '"target"' not in text and '"actual"' not in text


def test_a_score_below_its_weight_on_a_form_without_a_reason_column_asks_for_the_report(tmp_path: Path) -> None:
    found, _ = _scenario(tmp_path, "a2_chongqing", {"score": Delta(-1)})
    (hit,) = [f for f in found if f.rule == "IND.REASON"]
    assert "自评报告" in hit.message and hit.level == "warning"


def test_instructions_in_the_reason_of_an_execution_needing_none_are_not_a_prompt_left(tmp_path: Path) -> None:
    """四川 prints its instructions in 原因 (I9): nothing to replace them with at 100 % executed; at 79 % there is."""
    assert at(findings(REAL / SICHUAN), "I9") == []
    low = findings(edited(tmp_path, REAL / SICHUAN, {"E9": 200, "E10": 200, "F9": "79.40%", "F10": "79.40%"}))
    assert ("GEN.PROMPT", "warning") in at(low, "I9")


def test_a_date_whose_label_is_missing_is_reported_as_the_label_only() -> None:
    found = findings(REAL / HUNAN)  # the transcription ends before 填报日期
    assert not [f for f in found if f.rule == "GEN.DATE"]
    assert [f.rule for f in found if "填报日期" in f.message] == ["GEN.LABEL"]


def test_a_blank_weight_under_a_level_is_not_reported_again_by_the_level_total(tmp_path: Path) -> None:
    """湖南 2018 指标表: 目标设定(8分) over 4 + 4; one 三级 分值 left blank is its own finding, not 目标设定's too."""
    index = Hunan2018Index()
    index.indicators[1] = (*index.indicators[1][:3], None, *index.indicators[1][4:])
    sheets = {"附件1": [hunan2018_a1(Hunan2018())], "附件2": [hunan2018_index(index)]}
    found = findings(workbook(tmp_path / "hunan2018.xlsx", sheets))
    assert [f.rule for f in found if f.level == "error"] == ["IND.REQ.FIELDS"]
