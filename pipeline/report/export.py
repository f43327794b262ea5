"""`jixiao export --out OUT`: 总览 and 问题清单 of every year as CSV, for the bureau's own report.

`OUT/总览_{Y}.csv` and `OUT/问题清单_{Y}.csv`, UTF-8 with a BOM (Excel then opens them without asking the
encoding), the same columns and rows as the sheets of `汇总_{Y}.xlsx` — built from the ledger the same way,
after taking in the 审核意见 typed into the current 汇总. Links become the path relative to OUT; 总览 ends
with the 合计 row of the sheet (the same units counted, `summary_counted`). A text a unit typed that Excel
would take for a formula (=, +, -, @) is written behind an apostrophe, so a CSV cannot run anything when opened.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

from pipeline.report.final_copy import record_reviews
from pipeline.report.summary import findings_table, overview_table, summary_path, summary_paths
from pipeline.report.summary_counted import group_totals, total_row
from pipeline.report.summary_data import UNKNOWN_YEAR, year_data
from pipeline.report.summary_layout import Col
from pipeline.store.decisions import harvest
from pipeline.store.files import OutputLock, cannot_write
from pipeline.store.ledger import Ledger

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_csv(out: Path) -> list[Path]:
    """Write the CSV files of every year in OUT's ledger; returns them (none before anything was read)."""
    out = Path(out)
    written: list[Path] = []
    with Ledger.open_existing(out) as ledger, OutputLock(out):
        if not summary_paths(ledger, out):
            return []
        for year in ledger.years():
            harvest(ledger, summary_path(out, year), year)
            data = year_data(ledger, out, year, totals=False)
            label = year if year is not None else UNKNOWN_YEAR
            record_reviews(ledger, out, data)
            cols, rows = overview_table(data)
            total = total_row(cols, group_totals(data.counted))
            written.append(_write(out / f"总览_{label}.csv", cols, [*rows, total]))
            cols, rows = findings_table(data)
            written.append(_write(out / f"问题清单_{label}.csv", cols, rows))
    return written


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):  # a link: (path relative to OUT, text)
        return str(value[0])
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        if kind == "percent":
            return f"{value * 100:.2f}%"
        if kind == "amount":
            return f"{value:.2f}"
        if kind == "int" and float(value).is_integer():
            return str(int(value))
        return f"{value:g}" if kind != "score" else f"{value:.2f}".rstrip("0").rstrip(".")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _write(path: Path, cols: list[Col], rows: list[list[Any]]) -> Path:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([col.header.replace("\n", "") for col in cols])
            writer.writerows([_text(v, col.kind) for v, col in zip(row, cols, strict=True)] for row in rows)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise cannot_write(f"导出文件 {path.name}", exc) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path
