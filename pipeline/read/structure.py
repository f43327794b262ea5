"""Recognising a self-evaluation table by its structure, and the generic reading of one no edition describes.

What does not vary across provinces and years is the structure: an indicator grid (a header row naming the
indicator, its target and its completion, usually its weight and score) and a funds block (budget /
execution / rate columns against a total and its sources). `scan` finds them in a block by the header
vocabulary of schemas/structure.toml, in any order and among any extra columns, and says whether the table
is a 项目 (a3) or 整体 (a2) one from the fields present. `generic_form` turns what it found into a Form whose
labels are the block's own texts and whose keys are the editions' point keys, so `sections.Reader` reads it
like any edition and every rule applies. `not_a_self_evaluation` names what a workbook holding neither is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pipeline.forms import Field, Form, Row, Section, Vocabulary, edition_points, load_forms, load_vocabulary
from pipeline.read.labels import SheetIndex
from pipeline.read.values import BLANK, normalize, parse_value
from pipeline.settings import MAX_FUND_ROWS

GENERIC = "generic"  # the edition name of a table read by its structure


@functools.lru_cache(maxsize=64)
def _terms(words: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, str], ...]:
    """(normalised word, key) of a vocabulary group, longest first."""
    pairs = {(normalize(w), key) for key, spellings in words for w in spellings}
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))


def _group(vocab: dict[str, tuple[str, ...]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(vocab.items())


@functools.lru_cache(maxsize=16384)
def _classify(text: str, words: tuple[tuple[str, tuple[str, ...]], ...], exact: bool) -> tuple[str, str] | None:
    """(key, word) of the longest word of a group the text holds (earliest on a tie), first in the text
    without its (…) hints; with `exact`, the text must be the word with at most two characters after it."""
    core = normalize(re.sub(r"[(（][^)）]*[)）]", "", text))
    for candidate in dict.fromkeys((core, normalize(text))):
        candidate = candidate.split("=", 1)[0] or candidate  # 执行率=全年执行数/全年预算数: a formula after =
        if not candidate:
            continue
        best: tuple[int, int, str, str] | None = None
        for word, key in _terms(words):
            if best is not None and len(word) < best[0]:
                break
            pos = candidate.find(word)
            if pos < 0 or (exact and (pos != 0 or len(candidate) - len(word) > 2)):
                continue
            if best is None or (len(word), -pos) > (best[0], best[1]):
                best = (len(word), -pos, key, word)
        if best is not None:
            return best[2], best[3]
    return None


def classify(text: str, vocab: dict[str, tuple[str, ...]], *, exact: bool = False) -> str | None:
    """The key of a header or label in a vocabulary group ("指标得分(分)" → "score"), or None."""
    hit = _classify(text, _group(vocab), exact)
    return hit[0] if hit else None


@dataclass(slots=True)
class Header:
    """A header row: each key's column and its text as written."""

    row: int
    columns: dict[str, tuple[int, str]]

    @property
    def first(self) -> int:
        return min(c for c, _ in self.columns.values())


@dataclass(slots=True)
class Structure:
    """What a block holds: its indicator grid, funds block, fields and goal, and the kind they make."""

    kind: str | None = None
    indicators: Header | None = None
    funds: Header | None = None
    fund_rows: list[tuple[str, str]] = field(default_factory=list)  # (key, label as written)
    fields: list[tuple[str, str, int]] = field(default_factory=list)  # (key, word, row)
    goal: list[tuple[str, str, int, bool]] = field(default_factory=list)  # (key, text, row, value below)
    total: bool = False  # the indicator grid ends in a 总分 / 合计 row
    declaration: bool = False  # an indicator grid with targets and no completion: a 申报表
    budget_only: bool = False  # budget columns without execution: a budget table
    headers: list[str] = field(default_factory=list)  # header texts seen, for a refusal

    @property
    def self_evaluation(self) -> bool:
        """An indicator grid with completion or a funds block with execution, and no 申报表 grid."""
        return (self.indicators is not None or self.funds is not None) and not self.declaration


def _rows(index: SheetIndex) -> dict[int, list[tuple[int, str]]]:
    """Each row's texts by column, with the header cells merged down into it from above (the upper half
    of a two-row header: 指标值 over 年初/全年, 分值 and 得分 beside 一级/二级/三级)."""
    out: dict[int, list[tuple[int, str]]] = {}
    texts = {(r, c): raw for r, c, _norm, raw in index.texts}
    for r, c, _norm, raw in index.texts:
        out.setdefault(r, []).append((c, raw))
    for (r0, c0), (r1, _c1) in index.spans.items():
        if (r0, c0) in texts and r1 > r0:
            for r in range(r0 + 1, min(r1, r0 + 2) + 1):
                if r in out:
                    out[r].append((c0, texts[(r0, c0)]))
    return {r: sorted(cells) for r, cells in out.items()}


def _header(r: int, cells: list[tuple[int, str]], vocab: dict[str, tuple[str, ...]]) -> Header:
    """Each key's column on a header row: the cell whose word for it is the most specific, then leftmost."""
    best: dict[str, tuple[int, int, str]] = {}
    for c, raw in cells:
        hit = _classify(raw, _group(vocab), False)
        if hit is None:
            continue
        key, word = hit
        known = best.get(key)
        if known is None or (len(word), -c) > (known[0], -known[1]):
            best[key] = (len(word), c, raw)
    taken: dict[int, str] = {}
    for key, (_, c, _raw) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        taken.setdefault(c, key)
    return Header(r, {key: (c, raw) for key, (_, c, raw) in best.items() if taken[c] == key})


def _is_grid(head: Header) -> bool:
    keys = head.columns.keys()
    return "name" in keys and ("target" in keys or "actual" in keys) and len(keys) >= 3


def indicator_header(index: SheetIndex, start: int) -> Header | None:
    """The first indicator grid header from row `start` (a self-evaluation's, with a completion column)."""
    rows = _rows(index)
    vocab = load_vocabulary().indicator
    for r in sorted(rows):
        if r >= start:
            head = _header(r, rows[r], vocab)
            if _is_grid(head) and "actual" in head.columns:
                return head
    return None


def scan(index: SheetIndex, title: str = "") -> Structure:
    """The structure of one block (`index`), its title a hint for the kind when no field says it."""
    vocab = load_vocabulary()
    out = Structure()
    rows = _rows(index)
    for r in sorted(rows):
        cells = rows[r]
        if out.indicators is None:
            head = _header(r, cells, vocab.indicator)
            if _is_grid(head):
                if "actual" in head.columns:
                    out.indicators = head
                else:
                    out.declaration = True
                out.headers += [raw for _, raw in cells]
                continue
        if out.funds is None and out.indicators is None:
            head = _header(r, cells, vocab.funds)
            money = {"initial", "budget", "rate"} & head.columns.keys()
            if "exec" in head.columns and money:
                below = _header(r + 1, rows.get(r + 1, []), vocab.funds)  # 年初 | 调整后 under 预算数
                out.funds = below if len(below.columns) > len(head.columns) else head
                out.headers += [raw for _, raw in cells]
            elif money - {"rate"} and len(head.columns) >= 2 and not out.budget_only:
                out.budget_only = not any("决算" in raw for _, raw in cells)  # a 决算 table is not a budget
                out.headers += [raw for _, raw in cells]
    out.declaration = out.declaration and out.indicators is None  # a targets-only header above the real grid
    if out.funds is not None:
        out.fund_rows = _fund_rows(index, out.funds, out.indicators.row if out.indicators else index.stop, vocab)
    if out.indicators is not None:
        out.total = _has_total(index, out.indicators, vocab)
    _fields_and_goal(index, rows, out, vocab, title)
    return out


def _fund_rows(index: SheetIndex, head: Header, stop: int, vocab: Vocabulary) -> list[tuple[str, str]]:
    """The total and its sources under a funds header, each (key, label as written); a row of no
    known source is another source (`other`); a nameless first row with numbers is the total."""
    values = [c for c, _ in head.columns.values()]
    first = min(values)
    below = max(index.end(head.row, c)[0] for c in values) + 1
    out: list[tuple[str, str]] = []
    for r in range(below, min(stop, below + MAX_FUND_ROWS, index.stop)):
        cells = [parse_value(index.value_at(r, c)[0]) for c in values if index.sheet.anchor(r, c)[0] == r]
        if any(p.kind in ("text", "date") for p in cells):
            break  # headers of what follows (预期目标 | 实际完成情况), not amounts
        label = next(
            (str(v) for c in range(first) if index.sheet.anchor(r, c) == (r, c) for v in [index.sheet.value(r, c)]
             if isinstance(v, str) and v.strip()),
            None,
        )  # fmt: skip
        if label is None:
            if not out and any(p.kind == "number" for p in cells):
                out.append(("total", ""))
            continue
        if classify(label, vocab.rows, exact=True) == "stop" or classify(label, vocab.goal, exact=True):
            break
        key = classify(label, vocab.funds_rows)
        out.append((key or ("total" if not out else "other"), label))
    return out


def _has_total(index: SheetIndex, head: Header, vocab: Vocabulary) -> bool:
    words = {normalize(w) for w in vocab.rows["total"]}
    first = min((c for k, (c, _) in head.columns.items() if k not in ("level1", "level2", "name")), default=0)
    return any(r > head.row and c < first and norm in words for r, c, norm, _ in index.texts)


def _fields_and_goal(
    index: SheetIndex, rows: dict[int, list[tuple[int, str]]], out: Structure, vocab: Vocabulary, title: str
) -> None:
    """The kind's labelled fields above the grids, and the goal between them."""
    grids = [h.row for h in (out.funds, out.indicators) if h is not None]
    top = min(grids, default=index.stop)
    found: dict[str, dict[str, tuple[str, int]]] = {}
    for r in sorted(rows):
        if r >= top:
            break
        if title and r == index.start:
            continue  # the title row: 预算单位整体支出绩效自评表 is no 预算单位 field
        for _c, raw in rows[r]:
            for kind, keys in vocab.fields.items():
                hit = _classify(raw, _group(keys), False)
                if hit and normalize(raw).startswith(normalize(hit[1])):
                    found.setdefault(kind, {}).setdefault(hit[0], (hit[1], r))
    out.kind = _kind(found, vocab, title)
    out.fields = [(key, word, r) for key, (word, r) in found.get(out.kind, {}).items()]
    seen: set[str] = set()
    for r in sorted(rows):
        if out.indicators is not None and r >= out.indicators.row:
            break
        for c, raw in rows[r]:
            key = classify(raw, vocab.goal, exact=True)
            if key and key not in seen:
                seen.add(key)
                right, _ = index.value_at(r, index.end(r, c)[1] + 1)  # another goal header: values are below
                below = parse_value(right) is BLANK or bool(classify(str(right), vocab.goal))
                out.goal.append((key, raw, r, below))


def _kind(found: dict[str, dict[str, tuple[str, int]]], vocab: Vocabulary, title: str) -> str:
    if found.get("a3", {}).keys() & {"project_name", "implementer"}:
        return "a3"
    if "unit_name" in found.get("a2", {}):
        return "a2"
    norm = normalize(title)
    for kind, words in vocab.kinds.items():
        if any(normalize(w) in norm for w in words):
            return kind
    return "a3"


def generic_form(structure: Structure, title: str) -> Form:
    """A Form for one block, its labels the block's own texts, its keys the editions' point keys."""
    kind = structure.kind or "a3"
    primary = load_forms()[kind]
    types = _types(primary)
    placed: list[tuple[int, Section]] = []
    if structure.fields:
        rows = tuple((Field(key, word, types.get(key, "text")),) for key, word, _ in structure.fields)
        placed.append((min(r for *_, r in structure.fields), Section("fields", field_rows=rows)))
    if structure.funds is not None and structure.fund_rows:
        placed.append((structure.funds.row, _funds_section(structure, types)))
    below = tuple(Field(k, text, "text") for k, text, _, down in structure.goal if down)
    beside = tuple((Field(k, text, "text"),) for k, text, _, down in structure.goal if not down)
    if below:
        placed.append((min(r for _, _, r, d in structure.goal if d), Section("record", fields=below)))
    if beside:
        placed.append((min(r for _, _, r, d in structure.goal if not d), Section("fields", field_rows=beside)))
    if structure.indicators is not None:
        placed.append((structure.indicators.row, _indicator_section(structure)))
    sections = tuple(sec for _, sec in sorted(placed, key=lambda p: p[0]))
    return Form(
        id=kind,
        attachment=primary.attachment,
        title=title or primary.title,
        sheet_name=primary.sheet_name,
        columns=(),
        sections=sections,
        repeatable=primary.repeatable,
        edition=GENERIC,
        name=f"{primary.attachment}（按表格结构识别）",
        titles=(title,) if title else (),
    )


def _types(primary: Form) -> dict[str, str]:
    """Point name → type, as every edition of the kind declares it (a3.total.rate: percent)."""
    out: dict[str, str] = {}
    for key, f in edition_points().items():
        kind, _, name = key.partition(".")
        if kind == primary.id:
            out[name] = f.type
    return out


def _funds_section(structure: Structure, types: dict[str, str]) -> Section:
    assert structure.funds is not None
    heads = sorted(structure.funds.columns.items(), key=lambda kv: kv[1][0])  # as the table has them
    columns = tuple(Field(key, text, types.get(f"total.{key}", "amount")) for key, (_, text) in heads)
    sources = ("initial", "budget", "exec")
    fund_rows = [(k, t) for k, t in structure.fund_rows if k == "total" or structure.kind == "a3"]  # 整体: no 其中
    rows = tuple(Row(key, text or "年度资金总额", only=() if key == "total" else sources) for key, text in fund_rows)
    return Section("table", fields=columns, rows=rows, first_row=structure.fund_rows[0][1] == "")


def _indicator_section(structure: Structure) -> Section:
    assert structure.indicators is not None
    vocab = load_vocabulary()
    columns = tuple(Field(key, text) for key, (_, text) in structure.indicators.columns.items())
    total = {"label": vocab.rows["total"][0], "weight": "sum.weight", "score": "sum.score"}
    return Section(
        "indicators",
        fields=columns,
        total=total if structure.total else {},
        total_labels=vocab.rows["total"],
        stop=vocab.rows["stop"],
    )


#: What a refusal says a workbook is, by what `scan` and its titles show.
MSG_DECLARATION = "这是绩效目标申报表，不是自评表：表中有指标值，没有实际完成值"
MSG_REPORT = "这是自评报告的封面或正文（另存为工作簿），不是自评表：没有绩效指标表或资金执行表"
MSG_BUDGET = "这是预算表，不是自评表：有预算数，没有执行数或完成值"


def not_a_self_evaluation(structures: list[Structure], texts: list[str]) -> str | None:
    """What a workbook without any self-evaluation table is, from its blocks' structure and its first texts
    (titles, headings), or None when it cannot tell."""
    vocab = load_vocabulary()
    norms = [normalize(t) for t in texts]

    def says(kind: str) -> bool:
        return any(normalize(w) in n for n in norms for w in vocab.refuse[kind])

    if any(s.declaration for s in structures) or (says("declaration") and not says("report")):
        return MSG_DECLARATION
    if says("report"):
        return MSG_REPORT
    if any(s.budget_only for s in structures) or says("budget"):
        return MSG_BUDGET
    return None
