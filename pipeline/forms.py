"""Load the declarative form definitions and profiles in schemas/ into typed objects.

A form kind (附件1 a1, 附件2 a2, 附件3 a3) has one or more *editions*, one TOML file each under
schemas/forms/: the layouts different provinces and years publish. Every edition maps its labels onto
the same point keys ("a3.total.exec"), so a rule is written once. The primary edition of a kind (the
file named after the kind, a1.toml …) also feeds the template writer. Every label, header and title may
list several spellings, and schemas/spellings.toml adds the spellings every edition shares.
Text holding {Y} or {Y-1} is resolved for a reporting year with `for_year`.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import definitions
from pipeline.errors import DefinitionError
from pipeline.settings import SCHEMAS_DIR

FORM_IDS = ("a1", "a2", "a3")
SECTION_KINDS = ("fields", "record", "table", "indicators", "note")
COLLECT = ("自动", "整体", "项目")  # what a bureau collects: decided per workbook, 附件1+2(+3), or 项目 tables only


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
    spellings: tuple[str, ...] = ()  # every way the label is written, the canonical one first
    prompt: str = ""  # the template's prompt text in the value cell, if any
    after: str = ""  # indicator column: it stands right after this key's column (a repeated 得分 told apart)

    @property
    def names(self) -> tuple[str, ...]:
        return self.spellings or (self.label,)


@dataclass(frozen=True, slots=True)
class Row:
    """A table row: its label and whether units insert extra rows under it (一个专项一行)."""

    key: str
    label: str
    repeat: bool = False
    only: tuple[str, ...] = ()  # columns this row has inputs in (empty: all)
    spellings: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.spellings or (self.label,)


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
    total_labels: tuple[str, ...] = ("总分",)  # kind = indicators: spellings of the 总分 row
    stop: tuple[str, ...] = ()  # kind = indicators: labels of what follows the table (评价结论 …)
    first_row: bool = False  # kind = table: the first row is the first data row when its label is not found

    def column(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Form:
    """One edition of a form kind. `id` is the kind ("a3"), the prefix of every point key."""

    id: str
    attachment: str
    title: str
    sheet_name: str
    columns: tuple[float, ...]
    sections: tuple[Section, ...]
    repeatable: bool = False
    edition: str = ""  # file stem: "a3" (primary), "a3_national" …
    name: str = ""  # Chinese name of the edition, shown in findings and the closing report
    titles: tuple[str, ...] = ()  # every spelling of the title, the canonical one first
    own: tuple[str, ...] = ()  # point names only this edition has (checked against typos)
    requires: tuple[str, ...] = ()  # form kinds a workbook with this edition must also hold (整体: 附件1 + 附件2)

    @property
    def primary(self) -> bool:
        """The kind's primary edition: the one the template writer writes."""
        return self.edition in ("", self.id)

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
    """What varies by place and year: categories and weights, thresholds, severity overrides,
    what the bureau collects, and the year to assume when a form states none."""

    name: str
    description: str
    categories: tuple[Category, ...]
    params: dict[str, float]
    levels: dict[str, str]
    collect: str = "自动"
    year: int | None = None
    explainable: tuple[str, ...] = ()  # error rules a unit's 单位说明 may clear (then shown as explained warnings)
    editions: tuple[str, ...] = ()  # a bureau's own editions: paths of schemas/forms-style files (`edition draft`)
    return_deadline: str = ""  # when a 退回通知 asks the unit to send its corrected workbook ("" → notices' default)

    def with_year(self, year: int | None) -> Profile:
        return self if year is None else replace(self, year=year)


def _spellings(raw: object) -> tuple[str, ...]:
    """`label = "x"` or `label = ["x", "y"]`: the canonical spelling first, then the others."""
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return tuple(raw)
    raise DefinitionError(f"标签应为文字或文字列表，而不是 {raw!r}")


def _field(raw: dict[str, Any], *, label_key: str) -> Field:
    try:
        names = _spellings(raw[label_key])
        return Field(
            key=raw["key"],
            label=names[0],
            spellings=names,
            prompt=raw.get("prompt", ""),
            type=raw.get("type", "amount"),
            span=int(raw.get("span", 1)),
            label_span=int(raw.get("label_span", 1)),
            required=bool(raw.get("required", False)),
            height=raw.get("height"),
            after=raw.get("after", ""),
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
            Row(
                key=r["key"],
                label=_spellings(r["label"])[0],
                spellings=_spellings(r["label"]),
                repeat=bool(r.get("repeat", False)),
                only=tuple(r.get("only", ())),
            )
            for r in raw.get("rows", [])
        )
        if kind == "table"
        else (),
        text=raw.get("text", ""),
        footer=bool(raw.get("footer", False)),
        blank_rows=int(raw.get("blank_rows", 3)),
        total={k: (_spellings(v)[0] if k == "label" else v) for k, v in raw.get("total", {}).items()},
        total_labels=_spellings(raw.get("total", {}).get("label", "总分")),
        stop=tuple(raw.get("stop", ())),
        first_row=bool(raw.get("first_row", False)),
    )


#: Columns an indicator table may have; an edition's headers must use these keys.
INDICATOR_KEYS = (
    "level1", "level2", "name", "target", "actual", "weight", "score", "reason",
    "nature", "unit", "target_adj", "coef", "core", "explain", "standard",
    "level1_weight", "level1_score", "level2_weight", "level2_score",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shared:
    """schemas/spellings.toml: spellings every edition shares, and template prompt texts."""

    groups: tuple[tuple[str, ...], ...]
    prompts: tuple[str, ...]


@cache
def load_shared(schemas_dir: Path = SCHEMAS_DIR) -> Shared:
    path = schemas_dir / "spellings.toml"
    if not path.is_file():
        return Shared((), ())
    raw = _read_toml(path)
    definitions.check_spellings(raw, path.name)
    return Shared(tuple(tuple(g) for g in raw.get("groups", [])), tuple(raw.get("prompts", [])))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"无法读取定义文件 {path}：{exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"定义文件 {path} 格式错误：{exc}") from exc


def _with_shared(names: tuple[str, ...], shared: Shared) -> tuple[str, ...]:
    """A label's own spellings plus those of every shared group one of them belongs to."""
    from pipeline.read.values import normalize

    norms = {normalize(n) for n in names}
    out = list(names)
    for group in shared.groups:
        if norms & {normalize(g) for g in group}:
            out += [g for g in group if g not in out]
    return tuple(out)


def _spell_section(sec: Section, shared: Shared) -> Section:
    def f(x: Field) -> Field:
        return replace(x, spellings=_with_shared(x.names, shared))

    return replace(
        sec,
        fields=tuple(f(x) for x in sec.fields),
        field_rows=tuple(tuple(f(x) for x in row) for row in sec.field_rows),
        rows=tuple(replace(r, spellings=_with_shared(r.names, shared)) for r in sec.rows),
    )


@cache
def load_form(form_id: str, schemas_dir: Path = SCHEMAS_DIR) -> Form:
    """Read schemas/forms/<form_id>.toml (an edition; <kind>.toml is the kind's primary edition)."""
    path = schemas_dir / "forms" / f"{form_id}.toml"
    return _form_from(_read_toml(path), path, form_id, schemas_dir)


def _form_from(raw: dict[str, Any], path: Path, form_id: str, schemas_dir: Path) -> Form:
    definitions.check_form(raw, path.name)
    shared = load_shared(schemas_dir)
    try:
        titles = _spellings(raw["title"])
        kind = raw["id"]
        if kind not in FORM_IDS:
            raise DefinitionError(f"{path.name}：id = {kind!r} 不是已知表种 {FORM_IDS} 之一")
        return Form(
            id=kind,
            attachment=raw["attachment"],
            title=titles[0],
            sheet_name=raw.get("sheet_name", raw["attachment"]),
            columns=tuple(float(w) for w in raw.get("columns", [12] * 9)),
            sections=tuple(_spell_section(_section(s), shared) for s in raw["sections"]),
            repeatable=bool(raw.get("repeatable", kind == "a3")),
            edition=form_id,
            name=raw.get("name", f"{raw['attachment']} {titles[0]}"),
            titles=titles,
            own=tuple(raw.get("own", ())),
            requires=tuple(raw.get("requires", ())),
        )
    except KeyError as exc:
        raise DefinitionError(f"{path.name} 缺少 {exc}") from exc
    except DefinitionError as exc:
        msg = str(exc)
        raise DefinitionError(msg if msg.startswith(path.name) else f"{path.name}：{msg}") from exc


def load_forms(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Form]:
    """The primary edition of each kind: what the template writer writes."""
    return {fid: load_form(fid, schemas_dir) for fid in FORM_IDS}


@cache
def load_editions(schemas_dir: Path = SCHEMAS_DIR) -> tuple[Form, ...]:
    """Every edition under schemas/forms/, primary editions first, checked against typos."""
    primary = load_forms(schemas_dir)
    others = sorted(p.stem for p in (schemas_dir / "forms").glob("*.toml") if p.stem not in FORM_IDS)
    editions = (*primary.values(), *(load_form(stem, schemas_dir) for stem in others))
    for form in editions:
        check_edition(form, primary[form.id])
    return editions


def _nearest(word: str, candidates: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.5)
    return f"，最接近的有效名称是 {close[0]!r}" if close else ""


def check_edition(form: Form, primary: Form) -> None:
    """An edition may only use the point names of its kind's primary edition and those it lists in
    `own`; within a section no spelling may stand for two entries."""
    from pipeline.read.values import normalize

    fields: set[str] = set()
    rows: set[str] = set()
    columns: set[str] = set()
    for sec in primary.sections:
        if sec.kind == "table":
            rows |= {r.key for r in sec.rows}
            columns |= {c.key for c in sec.fields}
        elif sec.kind in ("fields", "record"):
            fields |= {f.key for f in (*sec.fields, *(x for row in sec.field_rows for x in row))}
    own = set(form.own)
    where = f"{form.edition}.toml"
    for sec in form.sections:
        entries: list[tuple[str, str, tuple[str, ...]]] = []  # (what, key, spellings)
        if sec.kind == "table":
            entries += [("行", r.key, r.names) for r in sec.rows]
            entries += [("列", c.key, c.names) for c in sec.fields]
            valid_rows, valid_cols = rows | own, columns | own
            for what, key, _ in entries:
                valid = valid_rows if what == "行" else valid_cols
                if key not in valid:
                    raise DefinitionError(f"{where}：{what} key = {key!r} 不是已知数据项{_nearest(key, valid)}")
        elif sec.kind == "indicators":
            # A column placed by `after` is told apart by where it stands: its header may repeat another's (得分).
            entries += [("指标列", c.key, () if c.after else c.names) for c in sec.fields]
            valid = set(INDICATOR_KEYS) | own
            for _, key, _ in entries:
                if key not in valid:
                    raise DefinitionError(f"{where}：指标列 key = {key!r} 不是已知数据项{_nearest(key, valid)}")
        elif sec.kind in ("fields", "record"):
            entries += [("项", f.key, f.names) for f in (*sec.fields, *(x for row in sec.field_rows for x in row))]
            valid = fields | own
            for _, key, _ in entries:
                if key not in valid:
                    raise DefinitionError(f"{where}：key = {key!r} 不是已知数据项{_nearest(key, valid)}")
        seen: dict[str, str] = {}
        for what, key, names in entries:
            for name in names:
                norm = normalize(name)
                other = seen.get(norm)
                if other is not None and other != f"{what}{key}":
                    raise DefinitionError(f"{where}：标签“{name}”同时用于 {other} 和 {what}{key}，无法区分")
                seen[norm] = f"{what}{key}"


def edition_points(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Field]:
    """Every point key any edition has → its field (types agree across editions)."""
    out: dict[str, Field] = {}
    for form in load_editions(schemas_dir):
        for key, f in form.points().items():
            known = out.get(key)
            if known is not None and known.type != f.type:
                raise DefinitionError(f"{form.edition}.toml：{key} 的类型 {f.type} 与其他版本的 {known.type} 不一致")
            out.setdefault(key, f)
    return out


@cache
def load_profile(name: str = "default", schemas_dir: Path = SCHEMAS_DIR) -> Profile:
    """Read schemas/profiles/<name>.toml, or the profile file `name` when it is a path ending in .toml;
    checked against the catalogue's rule ids and parameters (definitions.check_profile)."""
    by_path = name.lower().endswith(".toml")
    path = Path(name) if by_path else schemas_dir / "profiles" / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (schemas_dir / "profiles").glob("*.toml"))
        if by_path:
            raise DefinitionError(f"找不到审核口径文件：{name}（也可以使用内置口径：{', '.join(known)}）")
        raise DefinitionError(f"未找到审核口径 {name!r}，可用：{', '.join(known)}，或给出 .toml 文件的路径")
    raw = _read_toml(path)
    catalogue = _read_toml(schemas_dir / "rules.toml")
    ids = [e["id"] for e in catalogue.get("rules", []) if isinstance(e, dict) and isinstance(e.get("id"), str)]
    params = definitions.rule_params(catalogue)
    definitions.check_profile(raw, name if by_path else path.name, rule_ids=ids, params=params)
    collect = raw.get("collect", "自动")
    return Profile(
        name=raw["name"],
        description=raw.get("description", ""),
        categories=tuple(
            Category(key=c["key"], label=c["label"], weight=float(c["weight"]), subs=tuple(c["subs"]))
            for c in raw["categories"]
        ),
        params={k: float(v) for k, v in raw.get("params", {}).items()},
        levels=dict(raw.get("levels", {})),
        explainable=tuple(raw.get("explainable", ())),
        collect=collect,
        year=int(raw["year"]) if raw.get("year") else None,
        editions=tuple(str((path.parent / e).resolve()) for e in raw.get("editions", ())),
        return_deadline=str(raw.get("return_deadline", "")),
    )


def profile_editions(profile: Profile, schemas_dir: Path = SCHEMAS_DIR) -> tuple[Form, ...]:
    """The shipped editions, then the bureau's own that its profile lists (`editions = ["x.toml"]`, paths
    relative to the profile file): a layout saved from `jixiao edition draft` is read as an edition."""
    shipped = load_editions(schemas_dir)
    if not profile.editions:
        return shipped
    return (*shipped, *(load_form_file(Path(p), schemas_dir) for p in profile.editions))


@cache
def load_form_file(path: Path, schemas_dir: Path = SCHEMAS_DIR) -> Form:
    """An edition from a file of its own (a bureau's, outside schemas/forms/), checked like a shipped one."""
    if not path.is_file():
        raise DefinitionError(f"找不到审核口径中列出的表样文件：{path}")
    form = _form_from(_read_toml(path), path, path.stem, schemas_dir)
    check_edition(form, load_forms(schemas_dir)[form.id])
    return form


#: What the generic reading maps a funds block onto: the columns and rows every funds table has.
FUNDS_COLUMNS = ("initial", "budget", "exec", "rate", "weight", "score")
FUNDS_ROWS = ("total", "fiscal", "carryover", "other")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """schemas/structure.toml: the words a self-evaluation's headers and labels hold, by point key."""

    indicator: dict[str, tuple[str, ...]]
    funds: dict[str, tuple[str, ...]]
    funds_rows: dict[str, tuple[str, ...]]
    fields: dict[str, dict[str, tuple[str, ...]]]  # kind → key → words
    goal: dict[str, tuple[str, ...]]
    rows: dict[str, tuple[str, ...]]
    kinds: dict[str, tuple[str, ...]]
    refuse: dict[str, tuple[str, ...]]


@cache
def load_vocabulary(schemas_dir: Path = SCHEMAS_DIR) -> Vocabulary:
    raw = _read_toml(schemas_dir / "structure.toml")
    definitions.check_structure(raw, "structure.toml")
    allowed = {"indicator": set(INDICATOR_KEYS), "funds": set(FUNDS_COLUMNS), "funds_rows": set(FUNDS_ROWS)}
    for name, keys in allowed.items():
        for key in raw[name]:
            if key not in keys:
                raise DefinitionError(f"structure.toml：[{name}] 中的 {key!r} 不是已知数据项{_nearest(key, keys)}")

    def group(name: str) -> dict[str, tuple[str, ...]]:
        return {k: _spellings(v) for k, v in raw.get(name, {}).items()}

    return Vocabulary(
        indicator=group("indicator"),
        funds=group("funds"),
        funds_rows=group("funds_rows"),
        fields={kind: {k: _spellings(v) for k, v in keys.items()} for kind, keys in raw.get("fields", {}).items()},
        goal=group("goal"),
        rows=group("rows"),
        kinds=group("kinds"),
        refuse=group("refuse"),
    )
