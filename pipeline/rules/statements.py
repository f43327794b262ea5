"""Figures stated in prose → checks against the unit's own tables.

A 自评报告 repeats the tables in sentences: 核定事业编制为40名, 基本支出586.92万元。其中，…, 公用经费执行率95%.
Each figure (a number with 名/人, 万元/元, %, 分) is tied to a table point by the words right before it
(schemas/statements.toml), compared with that point within the precision it was written with, and a
stated total followed by 其中 … is compared with the sum of the items the sentence lists. Text cells of
the workbook (预期目标, 实际完成情况, 偏差原因…) get the breakdown check too: a goal listing amounts whose
parts do not add up is a finding at its cell.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import definitions
from pipeline.errors import DefinitionError
from pipeline.model import Point, Submission
from pipeline.read.values import format_number
from pipeline.rules.catalogue import Interval, evaluate, parse_expr
from pipeline.settings import SCHEMAS_DIR

KINDS = {"万元": "amount", "亿元": "amount", "元": "amount", "名": "count", "人": "count", "%": "rate", "分": "score"}
SCALE = {"万元": 1.0, "亿元": 10000.0, "元": 0.0001, "%": 0.01}
_FIGURE = re.compile(r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)(?P<unit>万元|亿元|元|名|人|%|分)")
_SENTENCE_END = "。！？；;!?"
_APPROX_BEFORE = ("约", "近", "超过", "逾", "达到约")
_APPROX_AFTER = ("余", "多", "以上", "左右", "以内", "以下")
#: Words between a figure's name and its number that make it a plan, not an outcome.
_NOT_OUTCOME = ("预算", "计划", "目标", "年初", "控制在", "不超过")


@dataclass(frozen=True, slots=True)
class Tie:
    point: str  # point key or expression
    kind: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """One number with its unit as written in a paragraph."""

    paragraph: int  # 1-based
    sentence: str
    written: str  # "586.92万元"
    value: float  # in the table's unit: 万元 for amounts, a ratio for rates
    tol: float
    kind: str
    unit: str
    start: int
    end: int
    point: str | None = None
    name: str | None = None  # the words that tied it


@functools.cache
def load_ties(schemas_dir: Path = SCHEMAS_DIR) -> tuple[Tie, ...]:
    path = schemas_dir / "statements.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        definitions.check_statements(raw, path.name)
        ties = tuple(Tie(f["point"], f["kind"], tuple(f["words"])) for f in raw.get("figures", []))
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise DefinitionError(f"无法读取 {path.name}：{exc}") from exc
    for tie in ties:
        if tie.kind not in set(KINDS.values()):
            raise DefinitionError(f"{path.name}：{tie.point} 的 kind = {tie.kind!r} 应为 count/amount/rate/score")
        parse_expr(tie.point, rule_id=f"{path.name} {tie.point}")
    return ties


def clean(text: str) -> str:
    """NFKC and no whitespace: PDF text breaks lines and words anywhere."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def sentences(paragraph: str) -> Iterator[tuple[int, int]]:
    start = 0
    for i, ch in enumerate(paragraph):
        if ch in _SENTENCE_END:
            yield start, i + 1
            start = i + 1
    if start < len(paragraph):
        yield start, len(paragraph)


def figures(paragraph: str, number: int, ties: tuple[Tie, ...] | None = None) -> list[Figure]:
    """Every figure of one (cleaned) paragraph, tied to a point where its words say which."""
    ties = load_ties() if ties is None else ties
    out: list[Figure] = []
    for s0, s1 in sentences(paragraph):
        sentence = paragraph[s0:s1]
        previous = s0
        for m in _FIGURE.finditer(paragraph, s0, s1):
            before, after = paragraph[max(s0, m.start() - 3) : m.start()], paragraph[m.end() : m.end() + 2]
            unit = m.group("unit")
            approx = before.endswith(_APPROX_BEFORE) or after.startswith(_APPROX_AFTER)
            if unit == "分" and paragraph[m.end() : m.end() + 1] in ("之", "比"):  # 百分之, 分比: not a score
                approx = True
            digits = m.group("num").replace(",", "")
            decimals = len(digits.partition(".")[2])
            scale = SCALE.get(unit, 1.0)
            clause = paragraph[previous : m.start()]
            previous = m.end()
            if approx:
                continue
            kind = KINDS[unit]
            point, name = _tie(clause, kind, ties)
            out.append(
                Figure(
                    number,
                    sentence,
                    m.group(0),
                    float(digits) * scale,
                    0.5 * 10.0**-decimals * scale,
                    kind,
                    unit,
                    m.start(),
                    m.end(),
                    point,
                    name,
                )
            )
    return out


def _tie(clause: str, kind: str, ties: tuple[Tie, ...]) -> tuple[str | None, str | None]:
    """The point whose words end nearest the number (longest first); none if the words are a plan's."""
    best: tuple[int, int, Tie, str] | None = None
    for tie in ties:
        if tie.kind != kind:
            continue
        for word in tie.words:
            at = clause.rfind(word)
            if at >= 0:
                key = (at + len(word), len(word))
                if best is None or key > best[:2]:
                    best = (key[0], key[1], tie, word)
    if best is None:
        return None, None
    between = clause[best[0] :]
    if any(w in between or w in clause[max(0, best[0] - best[1] - 4) : best[0]] for w in _NOT_OUTCOME):
        return None, None
    return best[2].point, best[3]


# --- comparing with the tables --------------------------------------------------------------------


def table_value(sub: Submission, expr: str) -> tuple[Interval, list[Point]] | None:
    """A point expression evaluated on the submission's tables, with the points it read."""
    points = {k: p for data in sub.forms.values() for k, p in data.points.items()}
    used: list[Point] = []

    def lookup(name: str) -> Interval:
        p = points.get(name)
        if p is None or p.number is None:
            nan = np.array([np.nan])
            return nan, nan, nan
        used.append(p)
        v = np.array([p.number])
        return v - p.tolerance, v + p.tolerance, v

    lo, hi, mid = evaluate(parse_expr(expr, rule_id="statements"), lookup)
    if np.isnan(mid).any():
        return None
    return (lo, hi, mid), used


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] + 1e-9 and b[0] <= a[1] + 1e-9


def _shown(value: float, kind: str) -> str:
    if kind == "rate":
        return format_number(value, decimals=4, percent=True)
    if kind == "amount":
        return f"{format_number(value)}万元"
    return format_number(value, decimals=2 if kind == "score" else 0)


QUOTE_CHARS = 90  # a quoted sentence longer than this is cut: the paragraph number finds the rest


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def _where(points: list[Point]) -> str:
    refs = [f"{p.sheet}!{p.cells[0]}" for p in points if p.sheet and p.cells]
    return "、".join(dict.fromkeys(refs))


def report_figures(sub: Submission) -> Iterator[dict[str, object]]:
    """Figures of the report that disagree with the table they repeat (and 元/万元 mix-ups)."""
    if sub.report is None:
        return
    for n, paragraph in enumerate((clean(p) for p in sub.report.paragraphs), start=1):
        for fig in figures(paragraph, n):
            if fig.point is None:
                continue
            found = table_value(sub, fig.point)
            if found is None:
                continue
            (lo, hi, mid), used = found
            table = (float(lo[0]), float(hi[0]))
            if _overlaps((fig.value - fig.tol, fig.value + fig.tol), table):
                continue
            detail: dict[str, object] = {
                "rule": "figure",
                "para": n,
                "sentence": _quote(fig.sentence),
                "label": fig.name,
                "actual": fig.written,
                "expected": _shown(float(mid[0]), fig.kind),
                "ref": _where(used),
            }
            if fig.kind == "amount" and fig.unit in ("元", "万元"):
                other = fig.value * (10000.0 if fig.unit == "元" else 0.0001)
                other_tol = fig.tol * (10000.0 if fig.unit == "元" else 0.0001)
                if _overlaps((other - other_tol, other + other_tol), table):
                    detail["rule"] = "unit"
            yield detail


def breakdowns(paragraph: str, number: int) -> Iterator[tuple[Figure, list[Figure], float, str]]:
    """A total followed by 其中 and the items of that sentence whose sum is off: (total, items, Σ, the
    sentences quoted from the total to the last item)."""
    found = figures(paragraph, number)
    for i, total in enumerate(found):
        if total.kind != "amount":
            continue
        head = paragraph[total.end : total.end + 4]
        if "其中" not in head:
            continue
        start = total.end + head.index("其中")
        end = next((e for s, e in sentences(paragraph) if s <= start < e), len(paragraph))
        items = [f for f in found[i + 1 :] if f.kind == "amount" and start <= f.start < end]
        if len(items) < 2:
            continue
        subtotal = sum(f.value for f in items)
        tol = total.tol + sum(f.tol for f in items)
        if abs(subtotal - total.value) > tol + 1e-9:
            first = next(s for s, e in sentences(paragraph) if s <= total.start < e)
            yield total, items, subtotal, paragraph[first:end]


def report_breakdowns(sub: Submission) -> Iterator[dict[str, object]]:
    if sub.report is None:
        return
    for n, paragraph in enumerate((clean(p) for p in sub.report.paragraphs), start=1):
        for total, _items, subtotal, quote in breakdowns(paragraph, n):
            yield {
                "para": n,
                "sentence": _quote(quote),
                "actual": total.written,
                "expected": f"{format_number(subtotal, decimals=4).rstrip('0').rstrip('.')}万元",
            }


#: Text cells whose prose may list amounts: goals, outcomes, reasons, measures.
TEXT_POINTS = ("goal.expected", "goal.actual", "goal.adjusted", "summary", "frugality", "conclusion")


def text_breakdowns(sub: Submission) -> Iterator[dict[str, object]]:
    """The same breakdown check inside the workbook's own text cells."""
    for data in [*sub.forms.values(), *sub.projects]:
        texts = [(k, p) for k, p in data.points.items() if k.split(".", 1)[1] in TEXT_POINTS]
        texts += [("reason", ind.cells["reason"]) for ind in data.indicators if "reason" in ind.cells]
        for _key, point in texts:
            if not isinstance(point.value, str):
                continue
            for total, _items, subtotal, quote in breakdowns(clean(point.value), 1):
                yield {
                    "sheet": point.sheet,
                    "cells": point.cells,
                    "sentence": _quote(quote),
                    "actual": total.written,
                    "expected": f"{format_number(subtotal, decimals=4).rstrip('0').rstrip('.')}万元",
                }
