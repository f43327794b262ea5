"""Sum faults: a total that is not the sum of its parts (附件1 rows, 收入/支出 splits, 总分, 附件3 funds)."""

from __future__ import annotations

from pipeline.synth.faults.base import (
    COLS,
    ROW_ZH,
    SPLIT,
    SUM_RULE,
    SUMS,
    _delta,
    _num,
    _p,
    _project,
    _r2,
    _score_key,
    _sum_tol,
    _swap_digits,
    _tol,
    col_zh,
    fault,
)
from pipeline.synth.units import Draft, Sheet


# -- sums ---------------------------------------------------------------------------------------------
def _a1_total(d: Draft, row: str, cols: tuple[str, ...], kind: str = "sum") -> bool:
    v = d.a1.values
    d.touch(*(f"a1.{r}.{c}" for r in ("sangong", "car", row, *SUMS[row]) for c in COLS))
    for col in d.rng.sample(cols, len(cols)):
        key = f"a1.{row}.{col}"
        x = _num(v, key)
        tol = _sum_tol(d, row, col)
        down = col == "actual" or (col == "prev" and d.rng.random() < 0.5)
        if down and x > tol + 0.01 and d.rng.random() < 0.3:
            new, how = 0.0, "合计行仍为 0，未随分项更新"
        else:
            step = _delta(d, tol, cap=x if down else None)
            if step is None:
                continue
            new, how = _r2(x - step if down else x + step), f"合计与分项之和相差 {step:g}"
        v[key] = new
        if row == "car":  # 三公经费 was added up from the wrong 公务用车 figure: only the car sum breaks
            v[f"a1.sangong.{col}"] = _r2(_num(v, f"a1.sangong.{col}") + new - x)
        d.expect(SUM_RULE[row], kind, _p("a1", key), f"{ROW_ZH[row]}（{col_zh(col, d.year)}）填 {new:g}，{how}")
        return True
    return False


@fault("sum.sangong", "sum", "a1.sangong")
def _sum_sangong(d: Draft) -> bool:
    return _a1_total(d, "sangong", COLS)


@fault("sum.car", "sum", "a1.sangong")
def _sum_car(d: Draft) -> bool:
    return _a1_total(d, "car", COLS)


@fault("sum.project", "sum", "a1.project")
def _sum_project(d: Draft) -> bool:
    return _a1_total(d, "project", ("prev", "budget"))  # the 决算数 is also 附件2's: see cross.project


@fault("sum.public", "sum", "a1.public")
def _sum_public(d: Draft) -> bool:
    return _a1_total(d, "public", COLS)


def _split(d: Draft, part: str, rule: str, other_parts: tuple[str, ...]) -> bool:
    v = d.a2.values
    d.touch("a2.total.exec", *SPLIT)
    tol = sum(_tol(d, v, k) for k in ("a2.total.exec", part, *other_parts))
    step = _delta(d, max(tol, 0.3))
    assert step is not None
    v[part] = _r2(_num(v, part) + step)
    d.expect(rule, "sum", _p("a2", "a2.total.exec"), f"{part} 多填 {step:g}，分项之和不等于年度资金总额")
    return True


@fault("sum.income", "sum", "a2.split")
def _sum_income(d: Draft) -> bool:
    part = d.rng.choice(("a2.income.general", "a2.income.other"))
    others = tuple(k for k in SPLIT[:4] if k != part)
    return _split(d, part, "A2.SUM.INCOME", others)


@fault("sum.spend", "sum", "a2.split")
def _sum_spend(d: Draft) -> bool:
    return _split(d, "a2.spend.basic", "A2.SUM.SPEND", ("a2.spend.project",))


def _score_total(d: Draft, s: Sheet, rule: str) -> bool:
    v = s.values
    key = _score_key(s)
    prefix = s.form
    d.touch(key, f"{prefix}.total.score")
    tol = sum(_tol(d, {"x": i.row.score}, "x", min_decimals=1) for i in s.inds) + 0.1
    x = _num(v, key)
    swapped = _swap_digits(x, d.rng) if x >= 10 else None
    if swapped is not None and abs(swapped - x) > tol + 0.5 and d.rng.random() < 0.5:
        new, how = swapped, "数字前后颠倒"
    else:
        step = max(2.0, float(int(tol + 1.5)))
        new, how = _r2(x - step), f"少计 {step:g} 分"
    v[key] = new
    d.expect(rule, "sum", _p(s.sid, key), f"总分得分填 {new:g}（{how}）")
    return True


@fault("sum.a2score", "sum", "a2.sumscore")
def _sum_a2score(d: Draft) -> bool:
    return _score_total(d, d.a2, "A2.SUM.SCORE")


@fault("sum.a3score", "sum", "a3.sumscore", project=True)
def _sum_a3score(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _score_total(d, s, "A3.SUM.SCORE")


@fault("sum.a3funds", "sum", "a3.funds", project=True)
def _sum_a3funds(d: Draft) -> bool:
    s = _project(d)
    if s is None:
        return False
    v = s.values
    col = d.rng.choice(("initial", "budget", "exec"))
    target = f"a3.total.{col}" if col == "initial" else f"a3.{d.rng.choice(('fiscal', 'carryover', 'other'))}.{col}"
    step = _delta(d, 0.03)
    assert step is not None
    v[target] = _r2(_num(v, target) + step)
    d.expect("A3.SUM.FUNDS", "sum", _p(s.sid, f"a3.total.{col}"), f"项目资金（{col}）{target} 多填 {step:g}")
    return True
