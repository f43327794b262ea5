"""Ratio faults: 人均, building ratios and 执行率 that do not follow from their numerator and denominator."""

from __future__ import annotations

from pipeline.synth.faults.base import _num, _p, _project, _rescore, _score_key, _swap_digits, fault
from pipeline.synth.units import Draft, Sheet, building, exec_score


# -- ratios ---------------------------------------------------------------------------------------------
def _wrong_rate(d: Draft, right: float, *alternatives: float) -> float:
    swapped = _swap_digits(right * 100, d.rng)
    options = [*alternatives, 1.0, (swapped or 0) / 100, right - 0.1, right + 0.05]
    good = [round(x, 4) for x in options if 0 <= x <= 2 and abs(x - right) >= 0.02]
    return d.rng.choice(good)


@fault("ratio.staff", "ratio", "a1.staff")
def _ratio_staff(d: Draft) -> bool:
    v = d.a1.values
    quota, actual = _num(v, "a1.staff_quota"), _num(v, "a1.staff_actual")
    d.touch("a1.staff_quota", "a1.staff_actual", "a1.staff_rate")
    v["a1.staff_rate"] = _wrong_rate(d, actual / quota, quota / actual)
    d.expect("A1.RATE.STAFF", "ratio", _p("a1", "a1.staff_rate"), f"控制率填 {v['a1.staff_rate']}，应为在职÷编制")
    return True


def _building(d: Draft, what: str, rule: str) -> bool:
    v = d.a1.values
    if not _num(v, "a1.bld_area_approved"):
        v.update(building(d.rng))
    num, den = {
        "area": ("a1.bld_area_actual", "a1.bld_area_approved"),
        "invest": ("a1.bld_invest_actual", "a1.bld_invest_budget"),
    }[what]
    key = f"a1.bld_{what}_rate"
    v[key] = _wrong_rate(d, _num(v, num) / _num(v, den), _num(v, den) / _num(v, num))
    d.expect(rule, "ratio", _p("a1", key), f"楼堂馆所控制率填 {v[key]}")
    return True


@fault("ratio.bld_area", "ratio", "a1.bld")
def _ratio_bld_area(d: Draft) -> bool:
    return _building(d, "area", "A1.RATE.BLD_AREA")


@fault("ratio.bld_invest", "ratio", "a1.bld")
def _ratio_bld_invest(d: Draft) -> bool:
    return _building(d, "invest", "A1.RATE.BLD_INVEST")


def _exec_rate(d: Draft, s: Sheet, rule: str) -> bool:
    """执行率 wrong (from 年初预算数, or a typo). Half the units scored from their own rate, so 得分 and 总分
    follow it; the others left 得分 as it was, which the catalogue checks against the rate as written."""
    v, p = s.values, s.form
    d.touch(f"{p}.total.rate", f"{p}.total.exec", f"{p}.total.budget", f"{p}.total.score", _score_key(s))
    exec_, budget, initial = (_num(v, f"{p}.total.{k}") for k in ("exec", "budget", "initial"))
    rate = _wrong_rate(d, exec_ / budget, exec_ / initial if initial else 1.0)
    v[f"{p}.total.rate"] = rate
    d.expect(rule, "ratio", _p(s.sid, f"{p}.total.rate"), f"执行率填 {rate}，应为执行数÷全年预算数")
    score, weight = _num(v, f"{p}.total.score"), _num(v, f"{p}.total.weight")
    follows = exec_score(rate, weight)
    if d.rng.random() < 0.5:
        v[f"{p}.total.score"] = follows
        _rescore(s, follows - score)
    elif abs(score - follows) > 0.015:  # beyond the tolerance of a 2-decimal score and a 4-decimal rate
        score_rule = f"{p.upper()}.SCORE.EXEC"
        d.expect(score_rule, "ratio", _p(s.sid, f"{p}.total.score"), f"得分 {score:g} 未随所填执行率 {rate} 计算")
    return True


@fault("ratio.a2exec", "ratio", "a2.exec", "a2.sumscore")
def _ratio_a2exec(d: Draft) -> bool:
    return _exec_rate(d, d.a2, "A2.RATE.EXEC")


@fault("ratio.a3exec", "ratio", "a3.exec", "a3.sumscore", project=True)
def _ratio_a3exec(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _exec_rate(d, s, "A3.RATE.EXEC")
