"""Finding the tables on a sheet: titles, the blocks they head, the edition each block is read with, its year.

A table is recognised by its title text (never by sheet name or position), anywhere on a sheet; a block runs
from its title to the next title. The edition chosen is the one whose title and section labels match best.
The year comes from the title, the row under it, the column headers, the profile (`--year`), the file name
or 填报日期, and the block says which (`GEN.YEAR`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.forms import Form, Profile
from pipeline.model import Grid, SheetGrid
from pipeline.read.labels import Label, SheetIndex, per_form, spelled_norms
from pipeline.read.values import normalize, parse_date_text, parse_value

_ATTACHMENT = re.compile(r"^附(?:件|表)\d*")
_YEAR = re.compile(r"(\d{4})年度?")
_YEAR_ONLY = re.compile(r"^(?:\d{4}年度?|年度\d{4}|\d{4})$")


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
    return _core_score(core, edition_cores(form))


def _core_score(core: str, cores: tuple[str, ...]) -> int:
    best = 0
    for ed in cores:
        if core == ed:
            return 3
        if core.endswith(ed) and len(core) - len(ed) <= 10:
            best = max(best, 2)
        elif ed in core and len(core) - len(ed) <= 14:
            best = max(best, 1)
    return best


def looks_like_title(core: str, row: list[object]) -> bool:
    """A table title nobody defined: the only text of its row, ending in 表."""
    return _titled(core) and sum(isinstance(v, str) and bool(v.strip()) for v in row) == 1


def _titled(core: str) -> bool:
    return 4 <= len(core) <= 40 and core.endswith("表")


@dataclass(frozen=True, slots=True)
class Title:
    row: int
    col: int
    text: str
    year: int | None
    editions: tuple[tuple[int, Form], ...]  # (title score, edition), best first


def find_titles(sheet: SheetGrid, index: SheetIndex, editions: Sequence[Form]) -> list[Title]:
    titles: list[Title] = []
    scored = _scorer(tuple(edition_cores(f) for f in editions))
    for r, c, norm, raw in index.texts:
        if titles and titles[-1].row == r:
            continue
        core, year, scores, titled = scored(norm)
        matched = _matched(scores, editions) if any(scores) else ()
        if matched or (titled and looks_like_title(core, sheet.rows[r])):
            titles.append(Title(r, c, str(raw).strip(), year, matched))
    return titles


def _matched(scores: tuple[int, ...], editions: Sequence[Form]) -> tuple[tuple[int, Form], ...]:
    scored = sorted(zip(scores, editions, strict=True), key=lambda x: -x[0])
    kinds = {f.id for score, f in scored if score}
    # every edition of a kind the title names competes: a Hunan layout titled 部门整体支出绩效自评表
    # (the Chongqing wording) is still read with the Hunan edition when its labels say so
    return tuple((score, f) for score, f in scored if score or f.id in kinds)


_Scored = tuple[str, int | None, tuple[int, ...], bool]


@functools.lru_cache(maxsize=16)
def _scorer(cores: tuple[tuple[str, ...], ...]) -> Callable[[str], _Scored]:
    """Scores a text cell against the editions whose title cores are `cores`: its title core, year and
    score against each. Every text cell of every sheet is a candidate and forms repeat the same texts,
    so each is scored once per process (keyed by the text alone: hashing `cores` per cell would cost more).
    The last item says whether the core could be a title nobody defined (`looks_like_title`)."""

    @functools.lru_cache(maxsize=4096)
    def scored(norm: str) -> _Scored:
        core, year = title_core(norm)
        return core, year, tuple(_core_score(core, eds) for eds in cores), _titled(core)

    return scored


def labels_of(form: Form) -> tuple[tuple[str, ...], ...]:
    """The spellings of every label and header an edition's sections hold (for choosing an edition)."""
    out: list[tuple[str, ...]] = []
    for sec in form.sections:
        # a column placed by `after` says nothing by a header it shares with another column (得分): only its own
        shared = Counter(n for f in sec.fields for n in set(f.names))
        out += [f.names if not f.after else tuple(n for n in f.names if shared[n] == 1) for f in sec.fields]
        out += [f.names for row in sec.field_rows for f in row]
        out += [r.names for r in sec.rows]
    return tuple(out)


section_labels = per_form(labels_of)  # an edition's, once per process (a generic reading's form: `labels_of`)


def choose_edition(title: Title, index: SheetIndex, year: int | None) -> Form | None:
    """The edition whose title and labels the block matches best."""
    best: tuple[int, int, Form] | None = None
    for order, (score, form) in enumerate(title.editions):
        labels = section_labels(form)
        hits = sum(index.has(spelled_norms(names, year)) for names in labels)
        key = (score * 4 + 2 * hits - len(labels), -order)  # labels found count, labels missing count against
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
    for col in range(c + 1, index.n_cols):
        parsed = parse_value(index.sheet.value(r, col))
        if parsed.kind == "date":
            return parsed.value  # type: ignore[return-value]
    return None
