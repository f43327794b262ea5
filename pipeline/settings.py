"""Settings and limits in one place, each with the reason it exists."""

import multiprocessing
import os
from importlib.resources import files
from pathlib import Path

from pipeline.errors import JixiaoError


def _schemas_dir() -> Path:
    """The wheel carries schemas/ inside the package (pyproject: force-include), found through
    importlib.resources; a checkout, editable install or not, has it at the top of the repository, where it
    is edited. An installed wheel is files on disk, so the resource is a Path (a zipped install is not
    supported: the readers' worker processes need files too)."""
    packaged = files("pipeline") / "schemas"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


#: Declarative form definitions, rule catalogue and profiles (a folder of the same shape may stand in).
SCHEMAS_DIR = _schemas_dir()

#: Reporting year used when none is given (the reference submission's year).
DEFAULT_YEAR = 2023

#: Identifies workbooks written by `jixiao template` (document property), so names can be trusted.
TEMPLATE_ID = "jixiao-jxzp"
TEMPLATE_VERSION = "1"

#: Titles are looked for only near the top of a sheet: a title deep in a sheet is not a form.
TITLE_SEARCH_ROWS = 8

#: Decimals beyond this in a float are noise from arithmetic, not precision the unit wrote.
MAX_DECIMALS = 6

#: Suffix of the annotated workbook written next to each checked file.
RESULT_SUFFIX = "_审核结果.xlsx"

#: Largest file accepted at all: real submissions are well under 5 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024

#: Largest sheet read: the forms have < 200 rows; a sheet far beyond is not a submission.
MAX_SHEET_ROWS = 5_000
MAX_SHEET_CELLS = 200_000

#: Zip guard: declared uncompressed total, worst compression ratio, number of entries.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_ENTRIES = 2_000

#: A bundle (.zip of a unit's files): most members unpacked from one; each member is also held to
#: MAX_FILE_BYTES, the whole to MAX_UNZIPPED_BYTES and MAX_ZIP_RATIO like a workbook's parts.
MAX_BUNDLE_MEMBERS = 200

#: Paragraphs of a 自评报告 (with its file name) where the unit's name is looked for: its title and opening.
REPORT_HEAD_PARAGRAPHS = 12

#: Zip entries smaller than this are not judged by ratio: tiny XML parts compress freakishly well, harmlessly.
ZIP_RATIO_MIN_BYTES = 1024 * 1024

#: Bytes read from the start of each XML part to refuse DTDs: generators put the root element far earlier.
XML_PROLOG_BYTES = 2048

#: Address-space cap of a reader worker: calamine aborts its process when an allocation fails, so a hostile
#: file may kill only a worker; address space, not RSS, so leave room for the interpreter and imports.
WORKER_MEMORY_MB = 1024

#: Wall-clock limit for one file in a worker: a normal form reads in milliseconds; a stuck reader is killed.
WORKER_TIMEOUT_S = 60.0

#: A file not modified for this long is complete: copies and saves write continuously until they finish.
INBOX_SETTLE_S = 2.0

#: A file that still looks cut short (a zip without its directory, an .xls short of its sectors) is waited for
#: as a copy in progress until it has not changed for this long; then it is taken, and refused as damaged.
INBOX_INCOMPLETE_S = 120.0

#: How long `jixiao run` waits for files still being written before leaving them to the next run.
INBOX_WAIT_S = 30.0

#: Files per chunk (read → one validate call → write): bounds the parent's memory (two chunks are open at
#: once); a validate call costs ≈ 80 ms plus ≈ 2 ms a unit, so a bigger chunk saves little.
BATCH_CHUNK_FILES = 250

#: Reads kept queued ahead of the workers, the parent receiving more when fewer wait: enough for both workers
#: while the parent validates a chunk (≈ 0.5 s) or commits a group. 16 left them idle a fifth of a run.
READ_AHEAD_FILES = 128

#: Garbage-collector thresholds during a batch run (Python's default: 700, 10, 10); see `engine._collector_tuned`.
GC_THRESHOLDS = (20_000, 50, 50)

#: Files received per ledger transaction, and finished files recorded per transaction: a commit is an fsync.
#: A group is committed after this many seconds however few files it holds, so progress shows and reading starts.
RECEIVE_GROUP_FILES = 25
RECEIVE_GROUP_S = 0.5
COMMIT_GROUP_FILES = 50
COMMIT_GROUP_S = 1.0

#: Seconds between inbox passes of `jixiao watch`: arrivals are processed within about this long.
WATCH_INTERVAL_S = 2.0

#: Most worker processes by default: each may take WORKER_MEMORY_MB, more than a bureau PC can spare many times.
MAX_WORKERS = 8

#: Excel ignores hyperlinks past this many per worksheet; further rows show the path as text.
MAX_LINKS_PER_SHEET = 65_000

#: Environment variable: seconds each file's receive and commit steps sleep (tests SIGKILL a run mid-batch).
TEST_DELAY_ENV = "JIXIAO_TEST_DELAY_S"

#: Environment variable: how worker processes start, "spawn" or "forkserver". Unset: forkserver where the OS has
#: it (workers fork from a process whose imports are done), else spawn (Windows). CI runs the suite once with
#: spawn so the Windows path is exercised on Linux too.
START_METHOD_ENV = "JIXIAO_START_METHOD"

#: Start methods jixiao uses: never "fork", which copies the parent's threads' locks mid-use.
START_METHODS = ("forkserver", "spawn")


def start_method() -> str:
    """The start method of worker processes (see START_METHOD_ENV); JixiaoError naming a value not usable here."""
    available = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
    wanted = os.environ.get(START_METHOD_ENV, "").strip()
    if not wanted:
        return available[0]
    if wanted not in available:
        raise JixiaoError(f"环境变量 {START_METHOD_ENV}={wanted!r} 无效，本机可用：{'、'.join(available)}")
    return wanted
