"""Units built from parts, consistent by construction: a `Unit` (staffing, amounts, execution, indicator rows)
becomes a 附件1 + 附件2 `Filling` with every total computed from its parts, a `Project` a 附件3 one.

The sample inputs and the synthetic units are both built this way, so a unit nobody broke on purpose raises
no finding at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.forms import load_form
from pipeline.report.filling import Filling, IndicatorRow, indicator_total_key

log = logging.getLogger(__name__)

A2_WEIGHT = indicator_total_key(load_form("a2"), "weight")
A2_SCORE = indicator_total_key(load_form("a2"), "score")
A3_WEIGHT = indicator_total_key(load_form("a3"), "weight")
A3_SCORE = indicator_total_key(load_form("a3"), "score")
_COLS = ("prev", "budget", "actual")

Triple = tuple[float | None, float | None, float | None]


def row_values(
    prefix: str, rows: Mapping[str, Sequence[float | None]], cols: tuple[str, ...] = _COLS
) -> dict[str, object]:
    return {f"{prefix}.{row}.{col}": v for row, vals in rows.items() for col, v in zip(cols, vals, strict=True)}


def ind_row(
    level1: str,
    level2: str,
    name: str,
    target: object,
    actual: object,
    weight: float,
    score: float | None = None,
    reason: str | None = None,
) -> IndicatorRow:
    """An indicator row; full marks unless a score is given."""
    return IndicatorRow(level1, level2, name, target, actual, weight, weight if score is None else score, reason)


@dataclass(slots=True)
class Unit:
    """A fictional unit's base figures; `filling()` derives every total from them."""

    name: str
    staff: tuple[int, int]  # 编制数, 在职人数
    leaves: dict[str, Triple]  # a1 table rows that are not totals: (prev, budget, actual)
    basic: float  # 附件2 基本支出 (executed)
    initial: float  # 附件2 年初预算数
    budget: float | None  # 附件2 全年预算数; None: equal to 全年执行数
    general: float  # 一般公共预算 part of the income split; 其他资金 takes the rest
    indicators: list[IndicatorRow]
    goals: tuple[str, str]
    contact: tuple[str, str, str, str]  # 填表人, 电话, 负责人, 日期
    frugality: str = "严格落实中央八项规定精神，压减一般性支出，公务接待、会议培训实行事前审批和限额管理。"
    specials: dict[str, list[tuple[str, Triple]]] = field(default_factory=dict)


def add_up(*parts: float | None) -> float:
    return float(round(sum(p or 0 for p in parts), 2))


def _a1(unit: Unit) -> dict[str, object]:
    """附件1 values: the leaves plus every total computed per column."""
    rows: dict[str, Triple] = dict(unit.leaves)
    totals: dict[str, list[float]] = {"car": [], "sangong": [], "project": [], "public": []}
    for i in range(3):

        def v(key: str, i: int = i) -> float | None:
            return rows[key][i]

        car = add_up(v("car_purchase"), v("car_upkeep"))
        inserted = [vals[i] for funds in unit.specials.values() for _, vals in funds]
        totals["car"].append(car)
        totals["sangong"].append(add_up(car, v("abroad"), v("reception")))
        totals["project"].append(add_up(v("business"), v("operation"), v("special"), v("transfer"), *inserted))
        totals["public"].append(add_up(v("office"), v("utilities"), v("meetings")))
    for key, vals in totals.items():
        rows[key] = (vals[0], vals[1], vals[2])
    quota, actual = unit.staff
    return {
        "a1.unit_name": unit.name,
        "a1.staff_quota": quota,
        "a1.staff_actual": actual,
        "a1.staff_rate": round(actual / quota, 4),
        **row_values("a1", rows),
        **{
            f"a1.{k}": 0
            for k in (
                "bld_area_approved",
                "bld_area_actual",
                "bld_area_rate",
                "bld_invest_budget",
                "bld_invest_actual",
                "bld_invest_rate",
            )
        },
        "a1.frugality": unit.frugality,
        **_contact("a1", unit.contact),
    }


def _contact(form: str, contact: tuple[str, str, str, str]) -> dict[str, object]:
    return dict(zip((f"{form}.preparer", f"{form}.phone", f"{form}.signer", f"{form}.date"), contact, strict=True))


def _execution(prefix: str, initial: float, budget: float, exec_: float) -> dict[str, object]:
    """年初/全年预算, 执行数, 分值 10, 执行率 (4 decimals), 得分 = min(执行率, 1) × 10."""
    rate = round(exec_ / budget, 4)
    return {
        f"{prefix}.initial": initial,
        f"{prefix}.budget": budget,
        f"{prefix}.exec": exec_,
        f"{prefix}.weight": 10,
        f"{prefix}.rate": rate,
        f"{prefix}.score": round(min(rate, 1) * 10, 2),
    }


def total_score(values: dict[str, object], prefix: str, indicators: list[IndicatorRow]) -> float:
    exec_score = values[f"{prefix}.total.score"]
    assert isinstance(exec_score, float | int)
    return round(exec_score + sum(float(i.score) for i in indicators if isinstance(i.score, int | float)), 2)


def filling(unit: Unit) -> Filling:
    """The complete, consistent submission of a fictional unit."""
    values = _a1(unit)
    project = values["a1.project.actual"]
    assert isinstance(project, float)
    exec_ = add_up(unit.basic, project)
    values.update(_execution("a2.total", unit.initial, unit.budget or exec_, exec_))
    values.update(
        {
            "a2.unit_name": unit.name,
            "a2.income.general": unit.general,
            "a2.income.other": add_up(exec_, -unit.general),
            "a2.spend.basic": unit.basic,
            "a2.spend.project": project,
            "a2.goal.expected": unit.goals[0],
            "a2.goal.actual": unit.goals[1],
            A2_WEIGHT: 100,
            **_contact("a2", unit.contact),
        }
    )
    values[A2_SCORE] = total_score(values, "a2", unit.indicators)
    special_rows: dict[str, list[tuple[str, dict[str, object]]]] = {
        key: [(name, dict(zip(_COLS, vals, strict=True))) for name, vals in funds]
        for key, funds in unit.specials.items()
    }
    return Filling(
        values=values, special_rows=special_rows, indicators=list(unit.indicators), placeholder_projects=True
    )


@dataclass(slots=True)
class Project:
    """A fictional 附件3 project: fund parts per column (年初预算, 全年预算, 执行数)."""

    name: str
    department: str
    implementer: str
    funds: dict[str, tuple[float, float, float]]  # fiscal / carryover / other
    indicators: list[IndicatorRow]
    goals: tuple[str, str]
    contact: tuple[str, str, str, str]


def project_filling(p: Project) -> Filling:
    """A consistent 附件3 sheet: 年度资金总额 per column is the sum of its three sources."""
    total = [add_up(*(vals[i] for vals in p.funds.values())) for i in range(3)]
    values: dict[str, object] = {
        "a3.project_name": p.name,
        "a3.department": p.department,
        "a3.implementer": p.implementer,
        **_execution("a3.total", *total),
        "a3.goal.expected": p.goals[0],
        "a3.goal.actual": p.goals[1],
        A3_WEIGHT: 100,
        **_contact("a3", p.contact),
    }
    values.update(row_values("a3", p.funds, ("initial", "budget", "exec")))
    values[A3_SCORE] = total_score(values, "a3", p.indicators)
    return Filling(values=values, indicators=list(p.indicators))


def check_weights(indicators: list[IndicatorRow], weights: dict[str, float]) -> None:
    """Raise when the 三级 weights under a 一级 do not add up to its weight (guards the clean samples)."""
    for key, weight in weights.items():
        got = sum(float(i.weight) for i in indicators if i.level1 == key and isinstance(i.weight, int | float))
        if abs(got - weight) > 1e-9:
            raise ValueError(f"{key} 分值合计 {got} ≠ {weight}")
