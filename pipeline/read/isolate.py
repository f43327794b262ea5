"""Run a function over untrusted files in worker processes, so one hostile file kills only a worker.

python-calamine aborts its whole process when an allocation fails, and a reader can hang on a crafted
file. `map_isolated` runs `func(item)` in a `ProcessPoolExecutor` whose workers (forkserver or spawn,
never fork) have an address-space limit, and yields `(item, result)` pairs as they complete; an item
whose worker dies, runs out of memory or overruns the timeout gets a `RejectedFile` instead, and the
other items go on in a rebuilt pool.

When a worker dies, every future still in flight fails with it (`BrokenProcessPool`), and nothing says
which item killed it. Those items are suspects, not culprits: each is run again alone, and only one
that kills its worker when alone is refused. An innocent item is therefore never refused for sharing
a pool with a hostile one; the price is running the suspects once more, one at a time.

`items` may be a `Feed`: items put into it while the run goes on, so a batch run keeps one pool for all
its chunks and reads the next chunk while it validates this one. A run over a feed ends once the feed is
closed and drained; items put with `first=True` go before the others (a chunk's writes before the next
chunk's reads: what is written leaves memory).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

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
#: Seconds to wait for the other futures of a broken pool to be marked failed.
_BROKEN_SETTLE_S = 10.0


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
    """One batch over a pool that is rebuilt whenever a worker dies or overruns."""

    def __init__(self, func: Callable[[Any], Any], workers: int, memory_mb: int, timeout_s: float) -> None:
        self.func, self.workers, self.memory_mb, self.timeout_s = func, workers, memory_mb, timeout_s
        self.context = multiprocessing.get_context(settings.start_method())

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self.context,
            initializer=_limit_worker,
            initargs=(self.memory_mb,),
        )
        # A worker that cannot even start (memory cap below the interpreter's needs, func's module
        # failing to import) would otherwise get every file refused as crashing it.
        try:
            pool.submit(_ping, self.func).result(timeout=_STARTUP_TIMEOUT_S)
        except Exception as exc:
            _kill(pool)
            raise RuntimeError(f"reader worker processes cannot start (memory_mb={self.memory_mb}): {exc!r}") from exc
        return pool

    def run(self, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        source = iter(items)
        retry: deque[Any] = deque()  # innocent items whose run was cut short: run again normally
        suspects: deque[Any] = deque()  # in flight when a worker died: run again one at a time
        inflight: dict[Future[Any], tuple[Any, float, bool]] = {}  # → (item, deadline, ran alone)
        pool = self._new_pool()
        try:
            exhausted = False
            while True:
                while len(inflight) < (1 if suspects else self.workers * _QUEUED_PER_WORKER):
                    alone = bool(suspects)
                    item = suspects.popleft() if suspects else retry.popleft() if retry else next(source, _DONE)
                    if item is _DONE:
                        exhausted = True
                        break
                    if item is IDLE:
                        break
                    try:
                        future = pool.submit(_call, self.func, item)
                    except BrokenProcessPool:  # a worker died since the last look: below, its item is found
                        (suspects if alone else retry).appendleft(item)
                        if not inflight:
                            pool = self._replace(pool)
                        break
                    # An item queued behind a busy worker waits at most for one item, itself within its time.
                    waits = 1 if len(inflight) < self.workers else _QUEUED_PER_WORKER
                    inflight[future] = (item, time.monotonic() + self.timeout_s * waits, alone)
                if not inflight:
                    if exhausted or not isinstance(source, Feed):
                        return
                    source.wait(_IDLE_WAIT_S)  # nothing in the feed yet
                    continue
                next_deadline = min(deadline for _, deadline, _ in inflight.values())
                timeout = max(0.0, next_deadline - time.monotonic())
                if isinstance(source, Feed) and not exhausted and len(inflight) < self.workers:
                    timeout = min(timeout, _IDLE_WAIT_S)  # a worker is free: look for new items soon
                done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
                lost = [(inflight[f][0], inflight[f][2]) for f in done if _died(f)]
                for future in done:
                    item, _, _ = inflight.pop(future)
                    if not _died(future):
                        yield item, self._outcome(item, future)
                if lost:
                    # The pool is dead: the other in-flight futures fail with it (or have just finished).
                    wait(inflight, timeout=_BROKEN_SETTLE_S)
                    for future, (item, _, alone) in inflight.items():
                        if _died(future) or not future.done():
                            lost.append((item, alone))
                        else:
                            yield item, self._outcome(item, future)
                    for item, alone in lost:
                        if alone or len(lost) == 1:  # it ran alone: it killed the worker
                            log.warning("worker died while processing %r", item)
                            yield item, crash_rejection()
                        else:
                            suspects.append(item)
                    inflight.clear()
                    pool = self._replace(pool)
                    continue
                now = time.monotonic()
                late = [f for f, (_, deadline, _) in inflight.items() if deadline <= now and not f.done()]
                if late:
                    for future in late:
                        item, _, _ = inflight.pop(future)
                        log.warning("timeout after %s s while processing %r", self.timeout_s, item)
                        yield item, RejectedFile(MSG_TIMEOUT.format(seconds=self.timeout_s), code="worker_timeout")
                    # Killing the pool cuts the others short; they were within their time: not suspects.
                    for future, (item, _, _) in inflight.items():
                        if future.done() and not _died(future):
                            yield item, self._outcome(item, future)
                        else:
                            retry.append(item)
                    inflight.clear()
                    pool = self._replace(pool)
        finally:
            _kill(pool)

    def _outcome(self, item: Any, future: Future[Any]) -> Any:
        exc = future.exception()
        if exc is not None:  # raised outside func, e.g. its result could not be pickled
            return _settle(item, ("error", (type(exc).__name__, repr(exc))))
        return _settle(item, future.result())

    def _replace(self, pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        _kill(pool)
        return self._new_pool()


def _died(future: Future[Any]) -> bool:
    return future.done() and isinstance(future.exception(), BrokenProcessPool)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, including a worker stuck inside native code."""
    terminate = getattr(pool, "kill_workers", None)  # Python ≥ 3.14
    if terminate is not None:
        terminate()
    else:
        # No public way to stop a running task before 3.14: kill the worker processes themselves.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


_DONE = object()
