"""What an annotated workbook shows: `Annotation`, the few facts of a Result it writes (small enough to send
to a writer process), and `Marks`, which cells of a submitted sheet it marks with a fill, a dashed frame,
a 批注 (merged ranges expanded).

Shared by both ways of writing the annotated workbook (annotate.py rewriting, package.py patching).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.model import Finding, Result, SheetGrid, Status, parse_ref

log = logging.getLogger(__name__)

LEVEL_RANK = {"error": 2, "warning": 1}
CELL_RE = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
MAX_ROW, MAX_COL = 1_048_575, 16_383
MAX_MERGE_CELLS = 10_000  # a form's largest merge is a title row of ~10 cells; beyond this it is decoration


#: `Annotation.note` of a workbook whose sheets the writer could not copy (a malformed package).
MSG_SHEETS_LEFT_OUT = "原工作簿内部结构异常，无法在其上标注问题单元格；本文件只含审核结果表，请对照下列问题修改原文件"


@dataclass(frozen=True, slots=True)
class Annotation:
    """What the annotated workbook of a Result needs, without its Submission (every extracted point): the
    findings, the header of the 审核结果 sheet and the unit's explanation of each finding it explained."""

    file: Path
    findings: tuple[Finding, ...]
    rejected: bool = False
    unit: str | None = None
    year: int | None = None
    status: Status = "ok"
    status_text: str = ""
    explanations: dict[Finding, str] = field(default_factory=dict)
    note: str = ""  # said under the header: why the unit's sheets are not in the workbook (annotate.py)

    @classmethod
    def of(cls, result: Result) -> Annotation:
        notes = {f: text for f in result.findings if (text := result.explanation(f)) is not None}
        return cls(
            file=result.file,
            findings=tuple(result.findings),
            rejected=result.rejected,
            unit=result.unit,
            year=result.year,
            status=result.status,
            status_text=result.status_text,
            explanations=notes,
        )

    def explanation(self, finding: Finding) -> str | None:
        return self.explanations.get(finding)

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.findings)

    @property
    def explained(self) -> int:
        return sum(f.level == "warning" and f in self.explanations for f in self.findings)


@dataclass(slots=True)
class Marks:
    """Per cell of one sheet: findings to comment on, fill level, frame level (merged ranges expanded)."""

    notes: dict[tuple[int, int], list[Finding]] = field(default_factory=dict)
    fills: dict[tuple[int, int], str] = field(default_factory=dict)
    frames: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def of(cls, sheet: SheetGrid, findings: Iterable[Finding]) -> Marks:
        marks = cls()
        for finding in sorted(findings, key=lambda f: -LEVEL_RANK.get(f.level, 0)):
            cells = [cell_position(ref) for ref in finding.cells]
            anchors = [sheet.anchor(*pos) for pos in cells if pos is not None]
            if not anchors or cells[0] is None:
                if finding.cells:
                    log.warning("finding %s names no usable cell: %s", finding.rule, finding.cells)
                continue
            first = anchors[0]
            marks.notes.setdefault(first, []).append(finding)
            _raise_level(marks.fills, span(sheet, first), finding.level)
            for anchor in anchors[1:]:
                if anchor != first:
                    _raise_level(marks.frames, span(sheet, anchor), finding.level)
        return marks


def cell_position(ref: str) -> tuple[int, int] | None:
    ref = ref.replace("$", "").strip().upper()
    if not CELL_RE.fullmatch(ref):
        return None
    row, col = parse_ref(ref)
    return (row, col) if row <= MAX_ROW and col <= MAX_COL else None


def span(sheet: SheetGrid, anchor: tuple[int, int]) -> list[tuple[int, int]]:
    """Every cell of the merged range anchored at `anchor` (just the anchor when not merged)."""
    rng = sheet.merge_at(*anchor)
    if rng is None or not drawable(*rng):
        return [anchor]
    return [(r, c) for r in range(rng[0], rng[2] + 1) for c in range(rng[1], rng[3] + 1)]


def drawable(r0: int, c0: int, r1: int, c1: int) -> bool:
    """Whether a merged range is reproduced: xlsxwriter walks a merge cell by cell (a blank per cell, an
    overlap check per cell), so a range over a whole sheet (A1:XFD1048576) would take minutes. Such a
    range is decoration, and the extractor skips it too; its top-left cell is still written."""
    return (r1 - r0 + 1) * (c1 - c0 + 1) <= MAX_MERGE_CELLS


def _raise_level(levels: dict[tuple[int, int], str], cells: list[tuple[int, int]], level: str) -> None:
    for cell in cells:
        if LEVEL_RANK.get(level, 0) > LEVEL_RANK.get(levels.get(cell, ""), 0):
            levels[cell] = level
