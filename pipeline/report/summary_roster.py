"""The 汇总's roster parts: 未提交 (who to chase, with contacts) and 总览's 主管部门 / 名单核对 columns.

Written only when OUT holds a 名单 (`batch/roster.py`).
"""

from __future__ import annotations

from typing import Any

import xlsxwriter

from pipeline.report.summary_data import YearData
from pipeline.report.summary_layout import Col, ListSheet, Styles
from pipeline.report.summary_reports import NOTE_NO_REPORT, missing_reports
from pipeline.store.ledger import Entry


def roster_columns() -> list[Col]:
    return [
        Col("主管部门", 20, "wrap"),
        Col("联系人", 8, "text"),
        Col("联系电话", 13, "text"),
        Col("名单核对", 30, "wrap"),
    ]


def roster_values(data: YearData, entry: Entry) -> list[Any]:
    found = data.roster_entry(entry)
    if found is None:
        return [None, None, None, data.roster_note(entry)]
    return [found.department, found.contact, found.phone, data.roster_note(entry)]


def missing_sheet(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    """未提交: roster entries with no checked workbook this year, by 主管部门, with whom to call."""
    assert data.roster is not None
    cols = [
        Col("序号", 6, "int"),
        Col("单位名称", 34, "wrap"),
        Col("单位编码", 12, "text"),
        Col("主管部门", 24, "wrap"),
        Col("联系人", 10, "text"),
        Col("联系电话", 14, "text"),
        Col("备注", 40, "wrap"),
    ]
    no_report = missing_reports(data)
    title = f"{data.label}未提交单位（名单中尚未收到可审核工作簿的单位，共 {len(data.roster.missing)} 个）"
    if no_report:
        title += f"；另有 {len(no_report)} 个单位未交自评报告"
    sheet = ListSheet(wb, st, "未提交", title, info, cols)
    near_of = {e.name: submitted for submitted, e in data.roster.near.items()}
    ordered = sorted(data.roster.missing, key=lambda e: (e.department or "\uffff", e.name))
    for i, e in enumerate(ordered, start=1):
        note = f"收到名称相近的“{near_of[e.name]}”，请核对是否为本单位" if e.name in near_of else ""
        sheet.add([i, e.name, e.code, e.department, e.contact, e.phone, note])
    for i, e in enumerate(no_report, start=len(ordered) + 1):
        sheet.add([i, e.name, e.code, e.department, e.contact, e.phone, NOTE_NO_REPORT])
    sheet.finish()
