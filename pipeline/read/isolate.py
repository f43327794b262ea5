"""Run a function over untrusted files in worker processes, so one hostile file kills only a worker.

python-calamine aborts its whole process when an allocation fails, and a reader can hang on a crafted
file. `map_isolated` runs `func(item)` in a pebble `ProcessPool` whose workers (forkserver or spawn, never
fork: `settings.start_method`) have an address-space limit where the OS offers one, and yields
`(item, result)` pairs as they complete; an item whose worker dies, runs out of memory or overruns the
timeout gets a `RejectedFile` instead. pebble stops an overrunning worker and replaces a dead one; the
other workers go on with their items.

pebble blames a worker's death on the task that worker took last; the result of the one before may still
have been on its way, so the blamed item is a suspect, not a culprit: it runs again alone, and only one that
kills its worker when alone is refused. An innocent item is therefore never refused for sharing a pool
with a hostile one. pebble also reports a timeout for a task whose worker died before pebble saw it start
the task (about one instant crash in ten, measured): an item that overruns runs again alone, where such a
death breaks the pool instead, and only one that overruns alone is refused as hanging (a hanging file costs
two timeouts). Should the pool itself break, or lose a task (no outcome long past any time it could take),
it is replaced, and the items in flight run again, each alone.

`items` may be a `Feed`: items put into it while the run goes on, so a batch run keeps one pool for all
its chunks and reads the next chunk while it validates this one. A run over a feed ends once the feed is
closed and drained; items put with `first=True` go before the others (a chunk's writes before the next
chunk's reads: what is written leaves memory).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from pipeline import settings
from pipeline.errors import RejectedFile

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MSG_CRASH = "读取文件时处理进程异常退出（可能文件过大或已损坏），已跳过"
MSG_TIMEOUT = "读取文件超时（超过 {seconds:g} 秒），处理进程已终止，已跳过"
MSG_ERROR = "读取文件时出错（{kind}），已跳过"

#: Seconds a new worker may take to start and import `func`'s module before the pool is declared unusable.
_STARTUP_TIMEOUT_S = 60.0
#: Items in flight per worker: the next one waits in the pool's queue, so a worker never idles while the
#: parent handles a result (unpickling a submission, a ledger commit); the parent's work overlaps theirs.
_QUEUED_PER_WORKER = 2
#: Seconds an idle run over a `Feed` waits for new items before it looks at its workers again.
_IDLE_WAIT_S = 0.05
#: Seconds past its longest possible wait and run after which a task is taken as lost by the pool: pebble
#: looks at its workers every 0.1 s and gives a stuck one 3 s to stop before it kills it.
_LOST_AFTER_S = 10.0


class Feed:
    """Items that arrive while `map_isolated` runs over them (thread-safe): `put` them, `close` when no
    more will come. Iterating never blocks: when nothing is waiting it yields `IDLE`, so the runner goes
    on collecting results, and `wait` sleeps until an item arrives."""

    def __init__(self) -> None:
        self._first: deque[Any] = deque()
        self._rest: deque[Any] = deque()
        self._changed = threading.Condition()
        self._closed = False

    def put(self, item: Any, *, first: bool = False) -> None:
        with self._changed:
            if self._closed:
                raise ValueError("feed is closed")
            (self._first if first else self._rest).append(item)
            self._changed.notify_all()

    def close(self, *, drop: bool = False) -> None:
        """No more items; with `drop`, forget the ones not yet taken (a run that stops)."""
        with self._changed:
            self._closed = True
            if drop:
                self._first.clear()
                self._rest.clear()
            self._changed.notify_all()

    def __len__(self) -> int:
        return len(self._first) + len(self._rest)

    def __iter__(self) -> Feed:
        return self

    def __next__(self) -> Any:
        with self._changed:
            if self._first:
                return self._first.popleft()
            if self._rest:
                return self._rest.popleft()
            if self._closed:
                raise StopIteration
            return IDLE

    def wait(self, timeout: float) -> None:
        with self._changed:
            if not (self._first or self._rest or self._closed):
                self._changed.wait(timeout)


#: What a `Feed` yields when it holds nothing yet.
IDLE = object()


def crash_rejection() -> RejectedFile:
    """The rejection of a file whose worker died or ran out of memory."""
    return RejectedFile(MSG_CRASH, code="worker_crash")


def map_isolated(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    memory_mb: int = settings.WORKER_MEMORY_MB,
    timeout_s: float = settings.WORKER_TIMEOUT_S,
) -> Iterator[tuple[T, R | RejectedFile]]:
    """Yield `(item, func(item))` for every item, as results complete; failures become `RejectedFile`.

    `func` must be a picklable top-level function and items picklable. A `RejectedFile` raised by
    `func` is yielded as the result; any other exception becomes `RejectedFile(code="reader_error")`
    naming the exception type (the traceback goes to the log). A worker that dies or raises
    MemoryError → code "worker_crash"; one that overruns `timeout_s` → code "worker_timeout".
    `workers=0` runs inline in this process (tests, tiny batches): exceptions are mapped the same way,
    but there is no memory cap and no timeout.
    """
    if not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be an integer ≥ 0, got {workers!r}")
    if memory_mb < 64:
        raise ValueError(f"memory_mb must be ≥ 64 (the interpreter alone needs that much), got {memory_mb!r}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
    if workers == 0:
        return _inline(func, items)
    return _Runner(func, workers, memory_mb, timeout_s).run(items)


def _inline(func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    for item in items:
        yield item, _settle(item, _call(func, item))


# ------------------------------------------------------------------------------ in the worker


def _limit_worker(memory_mb: int) -> None:
    """Pool initializer: cap the worker's address space; no core dumps from a reader that aborts.
    Where the OS has no `resource` module (Windows) the worker runs uncapped: the timeout still applies."""
    # A worker reads one file at a time; BLAS thread pools (numpy, if func imports it) would reserve
    # address space per core and fail under the cap on a many-core server.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def _ping(func: Callable[[Any], Any]) -> None:
    """Start-up check: unpickling `func` imports its module under the memory cap."""


def _call(func: Callable[[Any], Any], item: Any) -> tuple[str, Any]:
    """Run func(item) and tag the outcome, so no exception has to cross the process boundary."""
    try:
        return "ok", func(item)
    except RejectedFile as exc:
        return "rejected", exc
    except MemoryError:
        return "memory", None
    except Exception as exc:
        return "error", (type(exc).__name__, traceback.format_exc())
    except BaseException as exc:  # a Rust panic (pyo3 PanicException) is a BaseException: it must not escape
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return "error", (type(exc).__name__, traceback.format_exc())


def _call_pickled(func: Callable[[Any], Any], item: Any) -> tuple[str, Any]:
    """`_call` in a worker, the result pickled here: one that cannot be pickled is an error of its item, not
    the death of the worker (pebble's own send would fail outside any task)."""
    tag, value = _call(func, item)
    if tag != "ok":
        return tag, value
    try:
        return tag, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return "error", (type(exc).__name__, traceback.format_exc())


# ------------------------------------------------------------------------------ in the parent


def _settle(item: Any, outcome: tuple[str, Any]) -> Any:
    """A tagged outcome → the value to yield (result or RejectedFile), logging failures."""
    tag, value = outcome
    if tag in ("ok", "rejected"):
        return value
    if tag == "memory":
        log.warning("out of memory while processing %r", item)
        return crash_rejection()
    kind, text = value
    log.error("%s while processing %r:\n%s", kind, item, text)
    return RejectedFile(MSG_ERROR.format(kind=kind), code="reader_error")


class _Runner:
    """One batch over a pebble pool; a worker that dies or overruns is replaced by the pool itself."""

    def __init__(self, func: Callable[[Any], Any], workers: int, memory_mb: int, timeout_s: float) -> None:
        self.func, self.workers, self.memory_mb, self.timeout_s = func, workers, memory_mb, timeout_s
        self.context = multiprocessing.get_context(settings.start_method())

    def _new_pool(self) -> ProcessPool:
        pool = ProcessPool(
            max_workers=self.workers, initializer=_limit_worker, initargs=(self.memory_mb,), context=self.context
        )
        # A worker that cannot even start (memory cap below the interpreter's needs, func's module
        # failing to import) would otherwise get every file refused as crashing it.
        try:
            pool.schedule(_ping, (self.func,)).result(timeout=_STARTUP_TIMEOUT_S)
        except Exception as exc:
            _stop(pool)
            raise RuntimeError(f"reader worker processes cannot start (memory_mb={self.memory_mb}): {exc!r}") from exc
        return pool

    def run(self, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        source = iter(items)
        again: deque[Any] = deque()  # pebble blamed them for a worker's death: each runs once more
        suspects: deque[Any] = deque()  # in flight when the pool broke: each runs again alone
        inflight: dict[Future[Any], tuple[Any, float, int]] = {}  # → (item, deadline, _FRESH/_AGAIN/_ALONE)
        pool = self._new_pool()
        try:
            exhausted = False
            while True:
                ended, broken = self._fill(pool, source, again, suspects, inflight)
                exhausted = exhausted or ended
                if not inflight and not broken:
                    if exhausted or not isinstance(source, Feed):
                        return
                    source.wait(_IDLE_WAIT_S)  # nothing in the feed yet
                    continue
                timeout = max(0.0, min((d for _, d, _ in inflight.values()), default=0.0) - time.monotonic())
                if isinstance(source, Feed) and not exhausted and len(inflight) < self.workers:
                    timeout = min(timeout, _IDLE_WAIT_S)  # a worker is free: look for new items soon
                done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
                for finished in done:
                    item, _, tries = inflight.pop(finished)
                    if isinstance(finished.exception(), BrokenProcessPool):
                        broken = True
                        inflight[finished] = (item, 0.0, tries)  # `_lost` judges it with the others
                        continue
                    outcome = self._outcome(item, finished, tries)
                    if outcome is _SUSPECT:
                        again.append(item)
                    elif outcome is _ALONE_AGAIN:
                        suspects.append(item)
                    else:
                        yield item, outcome
                now = time.monotonic()
                lost = [f for f, (_, deadline, _) in inflight.items() if deadline <= now and not f.done()]
                if broken or lost:
                    yield from self._lost(inflight, lost, suspects)
                    _stop(pool)
                    pool = self._new_pool()
        finally:
            _stop(pool)

    def _fill(
        self,
        pool: ProcessPool,
        source: Iterator[Any],
        again: deque[Any],
        suspects: deque[Any],
        inflight: dict[Future[Any], tuple[Any, float, int]],
    ) -> tuple[bool, bool]:
        """Schedule items until enough are in flight (one while suspects wait); whether the source is
        exhausted, and whether the pool turned out broken."""
        while len(inflight) < (1 if suspects else self.workers * _QUEUED_PER_WORKER):
            tries = _ALONE if suspects else _AGAIN if again else _FRESH
            item = suspects.popleft() if suspects else again.popleft() if again else next(source, _DONE)
            if item is _DONE:
                return True, False
            if item is IDLE:
                break
            try:
                future = pool.schedule(_call_pickled, (self.func, item), timeout=self.timeout_s)
            except RuntimeError:  # the pool broke since the last look (a worker died idle)
                (again if tries == _AGAIN else suspects).appendleft(item)
                return False, True
            # pebble times a task from its start; one queued behind a busy worker waits for one task at
            # most, itself within its time. Past this, the pool has lost it (see `_lost`).
            waits = 1 if len(inflight) < self.workers else _QUEUED_PER_WORKER
            inflight[future] = (item, time.monotonic() + self.timeout_s * waits + _LOST_AFTER_S, tries)
        return False, False

    def _outcome(self, item: Any, future: Future[Any], tries: int) -> Any:
        """What a finished task yields: its result, a rejection, `_SUSPECT` (run it once more) or
        `_ALONE_AGAIN` (run it once more, alone)."""
        exc = future.exception()
        if exc is None:
            tag, value = future.result()
            return _settle(item, (tag, pickle.loads(value) if tag == "ok" else value))
        if isinstance(exc, TimeoutError):  # pebble stopped its worker; the others went on
            # pebble also times out a task whose worker died before pebble saw it start the task (about one
            # instant crash in ten here): only a task that overruns alone, where no such death goes unseen,
            # is refused as hanging.
            if tries != _ALONE:
                return _ALONE_AGAIN
            log.warning("timeout after %s s while processing %r", self.timeout_s, item)
            return RejectedFile(MSG_TIMEOUT.format(seconds=self.timeout_s), code="worker_timeout")
        if isinstance(exc, ProcessExpired):
            # pebble blames the task its worker had acknowledged; the result of the one before may still
            # have been on its way, so the blamed task is a suspect until it kills a worker a second time.
            if tries == _FRESH:
                return _SUSPECT
            log.warning("worker died while processing %r", item)
            return crash_rejection()
        # raised outside func, e.g. its result could not be pickled
        return _settle(item, ("error", (type(exc).__name__, repr(exc))))

    def _lost(
        self, inflight: dict[Future[Any], tuple[Any, float, int]], lost: list[Future[Any]], suspects: deque[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """The pool broke, or lost a task past any time it could take (a worker that died before pebble saw
        it start the task): the pool is replaced; what was in flight runs again, each alone, and one that
        ran alone is refused."""
        for future, (item, _, tries) in inflight.items():
            failed = future.done() and isinstance(future.exception(), BrokenProcessPool)
            if future.done() and not failed:
                outcome = self._outcome(item, future, tries)
                if outcome is not _SUSPECT and outcome is not _ALONE_AGAIN:
                    yield item, outcome
                    continue
            if tries != _ALONE:
                suspects.append(item)
            elif future in lost:
                log.warning("lost while processing %r alone", item)
                yield item, RejectedFile(MSG_TIMEOUT.format(seconds=self.timeout_s), code="worker_timeout")
            else:
                log.warning("worker pool broke while processing %r alone", item)
                yield item, crash_rejection()
        inflight.clear()


def _stop(pool: ProcessPool) -> None:
    """Stop a pool now, including a worker stuck inside native code (terminated, then killed)."""
    pool.stop()
    pool.join()


_DONE = object()

#: What `_Runner._outcome` returns for a task to run once more, and once more alone.
_SUSPECT = object()
_ALONE_AGAIN = object()
#: How often an item has run: first; again after pebble blamed it for a death; alone after the pool broke.
_FRESH, _AGAIN, _ALONE = 0, 1, 2
