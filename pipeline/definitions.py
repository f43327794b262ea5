"""What each file under schemas/ may hold, checked when it loads, every problem said in Chinese.

The forms, spellings, statements, rule catalogue and profiles are data a bureau edits. One typo used to load
without a word (a profile's `"A1.SUM.PUBLIC" = "warnin"` then refused every file of a run); here each file is
validated against a pydantic model (unknown keys, wrong types, values outside their set) and, for a profile,
against the catalogue's rule ids and parameter names. Every problem of a file is one line naming the file,
the entry and, where there is one, the nearest valid value; they stop loading as one `DefinitionError`
before any submission is touched.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import ErrorDetails

from pipeline.errors import DefinitionError

Label = str | Annotated[list[str], Field(min_length=1)]  # the canonical spelling first
FieldType = Literal["amount", "int", "percent", "score", "text", "date"]
Level = Literal["error", "warning"]
RULE_KINDS = ("sum", "ratio", "compare", "formula", "required", "same", "builtin")

#: Parameters the Python side of the rules reads; a profile may also set any `param.<name>` rules.toml names.
CODE_PARAMS = (
    "execution_weight", "total_weight", "exec_rate_explain", "overachieve_ratio", "yuan_suspect", "score_slack",
    "report_required",
)  # fmt: skip


class _Strict(BaseModel):
    """No unknown key, no type converted behind the author's back (TOML already has types)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _note_keys(cls, data: Any, info: ValidationInfo) -> Any:
        """Remember which keys this table may hold, for the nearest valid key of an unknown one."""
        if isinstance(data, dict) and isinstance(info.context, dict):
            info.context.setdefault("keys", {})[id(data)] = tuple(cls.model_fields)
        return data


# --- forms/*.toml and spellings.toml ----------------------------------------------------------------------


class _Input(_Strict):
    key: str
    type: FieldType = "amount"
    span: int = 1
    label_span: int = 1
    required: bool = False
    height: float | None = None
    prompt: str = ""


class FieldDef(_Input):
    """A labelled value of a `fields` section."""

    label: Label


class ColumnDef(_Input):
    """A record field, table column or indicator column."""

    header: Label
    after: str = ""  # the column stands right after this key's column: one header written twice (得分) told apart


class HeaderCell(_Strict):
    text: str
    span: int = 1


class RowDef(_Strict):
    key: str
    label: Label
    repeat: bool = False
    only: list[str] = []


class TotalDef(_Strict):
    label: Label = "总分"
    weight: str | None = None
    score: str | None = None


class _Section(_Strict):
    side: str = ""
    span: int = 1
    footer: bool = False


class _Columns(_Section):
    fields: list[ColumnDef] | None = None
    columns: list[ColumnDef] | None = None
    headers: list[ColumnDef] | None = None
    corner: str = ""


class FieldsSection(_Section):
    kind: Literal["fields"]
    rows: list[list[FieldDef]] = []
    headers: list[HeaderCell] = []


class RecordSection(_Columns):
    kind: Literal["record"]


class TableSection(_Columns):
    kind: Literal["table"]
    rows: list[RowDef] = []
    first_row: bool = False


class IndicatorsSection(_Columns):
    kind: Literal["indicators"]
    blank_rows: int = 3
    total: TotalDef = TotalDef()
    stop: list[str] = []


class NoteSection(_Section):
    kind: Literal["note"]
    text: str = ""


Section = Annotated[
    FieldsSection | RecordSection | TableSection | IndicatorsSection | NoteSection, Field(discriminator="kind")
]


class FormFile(_Strict):
    id: str
    attachment: str
    title: Label
    sheet_name: str | None = None
    name: str | None = None
    columns: list[float] | None = None
    sections: list[Section]
    repeatable: bool | None = None
    own: list[str] = []
    requires: list[str] = []


class SpellingsFile(_Strict):
    groups: list[Annotated[list[str], Field(min_length=2)]] = []
    prompts: list[str] = []


Words = dict[str, Annotated[list[str], Field(min_length=1)]]  # point key → the words that name it


class StructureFile(_Strict):
    """structure.toml: the vocabulary of a self-evaluation's headers and labels, by point key."""

    indicator: Words
    funds: Words
    funds_rows: Words
    fields: dict[Literal["a2", "a3"], Words]
    goal: Words
    rows: dict[Literal["total", "stop"], Annotated[list[str], Field(min_length=1)]]
    kinds: dict[Literal["a2", "a3"], Annotated[list[str], Field(min_length=1)]]
    refuse: dict[Literal["declaration", "report", "budget"], Annotated[list[str], Field(min_length=1)]]


class Figure(_Strict):
    point: str
    kind: Literal["count", "amount", "rate", "score"]
    words: Annotated[list[str], Field(min_length=1)]


class StatementsFile(_Strict):
    figures: list[Figure] = []


# --- rules.toml -------------------------------------------------------------------------------------------

#: Keys each kind of rule needs (rules.toml header).
RULE_NEEDS = {
    "sum": ("total", "parts"),
    "ratio": ("result", "numerator", "denominator"),
    "compare": ("left", "right"),
    "formula": ("check",),
    "required": ("points",),
    "same": ("points",),
    "builtin": ("check",),
    "itemised": ("of",),
}


class RuleDef(_Strict):
    id: str
    kind: Literal["sum", "ratio", "compare", "formula", "required", "same", "builtin", "itemised"]
    level: Level = "error"
    frame: Literal["unit", "project", "indicator"] = "unit"
    message: str = ""
    for_each: dict[str, Literal["categories"] | list[str | int | float]] = {}
    total: str | None = None
    parts: list[str] | None = None
    result: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    left: str | None = None
    op: Literal["==", "<=", ">=", "<", ">"] = "=="
    right: str | int | float | None = None
    check: str | None = None
    points: list[str] | None = None
    when: str | None = None
    missing: Literal["zero", "total", "skip"] | None = None
    of: list[str] | None = None
    whole: bool = False


class RulesFile(_Strict):
    rules: list[RuleDef]


# --- profiles/*.toml --------------------------------------------------------------------------------------


class CategoryDef(_Strict):
    key: str
    label: str
    weight: float
    subs: Annotated[list[str], Field(min_length=1)]


class ProfileFile(_Strict):
    name: str
    description: str = ""
    categories: Annotated[list[CategoryDef], Field(min_length=1)]
    params: dict[str, float] = {}
    levels: dict[str, Level] = {}
    explainable: list[str] = []
    collect: Literal["自动", "整体", "项目"] = "自动"
    year: int | None = None
    editions: list[str] = []  # a bureau's own editions (`jixiao edition draft`), relative to the profile file
    return_deadline: str = ""  # what a 退回通知 asks (jixiao notices), e.g. "收到本通知后10个工作日内"


# --- checking ---------------------------------------------------------------------------------------------


def check_form(raw: dict[str, Any], where: str) -> None:
    _stop(where, _problems(FormFile, raw))


def check_spellings(raw: dict[str, Any], where: str) -> None:
    _stop(where, _problems(SpellingsFile, raw))


def check_structure(raw: dict[str, Any], where: str) -> None:
    _stop(where, _problems(StructureFile, raw))


def check_statements(raw: dict[str, Any], where: str) -> None:
    _stop(where, _problems(StatementsFile, raw))


def check_rules(raw: dict[str, Any], where: str) -> None:
    problems = _problems(RulesFile, raw)
    entries = raw.get("rules")
    seen: set[str] = set()
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        rid, kind = entry["id"], entry.get("kind")
        if rid in seen:
            problems.append(f"规则 {rid}：编号重复（每条规则的编号须唯一）")
        seen.add(rid)
        missing = [k for k in RULE_NEEDS.get(str(kind), ()) if k not in entry]
        if missing:
            problems.append(f"规则 {rid}：kind = {kind!r} 的规则须写明 {'、'.join(missing)}")
    _stop(where, problems)


def check_profile(raw: dict[str, Any], where: str, *, rule_ids: Iterable[str], params: Iterable[str]) -> None:
    """A profile file: its shape, and every rule id and parameter it names known to the catalogue."""
    problems = _problems(ProfileFile, raw)
    ids = sorted(set(rule_ids))
    levels = raw.get("levels")
    for rid in levels if isinstance(levels, dict) else ():
        if rid not in ids:
            problems.append(f"[levels] 中的规则编号 {rid!r} 不存在{_nearest(rid, ids, '有效编号')}")
    explainable = raw.get("explainable")
    for rid in explainable if isinstance(explainable, list) else ():
        if isinstance(rid, str) and rid not in ids:
            problems.append(f"explainable 中的规则编号 {rid!r} 不存在{_nearest(rid, ids, '有效编号')}")
    known = sorted({*CODE_PARAMS, *params})
    values = raw.get("params")
    for name in values if isinstance(values, dict) else ():
        if name not in known:
            problems.append(f"[params] 中的参数 {name!r} 没有规则使用{_nearest(name, known, '有效参数')}")
    _stop(where, problems)


def rule_params(raw: dict[str, Any]) -> set[str]:
    """Every `param.<name>` the catalogue's expressions name (param.weight_<cat> comes from the categories)."""
    text = repr(raw.get("rules", []))
    return {m for m in re.findall(r"param\.(\w+)", text) if not m.startswith("weight_")}


def _stop(where: str, problems: Sequence[str]) -> None:
    if problems:
        lines = "\n".join(f"  {where}：{p}" for p in problems)
        raise DefinitionError(f"定义文件 {where} 有 {len(problems)} 处错误，未处理任何文件：\n{lines}")


def _problems(model: type[BaseModel], raw: dict[str, Any]) -> list[str]:
    context: dict[str, Any] = {}
    try:
        model.model_validate(raw, context=context)
    except ValidationError as exc:
        grouped: dict[tuple[str | int, ...], list[ErrorDetails]] = {}
        for err in exc.errors(include_url=False):
            loc = _clean_loc(raw, err["loc"])
            grouped.setdefault(loc, []).append(err)
        misspelt = {(*loc[:-1], near) for loc, errs in grouped.items() if (near := _meant(raw, loc, errs, context))}
        return [
            _say(raw, loc, errs, context)
            for loc, errs in grouped.items()
            if not (loc in misspelt and errs[0]["type"] == "missing")
        ]
    return []


def _meant(raw: Any, loc: tuple[str | int, ...], errs: list[ErrorDetails], context: dict[str, Any]) -> str:
    """For an unknown key, the required key it stands for: that key's "missing" goes without saying."""
    if errs[0]["type"] != "extra_forbidden":
        return ""
    keys = context.get("keys", {}).get(id(_at(raw, loc[:-1])), ())
    close = difflib.get_close_matches(str(loc[-1]), sorted(keys), n=1, cutoff=0.5)
    return close[0] if close else ""


def _clean_loc(raw: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The location in the file: pydantic's union member names and section kind tags left out."""
    out: list[str | int] = []
    here = raw
    for part in loc:
        inside = _child(here, part)
        if inside is not _ABSENT:
            here = inside
        elif isinstance(here, dict) and here.get("kind") == part:
            continue  # the tag of a section kind
        elif isinstance(part, str) and (part in _TYPE_NAMES or "[" in part):
            continue  # a member of a union
        else:
            here = None
        out.append(part)
    return tuple(out)


_ABSENT = object()


def _child(here: Any, part: str | int) -> Any:
    if isinstance(here, dict) and part in here:
        return here[part]
    if isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
        return here[part]
    return _ABSENT


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict"}
_TYPE_ZH = {
    "string_type": "文字",
    "int_type": "整数",
    "float_type": "数字",
    "bool_type": "true 或 false",
    "list_type": "列表（[...]）",
    "dict_type": "表（{...} 或 [表名]）",
    "model_type": "表（{...} 或 [表名]）",
    "literal_error": "",
}


def _say(raw: dict[str, Any], loc: tuple[str | int, ...], errs: list[ErrorDetails], context: dict[str, Any]) -> str:
    """One problem, in Chinese: where, what, and the nearest valid value."""
    entry = _entry(raw, loc)
    err = errs[0]
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        parent = _at(raw, loc[:-1])
        keys = context.get("keys", {}).get(id(parent), ())
        where = _entry(raw, loc[:-1])
        return f"{where + ' 中' if where else ''}未知的键 {loc[-1]!r}{_nearest(str(loc[-1]), keys, '有效键')}"
    if kind == "missing":
        return f"{entry}：缺少必填项"
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected_tags", "")))
        return f"{entry} kind = {given.get('kind')!r} 不是有效的类型{_nearest(str(given.get('kind')), tags, '有效值')}"
    if kind == "union_tag_not_found":
        return f"{entry}：缺少 kind"
    if kind == "too_short":
        return f"{entry}：不能为空"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        if len(errs) == 1 or not isinstance(given, str):
            return f"{entry} = {given!r} 应为 {'、'.join(allowed)} 之一{_nearest(str(given), allowed, '')}"
    wanted = [_TYPE_ZH[e["type"]] for e in errs if _TYPE_ZH.get(e["type"])]
    if wanted:
        return f"{entry} 应为{'或'.join(dict.fromkeys(wanted))}，而不是 {given!r}"
    return f"{entry}：{err['msg']}（{given!r}）"


def _at(raw: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        raw = _child(raw, part)
    return raw


def _entry(raw: dict[str, Any], loc: tuple[str | int, ...]) -> str:
    """`[levels] "A1.SUM.PUBLIC"`, `规则 A1.SUM.PUBLIC 的 level`, `sections 第 3 项 rows 第 2 项 label`."""
    if not loc:
        return ""
    if loc[0] == "rules" and len(loc) > 1 and isinstance(loc[1], int):
        rid = _at(raw, loc[:2]).get("id") if isinstance(_at(raw, loc[:2]), dict) else None
        head = f"规则 {rid}" if isinstance(rid, str) else f"第 {loc[1] + 1} 条规则"
        return head + (f" 的 {_path(loc[2:])}" if loc[2:] else "")
    if loc[0] in ("levels", "params") and len(loc) == 2:
        return f"[{loc[0]}] {loc[1]!r}"
    return _path(loc)


def _path(loc: Sequence[str | int]) -> str:
    return " ".join(f"第 {p + 1} 项" if isinstance(p, int) else str(p) for p in loc)


def _nearest(word: str, candidates: Iterable[str], what: str) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.5)
    return f"，最接近的{what}是 {close[0]!r}" if close else ""
