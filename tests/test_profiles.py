"""Profiles change weights, thresholds and severities without touching the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.check import check_files
from pipeline.errors import DefinitionError
from pipeline.forms import load_profile

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
CLEAN = SAMPLES / "青山县农业技术推广中心_2023.xlsx"
FAULTY = SAMPLES / "白云区市场监督服务中心_2023.xlsx"


def test_default_profile_matches_the_reference_weights() -> None:
    profile = load_profile()
    assert [(c.label, c.weight) for c in profile.categories] == [("产出指标", 50), ("效益指标", 30), ("满意度指标", 10)]
    assert profile.params["execution_weight"] == 10


def test_other_weights_make_a_clean_default_unit_break_the_weight_rule() -> None:
    (result,) = check_files([CLEAN], profile="example_40_40")
    weights = [(f.rule, f.level, f.expected) for f in result.findings if ".WEIGHT." in f.rule]
    assert weights == [("A2.WEIGHT.SPLIT", "error", "40")] * 2  # 50/30 against 40/40, the table adds up to 100
    assert check_files([CLEAN])[0].status == "ok"


def test_profile_overrides_severity() -> None:
    default = {f.rule: f.level for f in check_files([FAULTY])[0].findings}
    strict = {f.rule: f.level for f in check_files([FAULTY], profile="example_40_40")[0].findings}
    assert default["A1.PLAUS.OVERSTAFF"] == "warning" and strict["A1.PLAUS.OVERSTAFF"] == "error"


def test_unknown_profile_is_refused_with_the_known_names() -> None:
    with pytest.raises(DefinitionError, match="example_40_40"):
        load_profile("no_such_place")
