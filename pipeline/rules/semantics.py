"""How rules read real tables: whole-point scores, and one finding per blank cell.

Two habits of real filings that the relations alone would turn into false errors (issue #17):

- a table that reports every score as a whole number (9 for 8.6) is judged after rounding the exact
  figure to a whole point (`Rule.whole`); `whole_scores` says which tables do;
- one blank cell feeds several relations: a required field left blank is reported once, by the relation
  that says most about it (a blank total against the sum of its parts), not again by its `required` rule
  (`once`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from pipeline.model import Finding, FormData, Point

#: Points of a table that are scores (得分), not weights (分值): the indicator column and the totals.
SCORE_SUFFIXES = (".score",)
INDICATOR_SCORES = ("score", "level1_score", "level2_score")


def _scores(data: FormData) -> Iterable[Point]:
    yield from (p for key, p in data.points.items() if key.endswith(SCORE_SUFFIXES))
    for ind in data.indicators:
        yield from (ind.cells[k] for k in INDICATOR_SCORES if k in ind.cells)


def whole_scores(data: FormData | None) -> bool:
    """Every score the table filled is a whole number (at least one is filled, none has a fraction)."""
    if data is None:
        return False
    numbers = [p.value for p in _scores(data) if isinstance(p.value, float)]
    return bool(numbers) and all(math.isclose(v, round(v), abs_tol=1e-9) for v in numbers)


def whole_note(expected: str | None) -> str:
    """The message tail of a rule judged in whole points: the exact figure stays in the message."""
    try:
        exact = float(str(expected))
    except ValueError:
        return ""
    rounded = math.floor(exact + 0.5)
    if math.isclose(exact, rounded, abs_tol=1e-9):
        return ""  # nothing was rounded
    return f"（本表得分按整数填报，已将 {expected} 四舍五入为 {rounded} 分后比较）"


def once(findings: list[Finding], kinds: Mapping[str, str]) -> list[Finding]:
    """A `required` finding is dropped when another finding already starts at the same cell (a blank total
    that its sum reports with the expected value, a prompt left in a goal cell): the cell is reported once."""
    others = [f for f in findings if f.cells and kinds.get(f.rule) != "required"]
    starts = {(f.sheet, f.cells[0]) for f in others}
    errors = {(f.sheet, f.cells[0]) for f in others if f.level == "error"}  # an error is not hidden by a warning

    def reported(f: Finding) -> bool:
        return bool(f.cells) and (f.sheet, f.cells[0]) in (errors if f.level == "error" else starts)

    return [f for f in findings if not (kinds.get(f.rule) == "required" and reported(f))]
