"""Variations of a workbook as other provinces, systems and typists produce them, made at the grid level.

A workbook is read into value grids (the reader's own `read_grid`: values and merged ranges), changed by
one variation, and written back with openpyxl: titles with a place or a unit before them or other words,
columns inserted or reordered, fund-source rows renamed or deleted, labels broken by spaces and line breaks,
amounts written in 元. The tests read each variation and compare its points and findings with its original.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from pipeline.forms import load_editions, load_vocabulary
from pipeline.read.grid import read_grid
from pipeline.read.titles import labels_of
from pipeline.read.values import normalize, parse_value


@dataclass
class Table:
    """One sheet: its values by row (0-based) and its merged ranges (r0, c0, r1, c1, 0-based inclusive)."""

    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]]

    def find(self, test: Callable[[str], bool]) -> list[tuple[int, int]]:
        return [(r, c) for r, row in enumerate(self.rows) for c, v in enumerate(row) if isinstance(v, str) and test(v)]


Book = dict[str, Table]
Variation = Callable[[Book], None]


def load(path: Path) -> Book:
    grid = read_grid(path)
    return {s.name: Table([list(row) for row in s.rows], list(s.merged)) for s in grid.sheets}


def save(book: Book, path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, table in book.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(table.rows, 1):
            for c, v in enumerate(row, 1):
                if v not in ("", None):
                    cell = ws.cell(r, c, v)
                    if isinstance(v, str) and v.startswith("="):
                        cell.data_type = "s"  # a target written "=8个" is text, as the unit typed it
        for r0, c0, r1, c1 in table.merged:
            if (r0, c0) != (r1, c1):
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    wb.save(path)
    return path


def vary(src: Path, dst: Path, *variations: Variation) -> Path:
    book = load(src)
    for variation in variations:
        variation(book)
    return save(book, dst)


def _graded(book: Book) -> list[Table]:
    """The sheets holding an indicator grid (self-evaluation tables), where the variations apply."""
    return [t for t in book.values() if t.find(lambda v: normalize(v) in ("三级指标", "指标名称"))]


# --- titles -----------------------------------------------------------------------------------------------

_TITLE = re.compile(r"(项目支出|整体支出|部门整体)绩效自评表")


def retitle(prefix: str = "", *, wording: tuple[str, str] | None = None, year: bool = True) -> Variation:
    """A place or unit before the title, other words for it, or no year in it (nor on the row below)."""

    def change(book: Book) -> None:
        for table in _graded(book):
            for r, c in table.find(lambda v: bool(_TITLE.search(v))):
                text = str(table.rows[r][c])
                if wording:
                    text = text.replace(*wording)
                if not year:
                    text = re.sub(r"[(（]?\d{4}年度?[)）]?", "", text)
                    for rr in range(r + 1, min(r + 3, len(table.rows))):
                        table.rows[rr] = [
                            "" if re.fullmatch(r"[(（]\d{4}年度[)）]", str(v)) else v for v in table.rows[rr]
                        ]
                table.rows[r][c] = prefix + text

    return change


# --- columns ----------------------------------------------------------------------------------------------


def insert_column(after: tuple[str, ...], headers: tuple[str, ...], values: Callable[[int], Any]) -> Variation:
    """A column inserted over the whole sheet right of the header `after` (merges across it widen), its
    header (the first of `headers` the grid lacks) written on the indicator header row and `values(n)` on
    the n-th indicator row under it."""

    def change(book: Book) -> None:
        for table in _graded(book):
            [(hr, hc)] = table.find(lambda v: normalize(v) in {normalize(x) for x in after})[:1]
            have = {normalize(v) for v in table.rows[hr] if isinstance(v, str)}
            header = next(h for h in headers if normalize(h) not in have)
            at = table_end(table, hr, hc)[1] + 1
            for row in table.rows:
                row.insert(at, "")
            table.merged = [
                (r0, c0 + (c0 >= at), r1, c1 + (c1 >= at)) for r0, c0, r1, c1 in table.merged
            ]  # fmt: skip
            table.rows[hr][at] = header
            for n, r in enumerate(indicator_rows(table, hr)):
                table.rows[r][at] = values(n)

    return change


def table_end(table: Table, r: int, c: int) -> tuple[int, int]:
    for r0, c0, r1, c1 in table.merged:
        if (r0, c0) == (r, c):
            return r1, c1
    return r, c


def indicator_rows(table: Table, header_row: int) -> list[int]:
    """Rows under the indicator header up to the 总分/合计 row or the end of the grid."""
    out = []
    for r in range(header_row + 1, len(table.rows)):
        texts = {normalize(v) for v in table.rows[r] if isinstance(v, str)}
        if texts & {"总分", "合计"} or any(t.startswith(_AFTER_GRID) for t in texts):
            break
        out.append(r)
    return out


_AFTER_GRID = ("评价结论", "单位负责人", "填表人", "填报人", "项目负责人", "备注")


def swap_in_grid(first: tuple[str, ...], second: tuple[str, ...]) -> Variation:
    """Two single-width indicator columns swapped on the header row and every indicator row (and the total
    row when both its cells are free): weights before targets, completion before target."""

    def change(book: Book) -> None:
        for table in _graded(book):
            [(hr, _)] = table.find(lambda v: normalize(v) in ("三级指标", "指标名称"))[:1]
            a = next(
                (c for r, c in table.find(lambda v: normalize(v) in {normalize(x) for x in first}) if r == hr), None
            )
            b = next(
                (c for r, c in table.find(lambda v: normalize(v) in {normalize(x) for x in second}) if r == hr), None
            )
            if a is None or b is None:
                continue  # a grid without targets (the Hunan 2018 指标表)
            rows = [hr, *indicator_rows(table, hr)]
            total = rows[-1] + 1
            moved = []
            for r0, c0, r1, c1 in table.merged:
                if c0 == c1 and c0 in (a, b) and r0 in rows:  # a level cell merged down moves with its column
                    c0 = c1 = b if c0 == a else a
                elif r0 == total and c0 < min(a, b) <= c1:  # the 总分 label stops where the grid's values start
                    c1 = min(a, b) - 1
                moved.append((r0, c0, r1, c1))
            table.merged = moved
            if total < len(table.rows):
                rows.append(total)
            for r in rows:
                table.rows[r][a], table.rows[r][b] = table.rows[r][b], table.rows[r][a]

    return change


# --- rows and labels --------------------------------------------------------------------------------------


def rename_row(old: str, new: str) -> Variation:
    def change(book: Book) -> None:
        for table in _graded(book):
            for r, c in table.find(lambda v: normalize(v) == normalize(old)):
                table.rows[r][c] = new

    return change


def delete_row(label: str) -> Variation:
    """A fund-source row left out: the rows below move up, merges over it shrink."""

    def change(book: Book) -> None:
        for table in _graded(book):
            hits = table.find(lambda v: normalize(v) == normalize(label))
            if not hits:
                continue
            gone = hits[0][0]
            del table.rows[gone]
            merged = []
            for r0, c0, r1, c1 in table.merged:
                if r0 == gone == r1:
                    continue
                merged.append((r0 - (r0 > gone), c0, r1 - (r1 >= gone), c1))
            table.merged = merged

    return change


@functools.cache
def _labels() -> frozenset[str]:
    """Every label and header the editions and the structure vocabulary know, normalised."""
    vocab = load_vocabulary()
    groups = [vocab.indicator, vocab.funds, vocab.funds_rows, vocab.goal, vocab.rows, *vocab.fields.values()]
    words = [w for g in groups for ws in g.values() for w in ws]
    words += [n for form in load_editions() for names in labels_of(form) for n in names]
    return frozenset(normalize(w) for w in words)


def break_labels(sep: str = " ") -> Variation:
    """Every label of four or more characters broken by a space or a line break after its second character
    (text re-typed or recognised from a scan); values are left as they are."""

    def change(book: Book) -> None:
        for table in _graded(book):
            for r, c in table.find(lambda v: len(v.strip()) >= 4 and normalize(v) in _labels()):
                v = table.rows[r][c].strip()
                table.rows[r][c] = v[:2] + sep + v[2:]

    return change


def amounts_in_yuan(*headers: str) -> Variation:
    """The funds block's amounts written with their unit, in 元 (`1200000元`)."""

    def change(book: Book) -> None:
        for table in _graded(book):
            for hr, hc in table.find(lambda v: normalize(v) in {normalize(h) for h in headers}):
                for r in range(hr + 1, min(hr + 8, len(table.rows))):
                    parsed = parse_value(table.rows[r][hc])
                    if parsed.kind != "number":
                        if parsed.kind == "text":
                            break
                        continue
                    yuan = f"{float(parsed.value) * 10000:.2f}".rstrip("0").rstrip(".")  # type: ignore[arg-type]
                    table.rows[r][hc] = f"{yuan}元"

    return change


# --- a layout no edition describes -------------------------------------------------------------------


def jiangsu(
    path: Path,
    *,
    headers: tuple[str, ...] | None = None,
    completion: bool = True,
    extra: tuple[str, Any] | None = None,
    sources: tuple[tuple[str, float, float, float], ...] = (),
) -> Path:
    """A Jiangsu-style project table written by hand: the unit before the title, 一级/二级/三级, weights
    before completion, a reason column, no 其中 rows (all money is 财政拨款)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws.append(["XX区XX局2023年度项目支出绩效自评表"])
    ws.append(["项目名称", "社区养老服务补助", None, "实施单位", "XX区民政局"])
    ws.append(["主管部门", "XX区民政局"])
    ws.append(["资金情况（万元）", "年初预算数", "全年预算数", "全年执行数", "执行率", "权重", "得分"])
    ws.append(["资金总额", 120, 125, 112.5, "90%", 10, 9])
    for source in sources:  # 其中 rows, when the form has them
        ws.append(list(source))
    ws.append(["年度目标", "完成全年养老服务补助发放", None, None, "实际完成情况", "已完成"])
    heads = headers or ("一级", "二级", "三级", "指标值", "权重", "实际完成值", "得分", "偏差原因")
    ws.append(list(heads if completion else heads[:5]))
    rows = [
        ("产出指标", "数量指标", "补助人数", "≥500人", 20, "520人", 20, None),
        ("产出指标", "质量指标", "发放准确率", "100%", 15, "96%", 15, None),
        ("产出指标", "时效指标", "按时发放", "12月31日前", 15, "12月20日", 15, None),
        ("效益指标", "社会效益指标", "老人生活改善", "明显", 30, "明显", 28, None),
        ("满意度指标", "服务对象满意度指标", "老人满意度", "≥90%", 10, "95%", 10, None),
    ]
    for row in rows:
        ws.append(list(row if completion else row[:5]))
    if extra:  # a column no vocabulary knows, right of the grid
        ws.cell(7 + len(sources), 9, extra[0])
        for r in range(len(rows)):
            ws.cell(8 + len(sources) + r, 9, extra[1])
    if completion:
        ws.append(["合计", None, None, None, 90, None, 88])
    wb.save(path)
    return path


def whole_unit(path: Path) -> Path:
    """An 整体 table as another province lays it out: the unit's name field, 调整后预算数 / 实际支出数, 基本支出 and
    项目支出 under the total, 绩效目标 beside its text, the 投入/过程/产出/效果 scheme."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["广东省XX市XX局2022年度单位整体支出绩效自评表"])
    ws.append(["单位名称", "XX市XX局", None, "单位：万元"])
    ws.append(["预算资金", "年初预算数", "调整后预算数", "实际支出数", "执行率", "分值", "得分"])
    ws.append(["合计", "500", "520", "494", "95%", "10", "9.5"])
    ws.append(["基本支出", "300", "300", "300"])
    ws.append(["项目支出", "200", "220", "194"])
    ws.append(["绩效目标", "保障单位正常运转，完成年度重点工作", None, "目标完成情况", "已完成"])
    ws.append(["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "未完成原因"])
    ws.append(["投入", "预算执行", "预算执行率", "≥90%", "95%", "20", "20"])
    ws.append(["过程", "资金管理", "资金使用合规性", "合规", "合规", "20", "20"])
    ws.append(["产出", "数量", "完成重点工作数", "≥10项", "10项", "20", "20"])
    ws.append(["效果", "满意度", "服务对象满意度", "≥90%", "92%", "30", "25", ""])
    ws.append(["总分", None, None, None, None, "100", "94.5"])
    wb.save(path)
    return path


def two_row_headers(path: Path) -> Path:
    """Headers over two rows: 预算数 over 年初 | 调整后, 绩效指标 over 一级 | 二级 | 三级, the other headers merged
    down beside them; a place before a title no edition spells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["浙江省XX县2023年度财政支出项目绩效自评表"])
    ws.append(["项目名称", "农村道路养护"])
    ws.append(["实施单位", "XX县交通运输局"])
    ws.append(["项目资金", "预算数", None, "执行数", "执行率", "分值", "得分"])
    ws.append([None, "年初", "调整后"])
    ws.append(["资金总额", 100, 110, 99, "90%", 10, 9])
    ws.append(["绩效指标", None, None, "指标值", "完成值", "分值", "得分", "偏差原因"])
    ws.append(["一级指标", "二级指标", "三级指标"])
    for merged in ("A4:A5", "B4:C4", "D4:D5", "E4:E5", "F4:F5", "G4:G5", "A7:C7", "D7:D8", "E7:E8", "F7:F8"):
        ws.merge_cells(merged)
    ws.merge_cells("G7:G8")
    ws.merge_cells("H7:H8")
    ws.append(["产出指标", "数量指标", "养护里程", "≥100公里", "102公里", 50, 50])
    ws.append(["效益指标", "社会效益指标", "道路通畅率", "≥95%", "97%", 30, 30])
    ws.append(["满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "85%", 10, 8, "部分路段施工扰民"])
    ws.append(["合计", None, None, None, None, 90, 88])
    wb.save(path)
    return path
