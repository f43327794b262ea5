"""What one year's 汇总 workbook shows, read from the ledger: its units (newest version each), findings,
history and refused files.

Only what the sheets show is read into Python: a handful of numbers per unit (`UNIT_KEYS`, for 总览) and,
for 汇总数, the sums across units that SQLite computes (`ledger_reads.sums`), never every point of every unit.

Shared by `summary` (the list sheets) and `summary_totals` (汇总数, 图表); nothing here writes a workbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.model import EXPLAINED_ZH, STATUS_ZH, cell_key
from pipeline.store.decisions import Key, decisions_for, explanations_for
from pipeline.store.ledger import Entry, Ledger, StoredFinding
from pipeline.store.ledger_reads import latest_of_units, numbers, sums, texts
from pipeline.store.options import load_options
from pipeline.store.reports import reported_units, waiting_reports
from pipeline.store.roster import RosterEntry, RosterMatch, load_roster, match_roster, roster_path

UNKNOWN_YEAR = "未知年度"
CONTACT_KEYS = (("a1.preparer", "a2.preparer", "a2.contact"), ("a1.phone", "a2.phone"))
#: The numbers of a unit the 汇总 shows (总览, 图表, last year's columns): all that `UnitRow` holds.
UNIT_KEYS = (
    "a1.staff_quota",
    "a1.staff_actual",
    "a1.sangong.actual",
    "a1.project.actual",
    "a1.public.actual",
    "a2.total.budget",
    "a2.total.exec",
    "a2.total.rate",
    "a2.sum.score",
)


@dataclass(slots=True)
class UnitRow:
    entry: Entry
    versions: int
    values: dict[str, float]  # UNIT_KEYS only

    def get(self, key: str) -> float | None:
        if key not in UNIT_KEYS:
            raise KeyError(f"{key} is not read for the 汇总: add it to UNIT_KEYS")
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
    history: Iterable[Entry]  # once: the ledger's rows, streamed
    refused: list[Entry]
    decisions: dict[Key, tuple[str, str]] = field(default_factory=dict)  # (unit, rule, cell) → (审核意见, 备注)
    explanations: dict[tuple[int, str, str], str] = field(default_factory=dict)  # (id, rule, cell) → 单位说明
    _all_explained: set[int] | None = None
    roster: RosterMatch | None = None  # set when OUT holds a 名单
    include_errors: bool = False  # 汇总数 adds in units with errors (OUT's summary options)
    contacts: dict[int, dict[str, str]] = field(default_factory=dict)  # id → {填表人, 联系电话 point: text}
    previous: dict[str, UnitRow] = field(default_factory=dict)  # unit name → its newest workbook of last year
    sums: dict[str, float] = field(default_factory=dict)  # point key → Σ over the counted units (汇总数)
    reported: set[str] = field(default_factory=set)  # units a 自评报告 was paired with (store.reports)
    require_report: bool = False  # the run's profile requires a report: 未提交 lists who sent none
    waiting_reports: list[Entry] = field(default_factory=list)  # 待配对 (no year yet): in each year's 提交历史

    @property
    def counted(self) -> list[UnitRow]:
        """The units 汇总数 adds up: all, or (by default) those whose newest workbook has no errors."""
        return self.units if self.include_errors else [u for u in self.units if u.entry.status != "errors"]

    def contact(self, entry: Entry) -> tuple[str | None, str | None]:
        """(填表人, 联系电话) as the unit wrote them in its own forms (附件1 first, then 附件2)."""
        found = self.contacts.get(entry.id, {})
        preparer = next((found[k] for k in CONTACT_KEYS[0] if found.get(k)), None)
        phone = next((found[k] for k in CONTACT_KEYS[1] if found.get(k)), None)
        return preparer, phone

    def last_year(self, entry: Entry) -> UnitRow | None:
        return self.previous.get(entry.unit) if entry.unit else None

    def roster_entry(self, entry: Entry) -> RosterEntry | None:
        """The unit's roster entry: same name, or the one its name nearly matches."""
        if self.roster is None or entry.unit is None:
            return None
        return self.roster.found.get(entry.unit) or self.roster.near.get(entry.unit)

    def roster_note(self, entry: Entry) -> str:
        """名单核对: "" on the roster; else not on it, or near which entry."""
        if self.roster is None or (entry.unit is not None and entry.unit in self.roster.found):
            return ""
        near = self.roster.near.get(entry.unit or "")
        if near is not None:
            return f"“{entry.unit}”与名单中的“{near.name}”相近，请核对单位名称"
        return "不在名单中"

    @classmethod
    def load(cls, ledger: Ledger, year: int | None) -> YearData:
        latest = ledger.latest(year)
        ids = [e.id for e, _ in latest]
        values = numbers(ledger, ids, UNIT_KEYS)
        units = [UnitRow(e, n, values.get(e.id, {})) for e, n in latest]
        findings = ledger.findings(ids)
        history = ledger.each_history(year, known={e.id: e for e, _ in latest})  # read as 提交历史 is written
        notes = explanations_for(ledger, ids)
        return cls(year, units, findings, history, ledger.refused(), decisions_for(ledger, year), notes)

    @property
    def label(self) -> str:
        return f"{self.year}年度" if self.year is not None else UNKNOWN_YEAR

    def by_id(self) -> dict[int, UnitRow]:
        return {u.entry.id: u for u in self.units}

    def decision(self, unit: str, f: StoredFinding) -> tuple[str, str]:
        """(审核意见, 备注) recorded for a finding of `unit` (as 问题清单 names it), ("", "") when none."""
        return self.decisions.get((unit, f.rule, cell_key(f.sheet, f.cells)), ("", ""))

    def all_explained(self) -> set[int]:
        """Submissions whose every warning carries a 单位说明 (computed once)."""
        if self._all_explained is None:
            open_ = {f.submission_id for f in self.findings if f.level == "warning" and not self.explanation(f)}
            self._all_explained = {sid for sid, _, _ in self.explanations} - open_
        return self._all_explained

    def explanation(self, f: StoredFinding) -> str:
        """The unit's 单位说明 of a finding, "" when it wrote none."""
        return self.explanations.get((f.submission_id, f.rule, cell_key(f.sheet, f.cells)), "")

    def status_text(self, entry: Entry) -> str:
        """审核状态 as 总览 shows it: 通过（提示已说明） when every warning of the unit is explained."""
        if entry.status == "warnings" and entry.id in self.all_explained():
            return EXPLAINED_ZH
        return STATUS_ZH.get(entry.status or "", entry.status or "")


def year_data(ledger: Ledger, out: Path, year: int | None, *, totals: bool = True) -> YearData:
    """Everything one year's 汇总 (and its CSV export) shows: the ledger's year, OUT's roster and options,
    the units' own contacts and, for units the ledger also holds for the year before, last year's figures;
    with `totals`, the sums 汇总数 shows."""
    data = YearData.load(ledger, year)
    options = load_options(out)
    data.include_errors, data.require_report = options.include_errors, options.require_report
    data.reported = reported_units(ledger)
    data.waiting_reports = waiting_reports(ledger) if year is not None else []  # year None: in its history already
    if totals:
        data.sums = sums(ledger, [u.entry.id for u in data.counted])
    ids = [u.entry.id for u in data.units]
    data.contacts = texts(ledger, ids, [k for keys in CONTACT_KEYS for k in keys])
    if year is not None:
        before = latest_of_units(ledger, year - 1)
        last = numbers(ledger, [e.id for e in before.values()], UNIT_KEYS)
        data.previous = {name: UnitRow(e, 1, last.get(e.id, {})) for name, e in before.items()}
    roster_file = roster_path(out)
    if roster_file is not None:
        data.roster = match_roster(load_roster(roster_file), [u.entry.unit for u in data.units if u.entry.unit])
        data.units.sort(key=lambda u: getattr(data.roster_entry(u.entry), "department", "") or "\uffff")
    return data


def unit_name(entry: Entry) -> str:
    return entry.unit or f"（未填写单位名称：{Path(entry.original_path).name}）"
