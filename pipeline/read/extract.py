"""Grid → submission: label-anchored extraction driven by the form editions, for the whole workbook.

Tables are recognised by their title text (never by sheet name or position), anywhere on a sheet: a
sheet may hold several tables one after another, each a *block* from its title to the next title. A
block is read with the edition whose title and labels it matches best; a block whose title matches no
edition is kept as `Submission.unread` and reported, never dropped. The year comes from the title, the
row under it, the column headers, or else from the profile (`--year`), the file name or 填报日期.
Every label and column header is matched in any of its spellings after `values.normalize`, so tables
moved down or right, renamed or reordered sheets, extra blank rows or columns and merged cells all read
the same. Sections are looked for in the order the definition gives them, each from where the previous
one started, so a label repeated further down is not mistaken for an earlier one.

This module walks the sheets and assembles the `Submission`; the parts live beside it: `labels` (spellings
and the sheet index), `titles` (tables, editions, years), `sections` (reading one block) and `points`
(cell → point).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pipeline.errors import RejectedFile
from pipeline.forms import Form, Profile, load_forms, load_profile, profile_editions
from pipeline.model import FormData, Grid, Point, SheetGrid, Submission, Unread, cell_ref
from pipeline.read.explanations import is_explanation_sheet, read_explanations
from pipeline.read.labels import Label, SheetIndex, per_form, spelled_norms
from pipeline.read.sections import STRUCTURED_KINDS, Reader
from pipeline.read.structure import GENERIC, Structure, generic_form, not_a_self_evaluation, scan
from pipeline.read.titles import (
    Title,
    block_year,
    choose_edition,
    find_titles,
    header_year,
    labels_of,
    section_labels,
)
from pipeline.read.values import BLANK, parse_value
from pipeline.settings import EDITION_MATCH_SHARE


def extract(grid: Grid, *, profile: Profile | None = None, editions: Sequence[Form] | None = None) -> Submission:
    """Read every table of a workbook. Raises RejectedFile when no form is found at all."""
    profile = profile or load_profile()
    editions = tuple(editions or profile_editions(profile))
    found: dict[str, FormData] = {}
    projects: list[FormData] = []
    unread: list[Unread] = []
    titles_seen: list[str] = []
    seen = Seen()
    explanations = {}
    for sheet in grid.sheets:
        if is_explanation_sheet(sheet):  # 审核结果 of a returned annotated workbook, or the unit's 审核说明
            explanations.update(read_explanations(sheet))
            continue
        whole = SheetIndex.build(sheet)
        titles = find_titles(sheet, whole, editions)
        titles_seen += [t.text for t in titles]
        seen.headings += [raw for _r, _c, _n, raw in whole.texts[:REFUSAL_HEADINGS]]
        if not titles:
            data = read_untitled(grid, sheet, whole, editions, profile) if has_content(whole) else None
            if data is None and has_content(whole):
                data = read_structured(grid, sheet, whole, None, editions, profile, seen)
            if data is not None and data.form == "a3":
                if _has_entries(data):
                    projects.append(data)
            elif data is not None and data.form not in found:
                found[data.form] = data
            elif has_content(whole):
                unread.append(Unread(sheet.name, "", first_text(whole)))
            continue
        for n, title in enumerate(titles):
            stop = titles[n + 1].row if n + 1 < len(titles) else sheet.n_rows
            index = whole.block(title.row, stop)
            if not title.editions:  # a title no edition spells: the table is what its structure says
                if not has_content(index, skip=1):
                    continue
                data = read_structured(grid, sheet, index, title, editions, profile, seen)
            else:
                data = read_block(grid, sheet, index, title, editions, profile, seen=seen)
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
        raise refusal(grid, titles_seen, seen)
    share_year([*found.values(), *projects])
    external = [(name, cell_ref(r, c)) for name, cells in grid.external.items() for r, c in cells]
    return Submission(grid.path, found, projects, unread, explanations=explanations, external=external)


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


#: A sheet without any title is read only when this share of one edition's labels (and at least
#: UNTITLED_MIN_LABELS of them) stand on it: a pasted table that lost its title row, not any sheet of words.
UNTITLED_SHARE = 0.6
UNTITLED_MIN_LABELS = 6


def read_untitled(
    grid: Grid, sheet: SheetGrid, index: SheetIndex, editions: Sequence[Form], profile: Profile
) -> FormData | None:
    """A sheet whose table lost its title: read with the edition most of whose labels it holds."""
    best: tuple[float, Form] | None = None
    for form in editions:
        labels = section_labels(form)
        hits = sum(index.has(spelled_norms(names, None)) for names in labels)
        enough = hits >= UNTITLED_MIN_LABELS and hits >= UNTITLED_SHARE * len(labels)
        if enough and (best is None or hits / len(labels) > best[0]):
            best = (hits / len(labels), form)
    if best is None:
        return None
    first_row, first_col = index.texts[0][0], index.texts[0][1]
    title = Title(first_row, first_col, "", None, ((0, best[1]),))
    data = read_block(grid, sheet, index, title, editions, profile, start=first_row)
    if data is not None:
        data.titled = False
    return data


@dataclass(slots=True)
class Seen:
    """What a workbook showed, for a refusal that says what it is: its blocks' structure, its headings."""

    structures: list[Structure] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)


def read_structured(
    grid: Grid,
    sheet: SheetGrid,
    index: SheetIndex,
    title: Title | None,
    editions: Sequence[Form],
    profile: Profile,
    seen: Seen,
) -> FormData | None:
    """A block no edition's title names: a self-evaluation when its structure says so (an indicator grid,
    a funds block), read with an edition of that kind whose labels it holds, else by its structure."""
    structure = scan(index, title.text if title else "")
    seen.structures.append(structure)
    if not structure.self_evaluation:
        return None
    kinds = tuple((0, f) for f in editions if f.id == structure.kind)
    start = None if title else index.texts[0][0]
    if title is None:
        title = Title(index.texts[0][0], index.texts[0][1], "", None, kinds)
    data = read_block(grid, sheet, index, replace(title, editions=kinds), editions, profile, start=start, seen=seen)
    if data is not None:
        data.titled = bool(title.text)
    return data


def read_block(
    grid: Grid,
    sheet: SheetGrid,
    index: SheetIndex,
    title: Title,
    editions: Sequence[Form],
    profile: Profile,
    *,
    start: int | None = None,
    seen: Seen | None = None,
) -> FormData | None:
    """One table: choose its edition, settle its year, read it (from the row under its title, or `start`).
    When the edition misses labels and the block's structure reads more of it, the generic reading wins;
    when its structure is a 申报表's (targets, no completion), it is no self-evaluation whatever its title."""
    form = None
    if title.editions:
        form = choose_edition(title, index, title.year or header_year(title.editions[0][1], index))
    if form is None:
        return read_generic(grid, sheet, index, title, profile, scan(index, title.text), start=start)
    data = read_as(form, form_labels(form), grid, sheet, index, title, profile, start=start)
    if not data.missing or form.id not in STRUCTURED_KINDS:
        return data  # the fast path: an edition that matches
    structure = scan(index, title.text)
    if seen is not None:
        seen.structures.append(structure)
    if structure.declaration:
        return None
    other = read_generic(grid, sheet, index, title, profile, structure, start=start)
    if other is None:
        return data
    labels = len(section_labels(form))
    own_title = any(score == 3 and f is form for score, f in title.editions)  # its title exactly: its template
    if not own_title and labels - len(data.missing) < EDITION_MATCH_SHARE * labels:
        return other  # the edition shares some words with the table, not its layout
    # what the edition reads: an extra column it has no key for does not count; on a tie, when the edition
    # misses whole columns (a form with no 分值/得分 at all), the reading that asks for none is the truer one
    covered, known = len(_covered(other) & edition_keys(form)), len(_covered(data))
    lacks_columns = not other.missing and not column_headers(form).isdisjoint(data.missing)
    return other if covered > known or (covered == known and lacks_columns) else data


def read_generic(
    grid: Grid,
    sheet: SheetGrid,
    index: SheetIndex,
    title: Title,
    profile: Profile,
    structure: Structure,
    *,
    start: int | None = None,
) -> FormData | None:
    """A block read by its structure alone (`structure.generic_form`), or None when it has none."""
    if not structure.self_evaluation:
        return None
    generic = generic_form(structure, title.text)
    labels = tuple(Label.of(n) for names in labels_of(generic) for n in names)
    return read_as(generic, labels, grid, sheet, index, title, profile, start=start)


def _covered(data: FormData) -> set[str]:
    """The points and indicator columns a reading filled (not cells: an edition that misses the 总分 row
    reads it as one more indicator)."""
    keys = {k for k, p in data.points.items() if p.filled}
    return keys | {f"ind.{k}" for ind in data.indicators for k, p in ind.cells.items() if p.filled}


@per_form
def column_headers(form: Form) -> frozenset[str]:
    """The column headers of an edition's funds table and indicator grid, as `Reader.missing` names them."""
    return frozenset(f.label for sec in form.sections if sec.kind in ("table", "indicators") for f in sec.fields)


@per_form
def edition_keys(form: Form) -> frozenset[str]:
    """Every point key and indicator column (as `_covered` names them) an edition may fill."""
    keys = {*form.points(), f"{form.id}.year"}
    for sec in form.sections:
        if sec.kind == "indicators":
            keys |= {f"ind.{f.key}" for f in sec.fields}
            keys |= {f"ind.{f.key}_name" for f in sec.fields if f.key in ("level1", "level2")}
    return frozenset(keys)


def read_as(
    form: Form,
    labels: Sequence[Label],
    grid: Grid,
    sheet: SheetGrid,
    index: SheetIndex,
    title: Title,
    profile: Profile,
    *,
    start: int | None = None,
) -> FormData:
    """One block read with one edition (or a generic reading's form)."""
    year_form = form if form.edition != GENERIC else load_forms()[form.id]
    year, source = block_year(title, year_form, index, grid, profile)
    reader = Reader(form, index, profile, labels)
    reader.read(year, title.row + 1 if start is None else start)
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


@per_form
def form_labels(form: Form) -> tuple[Label, ...]:
    """Every label spelling of an edition that needs no year: what ends a field's value (`Reader.is_label`)."""
    return tuple(Label.of(n) for names in section_labels(form) for n in names if "{Y" not in n)


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


REFUSAL_TITLES = 5  # a refusal names this many of the titles it found: enough to tell what the workbook is
REFUSAL_HEADINGS = 6  # the first texts of each sheet that may say what a workbook is (a report's title)
REFUSAL_HEADERS = 8  # header texts a refusal names


def _named(texts: list[str], limit: int) -> str:
    distinct = list(dict.fromkeys(t.strip().replace("\n", "") for t in texts if t.strip()))
    shown = "、".join(f"“{t[:40]}”" for t in distinct[:limit])
    return shown + (f" 等 {len(distinct)} 个" if len(distinct) > limit else "")


def refusal(grid: Grid, titles: list[str], seen: Seen | None = None) -> RejectedFile:
    """Why a workbook holds nothing to check: what it is when its structure or headings say so (a 申报表,
    a report, a budget table), naming the titles and headers it does hold."""
    if not any(any(v not in ("", None) for row in s.rows for v in row) for s in grid.sheets):
        return RejectedFile("工作簿为空，没有任何内容", code="empty")
    seen = seen or Seen()
    shown = _named(titles, REFUSAL_TITLES)
    where = f"工作簿中的表格标题：{shown}" if shown else "工作簿中没有找到任何表格标题"
    headers = [h for s in seen.structures for h in s.headers]
    if headers:
        where += f"；表头：{_named(headers, REFUSAL_HEADERS)}"
    what = not_a_self_evaluation(seen.structures, [*titles, *seen.headings])
    if what is not None:
        if not shown and seen.headings:
            heading = f"工作簿开头的文字：{_named(seen.headings, REFUSAL_TITLES)}"
            where = heading + where.removeprefix("工作簿中没有找到任何表格标题")
        return RejectedFile(f"{what}（{where}）", code="wrong_template")
    return RejectedFile(
        "不是绩效自评表：未找到“整体支出绩效评价基础数据表”“整体支出绩效自评表”或“项目支出绩效自评表”等标题，"
        "也没有绩效指标表（指标、指标值、完成值）或资金执行表（预算数、执行数）（" + where + "）",
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
