"""Last year's workbook of each unit in a batch, from the ledger, for the `prev.*` rules (`rules/previous.py`).

A submission's previous year is the newest checked workbook the ledger holds for the same unit name and the
year before its own. Its points become `Submission.previous` before validation; without one it stays None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.batch.ledger import Entry, Ledger
from pipeline.batch.ledger_reads import latest_of_units, point_rows
from pipeline.model import Point, Previous, Submission


def attach_previous(ledger: Ledger, subs: Sequence[tuple[Submission, str]]) -> None:
    """Set `previous` on each (submission, name it was received under) whose unit the ledger holds a year
    earlier."""
    years: dict[int, dict[str, Entry]] = {}
    for sub, received_as in subs:
        unit, year = sub.unit, sub.year
        if not unit or not year:
            continue
        if year - 1 not in years:
            years[year - 1] = latest_of_units(ledger, year - 1)
        entry = years[year - 1].get(unit)
        if entry is not None:
            sub.previous = Previous(
                Path(entry.original_path).name, _points(ledger, entry.id), current=Path(received_as).name
            )


def _points(ledger: Ledger, entry_id: int) -> dict[str, Point]:
    return {
        key: Point(num if num is not None else text, "", (), decimals=decimals)
        for key, num, text, _sheet, decimals in point_rows(ledger, entry_id)
    }
