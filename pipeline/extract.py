"""Grid → submission: label-anchored extraction driven by the form definitions.

Sheets are recognised by their title text (never by name or position) and the year is read from the
title. Every label and column header is matched after `values.normalize`, so tables moved down or
right, renamed or reordered sheets, extra blank rows or columns and merged cells all read the same.
Sections are looked for in the order the definition gives them, each from where the previous one
started, so a label repeated further down a sheet is not mistaken for an earlier one.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from pipeline.errors import RejectedFile
from pipeline.forms import Field, Form, Profile, Section, for_year, load_forms, load_profile
from pipeline.model import FormData, Grid, Indicator, Point, SheetGrid, Submission, cell_ref
from pipeline.settings import TITLE_SEARCH_ROWS
from pipeline.values import BLANK, Parsed, normalize, parse_value

NUMERIC_TYPES = frozenset({"amount", "int", "score", "percent"})

#: Decimals a number stored in a cell stands for at least: amounts are kept to the fen of 万元 and
#: ratios to whole percent even when the stored value is shorter (4.5 in a 0.00 cell reads "4.50").
#: Scores typed as whole numbers are taken to a tenth, so a few rounded scores cannot hide a missing point.
MIN_CELL_DECIMALS = {"amount": 2, "percent": 2, "score": 1}


@dataclass(frozen=True, slots=True)
class Label:
    """A label or header as matched: its normalised text and its core without a (…) hint."""

    text: str
    norm: str
    core: str

    @classmethod
    def of(cls, text: str) -> Label:
        return _label(text)

    def exact(self, norm: str) -> bool:
        return norm == self.norm or norm == self.core

    def prefix(self, norm: str) -> bool:
        return norm.startswith(self.norm) or norm.startswith(self.core)


@functools.lru_cache(maxsize=4096)
def _label(text: str) -> Label:
    """Labels come from a few hundred definition strings: each is normalised once per process."""
    core = normalize(re.sub(r"[(（][^)）]*[)）]", "", text))
    return Label(text, normalize(text), core if len(core) >= 2 else normalize(text))


@dataclass(slots=True)
class SheetIndex:
    """The string cells of one sheet, normalised once, in reading order, and by normalised text."""

    sheet: SheetGrid
    texts: list[tuple[int, int, str, str]] = field(default_factory=list)
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    by_norm: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def build(cls, sheet: SheetGrid) -> SheetIndex:
        index = cls(sheet)
        for r, row in enumerate(sheet.rows):
            for c, v in enumerate(row):
                if isinstance(v, str) and v.strip():
                    norm = normalize(v)
                    index.texts.append((r, c, norm, v))
                    index.by_norm.setdefault(norm, []).append((r, c))
        index.spans = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in sheet.merged}
        return index

    def find(
        self, label: Label, start: int = 0, *, mode: str = "exact", cols: int | None = None
    ) -> tuple[int, int] | None:
        if mode == "exact":  # the common case: a dictionary look-up, not a scan of the sheet
            hits = [*self.by_norm.get(label.norm, ()), *self.by_norm.get(label.core, ())]
            hits = [(r, c) for r, c in hits if r >= start and (cols is None or c < cols)]
            return min(hits) if hits else None
        for r, c, norm, _ in self.texts:
            if r < start or (cols is not None and c >= cols):
                continue
            if (
                (mode == "exact" and label.exact(norm))
                or (mode == "prefix" and label.prefix(norm))
                or (mode == "contains" and label.norm in norm)
            ):
                return r, c
        return None

    def end(self, r: int, c: int) -> tuple[int, int]:
        """Bottom-right cell of the merged range anchored at (r, c), or the cell itself."""
        return self.spans.get((r, c), (r, c))

    def value_at(self, r: int, c: int) -> tuple[object, tuple[int, int]]:
        ar, ac = self.sheet.anchor(r, c)
        return self.sheet.value(ar, ac), (ar, ac)


def title_pattern(form: Form) -> re.Pattern[str]:
    norm = normalize(form.title.replace("{Y}", "YEAR"))
    return re.compile(re.escape(norm).replace("YEAR", r"(\d{4})"))


def identify(index: SheetIndex, forms: dict[str, Form]) -> tuple[Form, int, int] | None:
    """(form, year, title row) when a title in the first rows of the sheet names a form."""
    patterns = {fid: title_pattern(form) for fid, form in forms.items()}
    for r, _c, norm, _raw in index.texts:
        if r >= TITLE_SEARCH_ROWS:
            break
        for fid, pattern in patterns.items():
            m = pattern.search(norm)
            if m:
                return forms[fid], int(m.group(1)), r
    return None


# --- turning a cell into a point -------------------------------------------------------------------


def to_point(raw: object, ftype: str, sheet: str, ref: str) -> Point:
    """A point from a cell value, interpreted by the field's type (amount, percent, text, date…)."""
    if ftype == "text":
        parsed = parse_value(raw)
        value = None if parsed is BLANK else str(raw).strip()
        return Point(value, sheet, (ref,), raw=raw)
    parsed = parse_value(raw)
    if ftype == "date":
        return Point(parsed.value if parsed.kind != "blank" else None, sheet, (ref,), raw=raw)
    point = numeric_point(parsed, ftype, sheet, ref, raw)
    if isinstance(raw, int | float) and point.decimals is not None:
        point.decimals = max(point.decimals, MIN_CELL_DECIMALS.get(ftype, 0))
    return point


def numeric_point(parsed: Parsed, ftype: str, sheet: str, ref: str, raw: object) -> Point:
    if parsed.kind == "blank":
        return Point(None, sheet, (ref,), raw=raw)
    if parsed.kind != "number":
        text = parsed.value.isoformat() if isinstance(parsed.value, date) else str(parsed.value)
        return Point(text, sheet, (ref,), raw=raw)  # text in a number cell: validate.py reports it
    value, decimals = float(parsed.value), parsed.decimals  # type: ignore[arg-type]
    if ftype == "percent" and not parsed.percent and abs(value) > 1.5:
        value, decimals = value / 100, (decimals or 0) + 2  # "87.5" typed into a 控制率 cell means 87.5%
    point = Point(value, sheet, (ref,), decimals=decimals, raw=raw)
    if ftype == "int":
        point.tol = 0.0  # headcounts are exact
    return point


def exact_weight(key: str, point: Point) -> Point:
    """分值 are assigned weights, not measurements: they carry no rounding tolerance."""
    if key == "weight" and isinstance(point.value, float):
        point.tol = 0.0
    return point


def missing_point(sheet: str, at: tuple[int, int] | None) -> Point:
    return Point(None, sheet, (cell_ref(*at),) if at else ())


# --- sections --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Reader:
    """Reads one sheet against one form definition."""

    form: Form
    index: SheetIndex
    profile: Profile
    all_labels: list[Label]
    points: dict[str, Point] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)

    @property
    def sheet_name(self) -> str:
        return self.index.sheet.name

    def ref(self, r: int, c: int) -> str:
        return cell_ref(r, c)

    def put(self, key: str, point: Point) -> None:
        self.points[f"{self.form.id}.{key}"] = point

    def is_label(self, raw: object) -> bool:
        norm = normalize(raw)
        return bool(norm) and any(norm.startswith((lab.norm, lab.core)) for lab in self.all_labels)

    def read(self, year: int, start: int) -> None:
        cursor = start
        for section in self.form.sections:
            found = getattr(self, f"_read_{section.kind}")(section, year, cursor)
            if found is not None:
                cursor = found

    def read_names(self, names: dict[str, tuple[int, int]]) -> None:
        """Inputs located by the template's defined names win over labels a unit may have edited."""
        fields = self.form.points()
        repeat = {f"{self.form.id}.{r.key}." for sec in self.form.sections for r in sec.rows if r.repeat}
        for key, (r, c) in names.items():
            field_ = fields.get(key)
            if field_ is None or key.startswith(tuple(repeat)):
                continue  # rows units insert under are summed by the label reading
            value, (ar, ac) = self.index.value_at(r, c)
            point = to_point(value, field_.type, self.sheet_name, self.ref(ar, ac))
            found = self.points.get(key)
            if point.filled or found is None or not found.filled:  # a value typed into the label cell stays
                self.points[key] = exact_weight(key.rsplit(".", 1)[-1], point)

    def _read_note(self, section: Section, year: int, cursor: int) -> int | None:
        return None

    # fields: label, then its value to the right (or written inside the label cell)
    def _read_fields(self, section: Section, year: int, cursor: int) -> int | None:
        labels = [f for row in section.field_rows for f in row]
        first: int | None = None
        for f in labels:
            at = self._find_field(f, year, cursor)
            if at is None:
                self.missing.append(f.label)
                self.put(f.key, missing_point(self.sheet_name, None))
                continue
            first = at[0] if first is None else min(first, at[0])
            self.put(f.key, self._field_value(f, at, [x for x in labels if x is not f], year))
        return first

    def _find_field(self, f: Field, year: int, cursor: int) -> tuple[int, int] | None:
        label = Label.of(for_year(f.label, year))
        for mode in ("exact", "prefix", "contains"):
            at = self.index.find(label, cursor, mode=mode)
            if at is not None:
                return at
        return None

    def _field_value(self, f: Field, at: tuple[int, int], others: list[Field], year: int) -> Point:
        r, c = at
        raw = self.index.sheet.value(r, c)
        inline = inline_value(str(raw), for_year(f.label, year), [for_year(o.label, year) for o in others])
        if inline:
            return to_point(inline, f.type, self.sheet_name, self.ref(r, c))
        _, end_c = self.index.end(r, c)
        for col in range(end_c + 1, self.index.sheet.n_cols):
            value, (ar, ac) = self.index.value_at(r, col)
            if (ar, ac) != (r, col) or value == "" or value is None:
                continue
            if self.is_label(value):
                break
            return to_point(value, f.type, self.sheet_name, self.ref(ar, ac))
        return missing_point(self.sheet_name, (r, end_c + 1))

    # record: a header row, values right below each header
    def _read_record(self, section: Section, year: int, cursor: int) -> int | None:
        first: int | None = None
        for f in section.fields:
            at = self.index.find(Label.of(for_year(f.label, year)), cursor)
            if at is None:
                self.missing.append(for_year(f.label, year))
                self.put(f.key, missing_point(self.sheet_name, None))
                continue
            first = at[0] if first is None else min(first, at[0])
            end_r, _ = self.index.end(*at)
            value, (ar, ac) = self.index.value_at(end_r + 1, at[1])
            self.put(f.key, to_point(value, f.type, self.sheet_name, self.ref(ar, ac)))
        return first

    # table: column headers, row labels, values at their crossings; repeat rows take inserted rows
    def _read_table(self, section: Section, year: int, cursor: int) -> int | None:
        columns: dict[str, int] = {}
        header_row: int | None = None
        for col in section.fields:
            at = self.index.find(Label.of(for_year(col.label, year)), cursor)
            if at is None:
                self.missing.append(for_year(col.label, year))
                continue
            columns[col.key] = at[1]
            header_row = at[0] if header_row is None else min(header_row, at[0])
        if header_row is None:
            for row in section.rows:
                for col in section.fields:
                    self.put(f"{row.key}.{col.key}", missing_point(self.sheet_name, None))
            return None
        label_cols = min(columns.values())
        row_at: dict[str, int] = {}
        for row in section.rows:
            at = self.index.find(Label.of(row.label), header_row + 1, cols=label_cols) or self.index.find(
                Label.of(row.label), header_row + 1, mode="prefix", cols=label_cols
            )
            if at is None:
                self.missing.append(row.label)
            else:
                row_at[row.key] = at[0]
        for row in section.rows:
            r = row_at.get(row.key)
            for col in section.fields:
                if row.only and col.key not in row.only:
                    continue
                c = columns.get(col.key)
                key = f"{row.key}.{col.key}"
                if r is None or c is None:
                    self.put(key, missing_point(self.sheet_name, None))
                    continue
                value, (ar, ac) = self.index.value_at(r, c)
                point = exact_weight(col.key, to_point(value, col.type, self.sheet_name, self.ref(ar, ac)))
                if row.repeat:
                    point = self._with_inserted_rows(point, r, c, col.type, row_at, label_cols)
                self.put(key, point)
        return header_row

    def _with_inserted_rows(
        self, head: Point, r: int, c: int, ftype: str, row_at: dict[str, int], label_cols: int
    ) -> Point:
        """Σ of the label row and the rows a unit inserted under it (一个专项一行)."""
        later = [x for x in row_at.values() if x > r]
        stop = min(later) if later else r + 1
        parts = [head]
        for rr in range(r + 1, stop):
            value, (ar, ac) = self.index.value_at(rr, c)
            if ar != rr:
                continue
            parts.append(to_point(value, ftype, self.sheet_name, self.ref(ar, ac)))
        return combine_repeat(head, parts[1:])

    # indicators: 一级/二级 merged down, one 三级 per row, until the 总分 row
    def _read_indicators(self, section: Section, year: int, cursor: int) -> int | None:
        at = self.index.find(Label.of(section.column("name").label), cursor)
        if at is None:
            self.missing.append(section.column("name").label)
            return None
        header_row = at[0]
        cols: dict[str, int] = {}
        for f in section.fields:
            found = self.index.find(Label.of(f.label), header_row)
            if found is not None and found[0] <= self.index.end(*at)[0] + 1:
                cols[f.key] = found[1]
        first_row = max(self.index.end(header_row, c)[0] for c in cols.values()) + 1
        total = Label.of(section.total.get("label", "总分"))
        r = first_row
        current = {"level1": "", "level2": ""}
        while r < self.index.sheet.n_rows:
            if self._row_has(r, total, limit=cols.get("target", 99)):
                self._read_total(section, r, cols)
                break
            self._read_indicator_row(r, cols, current)
            r += 1
        else:
            for name in ("weight", "score"):
                if name in section.total:
                    self.put(section.total[name], missing_point(self.sheet_name, None))
        return header_row

    def _row_has(self, r: int, label: Label, *, limit: int) -> bool:
        row = self.index.sheet.rows[r]
        return any(label.exact(normalize(v)) for v in row[:limit] if isinstance(v, str))

    def _read_total(self, section: Section, r: int, cols: dict[str, int]) -> None:
        for name in ("weight", "score"):
            if name in section.total and name in cols:
                value, (ar, ac) = self.index.value_at(r, cols[name])
                point = to_point(value, "score", self.sheet_name, self.ref(ar, ac))
                self.put(section.total[name], exact_weight(name, point))

    def _read_indicator_row(self, r: int, cols: dict[str, int], current: dict[str, str]) -> None:
        for level in ("level1", "level2"):
            if level in cols:
                value, _ = self.index.value_at(r, cols[level])
                if normalize(value):
                    current[level] = self._category(value) if level == "level1" else self._sub(value)
        cells: dict[str, Point] = {}
        types = {"name": "text", "reason": "text", "weight": "score", "score": "score"}
        for key in ("name", "target", "actual", "weight", "score", "reason"):
            if key not in cols:
                cells[key] = missing_point(self.sheet_name, None)  # column not found: reported as a label
                continue
            value, (ar, ac) = self.index.value_at(r, cols[key])
            if (ar, ac) != (r, cols[key]) and key != "reason":
                value = ""  # a cell merged down from the row above belongs to that row
            ftype = types.get(key, "target")
            point = (
                to_point(value, ftype, self.sheet_name, self.ref(r, cols[key]))
                if ftype != "target"
                else Point(_target_value(value), self.sheet_name, (self.ref(r, cols[key]),), raw=value)
            )
            cells[key] = exact_weight(key, point)
        if any(cells[k].filled for k in ("name", "target", "actual", "weight", "score") if k in cells):
            self.indicators.append(Indicator(self.sheet_name, r, current["level1"], current["level2"], cells))

    def _category(self, value: object) -> str:
        norm = normalize(value)
        for cat in self.profile.categories:
            if norm.startswith(normalize(cat.label)):
                return cat.key
        return norm

    def _sub(self, value: object) -> str:
        norm = normalize(value)
        for cat in self.profile.categories:
            for sub in cat.subs:
                if norm.startswith(normalize(sub)) or normalize(sub).startswith(norm):
                    return sub
        return norm


def _target_value(raw: object) -> str | None:
    """指标值/完成值 keep what was written (670万元, ≥90%, 12月31日, 完成); parsing happens in the rules."""
    parsed = parse_value(raw)
    if parsed is BLANK:
        return None
    return raw.strip() if isinstance(raw, str) else _display(raw)


def _display(raw: object) -> str:
    if isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
        return str(int(raw))
    return str(raw)


def combine(parts: list[Point]) -> Point:
    """One point standing for the sum of several cells; its tolerance is the sum of theirs."""
    numbers = [p for p in parts if isinstance(p.value, float)]
    texts = [p for p in parts if isinstance(p.value, str)]
    cells = tuple(c for p in parts for c in p.cells if p.filled) or parts[0].cells
    if texts:
        return Point(texts[0].value, parts[0].sheet, cells, raw=texts[0].raw)
    if not numbers:
        return Point(None, parts[0].sheet, parts[0].cells)
    total = sum(p.value for p in numbers)  # type: ignore[misc]
    return Point(round(total, 8), parts[0].sheet, cells, tol=sum(p.tolerance for p in numbers))


def combine_repeat(head: Point, inserted: list[Point]) -> Point:
    """A 一个专项一行 row and the rows inserted under it. When the label row already holds the
    subtotal of the inserted rows, it is not counted twice."""
    rest = [p for p in inserted if isinstance(p.value, float)]
    if isinstance(head.value, float) and head.value and rest:
        subtotal = sum(p.value for p in rest)  # type: ignore[misc]
        if abs(head.value - subtotal) <= head.tolerance + sum(p.tolerance for p in rest):
            merged = combine(rest)
            merged.cells = head.cells + merged.cells
            return merged
    return combine([head, *inserted])


def inline_value(raw: str, label: str, others: list[str]) -> str | None:
    """The value written inside a label cell: `其他资金：114.54`, `填表人：张三  联系电话：…`."""
    text = unicodedata.normalize("NFKC", raw)
    m = _label_regex(label).search(text)
    if not m:
        return None
    rest = text[m.end() :]
    cut = len(rest)
    for other in others:
        om = _label_regex(other).search(rest)
        if om:
            cut = min(cut, om.start())
    value = re.sub(r"^[\s:：,，、]+", "", rest[:cut]).strip()
    return value or None


@functools.lru_cache(maxsize=1024)
def _label_regex(label: str) -> re.Pattern[str]:
    chars = [ch for ch in normalize(re.sub(r"[(（][^)）]*[)）]", "", label)) if ch]
    return re.compile(r"\s*".join(re.escape(ch) for ch in chars))


# --- the whole workbook ------------------------------------------------------------------------


def extract(grid: Grid, *, profile: Profile | None = None, forms: dict[str, Form] | None = None) -> Submission:
    """Read every form sheet of a workbook. Raises RejectedFile when no form is found at all."""
    forms = forms or load_forms()
    profile = profile or load_profile()
    all_labels = _all_labels(forms)
    found: dict[str, FormData] = {}
    projects: list[FormData] = []
    for sheet in grid.sheets:
        index = SheetIndex.build(sheet)
        hit = identify(index, forms)
        if hit is None:
            continue
        form, year, title_row = hit
        reader = Reader(form, index, profile, all_labels[form.id])
        reader.read(year, title_row + 1)
        reader.read_names(grid.names.get(sheet.name, {}))
        title_col = next(c for r, c, _, _ in index.texts if r == title_row)
        reader.points[f"{form.id}.year"] = Point(str(year), sheet.name, (cell_ref(title_row, title_col),), raw=year)
        data = FormData(form.id, sheet.name, year, reader.points, reader.indicators, reader.missing)
        data.uncached = [cell_ref(r, c) for r, c in grid.uncached.get(sheet.name, [])]
        mark_uncalculated(data)
        if form.repeatable:
            if _has_entries(data):
                projects.append(data)
        elif form.id not in found:
            found[form.id] = data
    if not found:
        if not any(any(v not in ("", None) for row in s.rows for v in row) for s in grid.sheets):
            raise RejectedFile("工作簿为空，没有任何内容", code="empty")
        if projects:
            raise RejectedFile("只找到附件3 项目支出绩效自评表，缺少附件1 和附件2", code="wrong_template")
        raise RejectedFile(
            "不是绩效自评表：未找到“预算单位整体支出绩效评价基础数据表”或“整体支出绩效自评表”标题",
            code="wrong_template",
        )
    return Submission(grid.path, found, projects)


def mark_uncalculated(data: FormData) -> None:
    """Points read from a formula without a calculated value are unknown, not blank."""
    if not data.uncached:
        return
    cells = set(data.uncached)
    points = [*data.points.values(), *(p for ind in data.indicators for p in ind.cells.values())]
    for point in points:
        if not point.filled and cells.intersection(point.cells):
            point.unknown = True


def _has_entries(data: FormData) -> bool:
    """A 附件3 sheet left as "/" (or blank) means no project was evaluated; pre-printed 分值 do not count."""
    typed = (p for k, p in data.points.items() if not k.endswith(("weight", ".year")))
    return any(p.filled for p in typed) or bool(data.indicators)


def _all_labels(forms: dict[str, Form]) -> dict[str, list[Label]]:
    out: dict[str, list[Label]] = {}
    for fid, form in forms.items():
        labels: list[Label] = []
        for sec in form.sections:
            for row in sec.field_rows:
                labels += [Label.of(f.label) for f in row]
            labels += [Label.of(r.label) for r in sec.rows]
        out[fid] = labels
    return out
