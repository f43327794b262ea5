"""Reading one table block with its edition: every section of the definition located by its labels, in order.

`Reader` looks for each section from where the previous one started (a label repeated further down is not
taken for an earlier one), reads fixed rows, repeated rows and the indicator table, and records what it
could not find, so a missing label becomes a finding rather than a wrong value.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.forms import Field, Form, Profile, Row, Section, for_year, load_vocabulary
from pipeline.model import Indicator, Point, cell_ref
from pipeline.read.labels import Label, SheetIndex, per_form, spelled
from pipeline.read.points import (
    INDICATOR_TYPES,
    UNIT_MARK,
    combine,
    combine_repeat,
    compose_target,
    exact_weight,
    inline_value,
    is_prompt,
    missing_point,
    normalize_unit,
    target_value,
    to_point,
)
from pipeline.read.structure import classify, indicator_header
from pipeline.read.values import normalize, parse_value
from pipeline.settings import MAX_FUND_ROWS

#: Form kinds that are self-evaluation tables: read by the structure vocabulary where an edition's
#: spellings miss (schemas/structure.toml).
STRUCTURED_KINDS = ("a2", "a3")


@dataclass(slots=True)
class Reader:
    """Reads one block of a sheet against one form edition."""

    form: Form
    index: SheetIndex
    profile: Profile
    all_labels: Sequence[Label]
    points: dict[str, Point] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (cell, text) still holding a template prompt
    merges: dict[tuple[int, int], tuple[int, int, int, int]] | None = None  # merged ranges by top-left cell
    levels: dict[tuple[str, str], str] = field(default_factory=dict)  # (level, 一级/二级 text) → its key
    label_starts: tuple[str, ...] | None = None  # every label's norm and core, for `is_label`

    @property
    def sheet_name(self) -> str:
        return self.index.sheet.name

    def ref(self, r: int, c: int) -> str:
        return _cell_ref(r, c)

    def put(self, key: str, point: Point) -> None:
        self.points[f"{self.form.id}.{key}"] = point

    def is_label(self, raw: object) -> bool:
        norm = normalize(raw)
        if self.label_starts is None:
            self.label_starts = tuple(text for lab in self.all_labels for text in (lab.norm, lab.core))
        return bool(norm) and norm.startswith(self.label_starts)

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
        named = _named_points(self.form)
        for key, (r, c) in names.items():
            spec = named.get(key)
            if spec is None or not self.index.start <= r < self.index.stop:
                continue
            value, (ar, ac) = self.index.value_at(r, c)
            point = to_point(value, spec[0], self.sheet_name, self.ref(ar, ac))
            found = self.points.get(key)
            if point.filled or found is None or not found.filled:  # a value typed into the label cell stays
                self.points[key] = exact_weight(spec[1], point)

    def _read_note(self, section: Section, year: int | None, cursor: int) -> int | None:
        return None

    # fields: label, then its value to the right (or written inside the label cell)
    def _read_fields(self, section: Section, year: int | None, cursor: int) -> int | None:
        labels = [f for row in section.field_rows for f in row]
        resolved = [[for_year(n, year) if year else n for n in x.names] for x in labels]
        first: int | None = None
        for f in labels:
            at = self._find_field(f, year, cursor)
            if at is None:
                self.missing.append(for_year(f.label, year) if year else f.label)
                self.put(f.key, missing_point(self.sheet_name, None))
                continue
            first = at[0] if first is None else min(first, at[0])
            others = [n for x, names in zip(labels, resolved, strict=True) if x is not f for n in names]
            self.put(f.key, self._field_value(f, at, others, year))
        return first

    def _find_field(self, f: Field, year: int | None, cursor: int) -> tuple[int, int] | None:
        labels = spelled(f.names, year)
        for mode in ("exact", "prefix", "contains"):
            at = self.index.find(labels, cursor, mode=mode)
            if at is not None:
                return at
        return None

    def _field_value(self, f: Field, at: tuple[int, int], other_names: list[str], year: int | None) -> Point:
        """The value of field `f` labelled at `at`; `other_names` are the other fields' spellings, resolved."""
        r, c = at
        raw = self.index.sheet.value(r, c)
        resolve = (lambda n: for_year(n, year)) if year else (lambda n: n)
        for name in f.names:
            inline = inline_value(str(raw), resolve(name), other_names)
            inline = _UNIT_TAIL.sub("", inline or "")
            if inline and not UNIT_MARK.match(normalize_unit(inline)):
                return self.point(inline, f.type, r, c)
        _, end_c = self.index.end(r, c)
        for col in range(end_c + 1, self.index.n_cols):
            value, (ar, ac) = self.index.value_at(r, col)
            if (ar, ac) != (r, col) or value == "" or value is None:
                continue
            if self.is_label(value):
                break
            if isinstance(value, str) and UNIT_MARK.match(normalize_unit(value)):
                continue  # 单位：万元 printed at the end of the 填报单位 row
            return self.point(value, f.type, ar, ac)
        below = self._value_below(r, c)
        if below is not None:
            return self.point(below[0], f.type, *below[1])
        value, anchor = self.index.value_at(r, end_c + 1)
        if anchor != (r, end_c + 1) or (value != "" and value is not None):  # no free cell: `填报单位：` is it
            return missing_point(self.sheet_name, (r, c))
        return missing_point(self.sheet_name, (r, end_c + 1))

    def _value_below(self, r: int, c: int) -> tuple[object, tuple[int, int]] | None:
        """A label heading its value in the row below, the two merged over the same columns (四川: 项目年度目标
        over its text), when nothing stands to its right but another label or the sheet's edge."""
        end_r, end_c = self.index.end(r, c)
        value, (ar, ac) = self.index.value_at(end_r + 1, c)
        if (ar, ac) != (end_r + 1, c) or self.index.end(ar, ac)[1] != end_c or end_c == c or self.is_label(value):
            return None
        return value, (ar, ac)

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
        if header_row is not None and self.structured and None in found.values():
            self._headers_by_vocabulary(found, header_row, load_vocabulary().funds)
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
        row_at: dict[int, int] = {}  # by the row's position in the section: a generic table repeats keys
        for n, row in enumerate(section.rows):
            labels = spelled(row.names, year)
            at = self.index.find(labels, header_row + 1, cols=label_cols) or self.index.find(
                labels, header_row + 1, mode="prefix", cols=label_cols
            )
            if at is None and section.first_row and n == 0:
                at = self._first_data_row(header_row, columns)
            if at is None and self.structured:
                at = self._row_by_vocabulary(row.key, header_row, label_cols)
            if at is not None:
                row_at[n] = at[0]
            elif not (self.structured and row.only):  # a fund source left out is not itemised, not unread
                self.missing.append(row.label)
        done: set[str] = set()
        for n, row in enumerate(section.rows):
            self._read_table_row(section, row, row_at.get(n), (columns, row_at, label_cols), done)
        return header_row

    def _read_table_row(
        self,
        section: Section,
        row: Row,
        r: int | None,
        where: tuple[dict[str, int], dict[int, int], int],
        done: set[str],
    ) -> None:
        """One row's values; a key the section has read already (a source under another name) adds up."""
        columns, row_at, label_cols = where
        for col in section.fields:
            if row.only and col.key not in row.only:
                continue
            c = columns.get(col.key)
            key = f"{row.key}.{col.key}"
            if r is None or c is None:
                point = missing_point(self.sheet_name, None)
                point.absent = r is None and self.structured and bool(row.only)
                if key not in done:
                    self.put(key, point)
                continue
            value, (ar, ac) = self.index.value_at(r, c)
            point = exact_weight(col.key, self.point(value, col.type, ar, ac))
            if row.repeat:
                point = self._with_inserted_rows(point, r, c, col.type, row_at, label_cols)
            if key in done:  # a source under another name: added to the row of its key
                earlier = self.points[f"{self.form.id}.{key}"]
                point = combine([earlier, point]) if earlier.cells else point
            done.add(key)
            self.put(key, point)

    @property
    def structured(self) -> bool:
        """Whether labels an edition does not spell may be found by the structure vocabulary (self-evaluation
        tables only: 附件1's rows are its own)."""
        return self.form.id in STRUCTURED_KINDS

    def _headers_by_vocabulary(
        self, found: dict[str, tuple[int, int] | None], header_row: int, vocab: dict[str, tuple[str, ...]]
    ) -> None:
        """Headers the edition does not spell, taken by the key their words say (全年(调整)预算数 → budget)."""
        taken = {at[1] for at in found.values() if at is not None}
        stop = max(self.index.end(header_row, c)[0] for c in taken) + 1
        for r, c, _norm, raw in self.index.texts:
            if header_row <= r <= stop and c not in taken:
                key = classify(raw, vocab)
                if key in found and found[key] is None:
                    found[key] = (r, c)
                    taken.add(c)

    def _row_by_vocabulary(self, key: str, header_row: int, label_cols: int) -> tuple[int, int] | None:
        rows = load_vocabulary().funds_rows
        for r, c, _norm, raw in self.index.texts:
            if header_row < r < header_row + MAX_FUND_ROWS and c < label_cols and classify(raw, rows) == key:
                return r, c
        return None

    def _first_data_row(self, header_row: int, columns: dict[str, int]) -> tuple[int, int] | None:
        """The first row under the headers with a number in one of the columns (a total row whose label
        this edition does not know)."""
        below = max(self.index.end(header_row, c)[0] for c in columns.values()) + 1
        for r in range(below, min(below + 3, self.index.stop)):
            if any(parse_value(self.index.sheet.value(r, c)).kind == "number" for c in columns.values()):
                return r, min(columns.values())
        return None

    def _with_inserted_rows(
        self, head: Point, r: int, c: int, ftype: str, row_at: dict[int, int], label_cols: int
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
        if at is None and self.structured:
            head = indicator_header(self.index, cursor)
            at = (head.row, head.columns["name"][0]) if head is not None else None
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
                if (header_row <= r <= self.index.end(*at)[0] + 1 or self.index.end(r, c)[0] >= header_row > r)
                and c not in taken  # a header merged down from the row above (a two-row header) counts
            )
            hits = sorted(set(hits), key=lambda rc: (rc[1], rc[0]))
            if f.after:  # only the column right after another's: 一级指标 | 得分 | 二级指标 | 得分 | …
                nxt = self._next_known_column(section, header_row, cols.get(f.after), year)
                hits = [(r, c) for r, c in hits if c == nxt]
            if hits:
                cols[f.key] = hits[0][1]
                taken.add(hits[0][1])
        if self.structured and len(cols) < len(section.fields):
            found = {f.key: (header_row, cols[f.key]) if f.key in cols else None for f in section.fields}
            self._headers_by_vocabulary(found, header_row, load_vocabulary().indicator)
            cols = {k: at[1] for k, at in found.items() if at is not None}
        first_row = max(self.index.end(header_row, c)[0] for c in cols.values()) + 1
        totals = spelled(section.total_labels, year)
        stops = spelled(section.stop, year)
        limit = min((c for k, c in cols.items() if k not in ("level1", "level2", "name")), default=99)
        r = first_row
        current: dict[str, str] = {"level1": "", "level2": ""}
        plan = _row_plan(section, cols)
        while r < self.index.stop:
            norms = self._row_norms(r, limit=limit)
            if any(lab.norm in norms or lab.core in norms for lab in totals):
                self._read_total(section, r, cols)
                break
            if any(lab.norm in norms or lab.core in norms for lab in stops) or self._is_note_row(r, cols):
                r = self.index.stop
                continue
            self._read_indicator_row(r, cols, plan, current)
            r += 1
        if r >= self.index.stop and section.total:
            self.missing.append(f"{section.total_labels[0]}行")
            for name in ("weight", "score"):
                if name in section.total:
                    point = missing_point(self.sheet_name, None)
                    point.absent = True  # no 总分 row: its sums cannot be checked, the missing row is reported
                    self.put(section.total[name], point)
        return header_row

    def _next_known_column(self, section: Section, header_row: int, before: int | None, year: int | None) -> int | None:
        """The first column right of `before` whose header the section knows: a column no edition names
        (是否核心指标 inserted by a unit) does not part a header from the one it follows."""
        if before is None:
            return None
        known = {t for f in section.fields for lab in spelled(f.names, year) for t in (lab.norm, lab.core)}
        c = self.index.end(header_row, before)[1] + 1
        while c < self.index.n_cols:
            value, _ = self.index.value_at(header_row, c)
            if isinstance(value, str) and normalize(value) in known:
                return c
            c = self.index.end(header_row, c)[1] + 1
        return None

    def _row_norms(self, r: int, *, limit: int) -> set[str]:
        """The normalised texts of a row left of `limit`: a label stands there when `label.exact` one of them."""
        return {normalize(v) for v in self.index.sheet.rows[r][:limit] if isinstance(v, str)}

    def _is_note_row(self, r: int, cols: dict[str, int]) -> bool:
        """填表说明, 评价结论… written across the table: one text merged over the value columns."""
        first = min(cols.values())
        for c in range(first, first + 2):
            rng = self._merge_at(r, c)
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

    def _merge_at(self, r: int, c: int) -> tuple[int, int, int, int] | None:
        """`SheetGrid.merge_at` from a dictionary built once per block (the first range anchored there)."""
        if self.merges is None:
            self.merges = {}
            for rng in self.index.sheet.merged:
                self.merges.setdefault((rng[0], rng[1]), rng)
        return self.merges.get((r, c))

    def _read_indicator_row(self, r: int, cols: dict[str, int], plan: _Plan, current: dict[str, str]) -> None:
        levels = [level for level in ("level1", "level2") if level in cols]
        for level in levels:
            value, (ar, ac) = self.index.value_at(r, cols[level])
            norm = normalize(value)
            if norm:
                current[level] = self._level_key(level, value, norm)
                current[f"{level}_cell"] = self.ref(ar, ac)
                current[f"{level}_text"] = str(value).strip()
        row = self._row_values(r, plan)
        if all(value is None or value == "" for key, _, value, _ in row if key in _INDICATOR_KEYS):
            for _, ftype, value, ref in row:  # not an indicator (no Point is made), but a prompt left in it counts
                if ftype == "text" and isinstance(value, str) and is_prompt(value):
                    self.prompts.append((ref, value.strip()))
            return
        sheet_name = self.sheet_name
        cells: dict[str, Point] = {}
        for level in levels:
            if current.get(f"{level}_cell"):  # which 一级/二级 cell the row sits under (group checks)
                ref = current[f"{level}_cell"]
                cells[f"{level}_name"] = Point(current[f"{level}_text"], sheet_name, (ref,))
        for key, ftype, value, ref in row:
            if not ref:
                cells[key] = missing_point(sheet_name, None)  # column not found: reported as a label
                continue
            if ftype == "target":
                point = Point(target_value(value), sheet_name, (ref,), raw=value)
            elif ftype == "text" and isinstance(value, str) and is_prompt(value):
                self.prompts.append((ref, value.strip()))
                point = Point(None, sheet_name, (ref,), raw=value)
            else:
                point = to_point(value, ftype, sheet_name, ref)
            cells[key] = exact_weight(key, point)
        compose_target(cells)
        if any(cells[k].filled for k in _INDICATOR_KEYS if k in cells):
            self.indicators.append(Indicator(self.sheet_name, r, current["level1"], current["level2"], cells))

    def _row_values(self, r: int, plan: _Plan) -> list[tuple[str, str, object, str]]:
        """(key, type, value, cell) of each indicator column on row r; cell "" for a column not found."""
        sheet = self.index.sheet
        out: list[tuple[str, str, object, str]] = []
        for key, c, ftype, of_level in plan:
            if c is None:
                out.append((key, ftype, None, ""))
                continue
            ar, ac = sheet.anchor(r, c)
            value = sheet.value(ar, ac)
            if (ar, ac) != (r, c) and key != "reason" and not of_level:
                value = ""  # a cell merged down from the row above belongs to that row
            out.append((key, ftype, value, _cell_ref(ar, ac) if of_level else _cell_ref(r, c)))
        return out

    def _level_key(self, level: str, value: object, norm: str) -> str:
        """The category key of a 一级 text, or the 二级 label of a 二级 text (`norm` is the value normalised,
        all either depends on): the same few texts on every row, each looked up once per block."""
        known = self.levels.get((level, norm))
        if known is None:
            known = self._category(value) if level == "level1" else self._sub(value)
            self.levels[(level, norm)] = known
        return known

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


_UNIT_TAIL = re.compile(r"\s*(?:金额)?单位[:：]\s*万?元\s*$")  # 单位：万元 after a value written in its label cell
_cell_ref = functools.lru_cache(maxsize=8192)(cell_ref)  # the same few hundred cells in every workbook


@per_form
def _named_points(form: Form) -> dict[str, tuple[str, str]]:
    """Point key → (field type, last part of the key) of every point `read_names` may take from a defined
    name: not those of repeat rows, which the label reading sums over the rows units insert under them."""
    repeat = tuple({f"{form.id}.{r.key}." for sec in form.sections for r in sec.rows if r.repeat})
    return {key: (f.type, key.rsplit(".", 1)[-1]) for key, f in form.points().items() if not key.startswith(repeat)}


_Plan = list[tuple[str, int | None, str, bool]]
#: A row is an indicator when one of these is filled; a blank value (None, "") never fills a point.
_INDICATOR_KEYS = ("name", "target", "actual", "weight", "score")


def _row_plan(section: Section, cols: dict[str, int]) -> _Plan:
    """How each indicator column is read on every row: (key, its column or None, its type, whether it
    belongs to the 一级/二级 cell merged down beside the row)."""
    return [
        (f.key, cols.get(f.key), INDICATOR_TYPES.get(f.key, "target"), f.key.startswith(("level1_", "level2_")))
        for f in section.fields
        if f.key not in ("level1", "level2")
    ]
