"""Check workbooks end to end: sniff → read → extract → validate (one pass per batch) → annotate.

This is the library behind `jixiao check`; the batch runner (`jixiao run`) reuses `load_submission`
per file in worker processes and `validate` once over the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import RejectedFile
from pipeline.extract import extract
from pipeline.forms import Profile, load_profile
from pipeline.model import Finding, Result, Submission
from pipeline.naming import safe_filename
from pipeline.read import read_grid
from pipeline.settings import RESULT_SUFFIX
from pipeline.sniff import sniff
from pipeline.validate import validate

log = logging.getLogger(__name__)


def load_submission(path: Path, *, profile: Profile | None = None) -> Submission:
    """Read one file into a submission. Raises RejectedFile with a Chinese reason when it cannot be."""
    fmt = sniff(path)
    grid = read_grid(path, fmt=fmt)
    return extract(grid, profile=profile)


def rejected(path: Path, exc: RejectedFile) -> Result:
    """The result for a file that cannot be read: one finding saying why."""
    finding = Finding(f"FILE.{exc.code.upper()}", "error", "", (), exc.reason)
    return Result(path, [finding], rejected=True)


def check_files(
    paths: Sequence[Path], *, profile: Profile | str | None = None, out_dir: Path | None = None
) -> list[Result]:
    """Check files as one batch; with `out_dir`, write an annotated workbook for each file with findings."""
    prof = load_profile(profile) if isinstance(profile, str) else profile or load_profile()
    results: list[Result] = []
    loaded: list[tuple[int, Submission]] = []
    for path in paths:
        try:
            submission = load_submission(path, profile=prof)
        except RejectedFile as exc:
            results.append(rejected(path, exc))
            continue
        loaded.append((len(results), submission))
        results.append(Result(path, [], submission))
    for (i, _), findings in zip(loaded, validate([s for _, s in loaded], profile=prof), strict=True):
        results[i].findings = findings
    if out_dir is not None:
        for result in results:
            if result.findings:
                result.output = write_result_workbook(result, out_dir)
    return results


def write_result_workbook(result: Result, out_dir: Path) -> Path:
    """Write `<stem>_审核结果.xlsx` for one result (the grid is read again: cheap, and keeps memory flat)."""
    from pipeline.annotate import write_annotated

    out_dir.mkdir(parents=True, exist_ok=True)
    grid = None
    if not result.rejected:
        try:
            grid = read_grid(result.file)
        except RejectedFile:
            grid = None
    return write_annotated(result, grid, out_dir / f"{safe_filename(result.file.stem)}{RESULT_SUFFIX}")
