"""Checks the catalogue cannot state as one relation, referenced by name from schemas/rules.toml.

Each takes (rule, frame, context) and returns, for every failing frame row, the details of each
finding on it (cells, expected, actual, label). validate.py wraps them as pandera checks like the rest;
`Frame` and `Context` come from context.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pipeline.forms import load_editions
from pipeline.model import FormData
from pipeline.read.points import NUMERIC_TYPES
from pipeline.read.values import Parsed, format_number, parse_value
from pipeline.rules.catalogue import Rule
from pipeline.rules.context import Context, Frame

Details = dict[int, list[dict[str, Any]]]
Builtin = Callable[[Rule, Frame, Context], Details]

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
#: 三级指标 whose name says lower is better, for tables without a 二级指标 or a ≤ in the target (重庆: 财政供养人员
#: 控制率 100% against 92% is met, not missed).
REVERSE_NAMES = ("控制率", "变动率", "调整率", "结余率", "结转率", "成本", "费用", "投诉", "事故", "差错")


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
            if not p.cells and not p.filled:
                continue  # its label is not on the table: GEN.LABEL says so, once
            if ctx.types.get(key) == "date" and key.startswith(("a1.", "a2.")) and not isinstance(p.value, date):
                actual = "" if p.value is None else str(p.value)
                out.setdefault(row, []).append({"sheet": p.sheet, "cells": p.cells, "actual": actual or "（空）"})
    return out


def missing_form(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A form kind the workbook's tables require (`requires` in their edition: the Hunan 附件1 and 附件2
    go together) is not there. Under 整体 collection a workbook of project tables only also lacks both."""
    out: Details = {}
    if ctx.profile.collect == "项目":
        return out
    editions = {form.edition: form for form in load_editions()}
    for row in range(len(frame.points)):
        sub = ctx.submissions[frame.subs[row]]
        needed = {kind for data in sub.forms.values() for kind in editions[data.edition].requires}
        if ctx.profile.collect == "整体" and not sub.forms:
            needed = {"a1", "a2"}
        for fid in sorted(needed - set(sub.forms)):
            form = ctx.forms[fid]
            title = form.title.replace("{Y}", str(sub.year or ""))
            out.setdefault(row, []).append(
                {"sheet": form.attachment, "cells": (), "label": f"{form.attachment}“{title}”"}
            )
    return out


def unread_block(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A sheet or a table on one that matches no form edition: named, so nothing is dropped unseen."""
    out: Details = {}
    for row in range(len(frame.points)):
        for block in ctx.submissions[frame.subs[row]].unread:
            what = "与已识别的表格重复，未审核" if block.duplicate else "未识别为任何表格，未审核"
            out.setdefault(row, []).append(
                {"sheet": block.sheet, "cells": (block.cell,) if block.cell else (), "label": block.text, "what": what}
            )
    return out


def template_prompt(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A value cell still holding the template's prompt text (对照年度目标,说明…(100字以内)), except in the 原因 of
    an 执行率 that needs none (四川 prints its instructions there: nothing to replace them with)."""
    limit = ctx.profile.params.get("exec_rate_explain", 0.9)
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            rate = data.points.get(f"{data.form}.total.rate")
            reason = data.points.get(f"{data.form}.total.reason")
            quiet = reason.cells if reason is not None and rate is not None and (rate.number or 0) >= limit else ()
            for cell, text in data.prompts:
                if cell not in quiet:
                    out.setdefault(row, []).append({"sheet": data.sheet, "cells": (cell,), "actual": text[:60]})
    return out


def untitled_table(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A table read without a title (recognised by its labels): say as what, so a reviewer can check."""
    editions = {form.edition: form for form in load_editions()}
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            if not data.titled:
                name = editions[data.edition].name if data.edition in editions else data.form
                cells = (data.title_cell,) if data.title_cell else ()
                out.setdefault(row, []).append({"sheet": data.sheet, "cells": cells, "label": name})
    return out


#: Where a year not written on the table came from, as a reviewer reads it.
YEAR_SOURCES = {"设置": "审核口径或 --year 设置", "文件名": "文件名", "填报日期": "填报日期（填报日期的上一年）"}


def year_source(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A table that states no year: say where the year used came from, or that there is none."""
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            if data.year_source in ("标题", "表头", "工作簿"):
                continue
            source = YEAR_SOURCES.get(data.year_source)
            text = f"按{source}取为 {data.year} 年" if source else "无法确定年度（可用 --year 指定）"
            cells = (data.title_cell,) if data.title_cell else ()
            out.setdefault(row, []).append({"sheet": data.sheet, "cells": cells, "actual": text})
    return out


_DECLARED = re.compile(r"[(（]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]")


def _declared(ind: Any, level: str, what: str) -> tuple[float, Any] | None:
    """A 一级/二级指标's own 分值 or 得分: its column when the edition has one, or `(50分)` in its label."""
    point = ind.cells.get(f"{level}_{what}")
    if point is not None and point.number is not None:
        return point.number, point
    label = ind.cells.get(f"{level}_name")
    if what == "weight" and label is not None and isinstance(label.value, str):
        m = _DECLARED.search(label.value)
        if m:
            return float(m.group(1)), label
    return None


def level_totals(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """一级/二级指标 分值 and 得分 equal the sum over the 三级指标 under them."""
    weights = {c.key: c.weight for c in ctx.profile.categories}
    out: Details = {}
    for row in range(len(frame.points)):
        for data in _sheets(frame, ctx, row):
            for level in ("level1", "level2"):
                groups: dict[str, list[Any]] = {}
                for ind in data.indicators:
                    name = ind.cells.get(f"{level}_name")
                    if name is not None and name.filled:  # by text: units write 产出指标(50分) on every row too
                        groups.setdefault(f"{ind.level1}|{name.value}", []).append(ind)
                for members in groups.values():
                    for what, word in (("weight", "分值"), ("score", "得分")):
                        declared = _declared(members[0], level, what)
                        if declared is not None and level == "level1" and what == "weight":
                            profile_weight = weights.get(members[0].level1)
                            if profile_weight is not None and abs(profile_weight - declared[0]) < 1e-9:
                                continue  # the profile's weight: A2/A3.WEIGHT.CAT reports a wrong sum once
                        values = [m.cells[what] for m in members if what in m.cells]
                        if declared is None or not values or any(v.unknown or v.number is None for v in values):
                            continue  # a blank or text 三级 value is reported where it is, not again here
                        total = sum(v.number or 0.0 for v in values)
                        tol = declared[1].tolerance + sum(v.tolerance for v in values) + 1e-9
                        if abs(total - declared[0]) > tol:
                            label = str(members[0].cells[f"{level}_name"].value)
                            out.setdefault(row, []).append(
                                {
                                    "sheet": data.sheet,
                                    "cells": declared[1].cells + tuple(c for v in values for c in v.cells),
                                    "label": f"{label}的{word}",
                                    "actual": format_number(declared[0], decimals=1),
                                    "expected": format_number(total, decimals=1),
                                }
                            )
    return out


def indicator_category(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """An indicator filed under the wrong 一级指标: its 二级指标 belongs to another 一级 in the profile."""
    owner = {sub: cat for cat in ctx.profile.categories for sub in cat.subs}
    keys = {cat.key: cat for cat in ctx.profile.categories}
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        if ind is None or ind.level1 not in keys or ind.level2 not in owner:
            continue
        home = owner[ind.level2]
        if home.key != ind.level1:
            where = ind.cells.get("level2_name") or ind.cells.get("name")
            out[row] = [
                {
                    "cells": where.cells if where is not None else (),
                    "label": ind.level2,
                    "expected": home.label,
                    "actual": keys[ind.level1].label,
                }
            ]
    return out


NATURES = ("=", "＝", "≥", "≤", ">", "<", ">=", "<=", "＞", "＜", "定性", "定量", "定量指标", "定性指标")


def indicator_nature(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """指标性质 is one of = ≥ ≤ > < or 定性/定量."""
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        nature = ind.cells.get("nature") if ind is not None else None
        if nature is not None and nature.filled and str(nature.value).strip() not in NATURES:
            out[row] = [{"actual": str(nature.value)}]
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
    if target.unit and actual.unit and target.unit != actual.unit:
        return None  # 万元 against 元: not comparable as written
    t, a = float(target.value), float(actual.value)  # type: ignore[arg-type]
    if target.percent != actual.percent:  # "96" against "≥95%": a bare number in a percent row means 96%
        if target.percent and a > 1.5:
            a /= 100
        elif actual.percent and t > 1.5:
            t /= 100
        else:
            return None
    return t, a


@functools.lru_cache(maxsize=16_384, typed=True)
def _parsed(raw: Any) -> Parsed:
    """`parse_value` of an indicator's 指标值 or 完成值: the same few hundred texts (≥95%, 100%, 达标) recur in
    every unit of a batch, and two rules read each."""
    return parse_value(raw)


def expected_score(ind: Any, weight: float) -> tuple[float, float, str] | None:
    """(lowest, highest) score the 完成值 earns against the 指标值, and how it was judged."""
    if "target" not in ind.cells or "actual" not in ind.cells:
        return None  # an edition without 指标值/完成值 columns
    target, actual = _parsed(ind.cells["target"].raw), _parsed(ind.cells["actual"].raw)
    q = _quantities(target, actual)
    if q is not None:
        t, a = q
        name = str(ind.cells["name"].value or "") if "name" in ind.cells else ""
        reverse = target.op in ("<=", "<") or (
            target.op is None and (ind.level2 in REVERSE_SUBS or any(w in name for w in REVERSE_NAMES))
        )
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
        if "weight" not in ind.cells or "score" not in ind.cells:
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
            detail: dict[str, Any] = {"expected": expected, "actual": format_number(score, decimals=1)}
            coef = ind.cells.get("coef")
            if coef is not None and coef.filled:  # the 得分系数 the unit gave is where the score was decided
                keys = ("coef", "score", "target", "actual", "weight")
                detail["cells"] = tuple(c for k in keys if k in ind.cells for c in ind.cells[k].cells)
            out[row] = [detail]
    return out


def indicator_reason(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """得分 below 分值 and no reason given: in the 偏差原因 column, or the 指标说明 of an edition without one;
    an edition with neither asks for it in the 自评报告."""
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        if ind is None or "weight" not in ind.cells or "score" not in ind.cells:
            continue
        weight, score = ind.cells["weight"].number, ind.cells["score"].number
        if weight is None or score is None or score >= weight:
            continue
        holder = ind.cells.get("reason") or ind.cells.get("explain")
        if holder is not None and holder.cells and holder.filled:
            continue
        if holder is not None and holder.cells:
            where = "须填写偏差原因分析及改进措施" if "reason" in ind.cells else "须在指标说明中写明扣分原因"
            cells = holder.cells + ind.cells["score"].cells + ind.cells["weight"].cells
        else:
            where = "本表没有填写偏差原因的栏目，请在自评报告中说明扣分原因"
            cells = ind.cells["score"].cells + ind.cells["weight"].cells
        out[row] = [{"cells": cells, "where": where}]
    return out


def indicator_overachieve(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """完成值 ≥ 130% of 指标值 with no explanation."""
    ratio = ctx.profile.params.get("overachieve_ratio", 1.3)
    out: Details = {}
    for row, ind in enumerate(frame.indicators):
        if ind is None or "reason" not in ind.cells or ind.cells["reason"].filled or ind.level2 in REVERSE_SUBS:
            continue
        if "target" not in ind.cells or "actual" not in ind.cells:
            continue
        target, actual = _parsed(ind.cells["target"].raw), _parsed(ind.cells["actual"].raw)
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


# --- the 自评报告 and text cells (pipeline/rules/statements.py) ------------------------------------------


def _per_submission(frame: Frame, ctx: Context, fn: Callable[[Any], Any], **fixed: Any) -> Details:
    out: Details = {}
    for row in range(len(frame.points)):
        for detail in fn(ctx.submissions[frame.subs[row]]):
            out.setdefault(row, []).append({**fixed, **detail})
    return out


def report_figure(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A figure the report states differs from the table it repeats."""
    from pipeline.rules import statements

    def wrong(sub: Any) -> Any:
        return (d for d in statements.report_figures(sub) if d.pop("rule") == "figure")

    return _per_submission(frame, ctx, wrong, sheet="自评报告", cells=())


def report_unit(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """An amount the report gives in 元 that the table has in 万元 (or the other way round)."""
    from pipeline.rules import statements

    def mixed(sub: Any) -> Any:
        return (d for d in statements.report_figures(sub) if d.pop("rule") == "unit")

    return _per_submission(frame, ctx, mixed, sheet="自评报告", cells=())


def report_breakdown(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A total the report states, followed by 其中 and items that do not add up to it."""
    from pipeline.rules import statements

    return _per_submission(frame, ctx, statements.report_breakdowns, sheet="自评报告", cells=())


def text_breakdown(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """The same in the workbook's text cells (预期目标, 实际完成情况, 偏差原因…)."""
    from pipeline.rules import statements

    return _per_submission(frame, ctx, statements.text_breakdowns)


def report_problem(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """A report came but its text could not be read (a scan, a .doc without LibreOffice…)."""
    out: Details = {}
    for row in range(len(frame.points)):
        report = ctx.submissions[frame.subs[row]].report
        if report is not None and report.problem:
            out[row] = [{"sheet": "自评报告", "cells": (), "label": report.file.name, "actual": report.problem}]
    return out


def report_missing(rule: Rule, frame: Frame, ctx: Context) -> Details:
    """No report with the workbook, where the profile requires one (params.report_required = 1)."""
    if not ctx.profile.params.get("report_required"):
        return {}
    out: Details = {}
    for row in range(len(frame.points)):
        if ctx.submissions[frame.subs[row]].report is None:
            out[row] = [{"sheet": "自评报告", "cells": ()}]
    return out


REGISTRY: dict[str, Builtin] = {
    fn.__name__: fn
    for fn in (
        text_in_number_cell,
        amount_in_yuan,
        report_date,
        missing_form,
        unread_block,
        template_prompt,
        year_source,
        untitled_table,
        level_totals,
        indicator_nature,
        indicator_category,
        report_figure,
        report_unit,
        report_breakdown,
        text_breakdown,
        report_problem,
        report_missing,
        missing_label,
        uncalculated_formula,
        indicator_scoring,
        indicator_overachieve,
        indicator_reason,
    )
}
