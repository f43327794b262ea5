"""Typical slips: transposed digits, amounts in 元, inserted rows, numbers typed as text, formulas left
uncalculated."""

from __future__ import annotations

from pipeline.synth.faults.base import (
    COLS,
    ROW_ZH,
    SUM_RULE,
    SUMS,
    _line_overrun,
    _num,
    _p,
    _r2,
    _sum_tol,
    _swap_digits,
    col_zh,
    fault,
)
from pipeline.synth.faults.edit import FORMULA_ROWS, formula_edit
from pipeline.synth.units import Draft


# -- slips -----------------------------------------------------------------------------------------------
@fault("slip.transposed", "slip", "a1.sangong", "a1.project", "a1.public")
def _slip_transposed(d: Draft) -> bool:
    v = d.a1.values
    options = [
        (row, part, col)
        for row, parts in SUMS.items()
        for part in parts
        for col in COLS
        if _num(v, f"a1.{part}.{col}") >= 1
    ]
    d.rng.shuffle(options)
    for row, part, col in options:
        key = f"a1.{part}.{col}"
        x = _num(v, key)
        new = _swap_digits(x, d.rng)
        if new is None or abs(new - x) <= _sum_tol(d, row, col) + 0.005:
            continue
        if part in SUMS or (row == "project" and part in ("special", "transfer") and d.subtotal_in_label):
            continue  # a part that is itself a total (公务用车) would break two sums
        v[key] = new
        d.touch(*(f"a1.{r}.{c}" for r in (row, *SUMS[row]) for c in COLS))
        d.expect(SUM_RULE[row], "slip", _p("a1", f"a1.{row}.{col}"), f"{key} 数字颠倒：{x:.2f} 写成 {new:.2f}")
        _line_overrun(d, part)
        return True
    return False


@fault("slip.yuan", "slip", "a1.procurement", "a1.project", "a1.public")
def _slip_yuan(d: Draft) -> bool:
    v = d.a1.values
    options = [
        (r, c) for r in ("procurement", "business", "operation", "office") for c in COLS if _num(v, f"a1.{r}.{c}") >= 10
    ]
    if not options:
        return False
    row, col = d.rng.choice(options)
    key = f"a1.{row}.{col}"
    x = _num(v, key)
    v[key] = float(round(x * 10000))
    d.touch(
        *(f"a1.{r}.{c}" for r in ("procurement", "project", *SUMS["project"], "public", *SUMS["public"]) for c in COLS)
    )
    d.expect("GEN.YUAN", "slip", _p("a1", key), f"{key} 按元填写：{x:g} 万元写成 {v[key]:.0f}")
    _line_overrun(d, row)
    parent = next((r for r, parts in SUMS.items() if row in parts), None)
    if parent:
        d.expect(SUM_RULE[parent], "slip", _p("a1", f"a1.{parent}.{col}"), f"{key} 按元填写，合计不再相等")
    return True


@fault("slip.inserted", "slip", "a1.project")
def _slip_inserted(d: Draft) -> bool:
    key = d.rng.choice(("special", "transfer"))
    budget = _r2(d.rng.uniform(5, 80))
    actual = _r2(budget * d.rng.uniform(0.9, 1.0))
    d.fill.special_rows.setdefault(key, []).append(("新增专项资金", {"prev": 0.0, "budget": budget, "actual": actual}))
    d.touch(*(f"a1.{r}.{c}" for r in ("project", *SUMS["project"]) for c in COLS))
    for col in ("budget", "actual"):
        d.expect("A1.SUM.PROJECT", "slip", _p("a1", f"a1.project.{col}"), "插入专项资金行后项目支出合计未更新")
    return True


@fault("slip.text", "slip", "a1.procurement", "a1.adjustment")
def _slip_text(d: Draft) -> bool:
    v = d.a1.values
    key = f"a1.{d.rng.choice(('procurement', 'adjustment'))}.{d.rng.choice(COLS)}"
    x = _num(v, key)
    v[key] = d.rng.choice((f"约{x:g}万", "见附表", "详见明细表", "未统计")) if x else d.rng.choice(("见附表", "未统计"))
    d.touch(key)
    d.expect("GEN.NUMBER", "slip", _p("a1", key), f"数字栏填写了文字“{v[key]}”")
    return True


@fault("slip.formula", "slip", "a1.sangong", "a1.public")
def _slip_formula(d: Draft) -> bool:
    """A total written as a formula by a script or converter that never calculated it (GEN.FORMULA)."""
    v = d.a1.values
    options = [(row, col) for row in FORMULA_ROWS for col in COLS if _num(v, f"a1.{row}.{col}")]
    if not options:
        return False
    row, col = d.rng.choice(options)
    d.touch(*(f"a1.{r}.{c}" for r in ("sangong", *SUMS["sangong"], "public", *SUMS["public"]) for c in COLS))
    d.post.insert(0, formula_edit(d, [(row, col)], cached=False))
    d.expect(
        "GEN.FORMULA", "slip", _p("a1", f"a1.{row}.{col}"), f"{ROW_ZH[row]}（{col_zh(col, d.year)}）为未计算的公式"
    )
    return True
