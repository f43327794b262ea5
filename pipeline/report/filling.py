"""What a written workbook holds and how it departs from the official layout: `Filling` (a unit's values,
inserted rows, indicator rows, projects), `IndicatorRow`, `Layout`, and the key of an indicator 总分 cell.

The template writer takes them; the sample inputs, the synthetic units and the tests build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import DefinitionError
from pipeline.forms import Form


@dataclass(slots=True)
class IndicatorRow:
    """One 三级指标 row as a unit fills it: category key from the profile, 二级 label, then the cells."""

    level1: str
    level2: str
    name: object = None
    target: object = None
    actual: object = None
    weight: object = None
    score: object = None
    reason: object = None


@dataclass(slots=True)
class Filling:
    """What a unit typed: point values, inserted special-fund rows, indicator rows, project sheets.

    Numbers are written as number cells; strings (also numbers typed as text, "1,323.28") as strings.
    """

    values: dict[str, object] = field(default_factory=dict)
    special_rows: dict[str, list[tuple[str, dict[str, object]]]] = field(default_factory=dict)
    indicators: list[IndicatorRow] = field(default_factory=list)
    projects: list[Filling] = field(default_factory=list)
    placeholder_projects: bool = False


@dataclass(slots=True)
class Layout:
    """How the workbook departs from the official one. Sheet ids: "a1", "a2", "a3", "a3.2", "a3.3"…"""

    sheet_names: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    row_offset: int = 0
    col_offset: int = 0
    values_in_labels: bool = False
    names: bool = True


def _cell_keys(form: Form) -> set[str]:
    """Point keys of every input outside the indicator table."""
    keys: set[str] = set()
    for sec in form.sections:
        if sec.kind == "table":
            keys |= {f"{form.id}.{r.key}.{c.key}" for r in sec.rows for c in sec.fields}
        elif sec.kind == "record":
            keys |= {f"{form.id}.{f.key}" for f in sec.fields}
        elif sec.kind == "fields":
            keys |= {f"{form.id}.{f.key}" for row in sec.field_rows for f in row}
    return keys


def indicator_total_key(form: Form, name: str) -> str:
    """Full key of the indicator 总分 cell `name` ("weight" or "score"), e.g. "a2.sum.score"."""
    for sec in form.sections:
        if sec.kind == "indicators" and name in sec.total:
            key = f"{form.id}.{sec.total[name]}"
            return f"{form.id}.ind.{sec.total[name]}" if key in _cell_keys(form) else key
    raise DefinitionError(f"表 {form.id} 没有指标总分项 {name!r}")
