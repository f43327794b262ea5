"""The 汇总数 and 图表 sheets of a 汇总 workbook: sums across units, and the two charts.

汇总数 lays out the sum over units of every amount in 附件1 and 附件2 the way the template lays them
out, ratios recomputed from the sums (by the catalogue's ratio rules) and 自评总分 averaged.
图表 shows the distribution of 自评总分 and the units by 审核状态.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from pipeline.forms import Form, Section, for_year, load_forms
from pipeline.report.summary_data import YearData, ratio_points
from pipeline.report.summary_layout import FONT, STATUS_FILL, Styles, add_sheet, print_setup

BUDGET_RATE = "a2.total.rate"
SCORE_BANDS = (  # (label, low, high): 自评总分 distribution on the 图表 sheet
    ("60分以下（差）", float("-inf"), 60.0),
    ("60–69分（中）", 60.0, 70.0),
    ("70–79分（中）", 70.0, 80.0),
    ("80–89分（良）", 80.0, 90.0),
    ("90–94分（优）", 90.0, 95.0),
    ("95分及以上（优）", 95.0, float("inf")),
)

# ---------------------------------------------------------------------------------------- 汇总数


def total_values(data: YearData) -> dict[str, float]:
    """The sums across the counted units (`YearData.sums`), every ratio from the units that filled both parts."""
    ratios = {result for result, _, _ in ratio_points()}
    out = {k: v for k, v in data.sums.items() if k not in ratios}
    out.update({key: value for key, (value, _) in data.ratios.items()})
    return out


def totals_sheet(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    ws = add_sheet(wb, "汇总数", streamed=False)
    year = data.year if data.year is not None else 0
    counted = data.counted
    values = total_values(data)
    scores = [u.score for u in counted if u.score is not None]
    averages = {"a2.sum.score": sum(scores) / len(scores)} if scores else {}
    ws.set_column(0, 0, 34)
    ws.set_column(1, 8, 14)
    ws.write_string(0, 0, f"{data.label}预算单位整体支出绩效基础数据汇总表", st.title)
    ws.set_row(0, 28)
    ws.write_string(1, 0, info, st.subtitle)
    ws.write_string(2, 0, f"金额单位：万元；控制率、执行率由汇总数重新计算，{_ratio_note(data)}", st.subtitle)
    row = 4
    ratios = {r for r, _, _ in ratio_points()}
    for form in load_forms().values():
        if form.repeatable:
            continue  # 附件3: one sheet per project, not one per unit
        ws.merge_range(row, 0, row, 6, "", st.section)
        ws.write_string(
            row, 0, f"{form.attachment}  {for_year(form.title, year) if year else form.title}（汇总）", st.section
        )
        row += 1
        sections = _FormTotals(ws, st, form, year, values, averages, ratios)
        for section in form.sections:
            row = sections.write(section, row)
        row += 1
    print_setup(ws, "汇总数")
    ws.fit_to_pages(1, 0)
    ws.set_portrait()


def _ratio_note(data: YearData) -> str:
    """How many units a rate of 汇总数 is over (only those that filled both its parts)."""
    n = data.ratios.get(BUDGET_RATE, (0.0, 0))[1]
    return f"只计两项都已填写的单位（执行率：{n} 个单位）"


class _FormTotals:
    """One form's sections on the 汇总数 sheet, each laid out as in the template, amounts summed."""

    def __init__(
        self,
        ws: Worksheet,
        st: Styles,
        form: Form,
        year: int,
        values: dict[str, float],
        averages: dict[str, float],
        ratios: set[str],
    ) -> None:
        self.ws, self.st, self.form, self.year = ws, st, form, year
        self.values, self.averages, self.ratios = values, averages, ratios

    def write(self, section: Section, row: int) -> int:
        """Write `section` from `row`; returns the next free row (a section without amounts takes none)."""
        if section.kind == "table":
            return self._table(section, row)
        if section.kind == "record" and any(f.type not in ("text", "date") for f in section.fields):
            return self._record(section, row)
        if section.kind == "fields" and not section.footer:
            return self._fields(section, row)
        if section.kind == "indicators" and "score" in section.total:
            return self._indicators(section, row)
        return row

    def _label(self, text: str) -> str:
        return for_year(text, self.year) if self.year else text

    def _value(self, r: int, c: int, key: str, ftype: str) -> None:
        ws, st = self.ws, self.st
        if ftype in ("text", "date", "score") or (ftype == "percent" and key not in self.ratios):
            ws.write_string(r, c, "—", st.muted)
        elif key in self.values:
            kind = {"int": "int", "percent": "percent"}.get(ftype, "amount")
            ws.write_number(r, c, self.values[key], getattr(st, kind))
        else:
            ws.write_blank(r, c, None, st.text)

    def _table(self, section: Section, row: int) -> int:
        ws, st, label = self.ws, self.st, self._label
        ws.write_string(row, 0, label(section.corner or section.side), st.header)
        for c, col in enumerate(section.fields, start=1):
            ws.write_string(row, c, label(col.label), st.header)
        row += 1
        for r in section.rows:
            ws.write_string(row, 0, label(r.label), st.text)
            for c, col in enumerate(section.fields, start=1):
                if r.only and col.key not in r.only:
                    ws.write_blank(row, c, None, st.text)
                else:
                    self._value(row, c, f"{self.form.id}.{r.key}.{col.key}", col.type)
            row += 1
        return row

    def _record(self, section: Section, row: int) -> int:
        ws, st, label = self.ws, self.st, self._label
        ws.write_string(row, 0, label(section.side), st.header)
        for c, f in enumerate(section.fields, start=1):
            ws.write_string(row, c, label(f.label), st.header)
        ws.write_string(row + 1, 0, "合计", st.text)
        for c, f in enumerate(section.fields, start=1):
            self._value(row + 1, c, f"{self.form.id}.{f.key}", f.type)
        return row + 2

    def _fields(self, section: Section, row: int) -> int:
        ws, st, label = self.ws, self.st, self._label
        numeric = [[f for f in line if f.type not in ("text", "date")] for line in section.field_rows]
        if not any(numeric):
            return row
        if section.headers:
            for c, (text, _) in enumerate(section.headers):
                ws.write_string(row, c * 2, label(text), st.header)
                ws.write_blank(row, c * 2 + 1, None, st.header)
            row += 1
        for line in numeric:
            for c, f in enumerate(line):
                ws.write_string(row, c * 2, label(f.label), st.text)
                self._value(row, c * 2 + 1, f"{self.form.id}.{f.key}", f.type)
            row += 1
        return row

    def _indicators(self, section: Section, row: int) -> int:
        ws, st = self.ws, self.st
        average = self.averages.get(f"{self.form.id}.{section.total['score']}")
        ws.write_string(row, 0, f"{section.total.get('label', '总分')} 得分（各单位平均）", st.text)
        if average is None:
            ws.write_string(row, 1, "—", st.muted)
        else:
            ws.write_number(row, 1, average, st.score)
        return row + 1


# ---------------------------------------------------------------------------------------- 图表


def charts_sheet(wb: xlsxwriter.Workbook, st: Styles, data: YearData, info: str) -> None:
    ws = add_sheet(wb, "图表", streamed=False)  # the charts cache the values of its cells
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 10)
    ws.write_string(0, 0, f"{data.label}自评总分分布与审核状态", st.title)
    ws.set_row(0, 28)
    ws.write_string(1, 0, info, st.subtitle)
    scores = [u.score for u in data.counted]
    bands = [(name, sum(1 for s in scores if s is not None and low <= s < high)) for name, low, high in SCORE_BANDS]
    bands.append(("未填写总分", sum(1 for s in scores if s is None)))
    last_band = _count_table(ws, st, 3, ("自评总分", "单位数"), bands)
    status_row = last_band + 2
    counts = Counter(data.status_key(u.entry) for u in data.units)
    passed = counts["ok"] + counts["explained"] + counts["accepted"]
    statuses = [("通过", passed), ("有提示", counts["warnings"]), ("有错误", counts["errors"])]
    statuses += [("退回修改", counts["returned"]), ("退回", len(data.refused))]
    _count_table(ws, st, status_row, ("审核状态", "数量"), statuses)
    ws.insert_chart(3, 3, _score_chart(wb, last_band))
    ws.insert_chart(21, 3, _status_chart(wb, status_row, statuses))
    print_setup(ws, "图表")


def _count_table(
    ws: Worksheet, st: Styles, row: int, headers: tuple[str, str], counts: Sequence[tuple[str, int]]
) -> int:
    """A two-column table (label, count) with its header at `row`; returns its last row."""
    ws.write_string(row, 0, headers[0], st.header)
    ws.write_string(row, 1, headers[1], st.header)
    for i, (name, n) in enumerate(counts, start=row + 1):
        ws.write_string(i, 0, name, st.text)
        ws.write_number(i, 1, n, st.int)
    return row + len(counts)


def _score_chart(wb: xlsxwriter.Workbook, last_band: int) -> Chart:
    series = {
        "name": "单位数",
        "categories": ["图表", 4, 0, last_band, 0],
        "values": ["图表", 4, 1, last_band, 1],
        "fill": {"color": "#5B9BD5"},
        "gap": 60,
    }
    y_axis = {"name": "单位数", "name_font": {"name": FONT}, "major_gridlines": {"visible": True}}
    return _column_chart(wb, "自评总分分布", series, y_axis=y_axis)


def _status_chart(wb: xlsxwriter.Workbook, status_row: int, statuses: list[tuple[str, int]]) -> Chart:
    series = {
        "name": "数量",
        "categories": ["图表", status_row + 1, 0, status_row + len(statuses), 0],
        "values": ["图表", status_row + 1, 1, status_row + len(statuses), 1],
        "points": [{"fill": {"color": STATUS_FILL[name][1]}} for name, _ in statuses],
        "gap": 80,
    }
    return _column_chart(wb, "审核状态（单位数；退回为文件数）", series)


def _column_chart(
    wb: xlsxwriter.Workbook, title: str, series: dict[str, Any], *, y_axis: dict[str, Any] | None = None
) -> Chart:
    chart = wb.add_chart({"type": "column"})
    chart.add_series({**series, "data_labels": {"value": True}})
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 12}})
    chart.set_x_axis({"num_font": {"name": FONT, "size": 9}})
    if y_axis is not None:
        chart.set_y_axis(y_axis)
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 320})
    return chart
