"""The totals of the units counted, one computation for every place that shows one (issue #19).

Which units count is `YearData.counted` (newest workbook each, on the roster, errors and 退回修改 out unless
`--include-errors`). From them `group_totals` gives 总览's 合计 and each 主管部门's 小计 and `export`'s 合计 row;
`summary_totals` sums the same units for 汇总数. A blank amount is not zero: a sum adds the units that filled
the amount, a rate over a group is Σ执行数 / Σ预算数 over the units that filled both, and says how many did.
Every sheet's subtitle states the count in the same words (`counted_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.report.summary_data import UnitRow, YearData
from pipeline.report.summary_layout import Col

#: 总览's amount columns (the header's first line) → the point each sums.
OVERVIEW_KEYS = {
    "编制数": "a1.staff_quota",
    "在职人数": "a1.staff_actual",
    "三公经费": "a1.sangong.actual",
    "项目支出": "a1.project.actual",
    "公用经费": "a1.public.actual",
    "全年预算数": "a2.total.budget",
    "全年执行数": "a2.total.exec",
}
BUDGET, SPENT, SCORE = "a2.total.budget", "a2.total.exec", "a2.sum.score"


@dataclass(slots=True)
class GroupTotals:
    """Sums over a group of counted units, each amount over the units that filled it."""

    units: int
    sums: dict[str, float] = field(default_factory=dict)
    rate: float | None = None  # Σ执行数 / Σ预算数 over the units that filled both
    rate_units: int = 0
    score: float | None = None  # 自评总分 averaged over the units that filled it
    errors: int = 0
    warnings: int = 0

    def label(self, group: str | None = None) -> str:
        """The 合计 / 小计 row's label: how many units, and over how many the rate is."""
        head = f"小计：{group}" if group else "合计"
        rate = f"；执行率按填了预算数和执行数的 {self.rate_units} 个单位" if self.rate_units < self.units else ""
        return f"{head}（计入 {self.units} 个单位{rate}；自评总分为平均分）"


def group_totals(units: Sequence[UnitRow]) -> GroupTotals:
    totals = GroupTotals(len(units))
    for key in OVERVIEW_KEYS.values():
        filled = [v for u in units if (v := u.get(key)) is not None]
        if filled:
            totals.sums[key] = sum(filled)
    both = [(u.get(SPENT), u.get(BUDGET)) for u in units if u.get(SPENT) is not None and u.get(BUDGET) is not None]
    budget = sum(b for _, b in both if b is not None)
    totals.rate_units = len(both)
    totals.rate = sum(s for s, _ in both if s is not None) / budget if budget else None
    scores = [s for u in units if (s := u.score) is not None]
    totals.score = sum(scores) / len(scores) if scores else None
    totals.errors = sum(u.entry.errors for u in units)
    totals.warnings = sum(u.entry.warnings for u in units)
    return totals


def total_row(cols: Sequence[Col], totals: GroupTotals, group: str | None = None) -> list[Any]:
    """A 合计 / 小计 row in 总览's columns (and the CSV's): sums, the rate, the average score."""
    row: list[Any] = [None] * len(cols)
    row[1] = totals.label(group)
    for c, col in enumerate(cols):
        head = col.header.split("\n")[0]
        if head in OVERVIEW_KEYS:
            row[c] = totals.sums.get(OVERVIEW_KEYS[head])
        elif col.header == "执行率":
            row[c] = totals.rate
        elif col.header == "自评总分":
            row[c] = totals.score
        elif col.header == "错误数":
            row[c] = totals.errors
        elif col.header == "提示数":
            row[c] = totals.warnings
    return row


def counted_text(data: YearData) -> str:
    """How many units the 汇总 counts, and which it leaves out, in the words every sheet's subtitle uses."""
    counted = data.counted
    keys = [data.status_key(u.entry) for u in data.units if not data.off_roster(u.entry)]
    errors, returned = keys.count("errors"), keys.count("returned")
    off = len(data.units) - len(keys)
    left = (
        []
        if data.include_errors
        else [f"有错误 {errors} 个" if errors else "", f"退回修改 {returned} 个" if returned else ""]
    )
    left.append(f"名单外 {off} 个" if off else "")
    text = f"汇总单位数：{len(counted)}（各单位最新提交"
    if data.include_errors and (errors or returned):
        text += "，含有错误和退回修改的单位"
    if any(left):
        text += "；不含：" + "、".join(t for t in left if t)
    return text + "）"
