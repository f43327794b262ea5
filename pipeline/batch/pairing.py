"""Reports meet their workbooks: after each pass, every unit's newest 自评报告 is checked with its newest
workbook, as `jixiao check` checks a pair (`Submission.report`, then the same `validate`).

A report and its workbook may come in the same run or in runs weeks apart, either first. Each is received,
archived and filed like any file; a report no workbook's unit name matches waits as 待配对 (never refused).
When a pass has processed files, `pair_reports` asks the ledger which workbooks are to be checked (again)
with a report (`store.reports.pairings`), reads both archived copies again in worker processes, validates
them in one call, rewrites the unit's annotated workbook (RPT findings in its 审核结果 sheet) and records the
new findings against the workbook's row, tying the report to it.

Order: the annotated workbook is written (temp file, fsync, rename) before the transaction that records
it, as in a run's main path. A crash in between leaves the pair unrecorded: the next run's pass finds it
again and redoes it, overwriting the same output. Nothing is moved out of the inbox here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline.batch.inbox import OutDir
from pipeline.batch.outcomes import Listener, RunReport
from pipeline.batch.workers import as_report, task_worker, write_fallback
from pipeline.errors import OutputError, RejectedFile
from pipeline.forms import Profile
from pipeline.model import Finding, Result, Submission
from pipeline.read.isolate import map_isolated
from pipeline.report.marks import Annotation
from pipeline.store.ledger import Entry, Ledger
from pipeline.store.previous import attach_previous
from pipeline.store.reports import Pairing, pairings, record_recheck, waiting_reports

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What pairing needs of the run (`engine._Engine`)."""

    outdir: OutDir
    ledger: Ledger
    profile: Profile
    listener: Listener
    workers: int
    memory_mb: int
    timeout_s: float

    def stopping(self) -> bool: ...

    def findings_of(self, subs: list[Submission]) -> list[list[Finding] | RejectedFile]: ...

    def output_name(self, entry: Entry, taken: set[str]) -> str: ...


def pair_reports(engine: Engine, report: RunReport) -> int:
    """Check each workbook due with its unit's report; returns how many pairs were checked."""
    if engine.stopping():
        return 0  # the next run pairs them: nothing waits on it
    due = pairings(engine.ledger)
    report.waiting_reports = [e.original_path for e in waiting_reports(engine.ledger)]
    if not due:
        return 0
    engine.listener.phase("核对自评报告")
    read = _read_pairs(engine, due)
    attach_previous(engine.ledger, [(s, p.workbook.original_path) for p, s in read])
    taken: set[str] = set()
    jobs: list[tuple[Pairing, Result, str | None]] = []
    for (pairing, sub), findings in zip(read, engine.findings_of([s for _, s in read]), strict=True):
        if isinstance(findings, RejectedFile):
            log.warning("cannot check %s with its report: %s", pairing.workbook.original_path, findings.reason)
            continue
        result = Result(Path(pairing.workbook.original_path), findings, sub)
        output = (pairing.workbook.output_path or engine.output_name(pairing.workbook, taken)) if findings else None
        jobs.append((pairing, result, output))
    written = _write_all(engine, [(p, r, o) for p, r, o in jobs if o is not None])
    outcomes = {o.id: o for o in report.outcomes}
    for pairing, result, output in jobs:
        result = written.get(pairing.workbook.id, result)
        record_recheck(engine.ledger, pairing, result, output)
        if output is None and pairing.workbook.output_path:  # nothing left to mark: the old copy goes
            engine.outdir.path(pairing.workbook.output_path).unlink(missing_ok=True)
        report.paired.append((pairing.report.original_path, pairing.workbook.original_path))
        if (outcome := outcomes.get(pairing.workbook.id)) is not None:  # this run's counts say what it now is
            outcome.status, outcome.errors, outcome.warnings = result.status, result.errors, result.warnings
            outcome.output = engine.outdir.path(output) if output else None
    report.waiting_reports = [e.original_path for e in waiting_reports(engine.ledger)]
    return len(jobs)


def _read_pairs(engine: Engine, due: list[Pairing]) -> list[tuple[Pairing, Submission]]:
    """Both archived copies of each pair read again in worker processes: the workbook's Submission with the
    report attached (named as received, for the findings' messages)."""
    tasks: list[tuple[str, Any]] = []
    for p in due:
        tasks.append(("load", (p.workbook.id, str(engine.outdir.path(p.workbook.archive_path)), engine.profile)))
        tasks.append(("report", (p.report.id, str(engine.outdir.path(p.report.archive_path)), engine.profile)))
    values: dict[tuple[str, int], Any] = {}
    workers = min(engine.workers, len(tasks))
    for (kind, item), value in map_isolated(
        task_worker, tasks, workers=workers, memory_mb=engine.memory_mb, timeout_s=engine.timeout_s
    ):
        values[kind, item[0]] = value
    read: list[tuple[Pairing, Submission]] = []
    for p in due:
        sub, text = values[("load", p.workbook.id)], as_report(values[("report", p.report.id)], "")
        if isinstance(sub, RejectedFile):
            log.warning("cannot read %s again: %s left unpaired", p.workbook.original_path, p.report.original_path)
            continue
        text.file = Path(p.report.original_path)
        sub.report = text
        read.append((p, sub))
    return read


def _write_all(engine: Engine, jobs: Sequence[tuple[Pairing, Result, str | None]]) -> dict[int, Result]:
    """Each unit's annotated workbook written again with the report's findings, in worker processes (the
    findings sheet alone where its sheets cannot be copied); OutputError stops the run as anywhere else.
    Returns the results as written, by workbook row."""
    tasks: list[tuple[str, Any]] = []
    results: dict[int, Result] = {}
    for pairing, result, output in jobs:
        archive, target = engine.outdir.path(pairing.workbook.archive_path), engine.outdir.path(str(output))
        tasks.append(("write", (pairing.workbook.id, Annotation.of(result), str(archive), str(target))))
        results[pairing.workbook.id] = result
    workers = min(engine.workers, len(tasks))
    for (_, item), value in map_isolated(
        task_worker, tasks, workers=workers, memory_mb=engine.memory_mb, timeout_s=engine.timeout_s
    ):
        entry_id, _, archive, target = item
        if isinstance(value, RejectedFile):  # the writer failed on this workbook, or its worker died
            results[entry_id] = write_fallback(results[entry_id], Path(archive), Path(target))
        elif value[0] == "output_error":
            raise OutputError(value[1])
    return results
