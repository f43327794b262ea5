"""What one year's 汇总 workbook shows, read from the ledger: its units (newest version each), findings,
history and refused files.

Shared by `summary` (the list sheets) and `summary_totals` (汇总数, 图表); nothing here writes a workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.batch.ledger import Entry, Ledger, StoredFinding

UNKNOWN_YEAR = "未知年度"


@dataclass(slots=True)
class UnitRow:
    entry: Entry
    versions: int
    values: dict[str, float]

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    @property
    def score(self) -> float | None:
        return self.get("a2.sum.score")

    @property
    def rate(self) -> float | None:
        budget, spent = self.get("a2.total.budget"), self.get("a2.total.exec")
        if budget and spent is not None:
            return spent / budget
        return self.get("a2.total.rate")


@dataclass(slots=True)
class YearData:
    """What one year's summary shows, read from the ledger."""

    year: int | None
    units: list[UnitRow]
    findings: list[StoredFinding]
    history: list[Entry]
    refused: list[Entry]

    @classmethod
    def load(cls, ledger: Ledger, year: int | None) -> YearData:
        latest = ledger.latest(year)
        ids = [e.id for e, _ in latest]
        numbers = ledger.numbers(ids)
        units = [UnitRow(e, n, numbers.get(e.id, {})) for e, n in latest]
        return cls(year, units, ledger.findings(ids), ledger.history(year), ledger.refused())

    @property
    def label(self) -> str:
        return f"{self.year}年度" if self.year is not None else UNKNOWN_YEAR

    def by_id(self) -> dict[int, UnitRow]:
        return {u.entry.id: u for u in self.units}


def unit_name(entry: Entry) -> str:
    return entry.unit or f"（未填写单位名称：{Path(entry.original_path).name}）"
