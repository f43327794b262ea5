"""Last year's workbook of each unit in a batch, from the ledger, for the `prev.*` rules (`rules/previous.py`).

A submission's previous year is the newest workbook of the same unit and the year before its own: one read
earlier in the same run and not yet recorded (both years sent in one batch), else the newest checked one the
ledger holds. Its points become `Submission.previous` before validation; without one it stays None.

The same unit means the same unit code where one is known — a code the unit's name starts with
(`219-池州市…`), or the code OUT's roster (名单) gives that name — and else the same name. A workbook may
name any unit, so a match by name alone is marked (`Previous.by_code` False): the findings then say so and
quote neither the other workbook's file name nor its figures (`rules/validate.make_finding`), so that data
of unit X reaches only an output about X. Workbooks whose codes differ are never matched, whatever the names.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import JixiaoError
from pipeline.model import Point, Previous, Submission
from pipeline.store.ledger import Entry, Ledger
from pipeline.store.ledger_points import point_row
from pipeline.store.ledger_reads import latest_of_units, point_rows
from pipeline.store.roster import load_roster, roster_path

log = logging.getLogger(__name__)

#: A unit code written before the name: `219-池州市…`, `510000_…`, `A01 某单位`.
_CODE_PREFIX = re.compile(r"^\s*([0-9A-Za-z]{3,})\s*[-－—_:：、\s]")


def attach_previous(
    ledger: Ledger, subs: Sequence[tuple[Submission, str]], earlier: Sequence[tuple[Submission, str]] = ()
) -> None:
    """Set `previous` on each (submission, name it was received under) whose unit the ledger holds a year
    earlier. `earlier`: submissions this run read before these and has not recorded yet; they and `subs`
    themselves are newer than anything in the ledger, so a unit's workbook of the year before among them is
    taken first (last year's and this year's workbooks sent in one batch)."""
    codes = _roster_codes(ledger)
    in_run: dict[tuple[str, int], tuple[Submission, str]] = {}
    for sub, received_as in [*earlier, *subs]:  # oldest first: the newest of a unit and year stays
        if sub.unit and sub.year:
            in_run[(_key(sub.unit, codes), sub.year)] = (sub, received_as)
    years: dict[int, dict[str, Entry]] = {}
    for sub, received_as in subs:
        unit, year = sub.unit, sub.year
        if not unit or not year:
            continue
        key, by_code = _key(unit, codes), unit_code(unit, codes) is not None
        current = Path(received_as).name
        found = in_run.get((key, year - 1))
        if found is not None:
            sub.previous = Previous(Path(found[1]).name, _points_of(found[0]), current=current, by_code=by_code)
            continue
        if year - 1 not in years:
            years[year - 1] = {_key(u, codes): e for u, e in latest_of_units(ledger, year - 1).items()}
        entry = years[year - 1].get(key)
        if entry is not None:
            points = _points(ledger, entry.id)
            sub.previous = Previous(Path(entry.original_path).name, points, current=current, by_code=by_code)


def unit_code(name: str, codes: dict[str, str]) -> str | None:
    """The unit code of a unit name: the roster's for that name, else a code the name starts with, else None."""
    m = _CODE_PREFIX.match(name)
    return codes.get(name.strip()) or (m.group(1) if m else None)


def _key(name: str, codes: dict[str, str]) -> str:
    """What identifies a unit across years: `code:<code>` when one is known, else `name:<name>`."""
    code = unit_code(name, codes)
    return f"code:{code}" if code else f"name:{name.strip()}"


def _roster_codes(ledger: Ledger) -> dict[str, str]:
    """Unit name → code from the roster kept beside the ledger (OUT/名单), {} without one."""
    path = roster_path(ledger.path.parent)
    if path is None:
        return {}
    try:
        return {e.name.strip(): e.code.strip() for e in load_roster(path) if e.code.strip()}
    except JixiaoError as exc:  # the summary says so; here it only means matching by name
        log.info("roster not read for last year's workbooks: %s", exc)
        return {}


def _points(ledger: Ledger, entry_id: int) -> dict[str, Point]:
    return {
        key: Point(num if num is not None else text, "", (), decimals=decimals)
        for key, num, text, _sheet, decimals in point_rows(ledger, entry_id)
    }


def _points_of(sub: Submission) -> dict[str, Point]:
    """What `_points` reads back once `sub` is in the ledger: its 附件1 and 附件2 points as stored."""
    rows = (point_row(key, point) for data in sub.forms.values() for key, point in data.points.items())
    return {key: Point(num if num is not None else text, "", (), decimals=dec) for key, num, text, _, _, dec in rows}
