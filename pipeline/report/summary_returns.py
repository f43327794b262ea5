"""退回名单: the units the reviewer sends back (审核状态 退回修改), each finding they must fix with the reviewer's
备注, and whom to call. `returns` is also what `jixiao notices` writes one 退回通知 per unit from.

A finding to fix is one the reviewer marked 退回修改 or 不认可, or an error the reviewer did not accept.
"""

from __future__ import annotations

from dataclasses import dataclass

import xlsxwriter

from pipeline.model import LEVEL_ZH
from pipeline.report.summary_data import UnitRow, YearData, unit_name
from pipeline.report.summary_layout import LEVEL_FILL, Col, ListSheet, Styles, print_a3
from pipeline.store.ledger import StoredFinding
from pipeline.store.reviews import RETURNED


@dataclass(frozen=True, slots=True)
class ToFix:
    finding: StoredFinding
    explanation: str  # the unit's 单位说明
    decision: str  # the reviewer's 审核意见
    note: str  # the reviewer's 备注


@dataclass(frozen=True, slots=True)
class Returned:
    """A unit sent back: who, where to reach it, what to fix."""

    unit: UnitRow
    name: str
    department: str
    contact: str
    phone: str
    items: list[ToFix]


def returns(data: YearData) -> list[Returned]:
    """The units whose newest workbook the reviewer returned, by 主管部门 then name."""
    by_id: dict[int, list[StoredFinding]] = {}
    for f in data.findings:
        by_id.setdefault(f.submission_id, []).append(f)
    out = []
    for unit in data.units:
        if data.review(unit.entry) != RETURNED:
            continue
        name = unit_name(unit.entry)
        items = []
        for f in by_id.get(unit.entry.id, []):
            decision, note = data.decision(name, f)
            if decision in ("退回修改", "不认可") or (f.level == "error" and decision != "认可"):
                items.append(ToFix(f, data.explanation(f), decision, note))
        items.sort(key=lambda t: (t.decision != "退回修改", t.finding.level != "error"))
        found = data.roster_entry(unit.entry)
        preparer, own_phone = data.contact(unit.entry)
        contact = (found.contact if found else None) or preparer or ""
        phone = (found.phone if found else None) or own_phone or ""
        department = (found.department if found else None) or ""
        out.append(Returned(unit, name, department, contact, phone, items))
    return sorted(out, key=lambda r: (r.department or "\uffff", r.name))


def returned_sheet(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    cols = [
        Col("序号", 5, "int"),
        Col("预算单位", 22, "wrap"),
        Col("主管部门", 14, "wrap"),
        Col("联系人", 8, "text"),
        Col("联系电话", 13, "text"),
        Col("级别", 6, "center"),
        Col("规则编号", 17, "text"),
        Col("工作表", 12, "wrap"),
        Col("单元格", 12, "wrap"),
        Col("需修改的问题", 32, "wrap"),
        Col("单位说明", 16, "wrap"),
        Col("审核意见", 9, "center"),
        Col("审核备注", 22, "wrap"),
    ]
    units = returns(data)
    title = f"{data.label}退回名单（审核意见为退回修改的单位，共 {len(units)} 个）"
    sheet = ListSheet(wb, st, "退回名单", title, info, cols)
    for n, r in enumerate(units, start=1):
        for i, item in enumerate(r.items or [None]):
            f = item.finding if item else None
            head = [n, r.name, r.department, r.contact, r.phone] if i == 0 else [None] * 5
            sheet.add(
                [
                    *head,
                    LEVEL_ZH.get(f.level, f.level) if f else None,
                    f.rule if f else None,
                    f.sheet if f else None,
                    f.cells.replace(",", "、") if f and f.cells else None,
                    f.message if f else "（审核意见为退回修改）",
                    item.explanation if item else None,
                    item.decision if item else None,
                    item.note if item else None,
                ]
            )
    sheet.finish()
    sheet.colour_by_text(5, sheet.row - 1, LEVEL_FILL)
    print_a3(sheet)
