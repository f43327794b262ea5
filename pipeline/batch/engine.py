"""Batch runs: take every new workbook from an inbox, check them together, record, file and summarise.

`run_inbox(inbox, out)` makes one run (`jixiao run`); `watch_inbox` repeats passes until stopped
(`jixiao watch`). Both hold OUT's lock (`inbox.OutputLock`), so two runs never share an output folder.

One run:
 1. Recover: file every ledger row left `checked` by an interrupted run, then process the rows left
    `received` (their archive copies exist) exactly as new ones.
 2. Scan the inbox; take the files that are complete, oldest first, in chunks of BATCH_CHUNK_FILES.
 3. Receive each: copy it into OUT/archive (hashed while copied, fsynced, renamed into place), then
    commit a `received` row — or a duplicate row when its sha256 was received before.
 4. Read and extract the *archived* copies in worker processes (`isolate.map_isolated` of the functions in
    `workers`): a file that crashes, exhausts or hangs a worker is refused with a reason, the others go on.
 5. Validate every submission of the chunk in ONE `validate()` call (a call costs the same for 1 or 500).
 6. Write each annotated workbook (files with findings only) in worker processes (temp file, atomic
    rename, fsync). As each is
    done: one transaction stores status, findings and data points and reserves the file's place in
    processed/ or refused/ (`checked`); the inbox file is moved there; a second commit says `filed`.
 7. Duplicates follow their original into processed/ or refused/ without being read.
 8. Rebuild the 汇总 workbooks from the ledger.
Memory stays flat: a chunk's grids live only inside workers; the parent holds ≤ one chunk of results.

Crash safety — the invariants that hold at every instant, so `kill -9` anywhere then a rerun ends
with every file processed exactly once and nothing lost:
 I1. A ledger row exists only for bytes whose archive copy is complete and durable (fsync before commit).
 I2. An inbox file leaves the inbox only after its row is `checked`; it is never deleted without a
     complete copy at its destination (rename, or copy-fsync-rename before unlink).
 I3. A `checked` row names its annotated workbook (written and fsynced before the commit) and its
     destination; one transaction per file, so findings and points are all there or none are.
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

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pipeline import settings
from pipeline.batch.inbox import (
    MSG_CANNOT_MOVE,
    PROCESSED_DIR,
    REFUSED_DIR,
    RESULTS_DIR,
    Candidate,
    Inbox,
    OutDir,
    OutputLock,
    fsync_dir,
    os_cause,
    sha256_file,
    signature,
)
from pipeline.batch.ledger import LEDGER_NAME, Entry, Ledger
from pipeline.batch.outcomes import FileOutcome, Listener, RunReport
from pipeline.batch.previous import attach_previous
from pipeline.batch.workers import load_worker, write_fallback, write_worker
from pipeline.check import rejected
from pipeline.errors import OutputError, RejectedFile
from pipeline.forms import Profile, load_profile
from pipeline.model import Finding, Result, Submission
from pipeline.naming import safe_filename
from pipeline.read.isolate import map_isolated
from pipeline.rules.validate import validate

log = logging.getLogger(__name__)

T = TypeVar("T")

NOTE_GONE = "审核完成时原文件已不在收件箱中（已被移走或删除），其内容已存档"
NOTE_CHANGED = "审核期间收件箱中的文件被修改，未移动；修改后的文件将作为新的提交处理"
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
        report.interrupted = engine.stopping()
        report.summaries = engine.summarise(force=bool(report.outcomes))
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
                first = False
            report.waiting = engine.pass_(report)
            if report.outcomes:
                report.summaries = engine.summarise(force=True)
                if on_pass is not None:
                    on_pass(report)
            total.outcomes += report.outcomes
            total.unreadable += report.unreadable
            total.recovered += report.recovered
            total.summaries = report.summaries or total.summaries
            total.waiting = report.waiting
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
    n_workers = default_workers() if workers is None else workers
    if n_workers < 0:
        raise ValueError(f"workers must be ≥ 0, got {workers!r}")
    try:
        with OutputLock(outdir.root):
            outdir.prepare()
            with Ledger(outdir.root / LEDGER_NAME) as ledger:
                yield _Engine(box, outdir, ledger, prof, n_workers, memory_mb, timeout_s, listener or _Silent(), stop)
    except OutputError as exc:
        log.error("stopping: %s", exc)
        raise OutputError(MSG_OUT_STOPPED.format(error=exc)) from exc


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

    def _map(self, func: Any, items: list[T]) -> Iterator[tuple[T, Any]]:
        return map_isolated(
            func, items, workers=min(self.workers, len(items)), memory_mb=self.memory_mb, timeout_s=self.timeout_s
        )

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
        for entry in checked:
            self._file(entry, report)
        before = len(report.outcomes)
        for chunk in _chunks(received, settings.BATCH_CHUNK_FILES):
            if self.stopping():
                break
            self._process(chunk, report)
        report.recovered = len(checked) + len(report.outcomes) - before

    def pass_(self, report: RunReport) -> list[str]:
        """Scan the inbox once and process every ready file; returns the files still being written."""
        unfinished = {e.source for e in self.ledger.entries(where="state != 'filed'")}
        scan = self.inbox.scan(skip=lambda p: p in unfinished)
        waiting = [c.rel for c in scan.waiting]
        if scan.ready:
            self.listener.planned(len(scan.ready))
        for chunk in _chunks(scan.ready, settings.BATCH_CHUNK_FILES):
            if self.stopping():
                break
            self._process(self._receive(chunk, report, waiting), report)
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

    def _receive(self, candidates: Sequence[Candidate], report: RunReport, waiting: list[str]) -> list[Entry]:
        """Archive each candidate durably and record it `received` (I1)."""
        self.listener.phase("接收")
        entries: list[Entry] = []
        for cand in candidates:
            if self.stopping():
                break
            self._pause()
            try:
                sha, archive_rel = self.outdir.archive(cand.path)
            except FileNotFoundError:
                continue  # taken away since the scan
            except OSError as exc:
                log.warning("cannot read %s: %s", cand.path, exc)
                report.unreadable.append((cand.rel, f"无法读取文件：{exc.strerror or exc}"))
                continue
            if signature(cand.path) != cand.signature:
                waiting.append(cand.rel)  # changed while copied: next pass
                continue
            entries.append(
                self.ledger.receive(
                    sha256=sha,
                    original_path=cand.rel,
                    inbox=self.inbox.root,
                    size=cand.size,
                    mtime_ns=cand.mtime_ns,
                    archive_path=archive_rel,
                )
            )
        return entries

    def _process(self, entries: Sequence[Entry], report: RunReport) -> None:
        """Read, validate once, write and file one chunk of received rows; then their duplicates."""
        originals = [e for e in entries if e.duplicate_of is None]
        if originals:
            self.listener.phase("读取")
            loaded = self._load(originals)
            self.listener.phase("规则审核")
            results = self._validate(originals, loaded)
            self.listener.phase("写出审核结果")
            self._write_and_file([e for e in originals if e.id in results], results, report)
        duplicates = [e for e in entries if e.duplicate_of is not None]
        for entry in duplicates:
            if self.stopping():
                break
            self._file_duplicate(entry, report)

    def _load(self, entries: list[Entry]) -> dict[int, Submission | RejectedFile]:
        items = [(e.id, str(self.outdir.path(e.archive_path)), self.profile) for e in entries]
        if self.workers == 0:
            return self._load_inline(items)
        loaded: dict[int, Submission | RejectedFile] = {}
        results = self._map(load_worker, items)
        try:
            for (entry_id, _, _), value in results:
                loaded[entry_id] = value
                if self.stopping():
                    break
        finally:
            results.close()  # type: ignore[attr-defined]
        return loaded

    def _load_inline(self, items: list[tuple[int, str, Profile]]) -> dict[int, Submission | RejectedFile]:
        """Read in this process (`workers=0`), one file at a time, each read announced in OUT/.reading-inline.

        A file that kills the process (a reader aborting) leaves that note behind; the next run moves its
        row id to OUT/.crashed-inline and refuses the file without reading it again, so a rerun cannot
        die on it for ever."""
        loaded: dict[int, Submission | RejectedFile] = {}
        crashed = self.outdir.crashed_inline()
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

    def _validate(self, entries: list[Entry], loaded: dict[int, Submission | RejectedFile]) -> dict[int, Result]:
        results: dict[int, Result] = {}
        read: list[tuple[int, Submission]] = []
        for entry in entries:
            value = loaded.get(entry.id)
            if isinstance(value, RejectedFile):
                results[entry.id] = rejected(Path(entry.original_path), value)
            elif value is not None:
                read.append((entry.id, value))
        originals = {e.id: e.original_path for e in entries}
        attach_previous(self.ledger, [(s, originals[i]) for i, s in read])  # prev.* points: last year's workbook
        for (entry_id, submission), findings in zip(read, self._findings([s for _, s in read]), strict=True):
            original = originals[entry_id]
            if isinstance(findings, RejectedFile):
                results[entry_id] = rejected(Path(original), findings)
            else:
                results[entry_id] = Result(Path(original), findings, submission)
        return results

    def _findings(self, subs: list[Submission]) -> list[list[Finding] | RejectedFile]:
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
            return self._findings(subs[:mid]) + self._findings(subs[mid:])

    def _write_and_file(self, entries: list[Entry], results: dict[int, Result], report: RunReport) -> None:
        by_id = {e.id: e for e in entries}
        taken: set[str] = set()
        items: list[tuple[int, Result, str, str]] = []
        outputs: dict[int, str] = {}
        for entry in entries:
            if not results[entry.id].findings:
                continue  # nothing to show on the cells: no annotated copy (the summary lists it as 通过)
            outputs[entry.id] = rel = self._output_name(entry, taken)
            items.append(
                (entry.id, results[entry.id], str(self.outdir.path(entry.archive_path)), str(self.outdir.path(rel)))
            )
        for entry in entries:
            if entry.id not in outputs:
                self._commit(entry, results[entry.id], None, report)
                if self.stopping():
                    return
        written = self._map(write_worker, items)
        try:
            for (entry_id, result, archive, output), value in written:
                if isinstance(value, RejectedFile):  # the writer failed on this file, or its worker died
                    log.warning("writing %s failed (%s): summary sheet only", output, value.reason)
                    result = write_fallback(result, Path(archive), Path(output))
                elif value[0] == "output_error":
                    raise OutputError(value[1])
                self._commit(by_id[entry_id], result, outputs[entry_id], report)
                if self.stopping():
                    break
        finally:
            written.close()  # type: ignore[attr-defined]

    def _output_name(self, entry: Entry, taken: set[str]) -> str:
        """results/<dir>/<stem>_审核结果.xlsx, numbered when another row has that name (I3: same row, same name)."""
        original = Path(entry.original_path)
        stem = safe_filename(original.stem)  # a 250-byte name plus the suffix would not fit: ENAMETOOLONG
        base = Path(RESULTS_DIR) / original.parent / f"{stem}{settings.RESULT_SUFFIX}"
        rel, n = base.as_posix(), 1
        while rel in taken or self.ledger.output_taken(rel):
            n += 1
            rel = base.with_name(f"{stem}({n}){settings.RESULT_SUFFIX}").as_posix()
        taken.add(rel)
        return rel

    def _commit(self, entry: Entry, result: Result, output_rel: str | None, report: RunReport) -> None:
        """One transaction: the file's outcome and its reserved destination (I3); then file it."""
        self._pause()
        folder = REFUSED_DIR if result.rejected else PROCESSED_DIR
        dest = self.outdir.free_name(folder, entry.original_path, self.ledger.dest_taken)
        self.ledger.record_check(entry.id, result, output_path=output_rel, dest_path=dest)
        self._file(self.ledger.entry(entry.id), report)

    def _file_duplicate(self, entry: Entry, report: RunReport) -> None:
        assert entry.duplicate_of is not None
        original = self.ledger.entry(entry.duplicate_of)
        if original.state == "received":
            return  # its original is not checked yet (a stopped run): both are finished next time
        self._pause()
        folder = REFUSED_DIR if original.status == "rejected" else PROCESSED_DIR
        dest = self.outdir.free_name(folder, entry.original_path, self.ledger.dest_taken)
        self.ledger.record_duplicate(entry.id, dest_path=dest)
        self._file(self.ledger.entry(entry.id), report)

    def _file(self, entry: Entry, report: RunReport) -> None:
        """Move a checked row's inbox file to its destination (I2) and mark it filed."""
        assert entry.dest_path is not None
        src, dest = entry.source, self.outdir.path(entry.dest_path)
        # Size and mtime can stay the same while the bytes change (a copy that keeps the mtime, a tool
        # rewriting in place): only the hash says the inbox file is the one archived and checked.
        same = signature(src) == (entry.size, entry.mtime_ns) and _sha256_or_none(src) == entry.sha256
        moved, note, dest_rel = False, None, entry.dest_path
        if dest.exists() and sha256_file(dest) == entry.sha256:
            moved = True  # a crash after the move (or mid cross-filesystem move): the copy there is complete
            if same:
                try:
                    src.unlink()
                    fsync_dir(src.parent)
                except OSError as exc:
                    raise OutputError(
                        MSG_CANNOT_MOVE.format(name=src.name, dest=dest.parent, cause=os_cause(exc))
                    ) from exc
        elif same:
            if dest.exists():  # someone put another file at our reserved name: take the next free one
                folder, _, rel = entry.dest_path.partition("/")
                dest_rel = self.outdir.free_name(folder, rel, self.ledger.dest_taken)
            self.outdir.move_out(src, dest_rel)
            moved = True
        else:
            note = NOTE_CHANGED if src.exists() else NOTE_GONE
        self.ledger.mark_filed(entry.id, moved=moved, note=note, dest_path=dest_rel)
        outcome = FileOutcome.of(self.ledger.entry(entry.id), self.outdir.root)
        report.outcomes.append(outcome)
        self.listener.done(outcome)


def _sha256_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _newer_than(path: Path, moment: datetime | None) -> bool:
    """Whether `path` was written after `moment` (a ledger time, whole seconds: hence the second's margin)."""
    try:
        return moment is None or path.stat().st_mtime >= moment.timestamp() + 1
    except OSError:
        return False


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
