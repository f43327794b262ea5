"""Reads of the ledger the 汇总 needs beyond `Ledger`'s own: chosen points of each unit (the few numbers
总览 shows, 填表人, 联系电话), sums across units (汇总数) and a unit's newest workbook of another year. Kept apart
from `ledger.py` so the schema module stays about writes.

The 汇总 of 10,000 units reads ~1 M numeric points: they are summed by SQLite (`SUM … GROUP BY key`), never
loaded into Python, so the summary's memory does not grow with the size of the forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.model import cell_key
from pipeline.store.decisions import explanations_for
from pipeline.store.ledger import Entry, Ledger

_CHUNK = 500


def texts(ledger: Ledger, ids: Iterable[int], keys: Sequence[str]) -> dict[int, dict[str, str]]:
    """Text data points of part 0 per submission: id → {key: text}, for `keys` only."""
    return _points(ledger, ids, keys, "value_text")


def numbers(ledger: Ledger, ids: Iterable[int], keys: Sequence[str]) -> dict[int, dict[str, float]]:
    """Numeric data points of part 0 per submission: id → {key: value}, for `keys` only."""
    return _points(ledger, ids, keys, "value_num")


def _points(ledger: Ledger, ids: Iterable[int], keys: Sequence[str], column: str) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    ids = list(ids)
    key_marks = ", ".join("?" * len(keys))
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for sid, key, value in ledger.conn.execute(
            f"SELECT submission_id, key, {column} FROM points WHERE part = 0 AND key IN ({key_marks})"
            f" AND submission_id IN ({marks}) AND {column} IS NOT NULL",
            [*keys, *chunk],
        ):
            out.setdefault(sid, {})[key] = value
    return out


def sums(ledger: Ledger, ids: Iterable[int]) -> dict[str, float]:
    """Σ over the submissions of every numeric point of part 0, by key (a submission lacking one adds nothing)."""
    out: dict[str, float] = {}
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for key, total in ledger.conn.execute(
            "SELECT key, SUM(value_num) FROM points WHERE part = 0 AND value_num IS NOT NULL"
            f" AND submission_id IN ({marks}) GROUP BY key",
            chunk,
        ):
            out[key] = out.get(key, 0.0) + total
    return out


def paired_sums(ledger: Ledger, ids: Iterable[int], num: str, den: str) -> tuple[float, float, int]:
    """(Σ num, Σ den, units) over the submissions that filled both points: a rate over a group, blanks left out."""
    ids = list(ids)
    total_num, total_den, units = 0.0, 0.0, 0
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        a, b, n = ledger.conn.execute(
            "SELECT SUM(n.value_num), SUM(d.value_num), COUNT(*) FROM points n JOIN points d"
            " ON d.submission_id = n.submission_id AND d.part = 0 AND d.key = ? AND d.value_num IS NOT NULL"
            f" WHERE n.part = 0 AND n.key = ? AND n.value_num IS NOT NULL AND n.submission_id IN ({marks})",
            [den, num, *chunk],
        ).fetchone()
        total_num, total_den, units = total_num + (a or 0.0), total_den + (b or 0.0), units + n
    return total_num, total_den, units


def latest_of_units(ledger: Ledger, year: int | None) -> dict[str, Entry]:
    """Each named unit's newest checked workbook of `year`, by unit name (nothing when `year` is None)."""
    if year is None:
        return {}
    return {e.unit: e for e, _ in ledger.latest(year) if e.unit}


def point_rows(ledger: Ledger, entry_id: int) -> list[tuple[str, float | None, str | None, str, int | None]]:
    """(key, value_num, value_text, sheet, decimals) of every part-0 point of one submission."""
    return list(
        ledger.conn.execute(
            "SELECT key, value_num, value_text, sheet, decimals FROM points WHERE part = 0 AND submission_id = ?",
            (entry_id,),
        )
    )


def explained_ids(ledger: Ledger, ids: Iterable[int]) -> set[int]:
    """Submissions with warnings only, every one of them carrying the unit's 单位说明 (通过（提示已说明）)."""
    ids = list(ids)
    notes = explanations_for(ledger, ids)
    open_ = {
        f.submission_id
        for f in ledger.findings(ids)
        if f.level == "error" or (f.submission_id, f.rule, cell_key(f.sheet, f.cells)) not in notes
    }
    return {sid for sid, _, _ in notes} - open_
