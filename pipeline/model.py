"""Data shared by every stage: grids read from files, extracted points, findings, results."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

Level = Literal["error", "warning"]
Status = Literal["ok", "warnings", "errors", "rejected"]
STATUS_ZH: dict[str, str] = {"ok": "通过", "warnings": "有提示", "errors": "有错误", "rejected": "退回"}
LEVEL_ZH: dict[str, str] = {"error": "错误", "warning": "提示"}
EXPLAINED_ZH = "通过（提示已说明）"  # status text of a unit whose every warning carries its 单位说明
ExplanationKey = tuple[str, str, str]  # rule, sheet ("" = any sheet), first cell

#: Exit codes, the same for every command (README "Exit codes"): what a script calling jixiao may rely on.
EXIT_CLEAN = 0  # done; no file has errors (warnings may remain)
EXIT_ERRORS = 1  # done; some file has errors to fix
EXIT_REFUSED = 2  # done, but some file was refused: it cannot be read as a submission
EXIT_USAGE = 2  # nothing done: a usage error, a broken profile, a missing file, OUT held by another run…
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C before the end (the files not reached stay for the next run)


def exit_code(statuses: Iterable[str]) -> int:
    """The exit code of a command that checked files with these statuses: refused > errors > clean."""
    seen = set(statuses)
    if "rejected" in seen:
        return EXIT_REFUSED
    return EXIT_ERRORS if "errors" in seen else EXIT_CLEAN


def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """0-based (row, col) → A1-style reference."""
    return f"{column_letter(col)}{row + 1}"


def parse_ref(ref: str) -> tuple[int, int]:
    """A1-style reference → 0-based (row, col)."""
    letters = "".join(ch for ch in ref if ch.isalpha()).upper()
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(digits) - 1, col - 1


def cell_key(sheet: str, cells: str) -> str:
    """`sheet!first cell` of a finding, from its sheet and its cells as the ledger or a list sheet writes
    them (`F18,F19` or `F18、F19`): how decisions and explanations find the same finding again."""
    first = re.split(r"[,、]", cells or "", maxsplit=1)[0].strip()
    return f"{sheet}!{first}" if sheet or first else ""


@dataclass(slots=True)
class SheetGrid:
    """One sheet's cell values and merged ranges, as read (0-based, merged ranges inclusive)."""

    name: str
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    _anchors: dict[tuple[int, int], tuple[int, int]] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return ""

    def anchor(self, row: int, col: int) -> tuple[int, int]:
        """Top-left cell of the merged range holding (row, col), or the cell itself."""
        if self._anchors is None:
            anchors: dict[tuple[int, int], tuple[int, int]] = {}
            for r0, c0, r1, c1 in self.merged:
                if (r1 - r0 + 1) * (c1 - c0 + 1) > 10_000:
                    continue  # a giant merge is decoration; looking it up cell by cell would cost more
                for r in range(r0, r1 + 1):
                    for c in range(c0, c1 + 1):
                        anchors[(r, c)] = (r0, c0)
            self._anchors = anchors
        return self._anchors.get((row, col), (row, col))

    def merge_at(self, row: int, col: int) -> tuple[int, int, int, int] | None:
        """The merged range whose top-left cell is (row, col), if any."""
        for rng in self.merged:
            if rng[0] == row and rng[1] == col:
                return rng
        return None


@dataclass(slots=True)
class Grid:
    """A whole workbook as values and merged ranges, plus what identifies a jixiao template."""

    path: Path
    fmt: str
    sheets: list[SheetGrid]
    properties: dict[str, str] = field(default_factory=dict)
    names: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # sheet → point key → cell
    uncached: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # formulas never calculated


@dataclass(slots=True)
class Point:
    """One extracted value with where it came from.

    `decimals` is the number of decimals the unit wrote (None for text, dates and blanks); a value
    written with d decimals stands for the interval ±0.5·10⁻ᵈ (the tolerance model).
    """

    value: float | str | date | None
    sheet: str
    cells: tuple[str, ...]
    decimals: int | None = None
    raw: Any = None
    tol: float | None = None  # set for values summed from several cells (Σ of their tolerances)
    unknown: bool = False  # its sheet is missing or its formula was never calculated: rules skip it
    absent: bool = False  # the form edition read has no such point: rules needing it do not apply

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its fields, defaults left out, and `raw` only when it is not the value itself: a worker
        sends back ~400 points per workbook, and the generic dataclass state costs twice the time and half as
        many bytes again."""
        same = self.raw is self.value or (type(self.raw) is type(self.value) and self.raw == self.value)
        args: tuple[Any, ...] = (self.value, self.sheet, self.cells, self.decimals)
        args += (self.tol,) if same else (self.raw, self.tol)
        if self.unknown or self.absent:
            args += (self.unknown, self.absent)
        while args and args[-1] is None:
            args = args[:-1]
        return (_raw_is_value if same else Point), args

    @property
    def number(self) -> float | None:
        return self.value if isinstance(self.value, float) else None

    @property
    def tolerance(self) -> float:
        if self.tol is not None:
            return self.tol
        return 0.5 * 10.0**-self.decimals if self.decimals is not None else 0.0

    @property
    def filled(self) -> bool:
        return self.value is not None and self.value != ""


def _raw_is_value(
    value: Any, sheet: str, cells: tuple[str, ...], decimals: int | None = None, tol: float | None = None, *flags: bool
) -> Point:
    """A pickled Point whose raw value is its value (`Point.__reduce__`)."""
    return Point(value, sheet, cells, decimals, value, tol, *flags)


@dataclass(slots=True)
class Indicator:
    """One 三级指标 row of an indicator table (附件2 or 附件3)."""

    sheet: str
    row: int
    level1: str  # category key from the profile ("output", "effect", "satisfaction") or "" if unknown
    level2: str
    cells: dict[str, Point]  # name, target, actual, weight, score, reason


@dataclass(slots=True)
class FormData:
    """What was read from one sheet that matched a form definition."""

    form: str
    sheet: str
    year: int | None
    points: dict[str, Point]
    indicators: list[Indicator] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # labels of the definition not found on the sheet
    uncached: list[str] = field(default_factory=list)  # cells holding a formula without a calculated value
    edition: str = ""  # the form edition the table was read with ("a3_national" …)
    year_source: str = ""  # where the year came from: 标题, 表头, 设置, 文件名, 填报日期 ("" = unknown)
    title_cell: str = ""  # the title's cell: findings about the whole table point there
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (cell, text): template prompts left in
    titled: bool = True  # False: the table had no title and was recognised by its labels alone


@dataclass(frozen=True, slots=True)
class Unread:
    """A sheet, or a block of one, with content that matches no form edition: reported, never dropped."""

    sheet: str
    cell: str  # its title cell, or "" for a whole sheet without a title
    text: str  # its title, or the first text on the sheet
    duplicate: bool = False  # a second copy of a form the workbook already has


@dataclass(slots=True)
class Report:
    """A unit's 自评报告 (附件4) as text: paragraphs in order, or why none could be read."""

    file: Path
    paragraphs: list[str] = field(default_factory=list)
    problem: str = ""  # Chinese: why the text could not be read ("" when it was)


@dataclass(slots=True)
class Previous:
    """The same unit's newest workbook of the year before, as a batch run's ledger holds it (`prev.*` points)."""

    file: str  # the name last year's workbook was received under
    points: dict[str, Point]  # its 附件1 / 附件2 points by key, without cells (they are in that other file)
    current: str = ""  # the name this year's workbook was received under (what is read is its archive copy)


@dataclass(slots=True)
class Submission:
    """One workbook's forms: 附件1, 附件2 and any number of 附件3 sheets."""

    file: Path
    forms: dict[str, FormData]
    projects: list[FormData] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    report: Report | None = None  # the unit's 自评报告, when one came with the workbook
    explanations: dict[ExplanationKey, str] = field(default_factory=dict)  # 单位说明 / 审核说明 it carries
    previous: Previous | None = None  # last year's workbook of the unit, when a ledger holds one

    @property
    def unit(self) -> str | None:
        """The unit's name: 附件1/附件2's 预算单位名称, or a project table's 实施单位 / 主管部门."""
        candidates = [(self.forms.get(f), f"{f}.unit_name") for f in ("a1", "a2")]
        candidates += [(p, key) for p in self.projects[:1] for key in ("a3.implementer", "a3.department")]
        for data, key in candidates:
            point = data.points.get(key) if data else None
            if point is not None and isinstance(point.value, str) and point.value:
                return point.value
        return None

    @property
    def year(self) -> int | None:
        ordered = [self.forms[f] for f in ("a1", "a2") if f in self.forms]  # 附件1 first, whatever the sheet order
        for data in [*ordered, *self.projects]:
            if data.year:
                return data.year
        return None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found: a rule broken on given cells. Outputs, ledger and JSON all derive from it."""

    rule: str
    level: Level
    sheet: str
    cells: tuple[str, ...]
    message: str
    expected: str | None = None
    actual: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cells"] = list(self.cells)
        return data


@dataclass(slots=True)
class Result:
    """The outcome for one file."""

    file: Path
    findings: list[Finding]
    submission: Submission | None = None
    rejected: bool = False
    output: Path | None = None

    @property
    def unit(self) -> str | None:
        return self.submission.unit if self.submission else None

    @property
    def year(self) -> int | None:
        return self.submission.year if self.submission else None

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.findings)

    def explanation(self, finding: Finding) -> str | None:
        """The unit's explanation of `finding` (by rule and first cell, on its sheet or any), if it wrote one."""
        notes = self.submission.explanations if self.submission else {}
        ref = finding.cells[0] if finding.cells else ""
        return notes.get((finding.rule, finding.sheet, ref)) or notes.get((finding.rule, "", ref))

    @property
    def explained(self) -> int:
        """Warnings the unit explained (已说明). An explanation never clears an error."""
        return sum(f.level == "warning" and self.explanation(f) is not None for f in self.findings)

    @property
    def status_text(self) -> str:
        """审核结论 in Chinese: 通过（提示已说明） when every warning is explained and there is no error."""
        if self.status == "warnings" and self.explained == self.warnings:
            return EXPLAINED_ZH
        return STATUS_ZH[self.status]

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.findings)

    @property
    def status(self) -> Status:
        if self.rejected:
            return "rejected"
        if self.errors:
            return "errors"
        return "warnings" if self.warnings else "ok"

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (README "JSON output"); keep it stable."""
        return {
            "file": str(self.file),
            "unit": self.unit,
            "year": self.year,
            "status": self.status,
            "findings": [self._finding_dict(f) for f in self.findings],
        }

    def _finding_dict(self, finding: Finding) -> dict[str, Any]:
        data = finding.to_dict()
        note = self.explanation(finding)
        if note is not None:  # only when the unit wrote one: the shape of every other finding is unchanged
            data["explanation"] = note
        return data
