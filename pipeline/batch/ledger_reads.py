"""Reads of the ledger the 汇总 needs beyond `Ledger`'s own: text points (填表人, 联系电话) and a unit's
newest workbook of another year. Kept apart from `ledger.py` so the schema module stays about writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.batch.decisions import explanations_for
from pipeline.batch.ledger import Entry, Ledger
from pipeline.model import cell_key

_CHUNK = 500


def texts(ledger: Ledger, ids: Iterable[int], keys: Sequence[str]) -> dict[int, dict[str, str]]:
    """Text data points of part 0 per submission: id → {key: text}, for `keys` only."""
    out: dict[int, dict[str, str]] = {}
    ids = list(ids)
    key_marks = ", ".join("?" * len(keys))
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for sid, key, value in ledger.conn.execute(
            f"SELECT submission_id, key, value_text FROM points WHERE part = 0 AND key IN ({key_marks})"
            f" AND submission_id IN ({marks}) AND value_text IS NOT NULL",
            [*keys, *chunk],
        ):
            out.setdefault(sid, {})[key] = value
    return out


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
