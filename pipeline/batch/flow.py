"""A run's stages in flight at once: the next chunk is read while this one is validated and written.

One worker pool serves the whole run (`Pool`: an `isolate.Feed` that `map_isolated` runs on a thread of
the parent), so the two cores never wait for each other's stage:

- files are archived on a thread of the engine's and recorded `received` in small groups (one ledger
  transaction each); their reads are queued as each group is recorded;
- when every file of a chunk is read, the chunk is validated in one call (a call costs the same for 1 or
  250 units) while the workers read the next chunk; its writes are queued ahead of those reads;
- finished files are recorded `checked`, moved and recorded `filed` in groups, one transaction per step
  and group (`Stages.commit_group`), in the order the crash-safety invariants of `engine` require.

At most two chunks are open at once (and a receive group), one being written and one being read: what the
parent holds does not grow with the number of files. A file's duplicates are filed after every original is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline import settings
from pipeline.batch.inbox import OutDir
from pipeline.batch.outcomes import Listener, RunReport
from pipeline.batch.workers import as_report, task_worker, write_fallback
from pipeline.errors import OutputError, RejectedFile
from pipeline.forms import Profile
from pipeline.model import Report, Result, Submission
from pipeline.read.isolate import Feed, map_isolated
from pipeline.report.marks import Annotation
from pipeline.store.ledger import Entry

_END = object()


class Stages(Protocol):
    """What a flow needs of the run it serves (`engine._Engine`)."""

    outdir: OutDir
    profile: Profile
    listener: Listener
    workers: int
    memory_mb: int
    timeout_s: float

    def stopping(self) -> bool: ...

    def load_inline(self, items: list[tuple[int, str, Profile]]) -> dict[int, Submission | RejectedFile]: ...

    def validate(
        self,
        entries: list[Entry],
        loaded: dict[int, Submission | Report | RejectedFile],
        earlier: Sequence[tuple[Submission, str]] = (),
    ) -> dict[int, Result]: ...

    def output_name(self, entry: Entry, taken: set[str]) -> str: ...

    def commit_group(self, done: Sequence[tuple[Entry, Result, str | None]], report: RunReport) -> None: ...

    def file_duplicate(self, entry: Entry, report: RunReport) -> None: ...

    def file_checked(self, ids: list[int], report: RunReport) -> None: ...

    def open_special(self, entry: Entry) -> RejectedFile | list[Entry] | None: ...


class Pool:
    """The run's worker pool: tasks go in with `submit`, (task, value) pairs come out of `get`."""

    def __init__(self, workers: int, memory_mb: int, timeout_s: float) -> None:
        self.feed = Feed()
        self.results: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        self._args = (workers, memory_mb, timeout_s)
        self._thread = threading.Thread(target=self._pump, name="jixiao-pool", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        workers, memory_mb, timeout_s = self._args
        try:
            for task, value in map_isolated(
                task_worker, self.feed, workers=workers, memory_mb=memory_mb, timeout_s=timeout_s
            ):
                self.results.put((task, value))
        except BaseException as exc:  # the pool cannot start: the parent raises it
            self.results.put((_END, exc))
        else:
            self.results.put((_END, None))

    def submit(self, task: tuple[str, Any], *, first: bool = False) -> None:
        self.feed.put(task, first=first)

    def waiting(self) -> int:
        return len(self.feed)

    def get(self, timeout: float) -> tuple[Any, Any] | None:
        try:
            task, value = self.results.get(timeout=timeout)
        except queue.Empty:
            return None
        if task is _END:
            if isinstance(value, BaseException):
                raise value
            return None
        return task, value

    def close(self) -> None:
        """Drop the tasks not yet started, let the running ones finish, stop the workers."""
        self.feed.close(drop=True)
        self._thread.join()


class InlinePool:
    """`workers=0`: every task runs in this process as it is submitted (reads announced, see
    `Stages.load_inline`)."""

    def __init__(self, engine: Stages) -> None:
        self.engine = engine
        self.done: deque[tuple[Any, Any]] = deque()

    def submit(self, task: tuple[str, Any], *, first: bool = False) -> None:
        kind, item = task
        if kind == "load":
            value = self.engine.load_inline([item])[item[0]]
        else:
            [(_, value)] = map_isolated(task_worker, [task], workers=0)
        self.done.append((task, value))

    def waiting(self) -> int:
        return 0

    def get(self, timeout: float) -> tuple[Any, Any] | None:
        return self.done.popleft() if self.done else None

    def close(self) -> None:
        self.done.clear()


@dataclass(slots=True)
class Chunk:
    """Files validated together; `loaded` until validated, then `writing` until all are committed."""

    entries: list[Entry] = field(default_factory=list)
    loaded: dict[int, Submission | Report | RejectedFile] = field(default_factory=dict)
    closed: bool = False
    validated: bool = False
    writing: int = 0  # annotated workbooks queued and not yet committed

    @property
    def read(self) -> bool:
        return self.closed and len(self.loaded) == len(self.entries)


@dataclass(slots=True)
class _Pending:
    """A finished file waiting for its commit group."""

    entry: Entry
    result: Result
    output: str | None
    chunk: Chunk


class Flow:
    """One pass over groups of received rows (see the module docstring)."""

    def __init__(self, engine: Stages, report: RunReport) -> None:
        self.engine, self.report = engine, report
        self.chunks: deque[Chunk] = deque()
        self.duplicates: list[Entry] = []
        self.bundles: list[int] = []  # unpacked bundles, checked: filed after the members are taken in
        self.reading: dict[int, Chunk] = {}  # entry id → its chunk, until read
        self.writes: dict[int, tuple[Entry, Chunk, str, Result]] = {}  # entry id → (entry, chunk, output, result)
        self.pending: list[_Pending] = []
        self.pending_since = 0.0
        self.taken: set[str] = set()  # output names given out in this run, not yet in the ledger

    def run(self, groups: Iterator[list[Entry]]) -> None:
        engine = self.engine
        pool: Pool | InlinePool = (
            Pool(engine.workers, engine.memory_mb, engine.timeout_s) if engine.workers else InlinePool(engine)
        )
        try:
            self._loop(pool, groups)
        finally:
            try:
                self._flush()  # what is done is recorded, also when the run stops or fails
            finally:
                pool.close()
        if self.bundles and not engine.stopping():
            engine.file_checked(self.bundles, self.report)
        for entry in self.duplicates:
            if engine.stopping():
                break
            engine.file_duplicate(entry, self.report)

    # ---------------------------------------------------------------------------------- the loop

    def _loop(self, pool: Pool | InlinePool, groups: Iterator[list[Entry]]) -> None:
        exhausted = False
        while not self.engine.stopping():
            while not exhausted and pool.waiting() < settings.READ_AHEAD_FILES and self._room():
                group = next(groups, None)
                if group is None:
                    exhausted = True
                    if self.chunks:
                        self.chunks[-1].closed = True
                    break
                self._add(group, pool)
            ready = next((c for c in self.chunks if not c.validated), None)
            if ready is not None and ready.read:
                self._validate(ready, pool)
                continue
            if exhausted and not self.chunks:
                return
            got = pool.get(timeout=0.05 if self.pending else 0.2)
            if got is not None:
                self._handle(*got)
            if self.pending and time.monotonic() - self.pending_since >= settings.COMMIT_GROUP_S:
                self._flush()

    def _room(self) -> bool:
        """Whether more files may be taken: the newest chunk has room, or fewer than two chunks are open."""
        tail = self.chunks[-1] if self.chunks else None
        return tail is None or not tail.closed or len(self.chunks) < 2

    def _add(self, group: list[Entry], pool: Pool | InlinePool) -> None:
        for entry in group:
            if entry.duplicate_of is not None:
                self.duplicates.append(entry)
                continue
            opened = self.engine.open_special(entry)  # a bundle's members, or why a file is refused unread
            if isinstance(opened, list):
                self.bundles.append(entry.id)
                self._add(opened, pool)
                continue
            if not self.chunks or self.chunks[-1].closed:
                self.chunks.append(Chunk())
            chunk = self.chunks[-1]
            chunk.entries.append(entry)
            if opened is not None:
                chunk.loaded[entry.id] = opened
            else:
                self.reading[entry.id] = chunk
                task = "report" if entry.kind == "report" else "load"
                pool.submit((task, (entry.id, str(self.engine.outdir.path(entry.archive_path)), self.engine.profile)))
            if len(chunk.entries) >= settings.BATCH_CHUNK_FILES:
                chunk.closed = True

    def _validate(self, chunk: Chunk, pool: Pool | InlinePool) -> None:
        engine = self.engine
        engine.listener.phase("审核中")
        results = engine.validate(chunk.entries, chunk.loaded, self._unrecorded())
        chunk.loaded = {}  # the submissions live on in their results only
        for entry in chunk.entries:
            result = results[entry.id]
            if not result.findings:  # nothing to show on the cells: no annotated copy (通过 in the summary)
                self._done(entry, result, None, chunk)
                continue
            output = engine.output_name(entry, self.taken)
            self.writes[entry.id] = (entry, chunk, output, result)
            chunk.writing += 1
            archive = str(engine.outdir.path(entry.archive_path))
            job = Annotation.of(result)  # what the writer needs: ~0.5 KB to pickle instead of ~27 KB
            pool.submit(("write", (entry.id, job, archive, str(engine.outdir.path(output)))), first=True)
        chunk.validated = True
        self._retire()

    def _unrecorded(self) -> list[tuple[Submission, str]]:
        """Submissions validated in this run and not yet in the ledger, oldest first (a unit's last year may be
        among them: `attach_previous`)."""
        results = [(e, r) for e, _, _, r in self.writes.values()] + [(p.entry, p.result) for p in self.pending]
        ordered = sorted(results, key=lambda er: er[0].id)
        return [(r.submission, e.original_path) for e, r in ordered if r.submission is not None]

    def _handle(self, task: tuple[str, Any], value: Any) -> None:
        kind, item = task
        if kind in ("load", "report"):
            self.reading.pop(item[0]).loaded[item[0]] = as_report(value, item[1]) if kind == "report" else value
            return
        entry, chunk, output, result = self.writes.pop(item[0])
        if isinstance(value, RejectedFile):  # the writer failed on this file, or its worker died
            result = write_fallback(result, Path(item[2]), Path(item[3]))
        elif value[0] == "output_error":
            raise OutputError(value[1])
        self._done(entry, result, output, chunk)

    def _done(self, entry: Entry, result: Result, output: str | None, chunk: Chunk) -> None:
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(_Pending(entry, result, output, chunk))
        if len(self.pending) >= settings.COMMIT_GROUP_FILES:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        group, self.pending = self.pending, []
        self.engine.commit_group([(p.entry, p.result, p.output) for p in group], self.report)
        for p in group:
            if p.output is not None:
                p.chunk.writing -= 1
        self._retire()

    def _retire(self) -> None:
        """Forget the chunks whose every file is committed."""
        while (
            self.chunks
            and self.chunks[0].validated
            and self.chunks[0].writing == 0
            and not self._pending_in(self.chunks[0])
        ):
            self.chunks.popleft()

    def _pending_in(self, chunk: Chunk) -> bool:
        return any(p.chunk is chunk for p in self.pending)
