"""Batch runs: take every new workbook from an inbox, check them together, record, file and summarise.

`run_inbox(inbox, out)` makes one run (`jixiao run`); `watch_inbox` repeats passes until stopped
(`jixiao watch`). Both hold OUT's lock (`inbox.OutputLock`), so two runs never share an output folder.

One run:
 1. Recover: file every ledger row left `checked` by an interrupted run, then process the rows left
    `received` (their archive copies exist) exactly as new ones.
 2. Scan the inbox; take the files that are complete, oldest first.
 3. Receive each: copy it into OUT/archive (hashed while copied, fsynced, renamed into place); then
    commit `received` rows for a group of them (RECEIVE_GROUP_FILES, or RECEIVE_GROUP_S) in one
    transaction — a duplicate row when its sha256 was received before.
 4. Read and extract the *archived* copies in worker processes: one pool for the whole run (`flow.Pool`,
    `isolate.map_isolated` over a feed), so a file that crashes, exhausts or hangs a worker is refused
    with a reason and the others go on. A 自评报告 (.docx/.pdf/.doc/.wps) is read as text, a bundle (.zip) is
    unpacked into members that go on as if dropped one by one (`bundles`), .ofd/.rar/.7z are refused unread
    (`kinds`).
 5. Validate each chunk (BATCH_CHUNK_FILES) in ONE `validate()` call while the workers read the next.
 6. Write each annotated workbook (files with findings only) in the same workers (temp file, atomic
    rename, fsync). Finished files are committed in groups (COMMIT_GROUP_FILES, or COMMIT_GROUP_S): one
    transaction stores status, findings and data points and reserves each file's place in processed/ or
    refused/ (`checked`); the inbox files are moved there one by one; one more commit says `filed`.
 7. Duplicates follow their original into processed/ or refused/ without being read.
 8. Check each unit's newest workbook with its newest report where they were not checked together yet
    (`pairing`): a report waits as 待配对 until a workbook of its unit comes, in this run or a later one.
 9. Rebuild the 汇总 workbooks from the ledger.
The order of the stages in flight is `flow.py`'s; what each step does is here.
Memory stays flat: grids live only inside workers; the parent holds at most two chunks (one being read,
one being written).

Crash safety — the invariants that hold at every instant, so `kill -9` anywhere then a rerun ends
with every file processed exactly once and nothing lost:
 I1. A ledger row exists only for bytes whose archive copy is complete and durable (fsync before commit).
 I2. An inbox file leaves the inbox only after its row is `checked`; it is never deleted without a
     complete copy at its destination (rename, or copy-fsync-rename before unlink).
 I3. A `checked` row names its annotated workbook (written and fsynced before the commit) and its
     destination; a file's findings and points are in the same transaction, so all are there or none are.
 I4. The scan skips inbox files that belong to unfinished rows; recovery finishes those rows first.
Crash points: during the archive copy (a `.tmp-*` file, removed at the next start; the file is still
in the inbox); after the archive rename, before the row (an orphan archive file — content-addressed,
reused when the file is received again); after `received` (recovery reads the archive copy again);
during the annotated write (a temp file; the row is still `received` and is redone, overwriting the
same name); after `checked`, before or during the move (recovery moves the file, or drops the inbox
copy when an identical one is already at the destination); after the move, before `filed` (recovery
finds it at its destination). An inbox file changed or removed by someone in between is not moved:
the row is filed with a note, and a changed file is received again as a new submission.

Failures while writing — what to stop for and what to refuse:
 - OUT refuses a write (disk full, no permission, read-only, I/O error: `OutputError` from the archive,
   the writers, the ledger or a move). It would refuse the next file too, so the run stops with a
   Chinese message and exit code 2 (`MSG_OUT_STOPPED`). The invariants make that a clean stop: the
   file in hand stays in the inbox (or is already whole at its destination), its row stays `received`
   or `checked`, and the rerun after space or permission returns finishes exactly as after a crash.
 - The annotated writer fails on one file's content (an exception that is not an OSError, or its worker
   dies): that file gets a workbook with the 审核结果 sheet only, and if even that cannot be written it is
   refused with `workers.MSG_WRITE_FAILED`; the batch goes on either way. Output names come from
   `naming.safe_filename`, so no submitted name can make a write fail (too long, separators, device names).

Ctrl-C: `workers.stop_on_interrupt()` turns the first SIGINT/SIGTERM into a request the run honours
between files (worker processes ignore SIGINT: the parent decides); the second SIGINT interrupts at
once, which is as safe as a crash.

Test hook: the environment variable JIXIAO_TEST_DELAY_S (settings.TEST_DELAY_ENV) makes each file's
receive and commit step sleep that long, so a test can SIGKILL a real run in the middle of a batch.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pipeline import settings
from pipeline.batch.bundles import unpack
from pipeline.batch.filing import as_filed, move_checked
from pipeline.batch.flow import Flow
from pipeline.batch.inbox import (
    ARCHIVE_DIR,
    PROCESSED_DIR,
    REFUSED_DIR,
    RESULTS_DIR,
    Candidate,
    Inbox,
    OutDir,
    signature,
)
from pipeline.batch.kinds import BUNDLE, SEPARATOR, kind_of, refusal
from pipeline.batch.outcomes import FileOutcome, Listener, RunReport
from pipeline.batch.pairing import pair_reports
from pipeline.batch.workers import load_worker
from pipeline.check import rejected
from pipeline.errors import OutputError, RejectedFile
from pipeline.forms import Profile, load_profile
from pipeline.model import Finding, Report, Result, Submission
from pipeline.naming import safe_filename
from pipeline.read.isolate import map_isolated
from pipeline.rules.validate import compile_rules, validate
from pipeline.store.files import OutputLock, fsync_dirs
from pipeline.store.ledger import LEDGER_NAME, Checked, Entry, Filed, Ledger, Received
from pipeline.store.options import save_options
from pipeline.store.previous import attach_previous
from pipeline.store.reports import insert_report, report_head

log = logging.getLogger(__name__)

T = TypeVar("T")

MSG_KILLED_INLINE = "上次读取该文件时程序异常退出（可能文件已损坏），已跳过；请重新导出后提交"
MSG_RULE_ERROR = "审核规则执行出错（{kind}），请联系系统管理员"
MSG_OUT_STOPPED = (
    "输出目录无法写入，已停止：{error}。收件箱中剩余的文件均未移动，也未丢失；"
    "释放磁盘空间或恢复写入权限后重新运行，即可从中断处继续"
)


def default_workers() -> int:
    return max(1, min(settings.MAX_WORKERS, os.cpu_count() or 1))


class _Silent(Listener):
    pass


# ------------------------------------------------------------------------------------- public API


def run_inbox(
    inbox: Path,
    out: Path,
    *,
    workers: int | None = None,
    profile: str = "default",
    settle_s: float = settings.INBOX_SETTLE_S,
    wait_s: float = settings.INBOX_WAIT_S,
    memory_mb: int = settings.WORKER_MEMORY_MB,
    timeout_s: float = settings.WORKER_TIMEOUT_S,
    listener: Listener | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Process every complete file in `inbox` (subfolders too) into `out`; wait up to `wait_s` for files
    still being written. Raises JixiaoError when `out` is in use by another run or `inbox` is unusable."""
    with _session(inbox, out, workers, profile, settle_s, memory_mb, timeout_s, listener, stop) as engine:
        report = engine.new_report()
        engine.recover(report)
        deadline = time.monotonic() + wait_s
        while not engine.stopping():
            report.waiting = engine.pass_(report)
            if not report.waiting or time.monotonic() >= deadline:
                break
            engine.listener.phase("等待文件写入完成")
            engine.sleep(min(1.0, max(settle_s, 0.1)))
        pair_reports(engine, report)  # also a pair a stopped or killed run left unchecked
        report.interrupted = engine.stopping()
        report.summaries = engine.summarise(force=bool(report.outcomes or report.paired))
    return report


def watch_inbox(
    inbox: Path,
    out: Path,
    *,
    stop: threading.Event,
    interval_s: float = settings.WATCH_INTERVAL_S,
    workers: int | None = None,
    profile: str = "default",
    settle_s: float = settings.INBOX_SETTLE_S,
    memory_mb: int = settings.WORKER_MEMORY_MB,
    timeout_s: float = settings.WORKER_TIMEOUT_S,
    listener: Listener | None = None,
    on_pass: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Process files as they arrive until `stop` is set; `on_pass(report)` after each pass that did something.

    Returns the report of the whole session (all passes)."""
    if interval_s <= 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
    with _session(inbox, out, workers, profile, settle_s, memory_mb, timeout_s, listener, stop) as engine:
        total = engine.new_report()
        first = True
        while not stop.is_set():
            report = engine.new_report()
            if first:
                engine.recover(report)
            report.waiting = engine.pass_(report)
            if report.outcomes or first:
                pair_reports(engine, report)
            if report.outcomes or report.paired:
                report.summaries = engine.summarise(force=True)
                if on_pass is not None:
                    on_pass(report)
            total.outcomes += report.outcomes
            total.unreadable += report.unreadable
            total.recovered += report.recovered
            total.summaries = report.summaries or total.summaries
            total.waiting = report.waiting
            total.paired += report.paired
            total.waiting_reports = report.waiting_reports
            first = False
            stop.wait(interval_s)
    return total


# ------------------------------------------------------------------------------------- the engine


@contextmanager
def _session(
    inbox: Path,
    out: Path,
    workers: int | None,
    profile: str,
    settle_s: float,
    memory_mb: int,
    timeout_s: float,
    listener: Listener | None,
    stop: threading.Event | None,
) -> Iterator[_Engine]:
    outdir = OutDir(out)
    outdir.check_inbox(inbox)
    box = Inbox(inbox, settle_s=settle_s, exclude=[outdir.root])
    prof = load_profile(profile)
    compile_rules(prof)  # a broken catalogue stops the run here, before the lock and the inbox
    n_workers = default_workers() if workers is None else workers
    if n_workers < 0:
        raise ValueError(f"workers must be ≥ 0, got {workers!r}")
    try:
        with OutputLock(outdir.root), _collector_tuned():
            outdir.prepare()
            save_options(outdir.root, require_report=bool(prof.params.get("report_required")))  # 未提交 lists them
            with Ledger(outdir.root / LEDGER_NAME) as ledger:
                yield _Engine(box, outdir, ledger, prof, n_workers, memory_mb, timeout_s, listener or _Silent(), stop)
    except OutputError as exc:
        log.error("stopping: %s", exc)
        raise OutputError(MSG_OUT_STOPPED.format(error=exc)) from exc


@contextmanager
def _collector_tuned() -> Iterator[None]:
    """Python's garbage collector set for a run (settings.GC_THRESHOLDS), then put back.

    A run makes ~400 small objects a file (points) that live until their chunk is written: at the default
    thresholds a collection ran every file or two and took ~15 % of the parent's time, scanning every object
    of pandas and the other modules loaded, which live as long as the process (`gc.freeze` sets those aside).
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*settings.GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


class _Engine:
    """The steps of a run over one inbox, output folder and ledger (see the module docstring)."""

    def __init__(
        self,
        inbox: Inbox,
        outdir: OutDir,
        ledger: Ledger,
        profile: Profile,
        workers: int,
        memory_mb: int,
        timeout_s: float,
        listener: Listener,
        stop: threading.Event | None,
    ) -> None:
        self.inbox, self.outdir, self.ledger, self.profile = inbox, outdir, ledger, profile
        self.workers, self.memory_mb, self.timeout_s = workers, memory_mb, timeout_s
        self.listener, self.stop = listener, stop
        self.delay = float(os.environ.get(settings.TEST_DELAY_ENV) or 0)
        self.crashed: set[int] | None = None  # rows whose in-line read ended a process (`load_inline`)
        self.reports: dict[int, tuple[str, str]] = {}  # report read, not yet recorded: id → (head, problem)

    def new_report(self) -> RunReport:
        return RunReport(inbox=self.inbox.root, out=self.outdir.root)

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def sleep(self, seconds: float) -> None:
        if self.stop is not None:
            self.stop.wait(seconds)
        else:
            time.sleep(seconds)

    def _pause(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    # --------------------------------------------------------------------------- passes

    def recover(self, report: RunReport) -> None:
        """Finish what an interrupted run left: file the checked rows, process the received ones."""
        checked = self.ledger.entries(state="checked")
        received = self.ledger.entries(state="received")
        if not (checked or received):
            return
        log.info("recovering %d checked and %d received files", len(checked), len(received))
        self.listener.planned(len(checked) + len(received))
        self.listener.phase("恢复上次中断的任务")
        self._file_many(checked, report)
        before = len(report.outcomes)
        Flow(self, report).run(list(c) for c in _chunks(received, settings.RECEIVE_GROUP_FILES))
        report.recovered = len(checked) + len(report.outcomes) - before

    def pass_(self, report: RunReport) -> list[str]:
        """Scan the inbox once and process every ready file; returns the files still being written."""
        unfinished = {e.source for e in self.ledger.entries(where="state != 'filed'")}
        scan = self.inbox.scan(skip=lambda p: p in unfinished)
        waiting = [c.rel for c in scan.waiting]
        if scan.ready:
            self.listener.planned(len(scan.ready))
            self.listener.phase("审核中")
            Flow(self, report).run(self._receive(scan.ready, report, waiting))
        return waiting

    def summarise(self, *, force: bool) -> list[Path]:
        from pipeline.report.summary import summary_paths, write_summaries

        existing = summary_paths(self.ledger, self.outdir.root)
        last = self.ledger.last_filed()
        if not force and all(_newer_than(p, last) for p in existing):
            return existing  # else a run stopped before (or while) writing them: they miss its files
        self.listener.phase("生成汇总表")
        return write_summaries(self.ledger, self.outdir.root)

    # --------------------------------------------------------------------------- steps

    def _receive(self, candidates: Sequence[Candidate], report: RunReport, waiting: list[str]) -> Iterator[list[Entry]]:
        """Archive each candidate durably and record them `received` (I1), a group per transaction: up to
        RECEIVE_GROUP_FILES files, or what arrived within RECEIVE_GROUP_S of the group's first, so reading
        starts at once. The copies are made on a thread of their own (`_archive_all`): copying and its
        fsyncs wait on the disk, and the run's other steps go on meanwhile."""
        copies: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=2 * settings.RECEIVE_GROUP_FILES)
        halt = threading.Event()
        copier = threading.Thread(
            target=self._archive_all, args=(candidates, copies, halt), name="jixiao-archive", daemon=True
        )
        copier.start()
        try:
            ended = False
            while not ended:
                files: list[Received] = []
                folders: set[Path] = set()  # renamed into: fsynced once for the group, before its commit
                deadline: float | None = None
                while len(files) < settings.RECEIVE_GROUP_FILES:
                    try:
                        item = copies.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    kind, cand, *rest = item
                    if kind == "end":
                        ended = True
                        break
                    if kind == "error":
                        raise rest[0]
                    if kind == "unreadable":
                        report.unreadable.append((cand.rel, rest[0]))
                    elif kind == "changed":
                        waiting.append(cand.rel)  # changed while copied: next pass
                    else:
                        sha, archive_rel, folder = rest
                        kind = kind_of(cand.rel)
                        files.append(
                            Received(sha, cand.rel, self.inbox.root, cand.size, cand.mtime_ns, archive_rel, None, kind)
                        )
                        folders |= folder
                        deadline = deadline or time.monotonic() + settings.RECEIVE_GROUP_S
                if files:
                    fsync_dirs(folders, f"归档目录 {self.outdir.path(ARCHIVE_DIR)}")
                    yield self.ledger.receive_many(files)
        finally:
            halt.set()
            while copier.is_alive():  # unblock and wait for a copier stopped mid-way
                with contextlib.suppress(queue.Empty):
                    copies.get(timeout=0.05)

    def _archive_all(
        self, candidates: Sequence[Candidate], copies: queue.Queue[tuple[Any, ...]], halt: threading.Event
    ) -> None:
        """Thread: archive each candidate and hand it over — ("copied", cand, sha, path, folders), or
        ("unreadable", cand, why), ("changed", cand), then ("end", None); ("error", None, exc) stops it."""
        try:
            for cand in candidates:
                if self.stopping() or halt.is_set():
                    break
                self._pause()
                folders: set[Path] = set()
                try:
                    sha, archive_rel = self.outdir.archive(cand.path, unsynced=folders)
                except FileNotFoundError:
                    continue  # taken away since the scan
                except OutputError as exc:
                    copies.put(("error", None, exc))
                    return
                except OSError as exc:
                    log.warning("cannot read %s: %s", cand.path, exc)
                    copies.put(("unreadable", cand, f"无法读取文件：{exc.strerror or exc}"))
                    continue
                if signature(cand.path) != cand.signature:
                    copies.put(("changed", cand))
                else:
                    copies.put(("copied", cand, sha, archive_rel, folders))
        except BaseException as exc:  # a bug of ours: the run stops on it, in its own thread
            copies.put(("error", None, exc))
            return
        copies.put(("end", None))

    def load_inline(self, items: list[tuple[int, str, Profile]]) -> dict[int, Submission | RejectedFile]:
        """Read in this process (`workers=0`), one file at a time, each read announced in OUT/.reading-inline.

        A file that kills the process (a reader aborting) leaves that note behind; the next run moves its
        row id to OUT/.crashed-inline and refuses the file without reading it again, so a rerun cannot
        die on it for ever."""
        loaded: dict[int, Submission | RejectedFile] = {}
        if self.crashed is None:  # notes a killed process left: read once, the flow calls this per file
            self.crashed = self.outdir.crashed_inline()
        crashed = self.crashed
        for item in items:
            entry_id = item[0]
            if entry_id in crashed:
                log.warning("not reading row %d again: it ended the process while read in-line", entry_id)
                loaded[entry_id] = RejectedFile(MSG_KILLED_INLINE, code="worker_crash")
                continue
            self.outdir.reading_inline(entry_id)
            try:
                [(_, value)] = map_isolated(load_worker, [item], workers=0)
            except BaseException:
                self.outdir.reading_inline(None)  # Ctrl-C or a bug of ours, not the file: no culprit
                raise
            loaded[entry_id] = value
            if self.stopping():
                break
        self.outdir.reading_inline(None)
        return loaded

    def open_special(self, entry: Entry) -> RejectedFile | list[Entry] | None:
        """A bundle unpacked (its members' rows), or why a report or bundle is refused unread; None: read it."""
        why = refusal(entry.original_path, member=entry.bundle_id is not None)
        if why is not None or entry.kind != BUNDLE:
            return why
        dest = self.outdir.free_name(PROCESSED_DIR, entry.original_path, self.ledger.dest_taken)
        return unpack(self.outdir, self.ledger, entry, dest)

    def validate(
        self,
        entries: list[Entry],
        loaded: dict[int, Submission | Report | RejectedFile],
        earlier: Sequence[tuple[Submission, str]] = (),
    ) -> dict[int, Result]:
        """Results of one chunk from one `validate` call; `earlier`: (submission, received as) this run read
        before and has not recorded yet, where a unit's year before may be (`attach_previous`)."""
        results: dict[int, Result] = {}
        read: list[tuple[int, Submission]] = []
        for entry in entries:
            value = loaded.get(entry.id)
            if isinstance(value, RejectedFile):
                results[entry.id] = rejected(Path(entry.original_path), value)
            elif isinstance(value, Report):  # 待配对 until `pair_reports` finds its workbook
                results[entry.id] = Result(Path(entry.original_path), [])
                self.reports[entry.id] = (report_head(entry.original_path, value.paragraphs), value.problem)
            elif value is not None:
                read.append((entry.id, value))
        originals = {e.id: e.original_path for e in entries}
        attach_previous(self.ledger, [(s, originals[i]) for i, s in read], earlier)  # prev.*: last year's workbook
        for (entry_id, submission), findings in zip(read, self.findings_of([s for _, s in read]), strict=True):
            original = originals[entry_id]
            if isinstance(findings, RejectedFile):
                results[entry_id] = rejected(Path(original), findings)
            else:
                results[entry_id] = Result(Path(original), findings, submission)
        return results

    def findings_of(self, subs: list[Submission]) -> list[list[Finding] | RejectedFile]:
        """`validate` over the whole chunk in one call; if it fails, halve the batch until the submission
        that breaks a rule's code is found and refused, so one odd file cannot block every later run."""
        if not subs:
            return []
        try:
            return list(validate(subs, profile=self.profile))
        except Exception as exc:
            if len(subs) == 1:
                log.exception("validation failed on %s", subs[0].file)
                return [RejectedFile(MSG_RULE_ERROR.format(kind=type(exc).__name__), code="rule_error")]
            log.warning("validation failed on a batch of %d (%r): bisecting", len(subs), exc)
            mid = len(subs) // 2
            return self.findings_of(subs[:mid]) + self.findings_of(subs[mid:])

    def output_name(self, entry: Entry, taken: set[str]) -> str:
        """results/<dir>/<stem>_审核结果.xlsx, numbered when another row has that name (I3: same row, same name)."""
        original = Path(entry.original_path.replace(SEPARATOR, "/"))  # a bundle's member: results/材料.zip/…
        # A returned annotated workbook (the unit's 单位说明 typed in) keeps its name: not …_审核结果_审核结果.
        stem = safe_filename(original.stem.removesuffix(Path(settings.RESULT_SUFFIX).stem))
        folder = Path(*(safe_filename(p) for p in original.parent.parts))  # a member's folders are the unit's
        base = Path(RESULTS_DIR) / folder / f"{stem}{settings.RESULT_SUFFIX}"
        rel, n = base.as_posix(), 1
        while rel in taken or self.ledger.output_taken(rel):
            n += 1
            rel = base.with_name(f"{stem}({n}){settings.RESULT_SUFFIX}").as_posix()
        taken.add(rel)
        return rel

    def commit_group(self, done: Sequence[tuple[Entry, Result, str | None]], report: RunReport) -> None:
        """One transaction: each file's outcome and its reserved destination (I3); then file them all."""
        taken: set[str] = set()
        checked: list[Checked] = []
        reports: list[tuple[int, str, str]] = []
        for entry, result, output_rel in done:
            folder = REFUSED_DIR if result.rejected else PROCESSED_DIR
            dest = None
            if entry.bundle_id is None:  # a bundle's member has no inbox file to file
                dest = self.outdir.free_name(
                    folder, entry.original_path, lambda rel: rel in taken or self.ledger.dest_taken(rel)
                )
                taken.add(dest)
            checked.append(Checked(entry.id, result, output_rel, dest))
            if entry.id in self.reports:
                reports.append((entry.id, *self.reports.pop(entry.id)))

        def add_reports(conn: sqlite3.Connection) -> None:
            for r in reports:
                insert_report(conn, *r)

        self.ledger.record_checks(checked, also=add_reports)
        self._file_many(self.ledger.entries_by_id([c.entry_id for c in checked]), report)

    def file_duplicate(self, entry: Entry, report: RunReport) -> None:
        assert entry.duplicate_of is not None
        original = self.ledger.entry(entry.duplicate_of)
        if original.state == "received":
            return  # its original is not checked yet (a stopped run): both are finished next time
        self._pause()
        folder = REFUSED_DIR if original.status == "rejected" else PROCESSED_DIR
        dest = None if entry.bundle_id else self.outdir.free_name(folder, entry.original_path, self.ledger.dest_taken)
        self.ledger.record_duplicate(entry.id, dest_path=dest)
        self._file_many([self.ledger.entry(entry.id)], report)

    def file_checked(self, ids: list[int], report: RunReport) -> None:
        self._file_many(self.ledger.entries_by_id(ids), report)

    def _file_many(self, entries: Sequence[Entry], report: RunReport) -> None:
        """Move checked rows' inbox files to their destinations (I2), each announced as it is moved, and
        mark them filed: one transaction for all, or one per COMMIT_GROUP_S while moving takes longer.
        A stop request ends the moves between files; the rows not moved stay `checked` for the next run."""
        filed: list[Filed] = []
        unsynced: set[Path] = set()  # folders of the renames: fsynced once, before the `filed` commit

        def record() -> None:
            fsync_dirs(unsynced, f"输出目录 {self.outdir.root}")
            self.ledger.mark_filed_many(filed)

        since = time.monotonic()
        try:
            for entry in entries:
                if self.stopping():
                    break
                self._pause()
                move = move_checked(self.outdir, self.ledger, entry, unsynced)
                filed.append(move)
                outcome = FileOutcome.of(as_filed(entry, move), self.outdir.root)
                report.outcomes.append(outcome)
                self.listener.done(outcome)
                if time.monotonic() - since >= settings.COMMIT_GROUP_S:
                    record()
                    filed, since = [], time.monotonic()
        finally:
            if filed:  # a file moved is recorded, whatever stops the others
                record()


def _newer_than(path: Path, moment: datetime | None) -> bool:
    """Whether `path` was written after `moment` (a ledger time, whole seconds: hence the second's margin)."""
    try:
        return moment is None or path.stat().st_mtime >= moment.timestamp() + 1
    except OSError:
        return False


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
