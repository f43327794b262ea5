"""The fault registry (`FAULTS`, `fault`, `inject`, `add_extras`) and the helpers every family uses:
tolerances, deltas beyond them, picking a sheet, an indicator or a project, and the cells a finding names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.forms import load_form, load_profile
from pipeline.report.filling import indicator_total_key
from pipeline.synth.units import Draft, Ind, Sheet

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
    """Tolerance of a cell as it will be written (docs/rules.md "Tolerance")."""
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


def _line_overrun(d: Draft, leaf: str) -> None:
    """A 公用经费 line a fault took over its own budget by more than the profile allows (A1.PLAUS.LINE) raises
    a 提示 of its own, on its 决算数."""
    v = d.a1.values
    budget, limit = _num(v, f"a1.{leaf}.budget"), load_profile().params["line_overrun"]
    if leaf in SUMS["public"] and budget > 0 and _num(v, f"a1.{leaf}.actual") > limit * budget + 0.01:
        d.expect("A1.PLAUS.LINE", "plausibility", _p("a1", f"a1.{leaf}.actual"), f"{leaf} 决算数超过预算数两倍")


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
