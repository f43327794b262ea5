"""Score and weight faults: 得分 above 分值 or below 0, scoring against 完成值, missing reasons, 执行率 score,
一级指标 weights that do not match the profile."""

from __future__ import annotations

import math
import re

from pipeline.synth.faults.base import (
    _first_in,
    _ind,
    _num,
    _p,
    _pick,
    _project,
    _r2,
    _rescore,
    _score_key,
    _unjudged,
    _weight_key,
    fault,
)
from pipeline.synth.units import Draft, Sheet, exec_score, number


# -- scores ---------------------------------------------------------------------------------------------
def _exec_score(d: Draft, s: Sheet, rule: str) -> bool:
    v, p = s.values, s.form
    d.touch(f"{p}.total.score", f"{p}.total.rate", f"{p}.total.exec", f"{p}.total.budget", _score_key(s))
    old = _num(v, f"{p}.total.score")
    rate = _num(v, f"{p}.total.exec") / _num(v, f"{p}.total.budget")
    weight = _num(v, f"{p}.total.weight") or 10.0
    if math.floor(min(rate, 1) * weight + 0.5) < weight:  # below what whole points forgive (9.6 counts as 10)
        new, how = weight, "执行率未达 100% 仍给满分"
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
def _cat_shift(d: Draft, s: Sheet, *, sum_rule: bool, split: bool = False) -> bool:
    """`split`: points moved from one 一级指标 to another (the total stays 100); else points added to one."""
    full = [i for n, i in enumerate(s.inds) if i.row.score == i.row.weight and (s.sid, n) not in d.reserved]
    k = d.rng.choice((2.0, 5.0))
    style = "transfer" if split else d.rng.choice(("added", "added_total") if sum_rule else ("added",))
    up = d.rng.choice(full) if full else None
    if up is None:
        return False
    downs = [i for i in full if i.row.level1 != up.row.level1 and number(i.row.weight) > k]
    if style == "transfer" and not downs:
        return False
    for ind in (up, *(downs[:1] if style == "transfer" else [])):
        d.reserved.add((s.sid, s.inds.index(ind)))
    up.row.weight = up.row.score = number(up.row.weight) + k
    # moved between 一级指标, the weights still add up to 100: another split, a 提示 (WEIGHT.SPLIT)
    rule = f"{s.form.upper()}.WEIGHT.{'SPLIT' if style == 'transfer' else 'CAT'}"
    d.expect(rule, "weight", _ind(s, _first_in(s, up.row.level1), "weight"), f"{up.row.level1} 分值多 {k:g}")
    if style == "transfer":
        down = downs[0]
        down.row.weight = down.row.score = number(down.row.weight) - k
        d.expect(
            rule,
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


@fault("weight.a2split", "weight", "a2.weights", "a2.sumscore")
def _weight_a2split(d: Draft) -> bool:
    return _cat_shift(d, d.a2, sum_rule=True, split=True)


@fault("weight.a3split", "weight", "a3.weights", "a3.sumscore", project=True)
def _weight_a3split(d: Draft) -> bool:
    s = _project(d)
    return s is not None and _cat_shift(d, s, sum_rule=False, split=True)


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
