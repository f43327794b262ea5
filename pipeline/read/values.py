"""Text normalisation for label matching, and parsing of values as units really type them.

Units type numbers as numbers or as text (`1,323.28`, `７０３`, ` 156.1 `, `87.5%`, `670万元`, `≥90%`),
write `/`, `-`, `无` or nothing for "not filled", and dates as `2024.5.28` or `2024年5月28日`. The
number of decimals written is kept: the tolerance model needs it.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipeline.settings import MAX_DECIMALS

#: What units write for "nothing to report".
BLANK_MARKS = frozenset({"/", "／", "-", "－", "—", "——", "--", "无", "n/a", "N/A", "…", "……", "····", "···"})

_NUMBERING = re.compile(r"^(?:\(?\d{1,2}\)?[、.]|\(\d{1,2}\)|[一二三四五六七八九十]{1,3}[、.])")
_PUNCT = re.compile(r"[\s、，,。：:；;()（）【】\[\]“”\"'‘’·…\-—_]+")
_NUMBER = re.compile(
    r"^(?P<op>≥|≤|>=|<=|>|<|不低于|不少于|不小于|不高于|不超过|不大于|大于等于|小于等于)?"
    r"(?P<sign>[+-])?(?P<int>\d+)(?:\.(?P<frac>\d+))?(?P<pct>%)?"
    r"(?P<unit>[^\d\s.,%+\-<>≥≤=]{1,6})?$"
)
_DATE = re.compile(r"^(?P<y>\d{4})\s*[.\-/年]\s*(?P<m>\d{1,2})\s*[.\-/月]\s*(?P<d>\d{1,2})\s*日?$")
_OPS = {
    "≥": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "不小于": ">=",
    "大于等于": ">=",
    ">=": ">=",
    ">": ">",
    "≤": "<=",
    "不高于": "<=",
    "不超过": "<=",
    "不大于": "<=",
    "小于等于": "<=",
    "<=": "<=",
    "<": "<",
}


def normalize(text: Any) -> str:
    """Canonical form of a label: NFKC, no spaces/line breaks/punctuation, no numbering, no 其中."""
    return _normalize(text) if isinstance(text, str) else ""


@functools.lru_cache(maxsize=65536)
def _normalize(text: str) -> str:
    """Forms repeat the same few hundred texts across thousands of workbooks: normalise each once."""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"\s+", "", s)
    s = _NUMBERING.sub("", s)
    s = s.replace("其中", "")
    s = _PUNCT.sub("", s)
    return _NUMBERING.sub("", s)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A cell value as understood: `kind` is number, text, date or blank."""

    kind: str
    value: float | str | date | None
    decimals: int | None = None
    op: str | None = None  # comparison written with a target: ≥90% → ">="
    percent: bool = False
    unit: str | None = None


BLANK = Parsed("blank", None)


@functools.lru_cache(maxsize=2048)
def _number(x: float) -> Parsed:
    """A finite non-zero number as parsed (cached: forms repeat the same weights and amounts, and
    equal non-zero floats are the same value)."""
    return Parsed("number", x, float_decimals(x))


def float_decimals(x: float) -> int:
    """Decimals a float was written with: repr(64.7) → 1; arithmetic noise is capped at MAX_DECIMALS."""
    if not math.isfinite(x) or x == int(x):
        return 0
    text = repr(round(x, MAX_DECIMALS))
    if "e" in text or "E" in text:
        return MAX_DECIMALS
    return len(text.split(".")[1]) if "." in text else 0


def parse_value(raw: Any) -> Parsed:
    """Understand one cell value as typed (numbers, text numbers, percentages, dates, blanks)."""
    kind = type(raw)
    if kind is str:  # the two kinds a grid holds most, without the checks below
        return parse_text(raw) if raw else BLANK
    if kind is float and raw and math.isfinite(raw):
        return _number(raw)
    if raw is None or raw == "":
        return BLANK
    if isinstance(raw, bool):
        return Parsed("text", str(raw))
    if isinstance(raw, int | float):
        x = float(raw)
        if not math.isfinite(x):
            return Parsed("text", str(raw))
        return _number(x) if x else Parsed("number", x, 0)  # 0.0 and -0.0 are equal keys, not the same value
    if isinstance(raw, datetime):
        return Parsed("date", raw.date())
    if isinstance(raw, date):
        return Parsed("date", raw)
    return parse_text(str(raw))


@functools.lru_cache(maxsize=2048)
def parse_text(text: str) -> Parsed:
    """A text cell understood (cached: a `Parsed` is immutable, and forms repeat the same texts)."""
    stripped = text.strip()
    if not stripped or stripped in BLANK_MARKS:
        return BLANK
    s = unicodedata.normalize("NFKC", stripped)
    s = re.sub(r"\s+", "", s).replace(",", "").replace("，", "")
    if s in BLANK_MARKS:
        return BLANK
    m = _NUMBER.match(s)
    if m:
        frac = m.group("frac") or ""
        value = float(f"{m.group('sign') or ''}{m.group('int')}.{frac or '0'}")
        decimals = len(frac)
        percent = bool(m.group("pct"))
        if percent:
            value, decimals = value / 100, decimals + 2
        op = _OPS.get(m.group("op") or "")
        return Parsed("number", round(value, MAX_DECIMALS + 2), decimals, op, percent, m.group("unit"))
    d = parse_date_text(s)
    if d is not None:
        return Parsed("date", d)
    return Parsed("text", stripped)


def parse_date_text(text: str) -> date | None:
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None


def format_number(value: float | None, *, decimals: int = 2, percent: bool = False) -> str:
    """How a number is shown in messages: amounts with their decimals, ratios as percentages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "（空）"
    if percent:
        return f"{value * 100:.{max(decimals - 2, 1)}f}%"
    return f"{value:.{decimals}f}"
