"""The 汇总's 自评报告 parts: 总览's 自评报告 column, and 未提交's units whose report is missing.

A unit's report is 已交 once a run paired one with its workbook (`store.reports`), 有不一致 n when its newest
workbook has n findings of a report figure disagreeing with the tables (RPT.FIGURE, RPT.UNIT,
RPT.BREAKDOWN), 未交 otherwise. When the profile requires a report (`report_required = 1` in its [params],
kept in OUT's summary options by the run), 未提交 also lists the roster's units that sent a workbook without one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.report.summary_data import YearData
from pipeline.report.summary_layout import HEADER_ROW, Col, ListSheet
from pipeline.store.roster import RosterEntry

REPORT_COLUMN = "自评报告"
DISAGREEING = frozenset({"RPT.FIGURE", "RPT.UNIT", "RPT.BREAKDOWN"})
SENT, NOT_SENT, DISAGREES = "已交", "未交", "有不一致 {n}"
NOTE_NO_REPORT = "已交工作簿，未交自评报告"


def report_texts(data: YearData) -> dict[int, str]:
    """已交 / 未交 / 有不一致 n for each unit's newest workbook, by its row id."""
    disagreeing = Counter(f.submission_id for f in data.findings if f.rule in DISAGREEING)
    out: dict[int, str] = {}
    for unit in data.units:
        e = unit.entry
        n = disagreeing[e.id]
        out[e.id] = DISAGREES.format(n=n) if n else SENT if e.unit in data.reported else NOT_SENT
    return out


def add_report_column(data: YearData, cols: list[Col], rows: list[list[Any]]) -> None:
    """总览's 自评报告, right after 审核状态."""
    at = next(c for c, col in enumerate(cols) if col.header == "审核状态") + 1
    cols.insert(at, Col(REPORT_COLUMN, 10, "center"))
    texts = report_texts(data)
    for row, unit in zip(rows, data.units, strict=True):
        row.insert(at, texts[unit.entry.id])


def colour_report_column(sheet: ListSheet, cols: list[Col], last: int, data: YearData) -> None:
    """有不一致 n in 有提示's colours; 未交 in 有错误's when the profile requires a report."""
    c = next(i for i, col in enumerate(cols) if col.header == REPORT_COLUMN)
    first = HEADER_ROW + 1
    marks = [("有不一致", "有提示")] + ([(NOT_SENT, "有错误")] if data.require_report else [])
    for text, looks in marks:
        rule = {"type": "text", "criteria": "begins with", "value": text, "format": sheet.st.fills[looks]}
        sheet.ws.conditional_format(first, c, max(last, first), c, rule)


def missing_reports(data: YearData) -> list[RosterEntry]:
    """Roster entries whose unit sent a workbook but no report, when the profile requires one."""
    if not data.require_report or data.roster is None:
        return []
    sent = [u.entry.unit for u in data.units if u.entry.unit and u.entry.unit not in data.reported]
    return [data.roster.found[name] for name in sent if name in data.roster.found]
