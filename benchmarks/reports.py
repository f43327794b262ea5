"""The 自评报告 cross-check's accuracy: synthetic reports for the corpus's fault-free workbooks, checked
with them. `python -m benchmarks.reports` alone, or as part of `make bench` (benchmarks/run.py).

Only workbooks without an error get a report (a report repeats its tables; a table already wrong says
nothing reliable about the prose). A share of the reports carry one prose fault (pipeline/synth/reports.py);
recall counts the (rule, paragraph) pairs the key expects, false alarms every other report finding.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.check import check_files
from pipeline.synth.reports import evaluate, write_reports

REPORT_SAMPLE = 300  # workbooks considered; those without an error (about three in four) get a report
REPORT_SEED = 4
REPORT_FAULT_RATE = 0.3


def report_accuracy(files: Sequence[Path], *, sample: int = REPORT_SAMPLE) -> dict[str, Any]:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for f in [f for f in files if f.suffix == ".xlsx"][:sample]:
            shutil.copy(f, work / f.name)
        results = check_files(sorted(work.glob("*.xlsx")))
        clean = [r.file for r in results if not r.errors]  # 提示 are fine: they change no figure a report repeats
        key = write_reports(clean, work, seed=REPORT_SEED, fault_rate=REPORT_FAULT_RATE)
        pairs = [p for name, info in key["reports"].items() for p in (work / info["workbook"], work / name)]
        seen = {r.file.name: [(f.rule, f.message) for f in r.findings] for r in check_files(pairs)}
    out = evaluate(key, seen)
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks.run import CACHE

    caches = sorted(CACHE.glob("u1000-*"))
    if not caches:
        print("先运行 make bench 生成基准语料")
        return 1
    result = report_accuracy(sorted(caches[-1].iterdir()))
    print(result)
    return 0 if result["recall"] == 1.0 and result["false_alarms"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
