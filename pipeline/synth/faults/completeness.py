"""Completeness faults: required cells, sheets and labels left out."""

from __future__ import annotations

from pathlib import Path

from pipeline.synth.faults.base import (
    COLS,
    ROW_ZH,
    SUM_RULE,
    SUMS,
    _ind,
    _num,
    _p,
    _pick,
    _project,
    _rescore,
    _score_key,
    fault,
)
from pipeline.synth.faults.edit import _retitle
from pipeline.synth.units import Draft, Sheet, number


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


@fault("req.totals", "completeness", "a1.public")
def _req_totals(d: Draft) -> bool:
    """公用经费 left blank with its lines: nothing to add up, the blank total is reported as not filled."""
    col = d.rng.choice(("budget", "actual"))
    d.touch(*(f"a1.{r}.{c}" for r in ("public", *SUMS["public"]) for c in COLS))
    for part in SUMS["public"]:
        d.a1.values[f"a1.{part}.{col}"] = None
    return _blank(d, d.a1, f"a1.public.{col}", "A1.REQ.TOTALS")


@fault("req.totalsum", "completeness", "a1.sangong", "a1.project", "a1.public")
def _req_totalsum(d: Draft) -> bool:
    """A total left blank while its parts are filled."""
    v = d.a1.values
    row, col = d.rng.choice(("sangong", "project", "public")), d.rng.choice(("budget", "actual"))
    key = f"a1.{row}.{col}"
    d.touch(*(f"a1.{r}.{c}" for r in (row, *SUMS[row]) for c in COLS))
    inserted = [cells for funds in d.fill.special_rows.values() for _, cells in funds] if row == "project" else []
    parts = sum(_num(v, f"a1.{p}.{col}") for p in SUMS[row]) + sum(_num(c, col) for c in inserted)
    if abs(parts) <= 0.005:
        return _blank(d, d.a1, key, "A1.REQ.TOTALS")
    v[key] = None  # a blank total counts as 0: its sum reports the cell, with what the parts add up to (once)
    d.expect(SUM_RULE[row], "completeness", _p("a1", key), f"{ROW_ZH[row]} 合计未填，分项合计 {parts:g}")
    return True


@fault("req.a3total", "completeness", "a3.sumscore", "ind.req", project=True)
def _req_a3total(d: Draft) -> bool:
    """合计 得分 left blank with a 三级 score still blank: the sum cannot be judged, the blanks are reported."""
    s = _project(d)
    hit = _pick(d, ("count", "pct", "full", "cost", "date", "text", "qual"), sheets=[s]) if s is not None else None
    if s is None or hit is None:
        return False
    ind = hit[1]
    key = _score_key(s)
    d.touch(key)
    ind.row.score = None
    d.expect("IND.REQ.FIELDS", "completeness", _ind(s, ind, "score"), f"“{ind.row.name}”的 score 未填写")
    return _blank(d, s, key, "A3.REQ.TOTAL")


@fault("itemise.a1", "completeness", "a1.sangong", "a1.project", "a1.public")
def _itemise_a1(d: Draft) -> bool:
    """A 附件1 total filled while every part under it is left blank (not itemised)."""
    v = d.a1.values
    row, col = d.rng.choice(("project", "public")), d.rng.choice(("budget", "actual"))
    key = f"a1.{row}.{col}"
    if abs(_num(v, key)) <= 0.005 or (row == "project" and any(d.fill.special_rows.values())):
        return False
    d.touch(*(f"a1.{r}.{c}" for r in (row, *SUMS[row]) for c in COLS))
    for part in SUMS[row]:
        v[f"a1.{part}.{col}"] = None
    d.expect("SUM.ITEMISE", "completeness", _p("a1", key), f"{ROW_ZH[row]}（{col}）已填，其下各项均未填写")
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
