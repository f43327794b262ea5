"""What a batch run reports: each inbox file's outcome, the run's report, and its progress events.

`engine.run_inbox` and `engine.watch_inbox` return a `RunReport`; a `Listener` (the CLI's progress display)
hears of each file as it is done. Built from ledger rows (`FileOutcome.of`), so a report and the ledger agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline.model import exit_code
from pipeline.store.ledger import LEDGER_NAME, Entry


@dataclass(slots=True)
class FileOutcome:
    """What became of one inbox file."""

    id: int
    original: str  # path relative to the inbox
    status: str  # ok | warnings | errors | rejected | duplicate
    unit: str | None
    year: int | None
    errors: int
    warnings: int
    reason: str | None
    output: Path | None  # annotated workbook
    filed: Path | None  # where the inbox file went (None: it had left the inbox, see note; or a bundle's member)
    note: str | None = None
    kind: str = "workbook"  # workbook | report | bundle

    @classmethod
    def of(cls, entry: Entry, out: Path) -> FileOutcome:
        return cls(
            id=entry.id,
            original=entry.original_path,
            status=entry.status or "",
            unit=entry.unit,
            year=entry.year,
            errors=entry.errors,
            warnings=entry.warnings,
            reason=entry.reason,
            output=out / entry.output_path if entry.output_path else None,
            filed=out / entry.dest_path if entry.dest_path else None,
            note=entry.note,
            kind=entry.kind,
        )


@dataclass(slots=True)
class RunReport:
    """Everything one run (or one watch pass) did."""

    inbox: Path
    out: Path
    outcomes: list[FileOutcome] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # still being written: left for the next pass
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why) could not even be copied
    recovered: int = 0  # rows finished that an interrupted run had left
    paired: list[tuple[str, str]] = field(default_factory=list)  # (report, workbook) checked together
    waiting_reports: list[str] = field(default_factory=list)  # 自评报告 no workbook's unit name matches yet
    summaries: list[Path] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ledger(self) -> Path:
        return self.out / LEDGER_NAME

    def counts(self) -> dict[str, int]:
        """Files by status; a report or bundle taken in counts as `report` / `bundle`, not as a workbook."""
        counts = dict.fromkeys(("ok", "warnings", "errors", "rejected", "duplicate", "report", "bundle"), 0)
        for o in self.outcomes:
            key = o.kind if o.kind != "workbook" and o.status not in ("rejected", "duplicate") else o.status
            counts[key] = counts.get(key, 0) + 1
        return counts

    @property
    def units(self) -> int:
        return len(
            {
                (o.year, o.unit or o.original)
                for o in self.outcomes
                if o.kind == "workbook" and o.status in ("ok", "warnings", "errors")
            }
        )

    @property
    def exit_code(self) -> int:
        """model.exit_code over this run's files (a duplicate counts as clean: its first copy was counted)."""
        return exit_code(o.status for o in self.outcomes)


class Listener(Protocol):
    """Progress events of a run; the CLI renders them. Subclasses inherit no-ops for what they skip."""

    def planned(self, n: int) -> None:
        """`n` more files are to be processed."""
        return None

    def phase(self, text: str) -> None:
        """The run moved on to another stage (Chinese, for display)."""
        return None

    def done(self, outcome: FileOutcome) -> None:
        """One file is processed and out of the inbox."""
        return None
