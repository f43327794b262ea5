"""Checks the catalogue cannot state as one relation, referenced by name from schemas/rules.toml.

Each takes (rule, frame, context) and returns, for every failing frame row, the details of each
finding on it (cells, expected, actual, label). validate.py wraps them as pandera checks like the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pipeline.extract import NUMERIC_TYPES
from pipeline.values import Parsed, format_number, parse_value

if TYPE_CHECKING:
    from pipeline.model import FormData
    from pipeline.rules import Rule
    from pipeline.validate import Context, Frame

Details = dict[int, list[dict[str, Any]]]
Builtin = Callable[["Rule", "Frame", "Context"], Details]

#: 定性指标: what a qualitative 完成值 says, and the share of 分值 it earns (财预〔2020〕10号).
QUALITATIVE = (
    ("未达成", (0.0, 0.6)),
    ("未完成", (0.0, 0.6)),
    ("部分达成", (0.6, 0.8)),
    ("部分完成", (0.6, 0.8)),
    ("基本达成", (0.6, 0.8)),
    ("达成", (0.8, 1.0)),
    ("完成", (0.8, 1.0)),
    ("达到", (0.8, 1.0)),
)
REVERSE_SUBS = ("成本指标",)  # 反向指标: lower is better unless the target says otherwise


def _sheets(frame: Frame, ctx: Context, row: int) -> list[FormData]:
    """Every form sheet read from the workbook behind a frame row: 附件1, 附件2 and each 附件3."""
    sub = ctx.submissions[frame.subs[row]]
    return [*sub.forms.values(), *sub.projects]


def _submission_points(frame: Frame, ctx: Context, row: int) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for data in _sheets(frame, ctx, row):
        out += [(k, p) for k, p in data.points.items()]
    return out


def _label(ctx: Context, key: str, year: int | None) -> str:
    labels: dict[str, str] = {}
    form = ctx.forms.get(key.split(".")[0])
    if form is not None:
        labels = form.labels()
    text = labels.get(key, key)
    return text.replace("{Y-1}", str((year or 1) - 1)).replace("{Y}", str(year or ""))


def text_in_number_cell(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A number cell holding words ("完成", "约100") cannot be checked: ask for a number."""
    out: Details = {}
    for row in range(len(frame.points)):
        year = frame.years[row]
        for key, p in _submission_points(frame, ctx, row):
            if ctx.types.get(key) in NUMERIC_TYPES and isinstance(p.value, str):
                out.setdefault(row, []).append(
                    {"sheet": p.sheet, "cells": p.cells, "actual": p.value, "label": _label(ctx, key, year)}
                )
        sub = ctx.submissions[frame.subs[row]]
        for data in [sub.forms.get("a2"), *sub.projects]:
            for ind in data.indicators if data else []:
                for key in ("weight", "score"):
                    p = ind.cells.get(key)
                    if p is not None and isinstance(p.value, str):
                        label = (
                            "三级指标“"
                            + str(ind.cells["name"].value or "")
                            + "”的"
                            + ("分值" if key == "weight" else "得分")
                        )
                        out.setdefault(row, []).append(
                            {"sheet": p.sheet, "cells": p.cells, "actual": p.value, "label": label}
                        )
    return out


def amount_in_yuan(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """An amount this large in a 万元 cell was most likely typed in 元."""
    limit = ctx.profile.params.get("yuan_suspect", 100000)
    out: Details = {}
    for row in range(len(frame.points)):
        for key, p in _submission_points(frame, ctx, row):
            if ctx.types.get(key) == "amount" and isinstance(p.value, float) and abs(p.value) >= limit:
                out.setdefault(row, []).append(
                    {
                        "sheet": p.sheet,
                        "cells": p.cells,
                        "actual": format_number(p.value),
                        "label": _label(ctx, key, frame.years[row]),
                    }
                )
    return out


def report_date(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """填报日期 missing or not a date."""
    out: Details = {}
    for row in range(len(frame.points)):
        for key, p in _submission_points(frame, ctx, row):
            if ctx.types.get(key) == "date" and key.startswith(("a1.", "a2.")) and not isinstance(p.value, date):
                actual = "" if p.value is None else str(p.value)
                out.setdefault(row, []).append({"sheet": p.sheet, "cells": p.cells, "actual": actual or "（空）"})
    return out


def missing_form(rule: Rule, frame: Frame, ctx: Context) -> Details:
    out: Details = {}
    for row in range(len(frame.points)):
        sub = ctx.submissions[frame.subs[row]]
        for fid in ("a1", "a2"):
            if fid not in sub.forms:
                form = ctx.forms[fid]
                title = form.title.replace("{Y}", str(sub.year or ""))
                out.setdefault(row, []).append(
                    {"sheet": form.attachment, "cells": (), "label": f"{form.attachment}“{title}”"}
                )
    return out


def missing_label(rule: Rule, frame: Frame, ctx: Context) -> Details:
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            for label in dict.fromkeys(data.missing):
                out.setdefault(row, []).append({"sheet": data.sheet, "cells": (), "label": label})
    return out


def uncalculated_formula(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A formula with no calculated value would read as blank: ask the unit to recalculate."""
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            if data.uncached:
                out.setdefault(row, []).append(
                    {"sheet": data.sheet, "cells": tuple(data.uncached), "actual": "、".join(data.uncached[:5])}
                )
    return out


# --- scoring of indicators --------------------------------------------------------------------


def _quantities(target: Parsed, actual: Parsed) -> tuple[float, float] | None:
    if target.kind != "number" or actual.kind != "number":
        return None
    if target.percent != actual.percent or (target.unit or "") != (actual.unit or ""):
        return None
    return float(target.value), float(actual.value)  # type: ignore[arg-type]


def expected_score(ind: Any, weight: float) -> tuple[float, float, str] | None:
    """(lowest, highest) score the 完成值 earns against the 指标值, and how it was judged."""
    target, actual = parse_value(ind.cells["target"].raw), parse_value(ind.cells["actual"].raw)
    q = _quantities(target, actual)
    if q is not None:
        t, a = q
        reverse = target.op in ("<=", "<") or (target.op is None and ind.level2 in REVERSE_SUBS)
        if t <= 0 or a < 0:
            return None
        share = (1.0 if a <= t else t / a) if reverse else (1.0 if a >= t else a / t)
        return share * weight, share * weight, "定量"
    if actual.kind == "text":
        text = str(actual.value)
        for word, (lo, hi) in QUALITATIVE:
            if word in text:
                return lo * weight, hi * weight, "定性"
    return None


def indicator_scoring(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """得分 far from what the 完成值 earns, or full marks with the target missed."""
    slack = ctx.profile.params.get("score_slack", 0.2)
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        if ind is None:
            continue
        weight, score = ind.cells["weight"].number, ind.cells["score"].number
        if weight is None or score is None or weight <= 0:
            continue
        judged = expected_score(ind, weight)
        if judged is None:
            continue
        lo, hi, how = judged
        tol = ind.cells["score"].tolerance + 1e-9
        if how == "定量":
            off = abs(score - lo) > slack * weight + tol or (score >= weight - tol and lo < weight - tol - 1e-6)
        else:
            off = score < lo - tol or score > hi + tol
        if off:
            expected = format_number(lo, decimals=1) if how == "定量" else f"{lo:.1f}–{hi:.1f}"
            out[row] = [{"expected": expected, "actual": format_number(score, decimals=1)}]
    return out


def indicator_overachieve(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """完成值 ≥ 130% of 指标值 with no explanation."""
    ratio = ctx.profile.params.get("overachieve_ratio", 1.3)
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        if ind is None or ind.cells["reason"].filled or ind.level2 in REVERSE_SUBS:
            continue
        target, actual = parse_value(ind.cells["target"].raw), parse_value(ind.cells["actual"].raw)
        q = _quantities(target, actual)
        if q is None or target.op in ("<=", "<") or q[0] <= 0:
            continue
        if q[1] >= ratio * q[0]:
            out[row] = [
                {
                    "expected": str(ind.cells["target"].value),
                    "actual": str(ind.cells["actual"].value),
                    "cells": ind.cells["actual"].cells + ind.cells["reason"].cells,
                }
            ]
    return out


REGISTRY: dict[str, Builtin] = {
    fn.__name__: fn
    for fn in (
        text_in_number_cell,
        amount_in_yuan,
        report_date,
        missing_form,
        missing_label,
        uncalculated_formula,
        indicator_scoring,
        indicator_overachieve,
    )
}
