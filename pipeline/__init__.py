"""jixiao: check budget units' annual performance self-evaluation workbooks (绩效自评审核).

Data flow, one subpackage per stage (`ls pipeline/*/`):

    read/    file → byte gate (sniff) → grid of cells (grid, in a capped worker: isolate) → Submission (extract)
    rules/   Submissions of a batch → findings per submission (catalogue compiled, validate, builtins)
    report/  Result → annotated workbook, ledger → 汇总 workbooks; the blank template from the same forms
    batch/   inbox folder → archive, ledger rows, filed originals, the outputs above (run / watch)
    synth/   synthetic units with an answer key, and the sample inputs (tests and benchmarks only)

The top level holds what every stage shares: the data types (`model`), the form definitions (`forms`),
limits (`settings`), errors, file naming, the library entry point `check.check_files` and the CLI.
"""

__version__ = "0.1.0"

import logging as _logging
import multiprocessing as _multiprocessing
import os as _os
import warnings as _warnings

#: Set by `jixiao -v` for the worker processes it starts: they log to their stderr as the parent does.
VERBOSE_ENV = "JIXIAO_VERBOSE"

# A library's loggers end in a NullHandler: nothing reaches a terminal unless a program configures logging
# (the CLI does with -v). Without it, Python's last-resort handler would print WARNING lines, in English, from
# worker processes, which configure nothing; their Python warnings (openpyxl on a unit's file) likewise.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def _worker_output() -> None:
    """In a worker process (spawned, or forked from a forkserver that imported this): -v's log lines, or no
    Python warnings at all."""
    if _os.environ.get(VERBOSE_ENV):
        _logging.basicConfig(level=_logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    elif _multiprocessing.parent_process() is not None:
        _warnings.simplefilter("ignore")


_worker_output()
_os.register_at_fork(after_in_child=_worker_output)
