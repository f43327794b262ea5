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
import os as _os

from pipeline.logs import worker_output as _worker_output

# Nothing reaches a terminal unless a program configures logging (pipeline/logs.py).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
_worker_output()
_os.register_at_fork(after_in_child=_worker_output)
