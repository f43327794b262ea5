"""Grid → submission: label-anchored extraction driven by the form editions.

Tables are recognised by their title text (never by sheet name or position), anywhere on a sheet: a
sheet may hold several tables one after another, each a *block* from its title to the next title. A
block is read with the edition whose title and labels it matches best; a block whose title matches no
edition is kept as `Submission.unread` and reported, never dropped. The year comes from the title, the
row under it, the column headers, or else from the profile (`--year`), the file name or 填报日期.
Every label and column header is matched in any of its spellings after `values.normalize`, so tables
moved down or right, renamed or reordered sheets, extra blank rows or columns and merged cells all read
the same. Sections are looked for in the order the definition gives them, each from where the previous
one started, so a label repeated further down is not mistaken for an earlier one.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.errors import RejectedFile
from pipeline.forms import Field, Form, Profile, Section, for_year, load_editions, load_profile, load_shared
from pipeline.model import FormData, Grid, Indicator, Point, SheetGrid, Submission, Unread, cell_ref
from pipeline.read.values import BLANK, Parsed, normalize, parse_date_text, parse_value

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
    start: int = 0
    stop: int = 0  # rows [start, stop) of the sheet: one table's block

    @classmethod
    def build(cls, sheet: SheetGrid, start: int = 0, stop: int | None = None) -> SheetIndex:
        stop = sheet.n_rows if stop is None else min(stop, sheet.n_rows)
        index = cls(sheet, start=start, stop=stop)
        for r in range(start, stop):
            for c, v in enumerate(sheet.rows[r]):
                if isinstance(v, str) and v.strip():
                    norm = normalize(v)
                    index.texts.append((r, c, norm, v))
                    index.by_norm.setdefault(norm, []).append((r, c))
        index.spans = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in sheet.merged}
        return index

    def find(
        self, label: Label | Sequence[Label], start: int = 0, *, mode: str = "exact", cols: int | None = None
    ) -> tuple[int, int] | None:
        """The first cell (in reading order) from row `start` whose text is one of the label's spellings."""
        labels = (label,) if isinstance(label, Label) else label
        if mode == "exact":  # the common case: a dictionary look-up, not a scan of the sheet
            hits = [hit for lab in labels for hit in (*self.by_norm.get(lab.norm, ()), *self.by_norm.get(lab.core, ()))]
            hits = [(r, c) for r, c in hits if r >= start and (cols is None or c < cols)]
            return min(hits) if hits else None
        labels = tuple(lab for lab in labels if len(lab.core) >= 3)  # a short spelling matches only exactly
        for r, c, norm, _ in self.texts:
            if r < start or (cols is not None and c >= cols):
                continue
            for lab in labels:
                if (mode == "prefix" and lab.prefix(norm)) or (mode == "contains" and lab.norm in norm):
                    return r, c
        return None

    def end(self, r: int, c: int) -> tuple[int, int]:
        """Bottom-right cell of the merged range anchored at (r, c), or the cell itself."""
        return self.spans.get((r, c), (r, c))

    def value_at(self, r: int, c: int) -> tuple[object, tuple[int, int]]:
        ar, ac = self.sheet.anchor(r, c)
        return self.sheet.value(ar, ac), (ar, ac)


def spelled(names: Sequence[str], year: int | None) -> tuple[Label, ...]:
    """Every spelling of a label, with {Y} resolved (a label needing an unknown year is left out)."""
    if year is None:
        return tuple(Label.of(n) for n in names if "{Y" not in n)
    return tuple(Label.of(for_year(n, year)) for n in names)


# --- finding tables: titles, blocks, editions, years -------------------------------------------------

_ATTACHMENT = re.compile(r"^附(?:件|表)\d*")
_YEAR = re.compile(r"(\d{4})年度?")
_YEAR_ONLY = re.compile(r"^(?:\d{4}年度?|年度\d{4}|\d{4})$")
_UNIT_MARK = re.compile(r"^(?:金额)?(?:计量)?单位[:：]?\s*(?:万元|元|人|个)$")


def title_core(norm: str) -> tuple[str, int | None]:
    """A normalised title without its 附件 prefix and its year: ("项目支出绩效自评表", 2022)."""
    text = _ATTACHMENT.sub("", norm)
    m = _YEAR.search(text)
    year = int(m.group(1)) if m and 1990 <= int(m.group(1)) <= 2100 else None
    return _YEAR.sub("", text).removeprefix("度"), year


@functools.lru_cache(maxsize=256)
def _cores(titles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(title_core(normalize(t.replace("{Y}", "2000")))[0] for t in titles)


def edition_cores(form: Form) -> tuple[str, ...]:
    return _cores(form.titles or (form.title,))


def title_score(core: str, form: Form) -> int:
    """3: the title as the edition spells it; 2: with a short prefix (部门预算…, a place name); 1: inside."""
    best = 0
    for ed in edition_cores(form):
        if core == ed:
            return 3
        if core.endswith(ed) and len(core) - len(ed) <= 10:
            best = max(best, 2)
        elif ed in core and len(core) - len(ed) <= 14:
            best = max(best, 1)
    return best


def looks_like_title(core: str, row: list[object]) -> bool:
    """A table title nobody defined: the only text of its row, ending in 表."""
    texts = [v for v in row if isinstance(v, str) and v.strip()]
    return len(texts) == 1 and 4 <= len(core) <= 40 and core.endswith("表")


@dataclass(frozen=True, slots=True)
class Title:
    row: int
    col: int
    text: str
    year: int | None
    editions: tuple[tuple[int, Form], ...]  # (title score, edition), best first


def find_titles(sheet: SheetGrid, index: SheetIndex, editions: Sequence[Form]) -> list[Title]:
    titles: list[Title] = []
    for r, c, norm, raw in index.texts:
        if titles and titles[-1].row == r:
            continue
        core, year = title_core(norm)
        scored = sorted(((title_score(core, f), f) for f in editions), key=lambda x: -x[0])
        matched = tuple((score, f) for score, f in scored if score)
        if matched or looks_like_title(core, sheet.rows[r]):
            titles.append(Title(r, c, str(raw).strip(), year, matched))
    return titles


def section_labels(form: Form) -> list[tuple[str, ...]]:
    """The spellings of every label and header an edition's sections hold (for choosing an edition)."""
    out: list[tuple[str, ...]] = []
    for sec in form.sections:
        out += [f.names for f in sec.fields]
        out += [f.names for row in sec.field_rows for f in row]
        out += [r.names for r in sec.rows]
    return out


def choose_edition(title: Title, index: SheetIndex, year: int | None) -> Form | None:
    """The edition whose title and labels the block matches best."""
    best: tuple[int, int, Form] | None = None
    for order, (score, form) in enumerate(title.editions):
        labels = section_labels(form)
        hits = sum(index.find(spelled(names, year)) is not None for names in labels)
        key = (score * 8 + 2 * hits - len(labels), -order)  # labels found count, labels missing count against
        if best is None or key > best[:2]:
            best = (key[0], key[1], form)
    return best[2] if best else None


def header_year(form: Form, index: SheetIndex) -> int | None:
    """The year from column headers such as 2018年决算数 (a title without a year)."""
    votes: Counter[int] = Counter()
    for names in section_labels(form):
        for name in names:
            if "{Y" not in name:
                continue
            offset = 1 if "{Y-1}" in name else 0
            spelled_year = normalize(name.replace("{Y-1}", "YEAR").replace("{Y}", "YEAR"))
            pattern = re.escape(spelled_year).replace("YEAR", r"(\d{4})")
            rx = re.compile(f"^{pattern}$")
            for _r, _c, norm, _ in index.texts:
                m = rx.match(norm)
                if m:
                    votes[int(m.group(1)) + offset] += 1
    return votes.most_common(1)[0][0] if votes else None


def block_year(title: Title, form: Form, index: SheetIndex, grid: Grid, profile: Profile) -> tuple[int | None, str]:
    """The block's year and where it came from: 标题, 表头, 设置 (profile / --year), 文件名, 填报日期."""
    if title.year:
        return title.year, "标题"
    for r, _c, norm, _ in index.texts:  # （2022年度） on the row under the title
        if title.row < r <= title.row + 2 and _YEAR_ONLY.match(norm):
            return int(re.sub(r"\D", "", norm)), "标题"
    year = header_year(form, index)
    if year:
        return year, "表头"
    if profile.year:
        return profile.year, "设置"
    m = re.search(r"(?<!\d)(20\d{2})(?!\d)", grid.path.stem)
    if m:
        return int(m.group(1)), "文件名"
    filed = filing_date(index)
    if filed is not None:
        return filed.year - 1, "填报日期"
    return None, ""


def filing_date(index: SheetIndex) -> date | None:
    at = index.find(Label.of("填报日期"), index.start, mode="prefix")
    if at is None:
        return None
    r, c = at
    text = unicodedata.normalize("NFKC", str(index.sheet.value(r, c)))
    inline = parse_date_text(re.sub(r"^.*?填报日期[\s:：]*", "", text))
    if inline is not None:
        return inline
    for col in range(c + 1, index.sheet.n_cols):
        parsed = parse_value(index.sheet.value(r, col))
        if parsed.kind == "date":
            return parsed.value  # type: ignore[return-value]
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
    """Reads one block of a sheet against one form edition."""

    form: Form
    index: SheetIndex
    profile: Profile
    all_labels: list[Label]
    points: dict[str, Point] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (cell, text) still holding a template prompt

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

    def point(self, raw: object, ftype: str, r: int, c: int) -> Point:
        """A cell as a point; template prompt text left in it counts as not filled (and is reported)."""
        if isinstance(raw, str) and is_prompt(raw):
            self.prompts.append((self.ref(r, c), raw.strip()))
            return Point(None, self.sheet_name, (self.ref(r, c),), raw=raw)
        return to_point(raw, ftype, self.sheet_name, self.ref(r, c))

    def read(self, year: int | None, start: int) -> None:
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
            if field_ is None or key.startswith(tuple(repeat)) or not self.index.start <= r < self.index.stop:
                continue  # rows units insert under are summed by the label reading
            value, (ar, ac) = self.index.value_at(r, c)
            point = to_point(value, field_.type, self.sheet_name, self.ref(ar, ac))
            found = self.points.get(key)
            if point.filled or found is None or not found.filled:  # a value typed into the label cell stays
                self.points[key] = exact_weight(key.rsplit(".", 1)[-1], point)

    def _read_note(self, section: Section, year: int | None, cursor: int) -> int | None:
        return None

    # fields: label, then its value to the right (or written inside the label cell)
    def _read_fields(self, section: Section, year: int | None, cursor: int) -> int | None:
        labels = [f for row in section.field_rows for f in row]
        first: int | None = None
        for f in labels:
            at = self._find_field(f, year, cursor)
            if at is None:
                self.missing.append(for_year(f.label, year) if year else f.label)
                self.put(f.key, missing_point(self.sheet_name, None))
                continue
            first = at[0] if first is None else min(first, at[0])
            self.put(f.key, self._field_value(f, at, [x for x in labels if x is not f], year))
        return first

    def _find_field(self, f: Field, year: int | None, cursor: int) -> tuple[int, int] | None:
        labels = spelled(f.names, year)
        for mode in ("exact", "prefix", "contains"):
            at = self.index.find(labels, cursor, mode=mode)
            if at is not None:
                return at
        return None

    def _field_value(self, f: Field, at: tuple[int, int], others: list[Field], year: int | None) -> Point:
        r, c = at
        raw = self.index.sheet.value(r, c)
        resolve = (lambda n: for_year(n, year)) if year else (lambda n: n)
        other_names = [resolve(n) for o in others for n in o.names]
        for name in f.names:
            inline = inline_value(str(raw), resolve(name), other_names)
            inline = re.sub(r"\s*(?:金额)?单位[:：]\s*万?元\s*$", "", inline or "")
            if inline and not _UNIT_MARK.match(normalize_unit(inline)):
                return self.point(inline, f.type, r, c)
        _, end_c = self.index.end(r, c)
        for col in range(end_c + 1, self.index.sheet.n_cols):
            value, (ar, ac) = self.index.value_at(r, col)
            if (ar, ac) != (r, col) or value == "" or value is None:
                continue
            if self.is_label(value):
                break
            if isinstance(value, str) and _UNIT_MARK.match(normalize_unit(value)):
                continue  # 单位：万元 printed at the end of the 填报单位 row
            return self.point(value, f.type, ar, ac)
        return missing_point(self.sheet_name, (r, end_c + 1))

    # record: a header row, values right below each header
    def _read_record(self, section: Section, year: int | None, cursor: int) -> int | None:
        first: int | None = None
        for f in section.fields:
            at = self.index.find(spelled(f.names, year), cursor)
            if at is None:
                self.missing.append(for_year(f.label, year) if year else f.label)
                self.put(f.key, missing_point(self.sheet_name, None))
                continue
            first = at[0] if first is None else min(first, at[0])
            end_r, _ = self.index.end(*at)
            value, (ar, ac) = self.index.value_at(end_r + 1, at[1])
            self.put(f.key, self.point(value, f.type, ar, ac))
        return first

    # table: column headers, row labels, values at their crossings; repeat rows take inserted rows
    def _read_table(self, section: Section, year: int | None, cursor: int) -> int | None:
        found = {col.key: self.index.find(spelled(col.names, year), cursor) for col in section.fields}
        rows_hit = Counter(at[0] for at in found.values() if at is not None)
        header_row = rows_hit.most_common(1)[0][0] if rows_hit else None
        columns: dict[str, int] = {}
        for col in section.fields:
            at = found[col.key]
            if at is None or header_row is None or abs(at[0] - header_row) > 2:
                self.missing.append(for_year(col.label, year) if year else col.label)  # not this table's header
            else:
                columns[col.key] = at[1]
        if header_row is None or not columns:
            for row in section.rows:
                for col in section.fields:
                    self.put(f"{row.key}.{col.key}", missing_point(self.sheet_name, None))
            return None
        header_row = min(found[k][0] for k in columns)  # type: ignore[index]
        label_cols = min(columns.values())
        row_at: dict[str, int] = {}
        for row in section.rows:
            labels = spelled(row.names, year)
            at = self.index.find(labels, header_row + 1, cols=label_cols) or self.index.find(
                labels, header_row + 1, mode="prefix", cols=label_cols
            )
            if at is None and section.first_row and row is section.rows[0]:
                at = self._first_data_row(header_row, columns)
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
                point = exact_weight(col.key, self.point(value, col.type, ar, ac))
                if row.repeat:
                    point = self._with_inserted_rows(point, r, c, col.type, row_at, label_cols)
                self.put(key, point)
        return header_row

    def _first_data_row(self, header_row: int, columns: dict[str, int]) -> tuple[int, int] | None:
        """The first row under the headers with a number in one of the columns (a total row whose label
        this edition does not know)."""
        below = max(self.index.end(header_row, c)[0] for c in columns.values()) + 1
        for r in range(below, min(below + 3, self.index.stop)):
            if any(parse_value(self.index.sheet.value(r, c)).kind == "number" for c in columns.values()):
                return r, min(columns.values())
        return None

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

    # indicators: 一级/二级 merged down, one 三级 per row, until the 总分 row (or what follows the table)
    def _read_indicators(self, section: Section, year: int | None, cursor: int) -> int | None:
        name_col = section.column("name")
        at = self.index.find(spelled(name_col.names, year), cursor)
        if at is None:
            self.missing.append(name_col.label)
            return None
        header_row = at[0]
        cols: dict[str, int] = {}
        taken: set[int] = set()
        for f in section.fields:  # a header written twice (分值 at two levels) is taken left to right
            hits = sorted(
                (r, c)
                for lab in spelled(f.names, year)
                for r, c in (*self.index.by_norm.get(lab.norm, ()), *self.index.by_norm.get(lab.core, ()))
                if header_row <= r <= self.index.end(*at)[0] + 1 and c not in taken
            )
            hits = sorted(set(hits), key=lambda rc: (rc[1], rc[0]))
            if hits:
                cols[f.key] = hits[0][1]
                taken.add(hits[0][1])
        first_row = max(self.index.end(header_row, c)[0] for c in cols.values()) + 1
        totals = spelled(section.total_labels, year)
        stops = spelled(section.stop, year)
        limit = min((c for k, c in cols.items() if k not in ("level1", "level2", "name")), default=99)
        r = first_row
        current: dict[str, str] = {"level1": "", "level2": ""}
        while r < self.index.stop:
            if any(self._row_has(r, lab, limit=limit) for lab in totals):
                self._read_total(section, r, cols)
                break
            if any(self._row_has(r, lab, limit=limit) for lab in stops) or self._is_note_row(r, cols):
                r = self.index.stop
                continue
            self._read_indicator_row(section, r, cols, current)
            r += 1
        if r >= self.index.stop and section.total:
            self.missing.append(f"{section.total_labels[0]}行")
            for name in ("weight", "score"):
                if name in section.total:
                    point = missing_point(self.sheet_name, None)
                    point.absent = True  # no 总分 row: its sums cannot be checked, the missing row is reported
                    self.put(section.total[name], point)
        return header_row

    def _row_has(self, r: int, label: Label, *, limit: int) -> bool:
        row = self.index.sheet.rows[r]
        return any(label.exact(normalize(v)) for v in row[:limit] if isinstance(v, str))

    def _is_note_row(self, r: int, cols: dict[str, int]) -> bool:
        """填表说明, 评价结论… written across the table: one text merged over the value columns."""
        first = min(cols.values())
        for c in range(first, first + 2):
            rng = self.index.sheet.merge_at(r, c)
            if rng is not None and rng[3] >= max(cols.values()) - 1 and rng[3] - rng[1] >= 3:
                return True
        text = normalize(self.index.sheet.value(r, first))
        return text.startswith(("注", "说明", "填表说明", "备注"))

    def _read_total(self, section: Section, r: int, cols: dict[str, int]) -> None:
        for name in ("weight", "score"):
            if name in section.total and name in cols:
                value, (ar, ac) = self.index.value_at(r, cols[name])
                point = to_point(value, "score", self.sheet_name, self.ref(ar, ac))
                self.put(section.total[name], exact_weight(name, point))

    def _read_indicator_row(self, section: Section, r: int, cols: dict[str, int], current: dict[str, str]) -> None:
        cells: dict[str, Point] = {}
        for level in ("level1", "level2"):
            if level in cols:
                value, (ar, ac) = self.index.value_at(r, cols[level])
                if normalize(value):
                    current[level] = self._category(value) if level == "level1" else self._sub(value)
                    current[f"{level}_cell"] = self.ref(ar, ac)
                    current[f"{level}_text"] = str(value).strip()
                if current.get(f"{level}_cell"):  # which 一级/二级 cell the row sits under (group checks)
                    ref = current[f"{level}_cell"]
                    cells[f"{level}_name"] = Point(current[f"{level}_text"], self.sheet_name, (ref,))
        for f in section.fields:
            key = f.key
            if key in ("level1", "level2"):
                continue
            if key not in cols:
                cells[key] = missing_point(self.sheet_name, None)  # column not found: reported as a label
                continue
            value, (ar, ac) = self.index.value_at(r, cols[key])
            merged_down = (ar, ac) != (r, cols[key])
            if merged_down and key not in ("reason",) and not key.startswith(("level1_", "level2_")):
                value = ""  # a cell merged down from the row above belongs to that row
            ftype = INDICATOR_TYPES.get(key, "target")
            ref = self.ref(ar, ac) if key.startswith(("level1_", "level2_")) else self.ref(r, cols[key])
            if ftype == "target":
                point = Point(_target_value(value), self.sheet_name, (ref,), raw=value)
            elif ftype == "text" and isinstance(value, str) and is_prompt(value):
                self.prompts.append((ref, value.strip()))
                point = Point(None, self.sheet_name, (ref,), raw=value)
            else:
                point = to_point(value, ftype, self.sheet_name, ref)
            cells[key] = exact_weight(key, point)
        compose_target(cells)
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


#: How an indicator column is read; 指标值/完成值 ("target") keep what was written.
INDICATOR_TYPES = {
    "name": "text",
    "reason": "text",
    "nature": "text",
    "unit": "text",
    "core": "text",
    "explain": "text",
    "standard": "text",
    "weight": "score",
    "score": "score",
    "coef": "percent",
    "level1_weight": "score",
    "level1_score": "score",
    "level2_weight": "score",
    "level2_score": "score",
}
NATURE_OPS = {"=": "", "＝": "", "≥": "≥", ">=": "≥", "≤": "≤", "<=": "≤", ">": ">", "<": "<", "＞": ">", "＜": "<"}


def compose_target(cells: dict[str, Point]) -> None:
    """指标性质 (= ≥ ≤) and 度量单位 in cells of their own (Sichuan): 指标值 reads as "≥5个" and a bare
    完成值 takes the same unit, so scoring compares like with like."""
    nature = cells.get("nature")
    unit = cells.get("unit")
    op = NATURE_OPS.get(str(nature.value).strip(), "") if nature is not None and nature.filled else ""
    suffix = str(unit.value).strip() if unit is not None and unit.filled else ""
    if not op and not suffix:
        return
    for key, prefix in (("target", op), ("actual", "")):
        point = cells.get(key)
        if point is None or not point.filled:
            continue
        parsed = parse_value(point.raw)
        if parsed.kind == "number" and not parsed.unit and not parsed.op:
            point.raw = f"{prefix}{point.value}{suffix}"


def is_prompt(text: str) -> bool:
    """Template prompt text left in a value cell (对照年度目标,说明…(100字以内))."""
    norm = normalize(text)
    return bool(norm) and any(normalize(p) in norm for p in load_shared().prompts if normalize(p))


def normalize_unit(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


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
    value = re.sub(r"^[\s:：,，、]*(?:[(（][^)）]{0,8}[)）])?[\s:：,，、]*", "", rest[:cut]).strip()
    return value or None


@functools.lru_cache(maxsize=1024)
def _label_regex(label: str) -> re.Pattern[str]:
    chars = [ch for ch in normalize(re.sub(r"[(（][^)）]*[)）]", "", label)) if ch]
    return re.compile(r"\s*".join(re.escape(ch) for ch in chars))


# --- the whole workbook ------------------------------------------------------------------------


def extract(grid: Grid, *, profile: Profile | None = None, editions: Sequence[Form] | None = None) -> Submission:
    """Read every table of a workbook. Raises RejectedFile when no form is found at all."""
    editions = tuple(editions or load_editions())
    profile = profile or load_profile()
    found: dict[str, FormData] = {}
    projects: list[FormData] = []
    unread: list[Unread] = []
    titles_seen: list[str] = []
    for sheet in grid.sheets:
        whole = SheetIndex.build(sheet)
        titles = find_titles(sheet, whole, editions)
        titles_seen += [t.text for t in titles]
        if not titles:
            if has_content(whole):
                unread.append(Unread(sheet.name, "", first_text(whole)))
            continue
        for n, title in enumerate(titles):
            stop = titles[n + 1].row if n + 1 < len(titles) else sheet.n_rows
            index = SheetIndex.build(sheet, title.row, stop)
            if not title.editions:
                if has_content(index, skip=1):
                    unread.append(Unread(sheet.name, cell_ref(title.row, title.col), title.text))
                continue
            data = read_block(grid, sheet, index, title, editions, profile)
            if data is None:
                unread.append(Unread(sheet.name, cell_ref(title.row, title.col), title.text))
            elif data.form == "a3":
                if _has_entries(data):
                    projects.append(data)
            elif data.form not in found:
                found[data.form] = data
            else:
                unread.append(Unread(sheet.name, cell_ref(title.row, title.col), title.text, duplicate=True))
    if not found and not projects:
        raise refusal(grid, titles_seen)
    share_year([*found.values(), *projects])
    return Submission(grid.path, found, projects, unread)


def share_year(tables: list[FormData]) -> None:
    """A table that states no year (the Hunan 2018 指标表) takes the year its workbook's other tables state."""
    stated = Counter(d.year for d in tables if d.year and d.year_source in ("标题", "表头"))
    if not stated:
        return
    year = stated.most_common(1)[0][0]
    for data in tables:
        if data.year_source not in ("标题", "表头"):
            data.year, data.year_source = year, "工作簿"
            point = data.points.get(f"{data.form}.year")
            if point is not None:
                point.value, point.raw = str(year), year


def read_block(
    grid: Grid, sheet: SheetGrid, index: SheetIndex, title: Title, editions: Sequence[Form], profile: Profile
) -> FormData | None:
    """One table: choose its edition, settle its year, read it."""
    guess = title.year or header_year(title.editions[0][1], index)
    form = choose_edition(title, index, guess)
    if form is None:
        return None
    year, source = block_year(title, form, index, grid, profile)
    labels = [Label.of(n) for names in section_labels(form) for n in names if "{Y" not in n]
    reader = Reader(form, index, profile, labels)
    reader.read(year, title.row + 1)
    if form.primary:
        reader.read_names(grid.names.get(sheet.name, {}))
    reader.points[f"{form.id}.year"] = Point(
        str(year) if year else None, sheet.name, (cell_ref(title.row, title.col),), raw=year
    )
    data = FormData(form.id, sheet.name, year, reader.points, reader.indicators, reader.missing)
    data.edition = form.edition
    data.year_source = source
    data.title_cell = cell_ref(title.row, title.col)
    data.prompts = reader.prompts
    data.uncached = [cell_ref(r, c) for r, c in grid.uncached.get(sheet.name, []) if index.start <= r < index.stop]
    mark_uncalculated(data)
    return data


def has_content(index: SheetIndex, *, skip: int = 0) -> bool:
    """More than a heading: a few cells that are not blank marks (a sheet left as "/" is empty)."""
    texts = [raw for r, _c, _n, raw in index.texts if r >= index.start + skip and parse_value(raw) is not BLANK]
    numbers = sum(
        isinstance(v, int | float) and not isinstance(v, bool)
        for row in index.sheet.rows[index.start + skip : index.stop]
        for v in row
    )
    return len(texts) + numbers >= 3


def first_text(index: SheetIndex) -> str:
    return next((str(raw).strip()[:40] for _r, _c, _n, raw in index.texts if parse_value(raw) is not BLANK), "")


def refusal(grid: Grid, titles: list[str]) -> RejectedFile:
    """Why a workbook holds nothing to check, naming the titles it does hold."""
    if not any(any(v not in ("", None) for row in s.rows for v in row) for s in grid.sheets):
        return RejectedFile("工作簿为空，没有任何内容", code="empty")
    shown = "、".join(f"“{t[:40]}”" for t in dict.fromkeys(titles)) if titles else ""
    seen = f"工作簿中的表格标题：{shown}" if shown else "工作簿中没有找到任何表格标题"
    return RejectedFile(
        "不是绩效自评表：未找到“整体支出绩效评价基础数据表”“整体支出绩效自评表”或“项目支出绩效自评表”等标题（"
        + seen
        + "）",
        code="wrong_template",
    )


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
