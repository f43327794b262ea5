"""Plausibility faults: values that add up but cannot be right (over-staffing, over budget, 执行率 > 100 %)."""

from __future__ import annotations

from pipeline.synth.faults.base import COLS, ROW_ZH, SUMS, _line_overrun, _num, _p, _r2, _rescore, fault
from pipeline.synth.units import Draft, exec_score


# -- plausibility ------------------------------------------------------------------------------------------
@fault("plaus.overstaff", "plausibility", "a1.staff")
def _plaus_overstaff(d: Draft) -> bool:
    v = d.a1.values
    d.touch("a1.staff_quota", "a1.staff_actual", "a1.staff_rate")
    quota = _num(v, "a1.staff_quota")
    actual = int(quota) + d.rng.randint(1, 3)
    v["a1.staff_actual"], v["a1.staff_rate"] = actual, round(actual / quota, 4)
    d.expect(
        "A1.PLAUS.OVERSTAFF", "plausibility", _p("a1", "a1.staff_actual"), f"在职 {actual} 人超过编制 {quota:g} 人"
    )
    return True


def _over_budget(d: Draft, row: str, leaf: str, rule: str) -> bool:
    v = d.a1.values
    d.touch(*(f"a1.{r}.{c}" for r in (row, "car", leaf, *SUMS[row]) for c in COLS))
    step = _r2(_num(v, f"a1.{row}.budget") - _num(v, f"a1.{row}.actual") + d.rng.uniform(0.5, 3))
    v[f"a1.{leaf}.actual"] = _r2(_num(v, f"a1.{leaf}.actual") + step)
    v[f"a1.{row}.actual"] = _r2(_num(v, f"a1.{row}.actual") + step)
    d.expect(rule, "plausibility", _p("a1", f"a1.{row}.actual"), f"{ROW_ZH[row]}决算数超过预算数 {step:g}")
    _line_overrun(d, leaf)
    return True


@fault("plaus.line", "plausibility", "a1.public")
def _plaus_line(d: Draft) -> bool:
    """One 公用经费 line spent at three times its budget, the total kept the sum of its lines."""
    v = d.a1.values
    lines = [leaf for leaf in SUMS["public"] if _num(v, f"a1.{leaf}.budget") > 0.1]
    if not lines:
        return False
    leaf = d.rng.choice(lines)
    d.touch(*(f"a1.{r}.{c}" for r in ("public", *SUMS["public"]) for c in COLS))
    step = _r2(3 * _num(v, f"a1.{leaf}.budget") - _num(v, f"a1.{leaf}.actual"))
    v[f"a1.{leaf}.actual"] = _r2(_num(v, f"a1.{leaf}.actual") + step)
    v["a1.public.actual"] = _r2(_num(v, "a1.public.actual") + step)
    _line_overrun(d, leaf)
    if _num(v, "a1.public.actual") > _num(v, "a1.public.budget") + 0.01:
        d.expect("A1.PLAUS.PUBLIC", "plausibility", _p("a1", "a1.public.actual"), "公用经费决算数随之超过预算数")
    return True


@fault("plaus.sangong", "plausibility", "a1.sangong")
def _plaus_sangong(d: Draft) -> bool:
    return _over_budget(d, "sangong", d.rng.choice(("reception", "abroad")), "A1.PLAUS.SANGONG")


@fault("plaus.public", "plausibility", "a1.public")
def _plaus_public(d: Draft) -> bool:
    return _over_budget(d, "public", d.rng.choice(("office", "utilities")), "A1.PLAUS.PUBLIC")


@fault("plaus.execrate", "plausibility", "a2.exec", "a2.sumscore")
def _plaus_execrate(d: Draft) -> bool:
    v = d.a2.values
    d.touch("a2.total.budget", "a2.total.rate", "a2.total.score", "a2.total.exec")
    exec_ = _num(v, "a2.total.exec")
    budget = _r2(exec_ / d.rng.uniform(0.6, 0.88))
    rate = round(exec_ / budget, 4)
    old = _num(v, "a2.total.score")
    v["a2.total.budget"], v["a2.total.rate"], v["a2.total.score"] = budget, rate, exec_score(rate)
    _rescore(d.a2, _num(v, "a2.total.score") - old)
    d.expect("A2.PLAUS.EXEC_RATE", "plausibility", _p("a2", "a2.total.exec"), f"执行率 {rate:.2%} 低于 90%")
    return True


@fault("plaus.procurement", "plausibility", "a1.procurement")
def _plaus_procurement(d: Draft) -> bool:
    v = d.a1.values
    col = d.rng.choice(COLS)
    key = f"a1.procurement.{col}"
    d.touch(key)
    v[key] = -(_num(v, key) or 12.5)
    d.expect("A1.MIN.PROCUREMENT", "plausibility", _p("a1", key), f"政府采购金额填为负数 {v[key]:g}")
    return True
