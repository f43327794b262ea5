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

#: Rows under a funds header read as the total and its sources when a table is read by its structure:
#: real forms have 1–6; a block that runs on is not a funds block any more.
MAX_FUND_ROWS = 10

#: An edition matches a table when it finds at least this share of its labels there; below it, a table
#: with a self-evaluation's structure is read by that structure (a Guangdong 整体 table under a title the
#: Hunan edition shares finds a third of the Hunan labels missing). Not applied under the edition's own title.
EDITION_MATCH_SHARE = 0.75

#: Suffix of the annotated workbook written next to each checked file.
RESULT_SUFFIX = "_审核结果.xlsx"

#: Largest file accepted at all: real submissions are well under 5 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024

#: Largest sheet read: the forms have < 200 rows; a sheet far beyond is not a submission.
MAX_SHEET_ROWS = 5_000
MAX_SHEET_CELLS = 200_000

#: A sheet taller than MAX_SHEET_ROWS only because of this many cells or fewer below it (a value typed at
#: A1048576 by a slip) is read down to MAX_SHEET_ROWS, the strays left out; more make it a sheet too large.
MAX_STRAY_CELLS = 10

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

#: GEN.EXTERNAL findings per workbook at most: a sheet of 10,000 HYPERLINK cells would bury every other finding.
MAX_EXTERNAL_FINDINGS = 50

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


# ------------------------------------------------------------------------------------- the portal (jixiao serve)

#: Largest upload the portal takes (workbook and report together): MAX_FILE_BYTES is what a reader accepts at all.
PORTAL_UPLOAD_MAX_BYTES = 20 * 1024 * 1024

#: Self-check uploads and their results are deleted this long after the check: the unit has its result by then.
PORTAL_KEEP_S = 24 * 3600

#: Seconds between sweeps for expired self-checks.
PORTAL_SWEEP_S = 600

#: Failed logins (提交码 or reviewer password) allowed per name (a code's first group, a reviewer) and per client
#: address within the window; past it that login is refused until the window has passed. 5 guesses per 15 minutes
#: make guessing hopeless; an address gets more, as an office may share one.
LOGIN_ATTEMPTS = 5
LOGIN_ATTEMPTS_PER_ADDRESS = 20
LOGIN_WINDOW_S = 15 * 60

#: Shortest reviewer password `jixiao users add` accepts.
PASSWORD_MIN_CHARS = 8

#: Reviewer and unit sessions end after this long (the cookie's max age).
SESSION_MAX_AGE_S = 8 * 3600

#: Self-checks validated in one call at most: validation costs ≈ 80 ms a call plus ≈ 2 ms a unit, so uploads
#: that arrive together are checked together; the bound keeps one slow batch from holding the first upload long.
PORTAL_CHECK_BATCH = 32

#: Reader worker processes of the portal's self-checks (one pool, kept warm for the life of the server).
PORTAL_WORKERS = 2
