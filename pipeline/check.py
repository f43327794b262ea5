"""Check workbooks end to end: sniff → read → extract → validate (one pass per batch) → annotate.

This is the library behind `jixiao check`; the batch runner (`jixiao run`) reuses `load_submission`
per file in worker processes and `validate` once over the batch. `check_files(..., workers=n)` reads
in capped worker processes too (`isolate.map_isolated`), so a file that kills its reader is refused
instead of ending the program; the CLI does that, library callers and tests read inline by default.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.errors import JixiaoError, OutputError, RejectedFile
from pipeline.forms import Profile, load_profile
from pipeline.model import Finding, Report, Result, Submission
from pipeline.naming import safe_filename
from pipeline.read.extract import extract
from pipeline.read.grid import read_grid
from pipeline.read.isolate import map_isolated
from pipeline.read.report_text import is_report, read_report
from pipeline.read.sniff import sniff
from pipeline.settings import RESULT_SUFFIX
from pipeline.store.files import cannot_write, ignored_reason
from pipeline.store.reports import match_unit, report_head

log = logging.getLogger(__name__)


#: What `check FOLDER` takes from a folder: the formats a reader opens (the content is sniffed anyway).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MSG_NOT_FOUND = "找不到文件或文件夹：{names}"
_VALIDATE = "pipeline.rules.validate"
MSG_EMPTY_FOLDER = "文件夹中没有 Excel 工作簿（.xlsx/.xlsm/.xls/.ods）：{names}"


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """The files to check: each file as given; each folder → its workbooks, subfolders included, sorted,
    without lock files, hidden files and annotated results (`*_审核结果.xlsx`).

    Raises JixiaoError naming every path that does not exist, or every folder that holds no workbook."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise JixiaoError(MSG_NOT_FOUND.format(names="、".join(missing)))
    files: list[Path] = []
    empty: list[str] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if (p.suffix.lower() in WORKBOOK_SUFFIXES or is_report(p))
            and p.is_file()
            and not ignored_reason(p.name)
            and not p.stem.endswith(Path(RESULT_SUFFIX).stem)  # our own results, in any format
            and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
        )
        if not found:
            empty.append(str(path))
        files += found
    if empty:
        raise JixiaoError(MSG_EMPTY_FOLDER.format(names="、".join(empty)))
    return files


def load_submission(path: Path, *, profile: Profile | None = None) -> Submission:
    """Read one file into a submission. Raises RejectedFile with a Chinese reason when it cannot be."""
    fmt = sniff(path)
    grid = read_grid(path, fmt=fmt)
    return extract(grid, profile=profile)


def _load_item(item: tuple[int, Path, Profile]) -> Submission:
    """Worker: `load_submission` for one (index, path, profile) item."""
    _, path, profile = item
    return load_submission(path, profile=profile)


def _load_all(items: list[tuple[int, Path, Profile]], workers: int) -> Iterator[tuple[int, Submission | RejectedFile]]:
    # workers=0 reads in this process, and any exception a reader raises on a file refuses that file
    # (the traceback goes to the log), as in a worker: one odd file must not end a check of many.
    n = 0 if workers == 0 else min(workers, max(len(items), 1))
    for (i, _, _), value in map_isolated(_load_item, items, workers=n):
        yield i, value


def rejected(path: Path, exc: RejectedFile) -> Result:
    """The result for a file that cannot be read: one finding saying why."""
    finding = Finding(f"FILE.{exc.code.upper()}", "error", "", (), exc.reason)
    return Result(path, [finding], rejected=True)


def check_files(
    paths: Sequence[Path],
    *,
    profile: Profile | str | None = None,
    out_dir: Path | None = None,
    workers: int = 0,
) -> list[Result]:
    """Check files as one batch, results in the order of `paths`; with `out_dir`, write an annotated
    workbook for each file with findings. `workers` > 0 reads the files in that many capped worker
    processes (a file that crashes, exhausts or hangs one is refused); 0 reads them in this process."""
    prof = load_profile(profile) if isinstance(profile, str) else profile or load_profile()
    reports = [Path(p) for p in paths if is_report(Path(p))]
    items = [(i, Path(path), prof) for i, path in enumerate(paths) if not is_report(Path(path))]
    # The rule engine's imports (pandas, pandera: ≈ 0.6 s) overlap the reading; readers never import them.
    importer = threading.Thread(target=importlib.import_module, args=(_VALIDATE,), daemon=True)
    importer.start()
    values = dict(_load_all(items, workers))
    importer.join()
    validate = importlib.import_module(_VALIDATE).validate
    results: dict[int, Result] = {}
    loaded: list[tuple[int, Submission]] = []
    for i, path, _ in items:
        value = values[i]
        if isinstance(value, RejectedFile):
            results[i] = rejected(path, value)
            continue
        loaded.append((i, value))
        results[i] = Result(path, [], value)
    orphans = attach_reports([s for _, s in loaded], [read_report(p) for p in reports])
    for (i, _), findings in zip(loaded, validate([s for _, s in loaded], profile=prof), strict=True):
        results[i].findings = findings
    for i, path in enumerate(paths):  # a report that found its workbook is listed with that workbook
        if Path(path) in orphans:
            results[i] = Result(Path(path), [Finding("RPT.ORPHAN", "warning", "", (), MSG_ORPHAN_REPORT)])
    ordered = [results[i] for i in sorted(results)]
    if out_dir is not None:
        for result in ordered:
            if result.findings and not is_report(result.file):
                result.output = write_result_workbook(result, out_dir)
    return ordered


MSG_ORPHAN_REPORT = "未找到与该自评报告对应的工作簿（按单位名称匹配），请与绩效自评表一并提交"


def attach_reports(subs: Sequence[Submission], reports: Sequence[Report]) -> set[Path]:
    """Give each report to the workbook of its unit, as a batch run pairs them (`store.reports.match_unit`):
    the unit's name in the report's file name or first paragraphs, else the workbook whose file name shares
    the longest beginning with it. Returns the reports no workbook took."""
    orphans: set[Path] = set()
    for report in reports:
        free = {s.unit or f"\0{i}": s for i, s in reversed(list(enumerate(subs))) if s.report is None}
        head = report_head(report.file.name, report.paragraphs)
        found = match_unit(head, report.file.name, {key: s.file.name for key, s in free.items()})
        if found is None:
            orphans.add(report.file)
        else:
            free[found].report = report
    return orphans


def write_result_workbook(result: Result, out_dir: Path) -> Path:
    """Write `<stem>_审核结果.xlsx` for one result: the submitted .xlsx patched, other formats read again and
    rewritten (cheap, and keeps memory flat)."""
    from pipeline.report.annotate import write_annotated

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(f"输出目录 {out_dir}", exc) from exc
    out_path = out_dir / f"{safe_filename(result.file.stem)}{RESULT_SUFFIX}"
    try:
        return write_annotated(result, None if result.rejected else result.file, out_path)
    except OutputError:
        raise
    except Exception:  # the copy of the unit's sheets failed on their content: the findings sheet alone
        log.exception("cannot write the annotated sheets of %s; writing the findings sheet only", result.file)
        return write_annotated(result, None, out_path)
