"""Reviewer decisions (审核意见, 备注) typed into a 汇总's 问题清单, kept in the ledger so they survive rebuilds;
and the units' explanations (单位说明) as the ledger holds them.

A decision is keyed by unit, year, rule and cell (`sheet!first cell`), not by submission: the same finding in
a unit's resubmission finds it again. Before a 汇总 is rebuilt its 问题清单 is read back (`harvest`); `jixiao
review FILE` reads a copy edited elsewhere (`import_file`). When the ledger and a workbook disagree, the newer
wins: the workbook's modification time against the time the ledger's decision was recorded. A decision
cleared in the workbook after it was recorded is cleared in the ledger too.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from pipeline.model import cell_key
from pipeline.store.ledger import Ledger

log = logging.getLogger(__name__)

SHEET = "问题清单"
DECISIONS = ("认可", "不认可", "退回修改")
#: The 问题清单 headers a decision is read by (any order, other columns ignored).
UNIT, RULE, SHEET_COL, CELLS, DECISION, NOTE = "预算单位", "规则编号", "工作表", "单元格", "审核意见", "备注"
_HEADER_SEARCH_ROWS = 10  # the header row is the third; a reviewer may insert a few rows above it
_YEAR_RE = re.compile(r"(\d{4})年度")

Key = tuple[str, str, str]  # unit, rule, cell


@dataclass(frozen=True, slots=True)
class Decision:
    unit: str
    year: int  # 0: unknown
    rule: str
    cell: str
    decision: str
    note: str


def read_decisions(path: Path, *, year: int | None = None) -> list[Decision]:
    """The decisions and notes in a 汇总's 问题清单 (rows with neither give a blank Decision).

    `year` defaults to the one in the sheet's title (`2023年度审核问题清单`). ValueError when the
    workbook has no 问题清单 with the needed columns."""
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_name(SHEET).to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path.name} 中没有可读取的“{SHEET}”工作表（{exc}）") from exc
    head = next((i for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]) if RULE in map(str, row)), None)
    if head is None:
        raise ValueError(f"{path.name} 的“{SHEET}”工作表中没有“{RULE}”列")
    columns = {str(name).strip(): c for c, name in enumerate(rows[head])}
    missing = [h for h in (UNIT, RULE, DECISION) if h not in columns]
    if missing:
        raise ValueError(f"{path.name} 的“{SHEET}”工作表中缺少列：{'、'.join(missing)}")
    if year is None:
        title = " ".join(str(v) for row in rows[:head] for v in row)
        found = _YEAR_RE.search(title)
        year = int(found.group(1)) if found else 0

    def text(row: Sequence[object], header: str) -> str:
        c = columns.get(header)
        return str(row[c]).strip() if c is not None and c < len(row) and row[c] is not None else ""

    out = []
    for row in rows[head + 1 :]:
        unit, rule = text(row, UNIT), text(row, RULE)
        if unit and rule:
            cell = cell_key(text(row, SHEET_COL), text(row, CELLS))
            out.append(Decision(unit, year, rule, cell, text(row, DECISION), text(row, NOTE)))
    return out


@dataclass(slots=True)
class Tally:
    """What reading a 问题清单 did to the ledger, row by row (`jixiao review` says all of it)."""

    rows: int = 0  # rows carrying a 审核意见 or 备注, or cleared since recorded
    added: int = 0
    changed: int = 0
    cleared: int = 0
    unchanged: int = 0  # the ledger already held the same
    kept: int = 0  # the ledger's entry was recorded after the workbook was saved: the ledger's stays

    @property
    def recorded(self) -> int:
        return self.added + self.changed + self.cleared

    def text(self) -> str:
        parts = [f"新增 {self.added} 条", f"修改 {self.changed} 条", f"清除 {self.cleared} 条"]
        if self.unchanged:
            parts.append(f"与账本相同 {self.unchanged} 条")
        if self.kept:
            parts.append(f"账本中的记录比该文件新而保留 {self.kept} 条")
        return f"问题清单中填写了审核意见或备注的 {self.rows} 行：" + "，".join(parts)


def store(ledger: Ledger, decisions: list[Decision], *, mtime: float, source: str) -> Tally:
    """Record the decisions read from a workbook last modified at `mtime`; returns what changed."""
    tally = Tally()
    with ledger.transaction() as conn:
        for d in decisions:
            key = (d.unit, d.year, d.rule, d.cell)
            old = conn.execute(
                "SELECT decision, note, decided_at FROM decisions"
                " WHERE unit = ? AND year = ? AND rule = ? AND cell = ?",
                key,
            ).fetchone()
            typed = bool(d.decision or d.note)
            if old is None and not typed:
                continue
            if old is not None and not typed and not (old[0] or old[1]):
                continue  # cleared before, and blank still
            tally.rows += 1
            if old is not None and (old[0], old[1]) == (d.decision, d.note):
                tally.unchanged += 1
                continue
            if old is not None and old[2] > mtime:
                tally.kept += 1  # recorded after the workbook was saved: the ledger is newer
                continue
            conn.execute(
                "INSERT OR REPLACE INTO decisions (unit, year, rule, cell, decision, note, decided_at, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, d.decision, d.note, time.time(), source),
            )
            if old is None:
                tally.added += 1
            elif typed:
                tally.changed += 1
            else:
                tally.cleared += 1
    return tally


def harvest(ledger: Ledger, path: Path, year: int | None) -> int:
    """Before `path` (a 汇总) is rewritten: keep what the reviewer typed into its 问题清单; returns how many
    decisions changed in the ledger."""
    if not path.is_file():
        return 0
    try:
        found = read_decisions(path, year=year or 0)
    except ValueError as exc:  # an old 汇总 without the columns, or a damaged one: nothing to keep
        log.warning("no decisions read from %s: %s", path, exc)
        return 0
    return store(ledger, found, mtime=path.stat().st_mtime, source=path.name).recorded


def import_file(ledger: Ledger, path: Path) -> Tally:
    """`jixiao review FILE`: the decisions of a 问题清单 edited elsewhere."""
    found = read_decisions(path)
    return store(ledger, found, mtime=path.stat().st_mtime, source=path.name)


def decisions_for(ledger: Ledger, year: int | None) -> dict[Key, tuple[str, str]]:
    """(unit, rule, cell) → (审核意见, 备注) recorded for `year`."""
    rows = ledger.conn.execute(
        "SELECT unit, rule, cell, decision, note FROM decisions WHERE year = ? AND (decision != '' OR note != '')",
        (year or 0,),
    )
    return {(unit, rule, cell): (decision, note) for unit, rule, cell, decision, note in rows}


def explanations_for(ledger: Ledger, ids: list[int]) -> dict[tuple[int, str, str], str]:
    """(submission id, rule, cell) → the 单位说明 its workbook carried."""
    out = {}
    for sid in ids:
        for rule, cell, text in ledger.conn.execute(
            "SELECT rule, cell, text FROM explanations WHERE submission_id = ?", (sid,)
        ):
            out[(sid, rule, cell)] = text
    return out
