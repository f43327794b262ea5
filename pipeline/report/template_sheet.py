"""Laying one form out on one worksheet: sections, spans, labels, input cells with their formats, names and
validations, row heights and print setup (`SheetWriter`), in a workbook every sheet shares (`Book`).
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipeline.errors import DefinitionError
from pipeline.forms import Field, Form, Profile, Row, Section, for_year
from pipeline.model import cell_ref
from pipeline.report.filling import Filling, IndicatorRow, Layout, indicator_total_key

#: A form wider than this (Σ column widths) prints landscape; the forms are long, so portrait up to ~125.
LANDSCAPE_MIN_WIDTH = 125
#: Prefix of every defined name, so a reader can tell ours from a unit's own names.
NAME_PREFIX = "jx."
FONT = "宋体"
INPUT_FILL = "#E8F1FB"  # light blue: yellow and red are taken by the annotator's warnings/errors
LABEL_FILL = "#D9D9D9"
PLACEHOLDER = "/"
INDICATOR_NOTE = (
    "填表说明：三级指标不够填写时，可在相应二级指标下插入行；得分低于分值的，须填写偏差原因分析及改进措施。"
)
NUMBER_FORMATS = {"amount": "0.00", "int": "0", "percent": "0.00%", "score": "0.0#", "text": "@", "date": "@"}
# type → (validate, minimum, maximum, title, message); indicator 指标值/完成值 get none on purpose.
VALIDATIONS: dict[str, tuple[str, float, float, str, str]] = {
    "amount": ("decimal", -1e10, 1e10, "请填写数字", "此处应填写金额（万元，最多两位小数）。是否仍要保留所填内容？"),
    "int": ("integer", 0, 10_000_000, "请填写整数", "此处应填写整数（人数）。是否仍要保留所填内容？"),
    "percent": ("decimal", 0, 100, "请填写百分比", "此处应填写百分比，如 87.5%。是否仍要保留所填内容？"),
    "score": ("decimal", 0, 1000, "请填写分数", "此处应填写分数（数字）。是否仍要保留所填内容？"),
}
ROW_HEIGHT = 18.0
LINE_HEIGHT = 13.5


class Styles:
    """Formats made on demand and cached by their properties (xlsxwriter wants one object each)."""

    def __init__(self, wb: Workbook) -> None:
        self._wb = wb
        self._cache: dict[tuple[tuple[str, Any], ...], Format] = {}

    def get(self, **props: Any) -> Format:
        props = {"font_name": FONT, "font_size": 10, "valign": "vcenter", **props}
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self._wb.add_format(props)
        return self._cache[key]

    def label(self, *, align: str = "center") -> Format:
        indent = {"indent": 1} if align == "left" else {}
        return self.get(bold=True, bg_color=LABEL_FILL, border=1, align=align, text_wrap=True, **indent)

    def input(self, kind: str, *, footer: bool = False) -> Format:
        props: dict[str, Any] = {"bg_color": INPUT_FILL, "locked": False}
        props.update({"bottom": 1} if footer else {"border": 1})
        if kind in NUMBER_FORMATS:
            props["num_format"] = NUMBER_FORMATS[kind]
        if kind in ("text", "date"):
            props.update(text_wrap=True, align="left")
        elif kind == "indicator":
            props.update(text_wrap=True, align="center")
        return self.get(**props)

    def blank(self) -> Format:
        return self.get(border=1)


def _indicator_kind(h: Field) -> str:
    """Input kind of an indicator column: 指标值/完成值 hold text such as "≥90%" or "12月31日", so
    they get neither a number format nor a validation; only an explicit score/int/percent type does."""
    if h.type in ("score", "int", "percent"):
        return h.type
    return "text" if h.type == "text" or h.key == "name" else "indicator"


def _text_px(text: str) -> float:
    """Rough width in pixels at 10 pt: a CJK character is about twice as wide as a digit."""
    return sum(13.5 if ord(ch) > 0x2E7F else 7.0 for ch in text)


def _lines(text: str, width: float) -> int:
    """Lines `text` takes when wrapped in merged columns `width` characters wide."""
    avail = max(width * 7.0 + 5.0 - 8.0, 10.0)
    return sum(max(1, -int(-_text_px(chunk) // avail)) for chunk in str(text).split("\n"))


class SheetWriter:
    """Lays one form out on one worksheet, section by section, and records names and validations."""

    def __init__(self, book: Book, ws: Worksheet, form: Form, filling: Filling, *, placeholder: bool) -> None:
        self.book, self.ws, self.form, self.filling = book, ws, form, filling
        self.st = book.styles
        self.values = filling.values
        self.placeholder = placeholder
        self.ro, self.co = book.layout.row_offset, book.layout.col_offset
        self.r = 0
        self.heights: dict[int, float] = {}
        self.validations: dict[str, list[str]] = {}
        self.used: set[str] = set()
        self.side: tuple[str, int] | None = None

    # -- primitives (coordinates relative to the form's top-left corner) ---------------------------
    def put(self, r0: int, c0: int, r1: int, c1: int, value: object, fmt: Format) -> None:
        a, b = r0 + self.ro, c0 + self.co
        if (r0, c0) != (r1, c1):
            self.ws.merge_range(a, b, r1 + self.ro, c1 + self.co, "", fmt)
        if value is None or value == "":
            self.ws.write_blank(a, b, None, fmt)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.ws.write_number(a, b, value, fmt)
        else:
            self.ws.write_string(a, b, str(value), fmt)

    def abs_ref(self, r: int, c: int) -> str:
        col_row = cell_ref(r + self.ro, c + self.co)
        letters = col_row.rstrip("0123456789")
        return f"${letters}${col_row[len(letters) :]}"

    def name(self, key: str, r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> None:
        if not self.book.layout.names:
            return
        target = self.abs_ref(r0, c0)
        if r1 is not None and c1 is not None:
            target += ":" + self.abs_ref(r1, c1)
        sheet = self.ws.get_name().replace("'", "''")
        self.book.wb.define_name(f"'{sheet}'!{NAME_PREFIX}{key}", f"='{sheet}'!{target}")

    def height(self, r: int, h: float | None) -> None:
        if h:
            self.heights[r] = max(self.heights.get(r, ROW_HEIGHT), h)

    def fit(self, r: int, c0: int, c1: int, text: str) -> None:
        """Make row r tall enough for `text` wrapped over columns c0..c1."""
        width = sum(self.form.columns[c0 : c1 + 1])
        self.height(r, _lines(text, width) * LINE_HEIGHT + 4.5)

    def label(self, r: int, c0: int, c1: int, text: str, *, rows: int = 1, align: str = "center") -> None:
        self.put(r, c0, r + rows - 1, c1, text, self.st.label(align=align))
        if rows == 1:
            self.fit(r, c0, c1, text)

    def blank(self, r: int, c0: int, c1: int) -> None:
        if c0 <= c1:
            self.put(r, c0, r, c1, None, self.st.blank())

    def input(
        self,
        key: str | None,
        r: int,
        c0: int,
        c1: int,
        kind: str,
        *,
        value: object = None,
        default: object = None,
        footer: bool = False,
        slash: bool = False,
    ) -> None:
        """An input cell merged over c0..c1: named and valued from the filling when it has a key."""
        if key is not None:
            if key in self.used:
                raise DefinitionError(f"表 {self.form.id} 的数据项 {key!r} 重复")
            self.used.add(key)
            value = self.values.get(key, default)
            if self.placeholder and slash and default is None and key not in self.values:
                value = PLACEHOLDER
            self.name(key, r, c0)
        self.put(r, c0, r, c1, value, self.st.input(kind, footer=footer))
        if kind in VALIDATIONS:
            span = cell_ref(r + self.ro, c0 + self.co)
            if c1 > c0:
                span += ":" + cell_ref(r + self.ro, c1 + self.co)
            self.validations.setdefault(kind, []).append(span)
        if isinstance(value, str) and kind in ("text", "indicator"):
            self.fit(r, c0, c1, value)

    # -- side labels: consecutive sections with the same side share one merged cell -------------
    def open_side(self, text: str) -> None:
        if self.side and self.side[0] == text:
            return
        self.close_side()
        if text:
            self.side = (text, self.r)

    def close_side(self) -> None:
        if self.side and self.r > self.side[1]:
            text, start = self.side
            text = for_year(text, self.book.year)
            if _text_px(text) > self.form.columns[0] * 7.0:
                text = text.replace("(", "\n(").replace("（", "\n（")
            self.label(start, 0, 0, text, rows=self.r - start)
        self.side = None

    # -- the form ---------------------------------------------------------------------------------
    def write(self) -> None:
        form, year = self.form, self.book.year
        self.put(0, 0, 0, 1, form.attachment, self.st.get(font_size=11, bold=True))
        self.put(
            1, 0, 1, form.width - 1, for_year(form.title, year), self.st.get(font_size=16, bold=True, align="center")
        )
        self.heights[1] = 36.0
        self.r = 2
        body = [s for s in form.sections if not s.footer]
        for sec in body:
            if sec.kind != "note":
                self.open_side(sec.side)
            else:
                self.close_side()
            getattr(self, f"sec_{sec.kind}")(sec)
        self.close_side()
        footer = [s for s in form.sections if s.footer]
        if footer:
            self.r += 1
        for sec in footer:
            self.sec_fields(sec)
        self.finish()

    def sec_note(self, sec: Section) -> None:
        self.put(
            self.r,
            0,
            self.r,
            self.form.width - 1,
            sec.text,
            self.st.get(font_size=9, text_wrap=True, align="left", valign="top"),
        )
        self.fit(self.r, 0, self.form.width - 1, sec.text)
        self.r += 1

    def sec_fields(self, sec: Section) -> None:
        c_start = 1 if sec.side else 0
        if sec.headers:
            col = c_start
            for text, span in sec.headers:
                self.label(self.r, col, col + span - 1, for_year(text, self.book.year), align="left")
                col += span
            self.blank(self.r, col, self.form.width - 1)
            self.r += 1
        in_labels = self.book.layout.values_in_labels and bool(sec.headers)
        for row in sec.field_rows:
            self.fields_row(sec, row, c_start, in_labels=in_labels)
            self.r += 1

    def fields_row(self, sec: Section, row: tuple[Field, ...], col: int, *, in_labels: bool) -> None:
        width = self.form.width
        for i, f in enumerate(row):
            key = f"{self.form.id}.{f.key}"
            text = for_year(f.label, self.book.year)
            if in_labels:
                value = self.values.get(key)
                text = f"{text}：{'' if value is None else value}"
            c1 = col + f.label_span - 1
            if sec.footer:
                self.put(self.r, col, self.r, c1, text + "：", self.st.get(bold=True, align="right"))
            else:
                self.label(self.r, col, c1, text, align="left" if sec.headers else "center")
            col = c1 + 1
            last = i == len(row) - 1 and not sec.headers
            end = width - 1 if last else col + f.span - 1
            self.input(None if in_labels else key, self.r, col, end, f.type, footer=sec.footer, slash=not sec.footer)
            if in_labels:
                self.used.add(key)
                self.name(key, self.r, col)
            col = end + 1
            self.height(self.r, f.height)
        if not sec.footer:
            self.blank(self.r, col, width - 1)

    def sec_record(self, sec: Section) -> None:
        c_start = 1 if sec.side else 0
        col = c_start
        for f in sec.fields:
            span = max(f.span, sec.span)
            self.label(self.r, col, col + span - 1, for_year(f.label, self.book.year))
            self.input(f"{self.form.id}.{f.key}", self.r + 1, col, col + span - 1, f.type)
            self.height(self.r + 1, f.height)
            col += span
        self.blank(self.r, col, self.form.width - 1)
        self.blank(self.r + 1, col, self.form.width - 1)
        self.r += 2

    def sec_table(self, sec: Section) -> None:
        c_label = 1 if sec.side else 0
        spans = [max(c.span, sec.span) for c in sec.fields]
        label_end = self.form.width - sum(spans) - 1
        if label_end < c_label:
            raise DefinitionError(f"表 {self.form.id} 的表格列宽合计超过表宽 {self.form.width}")
        self.label(self.r, c_label, label_end, for_year(sec.corner, self.book.year))
        col = label_end + 1
        for c, span in zip(sec.fields, spans, strict=True):
            self.label(self.r, col, col + span - 1, for_year(c.label, self.book.year))
            col += span
        self.r += 1
        for row in sec.rows:
            self.table_row(sec, row, c_label, label_end, spans)
            for name, cells in self.filling.special_rows.get(row.key, []) if row.repeat else []:
                self.inserted_row(sec, name, cells, c_label, label_end, spans)

    def table_row(self, sec: Section, row: Row, c_label: int, label_end: int, spans: list[int]) -> None:
        self.label(self.r, c_label, label_end, for_year(row.label, self.book.year), align="left")
        col = label_end + 1
        for c, span in zip(sec.fields, spans, strict=True):
            if row.only and c.key not in row.only:
                self.blank(self.r, col, col + span - 1)
            else:
                default = self.book.profile.params.get("execution_weight") if c.key == "weight" else None
                self.input(
                    f"{self.form.id}.{row.key}.{c.key}",
                    self.r,
                    col,
                    col + span - 1,
                    c.type,
                    default=default,
                    slash=not row.only,
                )
            col += span
        self.r += 1

    def inserted_row(
        self, sec: Section, name: str, cells: dict[str, object], c_label: int, label_end: int, spans: list[int]
    ) -> None:
        """A row a unit inserted under a 一个专项一行 row: its own label, values in the same columns."""
        self.put(
            self.r,
            c_label,
            self.r,
            label_end,
            name,
            self.st.get(border=1, bg_color=INPUT_FILL, locked=False, text_wrap=True),
        )
        col = label_end + 1
        known = {c.key for c in sec.fields}
        if set(cells) - known:
            raise ValueError(f"插入行 {name!r} 含未知列 {sorted(set(cells) - known)}")
        for c, span in zip(sec.fields, spans, strict=True):
            self.put(self.r, col, self.r, col + span - 1, cells.get(c.key), self.st.input(c.type))
            col += span
        self.r += 1

    def sec_indicators(self, sec: Section) -> None:
        pos: dict[str, int] = {}
        col = 1 if sec.side else 0
        for h in sec.fields:
            pos[h.key] = col
            self.label(self.r, col, col + h.span - 1, for_year(h.label, self.book.year))
            self.name(f"{self.form.id}.ind.{h.key}", self.r, col)
            col += h.span
        self.r += 1
        first = self.r
        rows = self.indicator_rows(sec)
        if "level1" not in pos or "level2" not in pos:  # an edition without 一级/二级 columns (重庆)
            filled = [ind for group in rows.values() for ind in group]
            blanks = sec.blank_rows * sum(len(c.subs) for c in self.book.profile.categories)
            self.plain_indicator_rows(sec, pos, filled + [None] * max(blanks - len(filled), 0))
            self.close_side()
            if sec.total:
                self.indicator_total(sec, pos)
            return
        for cat in self.book.profile.categories:
            start = self.r
            for sub in cat.subs:
                self.indicator_block(sec, pos, sub, rows.pop((cat.key, sub), []))
            self.label(start, pos["level1"], pos["level1"], f"{cat.label}({cat.weight:g}分)", rows=self.r - start)
        if rows:
            raise ValueError(f"指标 {sorted(rows)} 不在审核口径 {self.book.profile.name!r} 的指标体系中")
        self.name(f"{self.form.id}.ind", first, pos["level1"], self.r - 1, self.form.width - 1)
        self.close_side()
        self.indicator_total(sec, pos)
        self.put(
            self.r,
            0,
            self.r,
            self.form.width - 1,
            INDICATOR_NOTE,
            self.st.get(font_size=9, text_wrap=True, align="left"),
        )
        self.fit(self.r, 0, self.form.width - 1, INDICATOR_NOTE)
        self.r += 1

    def indicator_rows(self, sec: Section) -> dict[tuple[str, str], list[IndicatorRow]]:
        out: dict[tuple[str, str], list[IndicatorRow]] = {}
        for ind in self.filling.indicators:
            out.setdefault((ind.level1, ind.level2), []).append(ind)
        return out

    def indicator_block(self, sec: Section, pos: dict[str, int], sub: str, rows: list[IndicatorRow]) -> None:
        n = max(sec.blank_rows, len(rows))
        self.label(self.r, pos["level2"], pos["level2"], sub, rows=n)
        for i in range(n):
            ind = rows[i] if i < len(rows) else None
            for h in sec.fields:
                if h.key in ("level1", "level2"):
                    continue
                kind = _indicator_kind(h)
                value = getattr(ind, h.key, None) if ind else None  # columns only other editions have stay blank
                self.input(None, self.r, pos[h.key], pos[h.key] + h.span - 1, kind, value=value)
            self.r += 1

    def plain_indicator_rows(self, sec: Section, pos: dict[str, int], rows: list[IndicatorRow | None]) -> None:
        for ind in rows:
            for h in sec.fields:
                value = getattr(ind, h.key, None) if ind else None
                self.input(None, self.r, pos[h.key], pos[h.key] + h.span - 1, _indicator_kind(h), value=value)
            self.r += 1

    def indicator_total(self, sec: Section, pos: dict[str, int]) -> None:
        weight_col = pos["weight"]
        self.label(self.r, 0, weight_col - 1, sec.total.get("label", "总分"))
        defaults = {"weight": self.book.profile.params.get("total_weight")}
        end = weight_col - 1
        for name in ("weight", "score"):
            if name not in sec.total:
                continue
            h = sec.column(name)
            self.input(
                indicator_total_key(self.form, name),
                self.r,
                pos[name],
                pos[name] + h.span - 1,
                h.type,
                default=defaults.get(name),
                slash=True,
            )
            end = max(end, pos[name] + h.span - 1)
        self.blank(self.r, end + 1, self.form.width - 1)
        self.r += 1

    def finish(self) -> None:
        ws, form = self.ws, self.form
        ws.set_default_row(ROW_HEIGHT)
        for r, h in self.heights.items():
            ws.set_row(r + self.ro, h)
        if self.co:
            ws.set_column(0, self.co - 1, 3)
        for i, w in enumerate(form.columns):
            ws.set_column(i + self.co, i + self.co, w)
        for kind, ranges in self.validations.items():
            validate, lo, hi, title, message = VALIDATIONS[kind]
            ws.data_validation(
                ranges[0],
                {
                    "validate": validate,
                    "criteria": "between",
                    "minimum": lo,
                    "maximum": hi,
                    "error_type": "warning",
                    "error_title": title,
                    "error_message": message,
                    "multi_range": " ".join(ranges),
                },
            )
        ws.hide_gridlines(2)
        ws.set_paper(9)
        if sum(form.columns) > LANDSCAPE_MIN_WIDTH:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.repeat_rows(self.ro, self.ro + 1)
        ws.freeze_panes(self.ro + 2, 0)


class Book:
    """The workbook being written and what every sheet shares."""

    def __init__(self, wb: Workbook, *, year: int, profile: Profile, layout: Layout) -> None:
        self.wb, self.year, self.profile, self.layout = wb, year, profile, layout
        self.styles = Styles(wb)
