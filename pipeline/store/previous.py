"""Last year's workbook of each unit in a batch, from the ledger, for the `prev.*` rules (`rules/previous.py`).

A submission's previous year is the newest workbook of the same unit name and the year before its own: one
read earlier in the same run and not yet recorded (both years sent in one batch), else the newest checked one
the ledger holds. Its points become `Submission.previous` before validation; without one it stays None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.model import Point, Previous, Submission
from pipeline.store.ledger import Entry, Ledger, point_row
from pipeline.store.ledger_reads import latest_of_units, point_rows


def attach_previous(
    ledger: Ledger, subs: Sequence[tuple[Submission, str]], earlier: Sequence[tuple[Submission, str]] = ()
) -> None:
    """Set `previous` on each (submission, name it was received under) whose unit the ledger holds a year
    earlier. `earlier`: submissions this run read before these and has not recorded yet; they and `subs`
    themselves are newer than anything in the ledger, so a unit's workbook of the year before among them is
    taken first (last year's and this year's workbooks sent in one batch)."""
    in_run: dict[tuple[str, int], tuple[Submission, str]] = {}
    for sub, received_as in [*earlier, *subs]:  # oldest first: the newest of a unit and year stays
        if sub.unit and sub.year:
            in_run[(sub.unit, sub.year)] = (sub, received_as)
    years: dict[int, dict[str, Entry]] = {}
    for sub, received_as in subs:
        unit, year = sub.unit, sub.year
        if not unit or not year:
            continue
        current = Path(received_as).name
        found = in_run.get((unit, year - 1))
        if found is not None:
            sub.previous = Previous(Path(found[1]).name, _points_of(found[0]), current=current)
            continue
        if year - 1 not in years:
            years[year - 1] = latest_of_units(ledger, year - 1)
        entry = years[year - 1].get(unit)
        if entry is not None:
            sub.previous = Previous(Path(entry.original_path).name, _points(ledger, entry.id), current=current)


def _points(ledger: Ledger, entry_id: int) -> dict[str, Point]:
    return {
        key: Point(num if num is not None else text, "", (), decimals=decimals)
        for key, num, text, _sheet, decimals in point_rows(ledger, entry_id)
    }


def _points_of(sub: Submission) -> dict[str, Point]:
    """What `_points` reads back once `sub` is in the ledger: its 附件1 and 附件2 points as stored."""
    rows = (point_row(key, point) for data in sub.forms.values() for key, point in data.points.items())
    return {key: Point(num if num is not None else text, "", (), decimals=dec) for key, num, text, _, _, dec in rows}
