"""Cell → point: a cell's raw value parsed by the type its field declares, with the decimals written kept,
and the helpers that join, compose and clean the values of an indicator row.

`NUMERIC_TYPES` and `INDICATOR_TYPES` are the field types the rules compare as numbers.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date

from pipeline.forms import load_shared
from pipeline.model import Point, cell_ref
from pipeline.read.values import BLANK, Parsed, normalize, parse_value

NUMERIC_TYPES = frozenset({"amount", "int", "score", "percent"})

#: Decimals a number stored in a cell stands for at least: amounts are kept to the fen of 万元 and
#: ratios to whole percent even when the stored value is shorter (4.5 in a 0.00 cell reads "4.50").
#: Scores typed as whole numbers are taken to a tenth, so a few rounded scores cannot hide a missing point.
MIN_CELL_DECIMALS = {"amount": 2, "percent": 2, "score": 1}

#: A 单位 note beside a label (`单位：万元`): not the value of the row.
UNIT_MARK = re.compile(r"^(?:金额)?(?:计量)?单位[:：]?\s*(?:万元|元|人|个)$")


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
            tail = "" if parsed.percent else suffix  # "72.74%" beside a 计量单位 "%" already has its unit
            point.raw = f"{prefix}{point.value}{tail}"


@functools.lru_cache(maxsize=2048)
def is_prompt(text: str) -> bool:
    """Template prompt text left in a value cell (对照年度目标,说明…(100字以内)).

    Cached per text, as the prompts are: `load_shared` reads them once per process."""
    norm = normalize(text)
    return bool(norm) and any(p in norm for p in _prompt_norms())


@functools.cache
def _prompt_norms() -> tuple[str, ...]:
    return tuple(n for n in map(normalize, load_shared().prompts) if n)


def normalize_unit(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def target_value(raw: object) -> str | None:
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
    if not rest:  # the label alone, as in most label cells: nothing to cut
        return None
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
