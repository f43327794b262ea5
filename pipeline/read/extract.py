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

from pipeline.errors import RejectedFile
from pipeline.forms import Form, Profile, load_editions, load_profile
from pipeline.model import FormData, Grid, Point, SheetGrid, Submission, Unread, cell_ref
from pipeline.read.explanations import is_explanation_sheet, read_explanations
from pipeline.read.labels import Label, SheetIndex, per_form, spelled_norms
from pipeline.read.sections import Reader
from pipeline.read.titles import Title, block_year, choose_edition, find_titles, header_year, section_labels
from pipeline.read.values import BLANK, parse_value


def extract(grid: Grid, *, profile: Profile | None = None, editions: Sequence[Form] | None = None) -> Submission:
    """Read every table of a workbook. Raises RejectedFile when no form is found at all."""
    editions = tuple(editions or load_editions())
    profile = profile or load_profile()
    found: dict[str, FormData] = {}
    projects: list[FormData] = []
    unread: list[Unread] = []
    titles_seen: list[str] = []
    explanations = {}
    for sheet in grid.sheets:
        if is_explanation_sheet(sheet):  # 审核结果 of a returned annotated workbook, or the unit's 审核说明
            explanations.update(read_explanations(sheet))
            continue
        whole = SheetIndex.build(sheet)
        titles = find_titles(sheet, whole, editions)
        titles_seen += [t.text for t in titles]
        if not titles:
            data = read_untitled(grid, sheet, whole, editions, profile) if has_content(whole) else None
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


def read_block(
    grid: Grid,
    sheet: SheetGrid,
    index: SheetIndex,
    title: Title,
    editions: Sequence[Form],
    profile: Profile,
    *,
    start: int | None = None,
) -> FormData | None:
    """One table: choose its edition, settle its year, read it (from the row under its title, or `start`)."""
    guess = title.year or header_year(title.editions[0][1], index)
    form = choose_edition(title, index, guess)
    if form is None:
        return None
    year, source = block_year(title, form, index, grid, profile)
    reader = Reader(form, index, profile, form_labels(form))
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


def refusal(grid: Grid, titles: list[str]) -> RejectedFile:
    """Why a workbook holds nothing to check, naming the titles it does hold."""
    if not any(any(v not in ("", None) for row in s.rows for v in row) for s in grid.sheets):
        return RejectedFile("工作簿为空，没有任何内容", code="empty")
    distinct = list(dict.fromkeys(titles))
    shown = "、".join(f"“{t[:40]}”" for t in distinct[:REFUSAL_TITLES])
    more = f" 等 {len(distinct)} 个" if len(distinct) > REFUSAL_TITLES else ""
    seen = f"工作簿中的表格标题：{shown}{more}" if shown else "工作簿中没有找到任何表格标题"
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
