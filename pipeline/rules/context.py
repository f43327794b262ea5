"""What a rule runs over: a frame of rows (`Frame`) and everything else it needs (`Context`).

`validate` builds both; `builtins` reads them. They live here so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from pipeline.forms import Form, Profile
from pipeline.model import Indicator, Point, Submission


@dataclass(slots=True)
class Frame:
    """One frame's values plus, per row, the points behind them and the submission they came from."""

    name: str
    data: pd.DataFrame
    points: list[dict[str, Point]]
    subs: list[int]
    years: list[int | None]
    indicators: list[Indicator | None] = field(default_factory=list)


@dataclass(slots=True)
class Context:
    """Everything a rule needs besides its frame."""

    submissions: Sequence[Submission]
    forms: dict[str, Form]
    profile: Profile
    vocab: dict[str, dict[str, str]]
    types: dict[str, str]
    params: dict[str, float]
    prev_keys: tuple[str, ...] = ()  # the `prev.*` points the catalogue names (rules/previous.py)
