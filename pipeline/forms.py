"""Load the declarative form definitions and profiles in schemas/ into typed objects.

One definition per form feeds the template writer (template.py), the reader (extract.py) and the
rules (validate.py). Text holding {Y} or {Y-1} is resolved for a reporting year with `for_year`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.errors import DefinitionError
from pipeline.settings import SCHEMAS_DIR

FORM_IDS = ("a1", "a2", "a3")
SECTION_KINDS = ("fields", "record", "table", "indicators", "note")


def for_year(text: str, year: int) -> str:
    """Resolve {Y} and {Y-1} in a label or title."""
    return text.replace("{Y-1}", str(year - 1)).replace("{Y}", str(year))


@dataclass(frozen=True, slots=True)
class Field:
    """An input: a labelled value (fields), a headed value (record) or a table column."""

    key: str
    label: str  # label (fields) or header (record, table column, indicator column)
    type: str = "amount"  # amount | int | percent | score | text | date
    span: int = 1
    label_span: int = 1
    required: bool = False
    height: float | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """A table row: its label and whether units insert extra rows under it (一个专项一行)."""

    key: str
    label: str
    repeat: bool = False
    only: tuple[str, ...] = ()  # columns this row has inputs in (empty: all)


@dataclass(frozen=True, slots=True)
class Section:
    kind: str
    side: str = ""  # label in the first column, merged down the section
    corner: str = ""  # table: text of the top-left header cell
    span: int = 1
    fields: tuple[Field, ...] = ()  # record fields / table columns / indicator columns
    field_rows: tuple[tuple[Field, ...], ...] = ()  # kind = fields
    headers: tuple[tuple[str, int], ...] = ()  # kind = fields: an optional header row (text, span)
    rows: tuple[Row, ...] = ()  # kind = table
    text: str = ""  # kind = note
    footer: bool = False
    blank_rows: int = 3  # kind = indicators: empty rows per 二级指标 in the template
    total: dict[str, str] = field(default_factory=dict)  # kind = indicators: 总分 row

    def column(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    attachment: str
    title: str
    sheet_name: str
    columns: tuple[float, ...]
    sections: tuple[Section, ...]
    repeatable: bool = False

    @property
    def width(self) -> int:
        return len(self.columns)

    def inputs(self) -> Iterator[tuple[str, Field, str]]:
        """Every fixed data point: full key ("a1.sangong.actual"), its input field, its Chinese description."""
        for sec in self.sections:
            if sec.kind == "fields":
                for f in (f for row in sec.field_rows for f in row):
                    yield f"{self.id}.{f.key}", f, f.label
            elif sec.kind == "record":
                for f in sec.fields:
                    yield f"{self.id}.{f.key}", f, f.label
            elif sec.kind == "table":
                for r in sec.rows:
                    for col in sec.fields:
                        if not r.only or col.key in r.only:
                            yield f"{self.id}.{r.key}.{col.key}", col, f"{r.label} {col.label}"
            elif sec.kind == "indicators":
                for name in ("weight", "score"):
                    if name in sec.total:
                        col = sec.column(name)
                        yield f"{self.id}.{sec.total[name]}", col, f"{sec.total['label']} {col.label}"

    def points(self) -> dict[str, Field]:
        """Full point key → its input field."""
        return {key: f for key, f, _ in self.inputs()}

    def labels(self) -> dict[str, str]:
        """Full point key → Chinese description ("公用经费 {Y}年决算数") for messages."""
        return {key: label for key, _, label in self.inputs()}


@dataclass(frozen=True, slots=True)
class Category:
    """A 一级指标 with its weight and 二级指标 labels."""

    key: str
    label: str
    weight: float
    subs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """What varies by place and year: categories and weights, thresholds, severity overrides."""

    name: str
    description: str
    categories: tuple[Category, ...]
    params: dict[str, float]
    levels: dict[str, str]


def _field(raw: dict[str, Any], *, label_key: str) -> Field:
    try:
        return Field(
            key=raw["key"],
            label=raw[label_key],
            type=raw.get("type", "amount"),
            span=int(raw.get("span", 1)),
            label_span=int(raw.get("label_span", 1)),
            required=bool(raw.get("required", False)),
            height=raw.get("height"),
        )
    except KeyError as exc:
        raise DefinitionError(f"form field {raw!r} lacks {exc}") from exc


def _section(raw: dict[str, Any]) -> Section:
    kind = raw.get("kind")
    if kind not in SECTION_KINDS:
        raise DefinitionError(f"section kind {kind!r} is not one of {SECTION_KINDS}")
    label_key = "label" if kind == "fields" else "header"
    return Section(
        kind=kind,
        side=raw.get("side", ""),
        corner=raw.get("corner", ""),
        span=int(raw.get("span", 1)),
        fields=tuple(
            _field(f, label_key=label_key)
            for f in raw.get("fields", raw.get("columns", raw.get("headers", [])) if kind != "fields" else [])
        ),
        field_rows=tuple(tuple(_field(f, label_key="label") for f in row) for row in raw.get("rows", []))
        if kind == "fields"
        else (),
        headers=tuple((h["text"], int(h.get("span", 1))) for h in raw.get("headers", [])) if kind == "fields" else (),
        rows=tuple(
            Row(key=r["key"], label=r["label"], repeat=bool(r.get("repeat", False)), only=tuple(r.get("only", ())))
            for r in raw.get("rows", [])
        )
        if kind == "table"
        else (),
        text=raw.get("text", ""),
        footer=bool(raw.get("footer", False)),
        blank_rows=int(raw.get("blank_rows", 3)),
        total=dict(raw.get("total", {})),
    )


@cache
def load_form(form_id: str, schemas_dir: Path = SCHEMAS_DIR) -> Form:
    """Read schemas/forms/<form_id>.toml."""
    path = schemas_dir / "forms" / f"{form_id}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"cannot read form definition {path}: {exc}") from exc
    return Form(
        id=raw["id"],
        attachment=raw["attachment"],
        title=raw["title"],
        sheet_name=raw["sheet_name"],
        columns=tuple(float(w) for w in raw["columns"]),
        sections=tuple(_section(s) for s in raw["sections"]),
        repeatable=bool(raw.get("repeatable", False)),
    )


def load_forms(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Form]:
    return {fid: load_form(fid, schemas_dir) for fid in FORM_IDS}


@cache
def load_profile(name: str = "default", schemas_dir: Path = SCHEMAS_DIR) -> Profile:
    """Read schemas/profiles/<name>.toml, or the profile file `name` when it is a path ending in .toml."""
    by_path = name.lower().endswith(".toml")
    path = Path(name) if by_path else schemas_dir / "profiles" / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (schemas_dir / "profiles").glob("*.toml"))
        if by_path:
            raise DefinitionError(f"找不到审核口径文件：{name}（也可以使用内置口径：{', '.join(known)}）")
        raise DefinitionError(f"未找到审核口径 {name!r}，可用：{', '.join(known)}，或给出 .toml 文件的路径")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return Profile(
        name=raw["name"],
        description=raw.get("description", ""),
        categories=tuple(
            Category(key=c["key"], label=c["label"], weight=float(c["weight"]), subs=tuple(c["subs"]))
            for c in raw["categories"]
        ),
        params={k: float(v) for k, v in raw.get("params", {}).items()},
        levels=dict(raw.get("levels", {})),
    )
