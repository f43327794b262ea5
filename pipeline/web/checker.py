"""The portal's warm rule engine: self-checks read in a kept pool of isolated workers, validated together.

`Checker.check(workbook, report)` is `check.check_files([workbook, report])` for a server: the same byte gate
(`sniff`, inside `load_submission`) and the same capped reader workers as the batch (`flow.Pool` over
`map_isolated`: a file that crashes, exhausts or hangs its worker is refused with a reason), but the pool and
the rule engine stay loaded for the life of the server, and uploads that arrive together are validated in one
call (a call costs ≈ 80 ms for 1 unit or 30). Reads go to the pool as each upload arrives; one thread takes
every read that has come back and validates them as a batch (at most `PORTAL_CHECK_BATCH`).

No ledger: a self-check records nothing and reads no other unit's data (last year's figures come only from a
run's ledger). `workers=0` reads in the calling thread instead (tests).
"""

from __future__ import annotations

import itertools
import logging
import queue
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import settings
from pipeline.batch.flow import Pool
from pipeline.batch.workers import load_worker
from pipeline.check import rejected
from pipeline.errors import RejectedFile
from pipeline.forms import Profile, load_profile
from pipeline.model import Finding, Report, Result, Submission
from pipeline.read.isolate import map_isolated
from pipeline.read.report_text import read_report
from pipeline.rules.validate import validate_bisecting
from pipeline.settings import DEFAULT_YEAR

log = logging.getLogger(__name__)

MSG_CLOSED = "审核服务正在停止，请稍后再试"
MSG_BROKEN = "审核服务的读取进程无法启动，请联系系统管理员（详见服务器日志）"


@dataclass(slots=True)
class _Job:
    workbook: Path
    report: Report | None
    future: Future[list[Result]] = field(default_factory=Future)
    value: Submission | RejectedFile | None = None


class Checker:
    """Self-checks for many request threads at once; `start()` before use, `close()` at the end."""

    def __init__(
        self,
        *,
        profile: Profile | str = "default",
        workers: int = settings.PORTAL_WORKERS,
        memory_mb: int = settings.WORKER_MEMORY_MB,
        timeout_s: float = settings.WORKER_TIMEOUT_S,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be ≥ 0, got {workers!r}")
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.workers, self.memory_mb, self.timeout_s = workers, memory_mb, timeout_s
        self._ids = itertools.count()
        self._jobs: dict[int, _Job] = {}
        self._ready: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pool: Pool | None = None
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._broken: BaseException | None = None  # the reader pool could not start: every check fails at once

    def start(self) -> Checker:
        """Start the readers and check the blank template once, so the first upload is as fast as the others:
        the workers have imported the readers, the rule engine has run every check."""
        from pipeline.report.template import write_template

        if self.workers:
            self._pool = Pool(self.workers, self.memory_mb, self.timeout_s)
            self._spawn(self._pump, "jixiao-portal-reads")
        self._spawn(self._validate_loop, "jixiao-portal-validate")
        with tempfile.TemporaryDirectory(prefix="jixiao-warm-") as tmp:
            try:
                self.check(write_template(Path(tmp) / "template.xlsx", year=DEFAULT_YEAR, profile=self.profile))
            except RuntimeError as exc:  # the readers cannot start: said to every upload (MSG_BROKEN)
                log.error("self-check warm-up failed: %s", exc)
        return self

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self._closed.set()
        self._ready.put(None)
        if self._pool is not None:
            self._pool.close()
        for thread in self._threads:
            thread.join(timeout=10)
        with self._lock:
            for job in self._jobs.values():
                if not job.future.done():
                    job.future.set_exception(RuntimeError(MSG_CLOSED))

    def __enter__(self) -> Checker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ checking

    def check(self, workbook: Path, report: Path | None = None) -> list[Result]:
        """The result `jixiao check` gives for a workbook, `report` being its 自评报告 (uploaded with it, so
        it is the workbook's whatever its name); a one-element list, as `check_files`. Blocks the calling thread."""
        if self._closed.is_set():
            raise RuntimeError(MSG_CLOSED)
        if self._broken is not None:
            raise RuntimeError(MSG_BROKEN) from self._broken
        job = _Job(workbook, read_report(report) if report is not None else None)
        with self._lock:
            key = next(self._ids)
            self._jobs[key] = job
        item = (key, str(workbook), self.profile)
        if self._pool is not None:
            self._pool.submit(("load", item))
            if self._broken is not None and not job.future.done():  # broke while this job was added
                job.future.set_exception(RuntimeError(MSG_BROKEN))
        else:
            [(_, job.value)] = map_isolated(load_worker, [item], workers=0)
            self._ready.put(job)
        try:
            return job.future.result(timeout=self.timeout_s * 2 + 60)
        finally:
            with self._lock:
                self._jobs.pop(key, None)

    def _pump(self) -> None:
        """Thread: reads coming back from the pool → the validation queue. When the pool cannot start (no
        worker process can), every waiting check and every later one fails with MSG_BROKEN."""
        assert self._pool is not None
        while not self._closed.is_set():
            try:
                got = self._pool.get(timeout=0.5)
            except BaseException as exc:
                log.error("the self-check reader pool failed: %s", exc)
                self._broken = exc
                with self._lock:
                    for job in self._jobs.values():
                        if not job.future.done():
                            job.future.set_exception(RuntimeError(MSG_BROKEN))
                return
            if got is None:
                continue
            (_, (key, _, _)), value = got
            with self._lock:
                waiting = self._jobs.get(key)
            if waiting is not None:
                waiting.value = value
                self._ready.put(waiting)

    def _validate_loop(self) -> None:
        """Thread: every read that has come back, validated in one call; each job's future answered."""
        while True:
            first = self._ready.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < settings.PORTAL_CHECK_BATCH:
                try:
                    more = self._ready.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._ready.put(None)  # seen after this batch
                    break
                batch.append(more)
            try:
                self._answer(batch)
            except BaseException as exc:  # a bug of ours: those uploads fail, the server goes on
                log.exception("self-check batch failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _answer(self, batch: list[_Job]) -> None:
        read = [job for job in batch if isinstance(job.value, Submission)]
        subs: list[Submission] = [job.value for job in read]  # type: ignore[misc]
        for job in batch:
            if isinstance(job.value, RejectedFile):
                job.future.set_result([rejected(job.workbook, job.value)])
        for job, sub in zip(read, subs, strict=True):
            sub.report = job.report  # uploaded together: the report is this workbook's (the RPT rules read it)
        for job, sub, findings in zip(read, subs, self._findings(subs), strict=True):
            if isinstance(findings, RejectedFile):
                job.future.set_result([rejected(job.workbook, findings)])
            else:
                job.future.set_result([Result(job.workbook, findings, sub)])

    def _findings(self, subs: list[Submission]) -> list[list[Finding] | RejectedFile]:
        """One validate call over the batch; the one submission that breaks a rule's code refused (as in a run)."""
        return validate_bisecting(subs, self.profile)
