"""What the 汇总 is built with, chosen once on the command line and kept in OUT for every later rebuild.

`--include-errors` / `--no-include-errors` on run, watch and summary set whether 汇总数 adds in the units whose
newest workbook has errors (default: not). The choice is kept in `OUT/.jixiao-summary.json`, so a `watch`
pass or a later `jixiao summary` does not silently change the totals back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

OPTIONS_NAME = ".jixiao-summary.json"


@dataclass(frozen=True, slots=True)
class SummaryOptions:
    include_errors: bool = False  # 汇总数 adds in units whose newest workbook has errors
    require_report: bool = (
        False  # the run's profile requires a 自评报告 (`report_required`): 未提交 lists who sent none
    )


def load_options(out: Path) -> SummaryOptions:
    """The options kept in OUT; the defaults when none were set (or the file is unreadable)."""
    path = Path(out) / OPTIONS_NAME
    if not path.is_file():
        return SummaryOptions()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return SummaryOptions(
            include_errors=bool(raw.get("include_errors", False)), require_report=bool(raw.get("require_report", False))
        )
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return SummaryOptions()


def save_options(
    out: Path, *, include_errors: bool | None = None, require_report: bool | None = None
) -> SummaryOptions:
    """Change the options kept in OUT (None: leave as is); returns what is now in force."""
    options = before = load_options(out)
    if include_errors is not None:
        options = replace(options, include_errors=include_errors)
    if require_report is not None:
        options = replace(options, require_report=require_report)
    if options != before:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / OPTIONS_NAME).write_text(json.dumps(asdict(options), ensure_ascii=False), encoding="utf-8")
    return options
