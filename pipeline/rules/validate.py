"""Submissions → findings: the rule catalogue run as pandera checks over a whole batch at once.

Three frames are built from all submissions of a batch — "unit" (附件1 + 附件2, one row per workbook),
"project" (one row per 附件3 sheet) and "indicator" (one row per 三级指标) — and every rule becomes one
pandera check on a narrow slice of its frame, run once per batch (a check costs about the same for 1 row
as for 10,000). Failing rows come back as findings that name their cells.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline.forms import Form, Profile, edition_points, for_year, load_editions, load_forms, load_profile
from pipeline.model import Finding, FormData, Indicator, Point, Submission
from pipeline.read.points import INDICATOR_TYPES, NUMERIC_TYPES, combine
from pipeline.read.values import format_number, normalize
from pipeline.rules import builtins
from pipeline.rules.catalogue import FRAMES, Interval, Lookup, Rule, dotted, evaluate, holds, load_rules, names_in
from pipeline.rules.context import Context, Frame
from pipeline.rules.previous import FILE_KEY, PREFIX, previous_points, previous_types
from pipeline.rules.semantics import once, whole_note, whole_scores

log = logging.getLogger(__name__)


def validate(
    submissions: Sequence[Submission], *, profile: Profile | None = None, forms: dict[str, Form] | None = None
) -> list[list[Finding]]:
    """Findings for each submission, in order, from one pass of the catalogue over the whole batch."""
    forms = forms or load_forms()
    profile = profile or load_profile()
    types = point_types(profile)
    rules = compile_rules(profile, types)
    prev_keys = tuple(dict.fromkeys(p for r in rules for p in r.points if p.startswith(PREFIX)))
    ctx = Context(submissions, forms, profile, vocabulary(forms, profile), types, profile_params(profile), prev_keys)
    needed = {name: frozenset(p for r in rules if r.frame == name for p in r.points) for name in FRAMES}
    frames = build_frames(ctx, needed)
    out: list[list[Finding]] = [[] for _ in submissions]
    for name, frame in frames.items():
        if frame.data.empty:
            continue
        for row, finding in run_frame(frame, [r for r in rules if r.frame == name], ctx):
            out[frame.subs[row]].append(finding)
    order = {rule.id: n for n, rule in reversed(list(enumerate(rules)))}
    kinds = {rule.id: rule.kind for rule in rules}
    out = [once(findings, kinds) for findings in out]
    for findings in out:
        findings.sort(key=lambda f: order.get(f.rule, len(order)))  # catalogue order, as a reader expects
    if profile.explainable:
        out = [explained_errors(s, f, profile.explainable) for s, f in zip(submissions, out, strict=True)]
    return out


def compile_rules(profile: Profile, types: dict[str, str] | None = None) -> list[Rule]:
    """The catalogue expanded for a profile, every point a rule names checked against the editions: called
    before a run touches a file, so a broken catalogue stops it with nothing moved (DefinitionError)."""
    types = point_types(profile) if types is None else types
    percent = frozenset(k for k, t in types.items() if t == "percent")
    return load_rules(profile, percent_points=percent, known=frozenset(types))


def explained_errors(sub: Submission, findings: list[Finding], rules: tuple[str, ...]) -> list[Finding]:
    """Errors of the rules a profile lets a unit explain, that the unit did explain, become warnings (and so
    count as 已说明); every other error stays an error whatever the unit wrote."""
    out: list[Finding] = []
    for f in findings:
        ref = f.cells[0] if f.cells else ""
        note = sub.explanations.get((f.rule, f.sheet, ref)) or sub.explanations.get((f.rule, "", ref))
        if f.level == "error" and f.rule in rules and note:
            f = dataclasses.replace(f, level="warning", message=f"{f.message}（按审核口径可由单位说明）")
        out.append(f)
    return out


def point_types(profile: Profile) -> dict[str, str]:
    """Every point key a rule may name → its type: the editions' points, years, indicator sums and columns."""
    types = {key: f.type for key, f in edition_points().items()}
    types.update({f"{fid}.year": "text" for fid in ("a1", "a2", "a3")})
    for fid in ("a2", "a3"):
        for group in (*(c.key for c in profile.categories), "all"):
            types.update({f"{fid}.ind.w.{group}": "score", f"{fid}.ind.s.{group}": "score"})
    types.update({key: INDICATOR_TYPES.get(key, "target") for key in INDICATOR_COLUMNS})
    types.update(previous_types(types))
    return types


#: The cells an indicator row may have, over every edition (level1/level2 are read as categories).
INDICATOR_COLUMNS = tuple(
    dict.fromkeys(
        f.key
        for form in load_editions()
        for sec in form.sections
        if sec.kind == "indicators"
        for f in sec.fields
        if f.key not in ("level1", "level2")
    )
)


# --- frames ---------------------------------------------------------------------------------------


#: The blank points that fill a frame row where a sheet or an edition has nothing: one shared instance
#: per kind (read only), not one object per key and unit (a million at 10,000 units).
_BLANKS = {
    "unknown": Point(None, "", (), unknown=True),
    "absent": Point(None, "", (), absent=True),
    "": Point(None, "", ()),
}


def _blank_points(keys: Sequence[str], *, unknown: bool = False, absent: bool = False) -> dict[str, Point]:
    blank = _BLANKS["unknown" if unknown else "absent" if absent else ""]
    return dict.fromkeys(keys, blank)


def build_frames(ctx: Context, needed: dict[str, frozenset[str]] | None = None) -> dict[str, Frame]:
    """The unit, project and indicator frames; with `needed`, only the columns the rules read (a frame
    over every point of every edition would be several times wider than the catalogue needs)."""
    all_keys = [k for k in ctx.types if "." in k and not k.endswith(".year") and ".ind." not in k]
    all_keys = [k for k in all_keys if not k.startswith(PREFIX)]  # last year's: only those rules name, below
    unit_keys = [k for k in all_keys if k.startswith(("a1.", "a2."))]
    project_keys = [k for k in all_keys if k.startswith("a3.")]
    units: list[dict[str, Point]] = []
    projects: list[dict[str, Point]] = []
    indicators: list[Indicator] = []
    unit_subs, project_subs, ind_subs = [], [], []
    unit_years, project_years, ind_years = [], [], []
    unit_whole, project_whole, ind_whole = [], [], []  # the table reports whole-point scores (rules.semantics)
    for i, sub in enumerate(ctx.submissions):
        a1_year = sub.forms["a1"].year if "a1" in sub.forms else None
        points = _blank_points(unit_keys, unknown=True)  # a missing sheet is unknown
        for fid in ("a1", "a2"):
            if fid in sub.forms:
                points.update(_blank_points([k for k in unit_keys if k.startswith(fid)], absent=True))
                points.update(form_points(sub.forms[fid], ctx.profile))
        points.update(previous_points(sub, ctx.prev_keys))
        units.append(points)
        unit_subs.append(i)
        unit_whole.append(whole_scores(sub.forms.get("a2")))
        unit_years.append(sub.year)
        for project in sub.projects:
            p = _blank_points(project_keys, absent=True)  # what this project's edition has not
            p.update(form_points(project, ctx.profile))
            p["a1.year"] = year_point(sub.forms.get("a1"))
            p["a1.year"].unknown = "a1" not in sub.forms
            projects.append(p)
            project_subs.append(i)
            project_whole.append(whole_scores(project))
            project_years.append(project.year or a1_year)
        for data in [sub.forms.get("a2"), *sub.projects]:
            whole = whole_scores(data)
            for ind in data.indicators if data else []:
                indicators.append(ind)
                ind_subs.append(i)
                ind_whole.append(whole)
                ind_years.append(data.year if data else None)
    need = needed or {}
    ind_keys = [k for k in INDICATOR_COLUMNS if "indicator" not in need or k in need["indicator"]]
    ind_points = [{**_blank_points(ind_keys, absent=True), **ind.cells} for ind in indicators]
    unit_frame = to_frame(units, ctx.types, keys=need.get("unit"))
    project_frame = to_frame(projects, ctx.types, keys=need.get("project"))
    ind_frame = to_frame(ind_points, ctx.types, prefix="", keys=need.get("indicator"))
    for df, flags in ((unit_frame, unit_whole), (project_frame, project_whole), (ind_frame, ind_whole)):
        if not df.empty:
            df["_whole"] = np.asarray(flags, dtype=float)
    return {
        "unit": Frame("unit", unit_frame, units, unit_subs, unit_years),
        "project": Frame("project", project_frame, projects, project_subs, project_years),
        "indicator": Frame("indicator", ind_frame, ind_points, ind_subs, ind_years, list(indicators)),
    }


def year_point(data: FormData | None) -> Point:
    if data is None or data.year is None:
        return Point(None, "", ())
    return data.points.get(f"{data.form}.year") or Point(str(data.year), data.sheet, ())


def form_points(data: FormData, profile: Profile) -> dict[str, Point]:
    """A form's points plus the year and the indicator sums the rules refer to."""
    points = dict(data.points)
    if data.form in ("a2", "a3"):
        groups: dict[str, list[Indicator]] = {c.key: [] for c in profile.categories}
        for ind in data.indicators:
            groups.setdefault(ind.level1, []).append(ind)
        for key, members in [*groups.items(), ("all", data.indicators)]:
            for col, short in (("weight", "w"), ("score", "s")):
                parts = [m.cells[col] for m in members if col in m.cells]
                total = combine(parts) if parts else Point(None, data.sheet, ())
                if any(not isinstance(p.value, float) for p in parts):  # a blank is reported where it is
                    total = Point(None, data.sheet, tuple(c for p in parts for c in p.cells))
                points[f"{data.form}.ind.{short}.{key}"] = total
    return points


def to_frame(
    rows: list[dict[str, Point]],
    types: dict[str, str],
    *,
    prefix: str = "x",
    keys: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Values (NaN when blank or not a number), tolerances and, for texts, normalised text; with `keys`,
    only those points."""
    if not rows:
        return pd.DataFrame()
    records: list[dict[str, Any]] = []
    for points in rows:
        rec: dict[str, Any] = {}
        for key, p in points.items():
            if keys is not None and key not in keys:
                continue
            numeric = types.get(key, "amount" if prefix else _indicator_type(key)) in NUMERIC_TYPES
            if numeric and isinstance(p.value, float):
                rec[key] = p.value
            elif not numeric and p.filled:
                rec[key] = 1.0  # texts and dates: the frame only needs to know they are there
                rec[f"{key}@text"] = normalize(str(p.value)) or str(p.value)
            else:
                rec[key] = np.nan
            rec[f"{key}@tol"] = p.tolerance
            if p.unknown:
                rec[f"{key}@unknown"] = 1.0
            if p.absent or (p.value is None and not p.cells and not p.unknown):
                rec[f"{key}@absent"] = 1.0  # a label not found on the table: GEN.LABEL reports it, once
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _indicator_type(key: str) -> str:
    return INDICATOR_TYPES.get(key, "text")


# --- running one rule -----------------------------------------------------------------------------


def run_frame(frame: Frame, rules: Sequence[Rule], ctx: Context) -> list[tuple[int, Finding]]:
    """Run every rule on one frame as a pandera check, each called once on the whole frame.

    Each check is given a one-column frame of row numbers and reads the values it needs from the full frame
    by those rows; its boolean output says which rows fail. The checks are called directly rather than
    through `DataFrameSchema.validate(lazy=True)`, whose error report (built for every failing check and
    thrown away here) took half the time of a batch's validation; the findings are the same (compared over
    the 1,000-unit bench corpus).
    """
    details: dict[str, dict[int, list[dict[str, Any]]]] = {}
    checks: list[pa.Check] = []
    names: dict[str, Rule] = {}
    for n, rule in enumerate(rules):
        name = f"{rule.id}#{n}"
        names[name] = rule
        if rule.kind == "builtin":
            fn = builtins.REGISTRY.get(rule.check or "")
            if fn is None:
                raise KeyError(f"rule {rule.id}: no builtin check named {rule.check!r}")
            details[name] = fn(rule, frame, ctx)
        checks.append(pa.Check(_check_fn(rule, frame, ctx, details.get(name)), name=name, ignore_na=False))
    rows = pd.DataFrame({"_row": np.arange(len(frame.data))}, index=frame.data.index)
    failed: dict[str, list[int]] = {}
    for name, check in zip(names, checks, strict=True):  # each on the whole frame: which rows fail is all we need
        outcome = check(rows)
        if not outcome.check_passed:
            failed[name] = [int(i) for i in rows.index[~outcome.check_output.to_numpy(dtype=bool)]]
    out: list[tuple[int, Finding]] = []
    for name, rule in names.items():
        failing = sorted(failed.get(name, ()))
        nominal = _nominal(rule, frame, failing, ctx.params) if rule.left is not None and failing else {}
        for row in failing:
            for detail in details.get(name, {}).get(row, [{}]):
                out.append((row, make_finding(rule, frame, row, ctx, detail, nominal.get(row))))
    return out


def _nominal(rule: Rule, frame: Frame, rows: list[int], params: dict[str, float]) -> dict[int, tuple[float, float]]:
    """(left, right) of a relation at its written values, for the failing rows only."""
    assert rule.left is not None and rule.right is not None
    columns = [c for p in rule.points for c in (p, f"{p}@tol") if c in frame.data.columns]
    lookup = _lookup(frame.data[columns].iloc[rows], rule.missing, params, rule.points[0])
    left = np.array(np.broadcast_to(evaluate(rule.left, lookup)[2], (len(rows),)), dtype=float)
    right = np.broadcast_to(evaluate(rule.right, lookup)[2], (len(rows),))
    name = dotted(rule.left)
    if name is not None and name in frame.data.columns:  # a blank total is shown blank, not as 0.00
        left = np.where(frame.data[name].iloc[rows].isna().to_numpy(), np.nan, left)
    return {row: (float(lv), float(rv)) for row, lv, rv in zip(rows, left, right, strict=True)}


def _check_fn(
    rule: Rule, frame: Frame, ctx: Context, details: dict[int, Any] | None
) -> Callable[[pd.DataFrame], pd.Series]:
    if details is not None:
        failing = list(details)
        return lambda df: ~df["_row"].isin(failing)
    columns = [
        c for p in rule.points for c in (p, f"{p}@tol", f"{p}@text", f"{p}@unknown", f"{p}@absent") if c in frame.data
    ]
    if rule.whole and "_whole" in frame.data:
        columns.append("_whole")
    data = frame.data[columns]
    return lambda df: pd.Series(relation_ok(rule, data.iloc[df["_row"].to_numpy()], ctx.params), index=df.index)


def relation_ok(rule: Rule, df: pd.DataFrame, params: dict[str, float]) -> np.ndarray:
    """Row-wise truth of a rule; a row where a value it reads is unknown passes (nothing to check), and
    so does a row whose form edition lacks a point the rule needs (a sum's missing parts count as 0)."""
    unknown = np.zeros(len(df), dtype=bool)
    for p in rule.points:
        if f"{p}@unknown" in df:
            unknown |= (df[f"{p}@unknown"] == 1.0).to_numpy()
    totals = rule.kind in ("sum", "itemised")
    conditional = set(names_in(rule.when)) - set(names_in(rule.left)) - set(names_in(rule.right))
    needed = rule.points[:1] if totals or rule.missing == "zero" else rule.points
    for p in needed:
        if f"{p}@absent" in df and p not in conditional:  # `when` alone reading an absent point: judged as false
            unknown |= (df[f"{p}@absent"] == 1.0).to_numpy()
    if totals and len(rule.points) > 1:
        bare = not_itemised(rule, df)  # no part filled: "not itemised" (kind itemised), never "≠ 0.00"
        if rule.kind == "itemised":
            total = df[rule.points[0]].fillna(0.0).ne(0.0).to_numpy() if rule.points[0] in df else False
            return ~(~unknown & bare & total & _asked(rule, df))
        unknown |= bare
    ok = _relation_ok(rule, df, params)
    if rule.when is not None and rule.kind != "required":
        ok |= ~_condition(rule, df, params)
    return ok | unknown


def not_itemised(rule: Rule, df: pd.DataFrame) -> np.ndarray:
    """Rows where no part of a sum is filled (each blank, or absent from the edition)."""
    none = np.ones(len(df), dtype=bool)
    for p in rule.points[1:]:
        none &= df[p].isna().to_numpy() if p in df else np.ones(len(df), dtype=bool)
    return none


def _asked(rule: Rule, df: pd.DataFrame) -> np.ndarray:
    """Rows whose edition has at least one of the sum's parts: the form asks for them to be itemised."""
    asked = np.zeros(len(df), dtype=bool)
    for p in rule.points[1:]:
        asked |= ~(df[f"{p}@absent"] == 1.0).to_numpy() if f"{p}@absent" in df else p in df
    return asked


def _relation_ok(rule: Rule, df: pd.DataFrame, params: dict[str, float]) -> np.ndarray:
    n = len(df)
    if rule.kind == "required":
        ok = np.ones(n, dtype=bool)
        for p in rule.points[:1]:
            ok &= df[p].notna().to_numpy() if p in df else np.zeros(n, dtype=bool)
        if rule.when is not None:
            ok |= ~_condition(rule, df, params)
        return ok
    if rule.kind == "same":
        texts = [df[f"{p}@text"] if f"{p}@text" in df else pd.Series([np.nan] * n, index=df.index) for p in rule.points]
        base = texts[-1]
        ok = np.ones(n, dtype=bool)
        for t in texts[:-1]:
            ok &= (t.isna() | base.isna() | (t == base)).to_numpy()
        return ok
    lookup = _lookup(df, rule.missing, params, rule.points[0])
    assert rule.left is not None and rule.right is not None
    right = evaluate(rule.right, lookup)
    if rule.whole and "_whole" in df:  # the table gives whole points: the exact figure rounds to one (8.6 → 9)
        whole = (df["_whole"] == 1.0).to_numpy()
        lo, hi, mid = right
        right = (np.where(whole, np.floor(lo + 0.5), lo), np.where(whole, np.floor(hi + 0.5), hi), mid)
    return holds(rule.op, evaluate(rule.left, lookup), right)


def _condition(rule: Rule, df: pd.DataFrame, params: dict[str, float]) -> np.ndarray:
    """Row-wise truth of a rule's `when`, on nominal values; unknown counts as false."""
    assert rule.when is not None
    lookup = _lookup(df, rule.missing if rule.kind != "required" else "skip", params, rule.points[0])
    return _truth(rule.when, lookup)


def _truth(node: ast.expr, lookup: Lookup) -> np.ndarray:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_truth(node.operand, lookup)  # `not (… == 100)`: an unknown sum makes the negation true
    assert isinstance(node, ast.Compare)
    left, right = evaluate(node.left, lookup)[2], evaluate(node.comparators[0], lookup)[2]
    op = type(node.ops[0])
    with np.errstate(invalid="ignore"):
        result = {
            ast.Lt: left < right,
            ast.LtE: left <= right,
            ast.Gt: left > right,
            ast.GtE: left >= right,
            ast.Eq: left == right,
            ast.NotEq: left != right,
        }[op]
    return np.asarray(result & ~np.isnan(left) & ~np.isnan(right), dtype=bool)


def _lookup(df: pd.DataFrame, missing: str, params: dict[str, float], total: str = "") -> Lookup:
    """Intervals of the points a rule reads. `missing` "zero": a blank counts as 0; "total": only the blank
    `total` does (a blank part is reported where it is, so the sum is not judged); "skip": blanks stay NaN."""
    n = len(df)

    def lookup(name: str) -> Interval:
        if name.startswith("param."):
            v = np.full(n, params.get(name[6:], np.nan))
            return v, v, v
        if name not in df:
            v = np.zeros(n) if missing == "zero" else np.full(n, np.nan)
            return v, v, v
        v = df[name].to_numpy(dtype=float)
        t = df[f"{name}@tol"].to_numpy(dtype=float) if f"{name}@tol" in df else np.zeros(n)
        if missing == "zero" or (missing == "total" and name == total):
            t = np.where(np.isnan(v), 0.0, t)
            v = np.nan_to_num(v, nan=0.0)
        return v - t, v + t, v

    return lookup


def profile_params(profile: Profile) -> dict[str, float]:
    """Profile values visible to expressions as param.<name> and param.weight_<category>."""
    return {**profile.params, **{f"weight_{c.key}": c.weight for c in profile.categories}}


# --- findings -------------------------------------------------------------------------------------


def make_finding(
    rule: Rule, frame: Frame, row: int, ctx: Context, detail: dict[str, Any], nominal: tuple[float, float] | None
) -> Finding:
    points = frame.points[row]
    year = frame.years[row] or 0
    conditional = set(names_in(rule.when)) - set(names_in(rule.left)) - set(names_in(rule.right))
    involved = [points[p] for p in rule.points if p in points and p not in conditional]  # not `when` alone
    primary = next((p for p in involved if p.cells), involved[0] if involved else Point(None, "", ()))
    sheet = detail.get("sheet", primary.sheet)
    cells = list(detail.get("cells", ()))
    others: list[str] = []
    if "cells" not in detail:
        for p in involved:
            for c in p.cells:
                if p.sheet == sheet and c not in cells:
                    cells.append(c)
                elif p.sheet and p.sheet != sheet and p.cells:
                    others.append(f"{p.sheet}!{p.cells[0]}")
    expected, actual = detail.get("expected"), detail.get("actual")
    if nominal is not None and not detail:
        decimals = _decimals(rule, frame, row, ctx.types)
        actual, expected = (
            format_number(None if np.isnan(v) else v, decimals=decimals, percent=rule.percent) for v in nominal
        )
    elif rule.kind == "same" and not detail:
        actual, expected = (str(points[p].value) if p in points else None for p in rule.points[:2])
    values = {"actual": actual or "（空）", "expected": expected or "（空）", "diff": _diff(actual, expected)}
    form = rule.points[0].split(".")[0] if rule.points and "." in rule.points[0] else ""
    values.update({k: label_of(v, ctx, year, form) for k, v in rule.bindings.items()})
    if FILE_KEY in points:  # a rule over last year's points: name both workbooks
        submission = ctx.submissions[frame.subs[row]]
        current = submission.previous.current if submission.previous else ""
        values.update({"prev_file": str(points[FILE_KEY].value or ""), "file": current or submission.file.name})
    if "name" in points:  # an indicator row: name it, the reviewer may be looking at the list, not the cell
        values["name"] = str(points["name"].value or "（未命名）")
    values.update({k: str(v) for k, v in detail.items() if k not in ("cells", "sheet")})
    if rule.kind == "itemised":  # the sum's total and parts, as the table labels them
        values["total"] = _point_label(rule.points[0], ctx, year)
        asked = [p for p in rule.points[1:] if p in points and points[p].cells and not points[p].absent]
        values["parts"] = "、".join(dict.fromkeys(_point_label(p, ctx, year, row_only=True) for p in asked))
    message = _format(rule.message, values)
    if rule.whole and "_whole" in frame.data and frame.data["_whole"].iloc[row] == 1.0:
        message += whole_note(expected)
    if frame.name == "project":  # several projects on one sheet: say which one
        project = points.get("a3.project_name")
        sheets = [d.sheet for d in ctx.submissions[frame.subs[row]].projects]
        if project is not None and project.filled and sheets.count(project.sheet) > 1:
            message = f"〔{project.value}〕{message}"
    if others:
        message += f"（对照：{'、'.join(dict.fromkeys(others))}）"
    reason = points.get("reason") if frame.name == "indicator" and rule.level == "warning" else None
    if reason is not None and isinstance(reason.value, str) and reason.value.strip():
        message += f"（单位填写的偏差原因：{_clip(reason.value.strip())}）"  # the unit's own word, beside ours
    return Finding(rule.id, rule.level, sheet, tuple(dict.fromkeys(cells)), message, expected, actual)  # type: ignore[arg-type]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"  # type: ignore[arg-type]


def _decimals(rule: Rule, frame: Frame, row: int, types: dict[str, str]) -> int:
    keys = [k for k in rule.points if k in names_in(rule.left) + names_in(rule.right)] or list(rule.points)
    points = [p for k in keys if (p := frame.points[row].get(k)) is not None]
    kinds = {types.get(k, "score" if frame.name == "indicator" else "amount") for k in keys}
    if kinds <= {"int"}:
        return 0  # headcounts
    floor = 4 if rule.percent else (2 if "amount" in kinds else 0)
    written = [p.decimals for p in points if p.decimals is not None]
    return max(max(written, default=floor), floor)


def _diff(actual: str | None, expected: str | None) -> str:
    try:
        a = float(str(actual).rstrip("%"))
        e = float(str(expected).rstrip("%"))
    except ValueError:
        return ""
    suffix = "%" if str(actual).endswith("%") else ""
    digits = max(len(str(x).rstrip("%").partition(".")[2]) for x in (actual, expected))
    return f"{a - e:+.{digits}f}{suffix}"


def _format(template: str, values: dict[str, str]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def vocabulary(forms: dict[str, Form], profile: Profile) -> dict[str, dict[str, str]]:
    """Per form, key → Chinese label for message placeholders ({col} → 2023年决算数, {cat} → 产出指标).

    Keys repeat across forms with other labels ("budget" is 2023年预算数 in 附件1, 全年预算数 in 附件2).
    """
    vocab: dict[str, dict[str, str]] = {}
    for fid, form in [*forms.items(), *((f.id, f) for f in load_editions())]:  # the primary's words first
        words = vocab.setdefault(fid, {})
        for sec in form.sections:
            for f in (*sec.fields, *(x for row in sec.field_rows for x in row)):
                words.setdefault(f.key, f.label)
            for r in sec.rows:
                words.setdefault(r.key, normalize(r.label) or r.label)
    words = vocab.setdefault("", {})
    for form in load_editions():  # indicator columns, named as the primary editions head them
        for sec in form.sections:
            if sec.kind == "indicators":
                for f in sec.fields:
                    words.setdefault(f.key, f.label)
    words.update({c.key: c.label for c in profile.categories})
    return vocab


def _point_label(key: str, ctx: Context, year: int, *, row_only: bool = False) -> str:
    """`a1.public.actual` → 公用经费（2023年决算数）; with `row_only`, 公用经费."""
    form, _, rest = key.partition(".")
    row, _, col = rest.partition(".")
    text = label_of(row, ctx, year, form)
    return text if row_only or not col else f"{text}（{label_of(col, ctx, year, form)}）"


def label_of(key: str, ctx: Context, year: int, form: str = "") -> str:
    text = ctx.vocab.get(form, {}).get(key) or ctx.vocab[""].get(key) or key
    return for_year(text, year) if year else text
