"""自评报告 in the ledger: the unit each report belongs to and the workbook last checked with it.

A report received by a run gets a `reports` row (migration 4) when it is checked: its head (file name and
opening paragraphs, normalised) and why its text could not be read, if so; `unit` and `workbook_id` stay
NULL — 待配对 — until a workbook's unit name is found in that head. `pairings` says which workbooks are to be
checked again with a report (the unit's newest workbook, with its newest report, when they were not checked
together yet), `record_recheck` stores such a check in one transaction. `reported_units` tells the 汇总 who
sent one. Names are compared normalised (`name_key`: NFKC, no spaces), as units type them in either file.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline import settings
from pipeline.model import Result
from pipeline.store.ledger import CHECKED_STATUSES, Entry, Ledger, insert_findings, now_text

MIN_SHARED_START = 4  # a report's file name and a workbook's sharing fewer leading characters are not a pair


def name_key(text: str) -> str:
    """A name as compared: NFKC (full-width letters and digits), without spaces or line breaks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def report_head(name: str, paragraphs: Sequence[str]) -> str:
    """Where a report names its unit: its file name and first paragraphs, normalised."""
    stem = PurePosixPath(name).stem
    return name_key("\n".join([stem, *paragraphs[: settings.REPORT_HEAD_PARAGRAPHS]]))


def insert_report(conn: sqlite3.Connection, submission_id: int, head: str, problem: str) -> None:
    """A checked report's row (in the transaction that records it `checked`)."""
    conn.execute(
        "INSERT OR REPLACE INTO reports (submission_id, head, problem) VALUES (?, ?, ?)",
        (submission_id, head, problem),
    )


@dataclass(frozen=True, slots=True)
class Pairing:
    """A workbook to check again with its unit's report."""

    report: Entry
    workbook: Entry
    unit: str


def _newest_workbooks(ledger: Ledger) -> dict[str, Entry]:
    """Each named unit's newest checked workbook, whatever its year."""
    marks = ", ".join("?" * len(CHECKED_STATUSES))
    rows = ledger.entries(
        where=f"kind = 'workbook' AND duplicate_of IS NULL AND unit IS NOT NULL AND state != 'received'"
        f" AND status IN ({marks})",
        params=CHECKED_STATUSES,
    )
    return {e.unit: e for e in rows if e.unit}


def _shared_start(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def match_unit(head: str, report_name: str, workbooks: Mapping[str, str]) -> str | None:
    """The unit a report belongs to, among `workbooks` (unit name → its workbook's file name): the longest
    unit name found in the report's head; else the one unit whose workbook's file name shares the longest
    beginning with the report's (at least MIN_SHARED_START characters). `jixiao check` pairs by it too."""
    named = [u for u in workbooks if name_key(u) and name_key(u) in head]
    if named:
        return max(named, key=lambda u: len(name_key(u)))
    stem = name_key(PurePosixPath(report_name).stem)
    scored = sorted(
        ((_shared_start(stem, name_key(PurePosixPath(name).stem)), u) for u, name in workbooks.items()),
        reverse=True,
    )
    if scored and scored[0][0] >= MIN_SHARED_START and (len(scored) == 1 or scored[1][0] < scored[0][0]):
        return scored[0][1]
    return None


def pairings(ledger: Ledger) -> list[Pairing]:
    """Workbooks to check (again) with a report: each unit's newest report with its newest workbook, when
    those two were not checked together yet. Reports no unit name matches stay 待配对."""
    if ledger.conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone() is None:
        return []  # no report ever: a run of workbooks alone does not read every unit's row for nothing
    workbooks = _newest_workbooks(ledger)
    if not workbooks:
        return []
    newest: dict[str, tuple[int, int | None]] = {}  # unit → (its newest report, the workbook checked with it)
    rows = ledger.conn.execute(
        "SELECT r.submission_id, r.head, r.unit, r.workbook_id, s.original_path FROM reports r"
        " JOIN submissions s ON s.id = r.submission_id WHERE s.state != 'received' ORDER BY r.submission_id"
    )
    names = {u: e.original_path for u, e in workbooks.items()}
    for report_id, head, unit, workbook_id, name in rows:
        unit = unit or match_unit(head, name, names)
        if unit is not None:
            newest[unit] = (report_id, workbook_id)
    wanted = [(u, r, workbooks[u]) for u, (r, w) in newest.items() if u in workbooks and workbooks[u].id != w]
    reports = {e.id: e for e in ledger.entries_by_id([r for _, r, _ in wanted])}
    return [Pairing(reports[r], w, u) for u, r, w in wanted]


def record_recheck(ledger: Ledger, pairing: Pairing, result: Result, output_path: str | None) -> None:
    """A workbook checked again with its report: its findings, counts and annotated workbook replaced, the
    report tied to it (its unit and year, for the 汇总) — one transaction."""
    workbook, report = pairing.workbook, pairing.report
    with ledger.transaction() as conn:
        conn.execute("DELETE FROM findings WHERE submission_id = ?", (workbook.id,))
        conn.execute("DELETE FROM explanations WHERE submission_id = ?", (workbook.id,))
        insert_findings(conn, workbook.id, result)
        conn.execute(
            "UPDATE submissions SET status = ?, errors = ?, warnings = ?, output_path = ?, checked_at = ? WHERE id = ?",
            (result.status, result.errors, result.warnings, output_path, now_text(), workbook.id),
        )
        conn.execute(
            "UPDATE reports SET unit = ?, workbook_id = ? WHERE submission_id = ?",
            (pairing.unit, workbook.id, report.id),
        )
        conn.execute("UPDATE submissions SET unit = ?, year = ? WHERE id = ?", (pairing.unit, workbook.year, report.id))


def reported_units(ledger: Ledger) -> set[str]:
    """Units a report was paired with (their 自评报告 已交)."""
    return {u for (u,) in ledger.conn.execute("SELECT DISTINCT unit FROM reports WHERE unit IS NOT NULL")}


def waiting_reports(ledger: Ledger) -> list[Entry]:
    """Reports no workbook's unit name matches yet (待配对), oldest first."""
    return ledger.entries(where="id IN (SELECT submission_id FROM reports WHERE unit IS NULL) AND state != 'received'")
