"""Labels and the sheet index every lookup goes through: a label in all its spellings, matched after
`values.normalize`, and a sheet's text cells normalised once, by reading order and by text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.forms import Form, for_year
from pipeline.model import SheetGrid
from pipeline.read.values import normalize


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
    n_cols: int = 0  # the sheet's width (`SheetGrid.n_cols` measures every row each time it is asked)

    @classmethod
    def build(cls, sheet: SheetGrid, start: int = 0, stop: int | None = None) -> SheetIndex:
        stop = sheet.n_rows if stop is None else min(stop, sheet.n_rows)
        index = cls(sheet, start=start, stop=stop, n_cols=sheet.n_cols)
        texts, by_norm = index.texts, index.by_norm
        for r, row in enumerate(sheet.rows[start:stop], start):
            for c, v in enumerate(row):
                if v and isinstance(v, str) and v.strip():  # most cells are "": tested first, cheapest
                    norm = normalize(v)
                    texts.append((r, c, norm, v))
                    by_norm.setdefault(norm, []).append((r, c))
        index.spans = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in sheet.merged}
        return index

    def block(self, start: int, stop: int) -> SheetIndex:
        """The index of rows [start, stop) of this one's sheet, taken from its texts, not built again."""
        stop = min(stop, self.sheet.n_rows)
        index = SheetIndex(self.sheet, start=start, stop=stop, spans=self.spans, n_cols=self.n_cols)
        texts, by_norm = index.texts, index.by_norm
        for entry in self.texts:
            if start <= entry[0] < stop:
                texts.append(entry)
                by_norm.setdefault(entry[2], []).append((entry[0], entry[1]))
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

    def has(self, norms: frozenset[str]) -> bool:
        """Whether any of these texts (a label's `spelled_norms`) stands anywhere in the block:
        `find(labels) is not None`, without looking for the first."""
        return not self.by_norm.keys().isdisjoint(norms)

    def end(self, r: int, c: int) -> tuple[int, int]:
        """Bottom-right cell of the merged range anchored at (r, c), or the cell itself."""
        return self.spans.get((r, c), (r, c))

    def value_at(self, r: int, c: int) -> tuple[object, tuple[int, int]]:
        ar, ac = self.sheet.anchor(r, c)
        return self.sheet.value(ar, ac), (ar, ac)


def spelled(names: Sequence[str], year: int | None) -> tuple[Label, ...]:
    """Every spelling of a label, with {Y} resolved (a label needing an unknown year is left out)."""
    return _spelled(tuple(names), year)


@functools.lru_cache(maxsize=8192)
def spelled_norms(names: tuple[str, ...], year: int | None) -> frozenset[str]:
    """The normalised texts, with and without a (…) hint, of every spelling of a label (`spelled`)."""
    return frozenset(text for lab in _spelled(names, year) for text in (lab.norm, lab.core))


@functools.lru_cache(maxsize=8192)
def _spelled(names: tuple[str, ...], year: int | None) -> tuple[Label, ...]:
    """A block asks for the same few hundred labels in a year or two: each is spelled once per process."""
    if year is None:
        return tuple(Label.of(n) for n in names if "{Y" not in n)
    return tuple(Label.of(for_year(n, year)) for n in names)


T = TypeVar("T")


def per_form(fn: Callable[[Form], T]) -> Callable[[Form], T]:
    """Memoise what is derived from a form edition alone. A Form holds dicts, so it has no hash: it is
    keyed by identity, and the cache keeps the form alive so that its id is never reused."""
    memo: dict[int, tuple[Form, T]] = {}

    @functools.wraps(fn)
    def cached(form: Form) -> T:
        hit = memo.get(id(form))
        if hit is None or hit[0] is not form:
            hit = memo[id(form)] = (form, fn(form))
        return hit[1]

    return cached
