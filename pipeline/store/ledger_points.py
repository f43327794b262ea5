"""A submission's extracted points as the ledger stores them: one row per point (key, number or text, sheet,
cell, decimals), indicators as `<form>.ind.<i>.<column>`, projects by their part number (0 = the unit's forms).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pipeline.model import FormData, Point, Submission


def point_row(key: str, point: Point) -> tuple[Any, ...]:
    """(key, value_num, value_text, sheet, cell, decimals): one point as the ledger stores it."""
    value = point.value
    num: float | None = None
    text: str | None = None
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, int | float):
        num = float(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif value is not None:
        text = str(value)
    return key, num, text, point.sheet, point.cells[0] if point.cells else None, point.decimals


def _form_rows(data: FormData) -> Iterator[tuple[Any, ...]]:
    for key, point in data.points.items():
        yield point_row(key, point)
    for i, ind in enumerate(data.indicators, start=1):
        prefix = f"{data.form}.ind.{i}"
        yield f"{prefix}.level1", None, ind.level1 or None, ind.sheet, None, None
        yield f"{prefix}.level2", None, ind.level2 or None, ind.sheet, None, None
        for name, point in ind.cells.items():
            yield point_row(f"{prefix}.{name}", point)


def point_rows(submission: Submission) -> Iterator[tuple[Any, ...]]:
    """(part, key, value_num, value_text, sheet, cell, decimals) for every extracted point."""
    for data in submission.forms.values():
        for row in _form_rows(data):
            yield (0, *row)
    for part, project in enumerate(submission.projects, start=1):
        for row in _form_rows(project):
            yield (part, *row)
