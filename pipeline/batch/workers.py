"""Worker processes of a batch run, and stopping one: what runs in a worker, how workers start and die.

- `task_worker` is what a run's one pool runs (`flow.Pool`): `load_worker` or `write_worker` by the task's
  kind: read and extract one archived file; write one annotated workbook (`write_output`: temp file, atomic
  rename, fsync). `write_fallback` is the parent's second try for a file whose workbook failed on its
  content: the 审核结果 sheet alone, else the file is refused with `MSG_WRITE_FAILED`.
- `prepare_workers` starts the forkserver workers are forked from (imports done once, SIGINT ignored,
  single-threaded BLAS); the forkserver and its workers die with the run, even under `kill -9`.
- Workers ignore Ctrl-C (`_quiet_sigint`, run when a worker imports this module); in the parent,
  `stop_on_interrupt` turns the first Ctrl-C or SIGTERM into a stop between files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from pipeline import settings
from pipeline.check import load_submission, rejected
from pipeline.errors import OutputError, RejectedFile
from pipeline.forms import Profile
from pipeline.model import Report, Result, Submission
from pipeline.read.report_text import read_report
from pipeline.report.marks import MSG_SHEETS_LEFT_OUT, Annotation
from pipeline.store.files import cannot_write, fsync_dir

log = logging.getLogger(__name__)

MSG_WRITE_FAILED = "审核结果工作簿无法生成（{kind}），请联系系统管理员"
MSG_REPORT_UNREAD = "报告文件未能读取（{reason}），请另存为 .docx 后重新提交"


def _quiet_sigint() -> None:
    """In a worker process: ignore Ctrl-C, which a terminal sends to the whole process group; the parent
    decides when to stop, and a worker killed by it would get an innocent file refused as crashing it."""
    if multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


_quiet_sigint()  # a worker imports this module when it unpickles its function: as early as we can

_FORKSERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_FORKSERVER_MARK = "JIXIAO_FORKSERVER_OF"  # set to the run's pid while it starts its forkserver
_forkserver_ready = False


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):  # elsewhere orphaned workers idle until the machine restarts
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no C library to call: as on another OS
        pass


def _in_our_forkserver() -> None:
    """Runs when the forkserver preloads this module. A run killed with `kill -9` would otherwise leave the
    forkserver and its idle workers behind for ever (each worker holds the forkserver's lifeline open):
    the forkserver dies with the run, and each worker with the forkserver."""
    run_pid = os.environ.pop(_FORKSERVER_MARK, None)
    if run_pid is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by every worker forked from here
    _die_with_parent()
    if str(os.getppid()) != run_pid:  # the run died before we could ask to die with it
        os._exit(0)
    os.register_at_fork(after_in_child=_die_with_parent)


_in_our_forkserver()


def prepare_workers() -> None:
    """Start the forkserver that `map_isolated` forks workers from, tuned for batch runs. Optional, and
    process-wide: call it once, early, in a program that runs batches (the CLI does). Then:

    - it has imported this module (pandas, pandera, the readers): a new pool — two per chunk, and one
      after every crash — starts in milliseconds instead of ~1.5 s of imports per worker;
    - it ignores SIGINT, which its workers inherit: Ctrl-C reaches the parent only, which stops between
      files (a worker killed by Ctrl-C while reading alone would get its file refused as a crasher);
    - BLAS thread pools are single-threaded, so the imported libraries do not reserve address space
      per core before the worker's memory cap applies;
    - it and its workers die with the run, even a run killed with `kill -9` (`_in_our_forkserver`).
    The price: every forkserver worker of the process starts with those imports (~200 MB of address
    space), so code that caps workers far below WORKER_MEMORY_MB in the same process must not call it.
    Without it, workers import what they need themselves and ignore SIGINT from their first file on.
    """
    global _forkserver_ready
    if _forkserver_ready or settings.start_method() != "forkserver":
        return
    if threading.current_thread() is not threading.main_thread():
        return  # signal dispositions can only be changed from the main thread
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload([__name__, "pipeline.report.annotate"])
    saved_env = {k: os.environ.get(k) for k in (*_FORKSERVER_ENV, _FORKSERVER_MARK)}
    os.environ.update({k: os.environ.get(k) or v for k, v in _FORKSERVER_ENV.items()})
    os.environ[_FORKSERVER_MARK] = str(os.getpid())
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _forkserver_ready = True


def task_worker(task: tuple[str, Any]) -> Any:
    """Worker: one task of a run's pool, ("load", load item), ("report", load item) or ("write", write item)."""
    kind, item = task
    if kind == "report":
        return report_worker(item)
    return load_worker(item) if kind == "load" else write_worker(item)


def report_worker(item: tuple[int, str, Profile]) -> Report:
    """Worker: read one archived 自评报告's paragraphs (a problem reading it is in `Report.problem`)."""
    _quiet_sigint()
    return read_report(Path(item[1]))


def as_report(value: Report | RejectedFile, path: str) -> Report:
    """A report whose worker died or overran (a .doc conversion that hangs) is still a report, unread: it is
    never refused, and its unit is told why its figures were not compared (RPT.UNREADABLE)."""
    if isinstance(value, RejectedFile):
        return Report(Path(path), [], MSG_REPORT_UNREAD.format(reason=value.reason))
    return value


def load_worker(item: tuple[int, str, Profile]) -> Submission:
    """Worker: read and extract one archived file."""
    _quiet_sigint()
    _, path, profile = item
    return load_submission(Path(path), profile=profile)


def write_worker(item: tuple[int, Result | Annotation, str, str]) -> tuple[str, str]:
    """Worker: write one annotated workbook; an OutputError comes back as a value, to stop the run.

    The item's second member may be the Result or, better, `Annotation.of(result)`: what the writer needs of
    it without the Submission's every point, a fraction of the pickle sent to the worker."""
    _quiet_sigint()
    _, result, archive, output = item
    try:
        write_output(result, Path(archive), Path(output))
    except OutputError as exc:
        return "output_error", str(exc)
    return "ok", output


def write_output(result: Result | Annotation, archive: Path, output: Path, *, with_sheets: bool = True) -> Path:
    """The annotated workbook of `result` (the archived copy patched, or its sheets read and rewritten),
    written atomically and fsynced."""
    from pipeline.report.annotate import write_annotated

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(f"文件夹 {output.parent}", exc) from exc
    write_annotated(result, archive if with_sheets and not result.rejected else None, output)
    try:
        fd = os.open(output, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(output.parent)
    except OSError as exc:
        raise cannot_write(f"审核结果文件 {output.name}", exc) from exc
    return output


def write_fallback(result: Result, archive: Path, output: Path) -> Result:
    """The workbook of a file whose annotated copy could not be written: the 审核结果 sheet alone, saying so; if even
    that fails on its content, the file is refused saying so. OutputError (OUT refuses writes) propagates."""
    try:
        write_output(replace(Annotation.of(result), note=MSG_SHEETS_LEFT_OUT), archive, output, with_sheets=False)
        return result
    except OutputError:
        raise
    except Exception as exc:
        log.exception("cannot write even the summary sheet of %s", output)
        why = RejectedFile(MSG_WRITE_FAILED.format(kind=type(exc).__name__), code="write_error")
        refusal = rejected(result.file, why)
        write_output(refusal, archive, output, with_sheets=False)
        return refusal


# ------------------------------------------------------------------------------------- stopping


@contextmanager
def stop_on_interrupt(notify: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """An Event set by the first Ctrl-C (or SIGTERM), so a run stops between files; a second Ctrl-C raises
    KeyboardInterrupt at once. `notify()` is called on the first. Previous handlers are restored on exit.
    Main thread only."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info("stop requested (signal %d): finishing the current file", signum)
        stop.set()
        if notify is not None:
            notify()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
