"""Faults for synthetic submissions (pipeline/synth/corpus.py), and where their findings point.

Each fault changes a unit's draft the way units get forms wrong — before writing (values, indicator
rows, inserted rows) or after (a retitled or deleted sheet, a relabelled row) — and records with
`Draft.expect` every finding the catalogue says it must raise. Faults keep the rest of the workbook
consistent (a score raised on one indicator is added to 总分 too, a split moved between 基本支出 and
项目支出 still adds up), so that each fault raises exactly the findings it records. Faults that could
interact share a tag and never go into the same workbook.

Deltas are chosen beyond the tolerance the written precision gives (DOMAIN.md "Tolerance"): a fault the
tolerance model forgives is no fault. `locate` then finds the cell each finding points at first by
reading the written workbook back with python-calamine and the form definitions' labels — not with
jixiao's extractor, so the key does not inherit its mistakes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import python_calamine

from pipeline.forms import Field, Row, Section, for_year, load_form, load_profile
from pipeline.model import cell_ref
from pipeline.report.template import indicator_total_key
from pipeline.synth.units import Draft, Ind, Sheet, building, exec_score, number

COLS = ("prev", "budget", "actual")
SUMS = {
    "sangong": ("car", "abroad", "reception"),
    "car": ("car_purchase", "car_upkeep"),
    "project": ("business", "operation", "special", "transfer"),
    "public": ("office", "utilities", "meetings"),
}
SUM_RULE = {"sangong": "A1.SUM.SANGONG", "car": "A1.SUM.CAR", "project": "A1.SUM.PROJECT", "public": "A1.SUM.PUBLIC"}
ROW_ZH = {"sangong": "三公经费", "car": "公务用车购置和维护经费", "project": "项目支出", "public": "公用经费"}
SPLIT = (
    "a2.income.general",
    "a2.income.fund",
    "a2.income.special",
    "a2.income.other",
    "a2.spend.basic",
    "a2.spend.project",
)
UNJUDGED = ("date", "text")  # indicator kinds IND.SCORING cannot judge: a score fault there raises only its own rule


def _r2(x: float) -> float:
    return float(round(x, 2))


def _num(v: dict[str, object], key: str) -> float:
    x = v.get(key)
    return float(x) if isinstance(x, int | float) else 0.0


def _decimals(x: float) -> int:
    text = repr(round(x, 6))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def col_zh(col: str, year: int) -> str:
    return {"prev": f"{year - 1}年决算数", "budget": f"{year}年预算数", "actual": f"{year}年决算数"}.get(col, col)


@dataclass(frozen=True, slots=True)
class Fault:
    """A way to break a workbook: its class, what it must not share a workbook with, what it needs."""

    name: str
    kind: str
    tags: frozenset[str]
    fn: Callable[[Draft], bool]
    project: bool = False  # needs a filled 附件3
    alone: bool = False  # the only fault in its workbook


FAULTS: dict[str, Fault] = {}


def fault(name: str, kind: str, *tags: str, project: bool = False, alone: bool = False) -> Callable[..., Any]:
    def register(fn: Callable[[Draft], bool]) -> Callable[[Draft], bool]:
        FAULTS[name] = Fault(name, kind, frozenset(tags), fn, project, alone)
        return fn

    return register


def inject(d: Draft, name: str) -> bool:
    """Apply one fault; False (and nothing recorded) when this unit offers no place for it."""
    d.faults += 1
    before = len(d.expects)
    if FAULTS[name].fn(d):
        d.applied.append(name)
        return True
    del d.expects[before:]
    d.faults -= 1
    return False


def add_extras(d: Draft, n: int, *, exclude: tuple[str, ...]) -> None:
    """Up to n more faults that share no tag with those applied."""
    if n <= 0 or any(FAULTS[a].alone for a in d.applied):
        return
    names = sorted(FAULTS)
    d.rng.shuffle(names)
    for name in names:
        if n <= 0:
            break
        f = FAULTS[name]
        used = set().union(*(FAULTS[a].tags for a in d.applied)) if d.applied else set()
        if name in exclude or f.alone or (f.project and not d.projects) or f.tags & used:
            continue
        if inject(d, name):
            n -= 1


# -- helpers ----------------------------------------------------------------------------------------
def _tol(d: Draft, v: dict[str, object], key: str, *, min_decimals: int = 2) -> float:
    """Tolerance of a cell as it will be written (DOMAIN.md "Tolerance")."""
    x = v.get(key)
    if not isinstance(x, int | float):
        return 0.0
    dec = _decimals(float(x))
    if not (d.layout.values_in_labels and key in SPLIT):  # values in label cells are text: no minimum
        dec = max(dec, min_decimals)
    return 0.5 * 10.0**-dec


def _sum_tol(d: Draft, row: str, col: str) -> float:
    v = d.a1.values
    keys = [f"a1.{row}.{col}", *(f"a1.{p}.{col}" for p in SUMS[row])]
    extra = sum(len(f) for k, f in d.fill.special_rows.items()) * 0.005 if row == "project" else 0.0
    return sum(_tol(d, v, k) for k in keys) + extra


def _delta(d: Draft, tol: float, *, cap: float | None = None) -> float | None:
    """A realistic error above `tol` (and at most `cap`): the seed's 0.03, a few tenths, whole amounts."""
    options = [
        x for x in (0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0) if x > tol + 0.005 and (cap is None or x <= cap)
    ]
    return d.rng.choice(options) if options else None


def _swap_digits(x: float, rng: Any) -> float | None:
    """x with two adjacent different digits transposed (59.54 → 59.45), or None."""
    text = f"{x:.2f}"
    spots = [i for i in range(len(text) - 1) if text[i].isdigit() and text[i + 1].isdigit() and text[i] != text[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return float(swapped)


def _score_key(s: Sheet) -> str:
    return indicator_total_key(load_form(s.form), "score")


def _weight_key(s: Sheet) -> str:
    return indicator_total_key(load_form(s.form), "weight")


def _rescore(s: Sheet, delta: float) -> None:
    """The unit kept 总分 得分 in step with a changed score."""
    key = _score_key(s)
    s.values[key] = _r2(_num(s.values, key) + delta)


def _sheets(d: Draft) -> list[Sheet]:
    return [d.a2, *d.projects]


def _pick(
    d: Draft, kinds: tuple[str, ...], *, exclude_cost: bool = False, sheets: list[Sheet] | None = None
) -> tuple[Sheet, Ind] | None:
    """A full-marks indicator row of one of `kinds` no other fault took."""
    cands: list[tuple[Sheet, int, Ind]] = []
    for s in sheets or _sheets(d):
        for i, ind in enumerate(s.inds):
            row = ind.row
            if (s.sid, i) in d.reserved or ind.kind not in kinds or row.score != row.weight or row.reason:
                continue
            if exclude_cost and row.level2 == "成本指标":
                continue
            cands.append((s, i, ind))
    if not cands:
        return None
    s, i, ind = d.rng.choice(cands)
    d.reserved.add((s.sid, i))
    return s, ind


def _unjudged(d: Draft) -> tuple[Sheet, Ind] | None:
    """A row IND.SCORING cannot judge; a 时效 row is rewritten as a date target when none is left."""
    hit = _pick(d, UNJUDGED)
    if hit is None:
        hit = _pick(d, ("count", "pct", "full", "cost", "qual"))
        if hit is None:
            return None
        hit[1].row.target, hit[1].row.actual, hit[1].kind = "12月31日前", "12月20日", "date"
    return hit


def _project(d: Draft) -> Sheet | None:
    return d.rng.choice(d.projects) if d.projects else None


def _p(sid: str, key: str) -> tuple[str, ...]:
    return ("point", sid, key)


def _ind(s: Sheet, ind: Ind, col: str) -> tuple[str, ...]:
    return ("ind", s.sid, str(ind.row.name), col)


def _first_in(s: Sheet, cat: str) -> Ind:
    """The category's first row on the sheet (the template writes 二级指标 in profile order)."""
    subs = next(c.subs for c in load_profile().categories if c.key == cat)
    return min((i for i in s.inds if i.row.level1 == cat), key=lambda i: (subs.index(i.row.level2), s.inds.index(i)))


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


# -- scores ---------------------------------------------------------------------------------------------
def _exec_score(d: Draft, s: Sheet, rule: str) -> bool:
    v, p = s.values, s.form
    d.touch(f"{p}.total.score", f"{p}.total.rate", f"{p}.total.exec", f"{p}.total.budget", _score_key(s))
    old = _num(v, f"{p}.total.score")
    rate = _num(v, f"{p}.total.exec") / _num(v, f"{p}.total.budget")
    if rate < 0.98:
        new, how = 10.0, "执行率未达 100% 仍给满分"
    else:
        new, how = _r2(old - d.rng.choice((0.5, 1.0, 2.0))), "得分与执行率不符"
    v[f"{p}.total.score"] = new
    _rescore(s, new - old)
    d.expect(rule, "score", _p(s.sid, f"{p}.total.score"), f"执行率得分填 {new:g}（{how}）")
    return True


@fault("score.a2exec", "score", "a2.exec", "a2.sumscore")
def _score_a2exec(d: Draft) -> bool:
    return _exec_score(d, d.a2, "A2.SCORE.EXEC")


@fault("score.a3exec", "score", "a3.exec", "a3.sumscore", project=True)
def _score_a3exec(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _exec_score(d, s, "A3.SCORE.EXEC")


@fault("score.max", "score", "ind.max", "a2.sumscore", "a3.sumscore")
def _score_max(d: Draft) -> bool:
    hit = _unjudged(d)
    if hit is None:
        return False
    s, ind = hit
    extra = d.rng.choice((1.0, 2.0, 5.0))
    ind.row.score = number(ind.row.weight) + extra
    _rescore(s, extra)
    d.expect("IND.SCORE.MAX", "score", _ind(s, ind, "score"), f"“{ind.row.name}”得分 {ind.row.score:g} 超过分值")
    return True


@fault("score.min", "score", "ind.min", "a2.sumscore", "a3.sumscore")
def _score_min(d: Draft) -> bool:
    hit = _unjudged(d)
    if hit is None:
        return False
    s, ind = hit
    new = -d.rng.choice((1.0, 2.0))
    _rescore(s, new - number(ind.row.score))
    ind.row.score, ind.row.reason = new, "按扣分项填写"
    d.expect("IND.SCORE.MIN", "score", _ind(s, ind, "score"), f"“{ind.row.name}”得分填为扣分 {new:g}")
    return True


@fault("score.scoring", "score", "ind.scoring")
def _score_scoring(d: Draft) -> bool:
    hit = _pick(d, ("pct", "full", "count"))
    if hit is None:
        return False
    s, ind = hit
    target = str(ind.row.target)
    m = re.match(r"^(≥?)(\d+(?:\.\d+)?)(.*)$", target)
    assert m, target
    t, unit = float(m.group(2)), m.group(3)
    low = round(t * d.rng.uniform(0.5, 0.75), 2 if unit == "%" else 0)
    ind.row.actual = f"{low:g}{unit}"
    d.expect(
        "IND.SCORING",
        "score",
        _ind(s, ind, "score"),
        f"“{ind.row.name}”完成值 {ind.row.actual} 未达指标值 {target} 仍给满分",
    )
    return True


@fault("score.reason", "score", "ind.reason", "a2.sumscore", "a3.sumscore")
def _score_reason(d: Draft) -> bool:
    hit = _pick(d, ("qual",)) or _unjudged(d)
    if hit is None:
        return False
    s, ind = hit
    w = number(ind.row.weight)
    new = _r2(w * (0.7 if ind.kind == "qual" else 0.8))
    if ind.kind == "qual":
        ind.row.actual = "部分完成"
    _rescore(s, new - w)
    ind.row.score, ind.row.reason = new, None
    d.expect("IND.REASON", "score", _ind(s, ind, "reason"), f"“{ind.row.name}”得分 {new:g} 低于分值未写偏差原因")
    return True


@fault("score.overachieve", "score", "ind.over")
def _score_overachieve(d: Draft) -> bool:
    hit = _pick(d, ("count",), exclude_cost=True)
    if hit is None:
        return False
    s, ind = hit
    m = re.match(r"^≥(\d+)(.*)$", str(ind.row.target))
    assert m, ind.row.target
    t, unit = int(m.group(1)), m.group(2)
    ind.row.actual = f"{max(int(t * d.rng.uniform(1.4, 2.0)), t + 2)}{unit}"
    d.expect(
        "IND.OVERACHIEVE",
        "score",
        _ind(s, ind, "actual"),
        f"“{ind.row.name}”完成值 {ind.row.actual} 超过指标值 130% 未说明",
    )
    return True


# -- weights ------------------------------------------------------------------------------------------
def _cat_shift(d: Draft, s: Sheet, *, sum_rule: bool) -> bool:
    full = [i for n, i in enumerate(s.inds) if i.row.score == i.row.weight and (s.sid, n) not in d.reserved]
    k = d.rng.choice((2.0, 5.0))
    style = d.rng.choice(("transfer", "added", "added_total") if sum_rule else ("transfer", "added"))
    up = d.rng.choice(full) if full else None
    if up is None:
        return False
    downs = [i for i in full if i.row.level1 != up.row.level1 and number(i.row.weight) > k]
    if style == "transfer" and not downs:
        style = "added"
    for ind in (up, *(downs[:1] if style == "transfer" else [])):
        d.reserved.add((s.sid, s.inds.index(ind)))
    up.row.weight = up.row.score = number(up.row.weight) + k
    d.expect(
        f"{s.form.upper()}.WEIGHT.CAT",
        "weight",
        _ind(s, _first_in(s, up.row.level1), "weight"),
        f"{up.row.level1} 分值多 {k:g}",
    )
    if style == "transfer":
        down = downs[0]
        down.row.weight = down.row.score = number(down.row.weight) - k
        d.expect(
            f"{s.form.upper()}.WEIGHT.CAT",
            "weight",
            _ind(s, _first_in(s, down.row.level1), "weight"),
            f"{down.row.level1} 分值少 {k:g}",
        )
        return True
    _rescore(s, k)
    if sum_rule:
        wkey = _weight_key(s)
        if style == "added_total":
            s.values[wkey] = _r2(_num(s.values, wkey) + k)
            d.expect("A2.WEIGHT.TOTAL", "weight", _p(s.sid, wkey), f"总分分值随之改为 {s.values[wkey]:g}")
        else:
            d.expect("A2.SUM.WEIGHT", "weight", _p(s.sid, wkey), "总分分值未随之更新")
    return True


@fault("weight.a2cat", "weight", "a2.weights", "a2.sumscore")
def _weight_a2cat(d: Draft) -> bool:
    return _cat_shift(d, d.a2, sum_rule=True)


@fault("weight.a3cat", "weight", "a3.weights", "a3.sumscore", project=True)
def _weight_a3cat(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _cat_shift(d, s, sum_rule=False)


@fault("weight.a2total", "weight", "a2.weights")
def _weight_a2total(d: Draft) -> bool:
    key = _weight_key(d.a2)
    new = d.rng.choice((90.0, 95.0, 105.0, 110.0))
    d.a2.values[key] = new
    d.expect("A2.WEIGHT.TOTAL", "weight", _p("a2", key), f"总分分值填 {new:g}")
    d.expect("A2.SUM.WEIGHT", "weight", _p("a2", key), f"总分分值 {new:g} 不等于各项分值之和")
    return True


@fault("weight.a2exec", "weight", "a2.exec", "a2.weights", "a2.sumscore")
def _weight_a2exec(d: Draft) -> bool:
    v = d.a2.values
    d.touch("a2.total.weight", "a2.total.score", "a2.total.rate", "a2.total.exec", "a2.total.budget")
    new = d.rng.choice((5.0, 15.0, 20.0))
    rate = min(_num(v, "a2.total.exec") / _num(v, "a2.total.budget"), 1)
    old_score = _num(v, "a2.total.score")
    v["a2.total.weight"], v["a2.total.score"] = new, exec_score(round(rate, 4), new)
    _rescore(d.a2, _num(v, "a2.total.score") - old_score)
    d.expect("A2.WEIGHT.EXEC", "weight", _p("a2", "a2.total.weight"), f"预算执行率分值填 {new:g}（按旧口径）")
    d.expect("A2.SUM.WEIGHT", "weight", _p("a2", _weight_key(d.a2)), "总分分值仍为 100，与各项分值之和不符")
    return True


# -- cross-sheet ---------------------------------------------------------------------------------------
_ABBREVIATIONS = {
    "农业技术推广中心": "农技推广中心",
    "疾病预防控制中心": "疾控中心",
    "市场监督服务中心": "市场监管服务中心",
    "社会保险服务中心": "社保服务中心",
    "公共租赁房屋运营服务中心": "公租房运营中心",
    "城市管理综合执法大队": "城管执法大队",
    "动物疫病预防控制中心": "动物疫控中心",
}


@fault("cross.unit", "cross_sheet", "a1.unit", "a2.unit")
def _cross_unit(d: Draft) -> bool:
    name = d.name
    options = [name[:2] + name[3:], name + "（本级）"]
    options += [name.replace(k, a) for k, a in _ABBREVIATIONS.items() if k in name]
    d.a2.values["a2.unit_name"] = other = d.rng.choice(options)
    d.expect("A2.CROSS.UNIT", "cross_sheet", _p("a2", "a2.unit_name"), f"附件2 单位名称写作“{other}”")
    return True


@fault("cross.project", "cross_sheet", "a1.project", "a2.split")
def _cross_project(d: Draft) -> bool:
    v = d.a2.values
    d.touch(*SPLIT, "a2.total.exec", *(f"a1.project.{c}" for c in COLS))
    basic = _num(v, "a2.spend.basic")
    step = d.rng.choice([x for x in (0.5, 2.0, 10.0, 15.5, 50.0) if x < basic])
    v["a2.spend.project"] = _r2(_num(v, "a2.spend.project") + step)
    v["a2.spend.basic"] = _r2(basic - step)
    d.expect(
        "A2.CROSS.PROJECT",
        "cross_sheet",
        _p("a2", "a2.spend.project"),
        f"附件2 项目支出多填 {step:g}（基本支出相应调减）",
    )
    return True


def _retitle(title: str, new: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        old = f"<t>{title}</t>".encode()

        def change(data: bytes) -> bytes:
            assert data.count(old) == 1, title
            return data.replace(old, f"<t>{new}</t>".encode())

        rewrite_zip(path, {"xl/sharedStrings.xml": change})

    return edit


@fault("cross.year", "cross_sheet", "a2.title")
def _cross_year(d: Draft) -> bool:
    title = for_year(load_form("a2").title, d.year)
    d.post.append(_retitle(title, for_year(load_form("a2").title, d.year - 1)))
    d.expect("A2.CROSS.YEAR", "cross_sheet", ("title", "a2"), f"附件2 沿用 {d.year - 1} 年表头")
    return True


@fault("cross.a3year", "cross_sheet", "a3.title", project=True)
def _cross_a3year(d: Draft) -> bool:
    if not d.projects:
        return False
    title = for_year(load_form("a3").title, d.year)
    d.post.append(_retitle(title, for_year(load_form("a3").title, d.year - 1)))
    for s in d.projects:  # the sheets share the title string: every project sheet shows the old year
        d.expect("A3.CROSS.YEAR", "cross_sheet", ("title", s.sid), f"附件3 沿用 {d.year - 1} 年表头")
    return True


# -- completeness ----------------------------------------------------------------------------------------
def _blank(d: Draft, s: Sheet, key: str, rule: str, kind: str = "completeness") -> bool:
    s.values[key] = None
    d.touch(key)
    d.expect(rule, kind, _p(s.sid, key), f"{key} 未填写")
    return True


@fault("req.a1unit", "completeness", "a1.unit")
def _req_a1unit(d: Draft) -> bool:
    return _blank(d, d.a1, "a1.unit_name", "A1.REQ.UNIT")


@fault("req.a2unit", "completeness", "a2.unit")
def _req_a2unit(d: Draft) -> bool:
    return _blank(d, d.a2, "a2.unit_name", "A2.REQ.UNIT")


@fault("req.staff", "completeness", "a1.staff")
def _req_staff(d: Draft) -> bool:
    d.touch("a1.staff_quota", "a1.staff_actual", "a1.staff_rate")
    return _blank(d, d.a1, d.rng.choice(("a1.staff_quota", "a1.staff_actual")), "A1.REQ.STAFF")


@fault("req.totals", "completeness", "a1.sangong", "a1.project", "a1.public")
def _req_totals(d: Draft) -> bool:
    v = d.a1.values
    row, col = d.rng.choice(("sangong", "project", "public")), d.rng.choice(("budget", "actual"))
    key = f"a1.{row}.{col}"
    d.touch(*(f"a1.{r}.{c}" for r in (row, *SUMS[row]) for c in COLS))
    inserted = [cells for funds in d.fill.special_rows.values() for _, cells in funds] if row == "project" else []
    parts = sum(_num(v, f"a1.{p}.{col}") for p in SUMS[row]) + sum(_num(c, col) for c in inserted)
    _blank(d, d.a1, key, "A1.REQ.TOTALS")
    if abs(parts) > 0.005:  # a blank total counts as 0: the sum breaks too, on the same cell
        d.expect(SUM_RULE[row], "completeness", _p("a1", key), f"{ROW_ZH[row]} 合计未填，分项合计 {parts:g}")
    return True


@fault("req.funds", "completeness", "a2.exec")
def _req_funds(d: Draft) -> bool:
    d.touch("a2.total.budget", "a2.total.rate")
    return _blank(d, d.a2, "a2.total.budget", "A2.REQ.FUNDS")


@fault("req.a3name", "completeness", "a3.name", project=True)
def _req_a3name(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _blank(d, s, "a3.project_name", "A3.REQ.NAME")


@fault("req.indfield", "completeness", "ind.req", "a2.sumscore", "a3.sumscore")
def _req_indfield(d: Draft) -> bool:
    hit = _pick(d, ("count", "pct", "full", "cost", "date", "text", "qual"))
    if hit is None:
        return False
    s, ind = hit
    col = d.rng.choice(("target", "actual", "score"))
    if col == "score":
        _rescore(s, -number(ind.row.score))
    setattr(ind.row, col, None)
    d.expect("IND.REQ.FIELDS", "completeness", _ind(s, ind, col), f"“{ind.row.name}”的 {col} 未填写")
    return True


@fault("req.frugality", "completeness", "a1.frugality")
def _req_frugality(d: Draft) -> bool:
    return _blank(d, d.a1, "a1.frugality", "A1.REQ.FRUGALITY")


@fault("req.a1contact", "completeness", "a1.contact")
def _req_a1contact(d: Draft) -> bool:
    return _blank(d, d.a1, d.rng.choice(("a1.preparer", "a1.phone")), "A1.REQ.CONTACT")


@fault("req.a2contact", "completeness", "a2.contact")
def _req_a2contact(d: Draft) -> bool:
    return _blank(d, d.a2, d.rng.choice(("a2.preparer", "a2.phone")), "A2.REQ.CONTACT")


@fault("req.goals", "completeness", "a2.goals")
def _req_goals(d: Draft) -> bool:
    return _blank(d, d.a2, d.rng.choice(("a2.goal.expected", "a2.goal.actual")), "A2.REQ.GOALS")


@fault("req.a3goals", "completeness", "a3.goals", project=True)
def _req_a3goals(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _blank(d, s, d.rng.choice(("a3.goal.expected", "a3.goal.actual")), "A3.REQ.GOALS")


@fault("req.date", "completeness", "date")
def _req_date(d: Draft) -> bool:
    s = d.rng.choice((d.a1, d.a2))
    key = f"{s.form}.date"
    s.values[key] = d.rng.choice((None, "五月底", f"{d.year + 1}.5", f"{d.year + 1}年13月5日"))
    d.expect("GEN.DATE", "completeness", _p(s.sid, key), f"填报日期写作“{s.values[key]}”")
    return True


@fault("req.sheet", "completeness", "*", alone=True)
def _req_sheet(d: Draft) -> bool:
    name = d.layout.sheet_names["a2"]

    def drop(path: Path) -> None:
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.remove(wb[name])
        wb.save(path)

    d.post.append(drop)
    d.expect("GEN.SHEET", "completeness", ("nosheet",), "删除了附件2 工作表")
    return True


_RELABEL = (
    ("政府采购金额", "采购金额合计"),
    ("部门基本支出预算调整", "基本支出预算调整情况"),
    ("批复规模(m²)", "批复面积"),
)


@fault("req.label", "completeness", "a1.procurement", "a1.adjustment", "a1.bld")
def _req_label(d: Draft) -> bool:
    old, new = d.rng.choice(_RELABEL)
    d.post.append(_retitle(old, new))
    d.expect("GEN.LABEL", "completeness", ("sheet", "a1"), f"将“{old}”改写为“{new}”")
    return True


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


# -- editing a written workbook ---------------------------------------------------------------------
def rewrite_zip(path: Path, edits: Mapping[str, Callable[[bytes], bytes]] | None = None) -> None:
    """Rewrite a workbook's zip with pinned entry timestamps, applying `edits` to named parts."""
    edits = edits or {}
    with zipfile.ZipFile(path) as src:
        parts = [(info.filename, src.read(info)) for info in src.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts:
            if name in edits:
                data = edits[name](data)
            dst.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    tmp.replace(path)


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → its worksheet part ("xl/worksheets/sheet2.xml"), from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'<Relationship Id="([^"]+)" Type="[^"]+" Target="([^"]+)"', rels))
    out: dict[str, str] = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"', book):
        target = targets[rid].lstrip("/")
        out[name.replace("&amp;", "&")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


#: 附件1 totals a unit may have written as formulas over their parts (no inserted rows among the parts).
FORMULA_ROWS = ("sangong", "car", "public")


def formula_edit(d: Draft, cells: list[tuple[str, str]], *, cached: bool) -> Callable[[Path], None]:
    """An edit turning 附件1 totals ((row, col) pairs) into `=part+part…` formulas; with `cached`, the
    value stays as Excel would have saved it, without, the formula has no calculated value at all."""

    def edit(path: Path) -> None:
        book = _Book(path)
        sheet = d.layout.sheet_names["a1"]
        rows, merged = book.sheets[sheet]
        changes: dict[str, str] = {}
        for row, col in cells:
            total = cell_ref(*_point(rows, merged, "a1", f"a1.{row}.{col}", d.year))
            parts = [cell_ref(*_point(rows, merged, "a1", f"a1.{p}.{col}", d.year)) for p in SUMS[row]]
            changes[total] = "+".join(parts)

        def change(data: bytes) -> bytes:
            for ref, formula in changes.items():
                pattern = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*)><v>([^<]*)</v></c>')
                value = rb"<v>\2</v>" if cached else b""
                data, n = pattern.subn(
                    rb'<c r="' + ref.encode() + rb'"\1><f>' + formula.encode() + b"</f>" + value + b"</c>", data
                )
                assert n == 1, (ref, n)
            return data

        rewrite_zip(path, {_sheet_parts(path)[sheet]: change})

    return edit


def formula_totals(d: Draft) -> None:
    """Layout variety: some 附件1 totals written as formulas (with their calculated values), as units do."""
    if any(FAULTS[a].alone for a in d.applied):
        return  # the deleted-sheet fault re-saves with openpyxl, which keeps no calculated values
    v = d.a1.values
    options = [
        (row, col)
        for row in FORMULA_ROWS
        for col in COLS
        if all(
            isinstance(v.get(f"a1.{k}.{col}"), float) and f"a1.{k}.{col}" not in d.touched for k in (row, *SUMS[row])
        )
    ]
    if options:
        picked = d.rng.sample(options, min(len(options), d.rng.randint(1, 4)))
        d.post.insert(0, formula_edit(d, sorted(picked), cached=True))


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


# -- locating cells in the written workbook ----------------------------------------------------------
class _Book:
    """A written workbook's sheets as calamine reads them (absolute coordinates, merged ranges)."""

    def __init__(self, path: Path) -> None:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        self.sheets: dict[str, tuple[list[list[Any]], dict[tuple[int, int], tuple[int, int]]]] = {}
        try:
            for name in wb.sheet_names:
                s = wb.get_sheet_by_name(name)
                merged = {(r0, c0): (r1, c1) for (r0, c0), (r1, c1) in (s.merged_cell_ranges or [])}
                self.sheets[name] = (s.to_python(skip_empty_area=False), merged)
        finally:
            wb.close()


def _find(
    rows: list[list[Any]], match: Callable[[str], bool], *, start: int = 0, stop_col: int | None = None
) -> tuple[int, int]:
    for r in range(start, len(rows)):
        row = rows[r]
        for c in range(len(row) if stop_col is None else min(len(row), stop_col)):
            if isinstance(row[c], str) and match(row[c].strip()):
                return r, c
    raise LookupError("label not found")


@cache
def _sections(fid: str) -> dict[str, tuple[str, Any, Any]]:
    """Point key → (section kind, row or field, column or section) of a form definition."""
    form = load_form(fid)
    out: dict[str, tuple[str, Any, Any]] = {}
    for sec in form.sections:
        if sec.kind == "table":
            for row in sec.rows:
                for col in sec.fields:
                    if not row.only or col.key in row.only:
                        out[f"{fid}.{row.key}.{col.key}"] = ("table", row, col)
        elif sec.kind == "record":
            for f in sec.fields:
                out[f"{fid}.{f.key}"] = ("record", f, sec)
        elif sec.kind == "fields":
            for line in sec.field_rows:
                for f in line:
                    out[f"{fid}.{f.key}"] = ("fields", f, sec)
        elif sec.kind == "indicators":
            out[f"{fid}.ind"] = ("indicators", None, sec)
            for name in ("weight", "score"):
                out[indicator_total_key(form, name)] = ("total", name, sec)
    return out


def _point(
    rows: list[list[Any]], merged: dict[tuple[int, int], tuple[int, int]], fid: str, key: str, year: int
) -> tuple[int, int]:
    kind, a, b = _sections(fid)[key]
    if kind == "table":
        row, col = a, b
        assert isinstance(row, Row) and isinstance(col, Field)
        header = for_year(col.label, year)
        hr, hc = _find(rows, lambda t: t == header)
        rr, _ = _find(rows, lambda t: t == row.label, start=hr + 1, stop_col=hc)
        return rr, hc
    if kind == "record":
        label = for_year(a.label, year)
        hr, hc = _find(rows, lambda t: t == label)
        return merged.get((hr, hc), (hr, hc))[0] + 1, hc
    if kind == "fields":
        sec: Section = b
        label = for_year(a.label, year)
        if sec.footer:
            r, c = _find(rows, lambda t: t == label + "：")
        else:
            r, c = _find(rows, lambda t: t == label or t.startswith(label + "："))
            if str(rows[r][c]).strip() != label and str(rows[r][c]).strip()[len(label) + 1 :].strip():
                return r, c  # the value is inside the label cell
        return r, merged.get((r, c), (r, c))[1] + 1
    hr, cols = _indicator_header(rows, fid)
    tr, _ = _find(rows, lambda t: t == b.total.get("label", "总分"), start=hr + 1)
    return tr, cols[a]


def _indicator_header(rows: list[list[Any]], fid: str) -> tuple[int, dict[str, int]]:
    sec = next(s for s in load_form(fid).sections if s.kind == "indicators")
    hr, _ = _find(rows, lambda t: t == sec.column("name").label)
    cols = {
        f.key: next(c for c, v in enumerate(rows[hr]) if isinstance(v, str) and v.strip() == f.label)
        for f in sec.fields
    }
    return hr, cols


def _where(book: _Book, d: Draft, where: tuple[str, ...]) -> tuple[str | None, str | None]:
    if where[0] == "nosheet":
        return None, None
    sid = where[1]
    sheet = d.layout.sheet_names[sid]
    if where[0] == "sheet":
        return sheet, None
    rows, merged = book.sheets[sheet]
    fid = sid.partition(".")[0]
    if where[0] == "title":
        tail = load_form(fid).title.replace("{Y}", "")
        r, c = _find(rows, lambda t: re.fullmatch(r"\d{4}" + re.escape(tail), t) is not None)
    elif where[0] == "point":
        r, c = _point(rows, merged, fid, where[2], d.year)
    else:
        _, _, name, col = where
        hr, cols = _indicator_header(rows, fid)
        r = next(r for r in range(hr + 1, len(rows)) if str(rows[r][cols["name"]]).strip() == name)
        c = cols[col]
    return sheet, cell_ref(r, c)


def locate(path: Path, d: Draft) -> list[dict[str, Any]]:
    """The answer-key entries of a written workbook: each expected finding with its sheet and cell."""
    book = _Book(path)
    out: list[dict[str, Any]] = []
    for e in d.expects:
        sheet, cell = _where(book, d, e.where)
        out.append(
            {
                "fault": e.fault,
                "rule": e.rule,
                "kind": e.kind,
                "sheet": sheet,
                "cell": cell,
                "description": e.description,
            }
        )
    return out
