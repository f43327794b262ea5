"""Parsing numbers and labels as units type them (property tests where input is open-ended)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.read.values import BLANK, float_decimals, normalize, parse_value

FULL_WIDTH = str.maketrans("0123456789.,%", "０１２３４５６７８９．，％")


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, float, int]:
    whole = draw(st.integers(min_value=0, max_value=9_999_999))
    decimals = draw(st.integers(min_value=0, max_value=4))
    frac = draw(st.integers(min_value=0, max_value=10**decimals - 1)) if decimals else 0
    text = f"{whole:,}" if draw(st.booleans()) else str(whole)
    if decimals:
        text += "." + str(frac).zfill(decimals)
    value = float(f"{whole}.{str(frac).zfill(decimals)}" if decimals else whole)
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    pad = draw(st.sampled_from(["", " ", "\u3000", "\n"]))
    unit = draw(st.sampled_from(["", "万元", "人", "批次"]))
    return f"{pad}{text}{unit}{pad}", value, decimals


@given(written_numbers())
def test_numbers_typed_as_text_keep_value_and_decimals(case: tuple[str, float, int]) -> None:
    text, value, decimals = case
    parsed = parse_value(text)
    assert parsed.kind == "number"
    assert parsed.value == pytest.approx(value)
    assert parsed.decimals == decimals


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=2))
def test_percentages_become_fractions_with_two_more_decimals(whole: int, decimals: int) -> None:
    text = f"{whole}.{'5' * decimals}%" if decimals else f"{whole}%"
    parsed = parse_value(text)
    assert parsed.percent and parsed.decimals == decimals + 2
    assert parsed.value == pytest.approx(float(text[:-1]) / 100)


@given(st.text())
def test_parsing_never_raises_and_classifies(text: str) -> None:
    assert parse_value(text).kind in {"number", "text", "date", "blank"}


@given(st.text(alphabet=st.characters(categories=("Lo",)), min_size=1, max_size=12), st.data())
def test_labels_match_whatever_spacing_and_punctuation(label: str, data: st.DataObject) -> None:
    noise = st.sampled_from([" ", "\u3000", "\n", "：", ":", "、", "，", "。"])
    messy = "".join(ch + (data.draw(noise) if data.draw(st.booleans()) else "") for ch in label)
    assert normalize(messy) == normalize(label) == normalize(normalize(label))


@pytest.mark.parametrize(
    ("label", "norm"),
    [
        ("3、区级专项资金(一个专项一行)", "区级专项资金一个专项一行"),
        ("项 目 支 出 ：", "项目支出"),
        ("（1）数量指标", "数量指标"),
        ("其中：办公经费", "办公经费"),
        ("部门基本支出预算调整，", "部门基本支出预算调整"),
        ("产出指标\n（50分）", "产出指标50分"),
    ],
)
def test_numbering_and_qizhong_are_dropped(label: str, norm: str) -> None:
    assert normalize(label) == norm


@pytest.mark.parametrize("blank", ["/", "／", "-", "无", "", "   ", "……"])
def test_not_filled_markers(blank: str) -> None:
    assert parse_value(blank) is BLANK


@pytest.mark.parametrize(
    ("raw", "value", "op"),
    [("≥90%", 0.9, ">="), ("≤1%", 0.01, "<="), ("不低于95%", 0.95, ">="), ("670万元", 670.0, None)],
)
def test_targets_with_comparisons(raw: str, value: float, op: str | None) -> None:
    parsed = parse_value(raw)
    assert parsed.value == pytest.approx(value) and parsed.op == op


def test_cell_numbers_and_dates() -> None:
    assert (parse_value(64.73).value, parse_value(64.73).decimals) == (64.73, 2)
    assert float_decimals(0.1 + 0.2) == 1  # arithmetic noise is not precision
    assert parse_value("2024.5.28").value == date(2024, 5, 28)
    assert parse_value("12月31日").kind == "text"
    assert unicodedata.normalize("NFKC", "７０３") == "703" and parse_value("７０３").value == 703.0
