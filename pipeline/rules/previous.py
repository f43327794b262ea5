"""Points of the unit's previous year (`prev.*`), for rules that compare this year's workbook with last year's.

A submission checked in a batch run carries `previous` (`model.Previous`): the points of the same unit's
newest workbook of the year before, as the ledger holds them (`batch/previous.py`). Each `a1.*` / `a2.*` key
has a `prev.` twin of the same type (`prev.a1.public.actual` = last year's 公用经费 {Y}年决算数). Without a
previous year — the first year in a ledger, or `jixiao check` with no ledger — every `prev.*` point is
*unknown*, so the rules reading them say nothing. The previous points name no cell: they are in another
workbook, which the message names (`{prev_file}`) instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.model import Point, Submission

PREFIX = "prev."
FILE_KEY = "prev.file"  # text point: the name last year's workbook was received under


def previous_types(types: dict[str, str]) -> dict[str, str]:
    """The `prev.*` keys a rule may name, with the types of the points they twin."""
    out = {PREFIX + k: t for k, t in types.items() if k.startswith(("a1.", "a2.")) and not k.endswith(".year")}
    out[FILE_KEY] = "text"
    return out


def previous_points(sub: Submission, keys: Iterable[str]) -> dict[str, Point]:
    """The `prev.*` points the rules need for one submission: unknown without a previous year, else last
    year's values (blank where last year's workbook had none)."""
    keys = list(keys)
    if not keys:
        return {}
    previous = sub.previous
    if previous is None:
        return {k: Point(None, "", (), unknown=True) for k in keys}
    out = {k: previous.points.get(k.removeprefix(PREFIX)) or Point(None, "", ()) for k in keys if k != FILE_KEY}
    out[FILE_KEY] = Point(previous.file, "", ())
    return out
