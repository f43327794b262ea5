"""Where log lines and Python warnings go: nowhere a user sees, unless `jixiao -v` asks for them.

The library's loggers end in a NullHandler (`pipeline/__init__.py`), so nothing reaches a terminal unless a
program configures logging; Python's last-resort handler would otherwise print WARNING lines, in English, from
worker processes, which configure nothing. `-v` sets `VERBOSE_ENV` so that the workers the run starts log on
their stderr too; without it a worker shows no Python warning either (openpyxl on a unit's file).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import warnings

#: Set by `jixiao -v` for the worker processes it starts.
VERBOSE_ENV = "JIXIAO_VERBOSE"
_FORMAT = "%(levelname)s %(name)s: %(message)s"
MSG_INTERNAL = "程序内部错误（{kind}），已停止；请加 -v 参数重新运行，并把输出发给系统管理员"

log = logging.getLogger(__name__)


def configure(*, verbose: bool) -> None:
    """The CLI's choice: every log line (DEBUG, tracebacks included) on stderr here and in the workers, or none."""
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        logging.basicConfig(level=logging.DEBUG, format=_FORMAT)
        logging.captureWarnings(True)


def worker_output() -> None:
    """In a worker process (spawned, or forked from a forkserver that imported jixiao): -v's log lines, or no
    Python warnings at all. Runs at import and after each fork."""
    if os.environ.get(VERBOSE_ENV):
        logging.basicConfig(level=logging.DEBUG, format=_FORMAT)
    elif multiprocessing.parent_process() is not None:
        warnings.simplefilter("ignore")


def quiet_warnings(argv: list[str]) -> None:
    """The console script without -v: no Python warning on the user's terminal."""
    if not {"-v", "--verbose"} & set(argv):
        warnings.simplefilter("ignore")


def internal_error(exc: BaseException, *, reraise: bool = False) -> str:
    """A bug of ours met at the top of a command: its traceback to the log, a Chinese line for the user (with
    `reraise`, -v: the exception itself, traceback and all)."""
    if reraise:
        raise exc
    log.error("unexpected error", exc_info=exc)
    return MSG_INTERNAL.format(kind=type(exc).__name__)
