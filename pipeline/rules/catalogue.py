"""The rule catalogue (schemas/rules.toml) compiled into checks over interval values.

Relations (sum, ratio, compare, formula) are parsed once into Python expression trees over point
names and evaluated column-wise with interval arithmetic: each value stands for [v − tol, v + tol]
where tol comes from the decimals the unit wrote, and `==` holds when the two intervals overlap
(XBRL Calculations 1.1). validate.py runs every compiled rule as a pandera check.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import definitions
from pipeline.errors import DefinitionError
from pipeline.forms import Profile
from pipeline.settings import SCHEMAS_DIR

KINDS = ("sum", "ratio", "compare", "formula", "required", "same", "builtin", "itemised")
MISSING = ("zero", "skip", "total")
FRAMES = ("unit", "project", "indicator")
OPS = {ast.Eq: "==", ast.LtE: "<=", ast.GtE: ">=", ast.Lt: "<", ast.Gt: ">"}
FUNCTIONS = ("min", "max", "abs")
EPS = 1e-9  # float noise from binary fractions; far below any tolerance a unit can write


@dataclass(frozen=True, slots=True)
class Rule:
    """One expanded rule: for_each already applied, level after the profile's overrides."""

    id: str
    level: str
    frame: str
    kind: str
    message: str
    points: tuple[str, ...]  # point names the rule reads, the one the finding is about first
    left: ast.expr | None = None
    op: str = "=="
    right: ast.expr | None = None
    when: ast.expr | None = None
    missing: str = "skip"
    check: str | None = None
    bindings: dict[str, str] = field(default_factory=dict)  # for_each name → value (for messages)
    percent: bool = False  # show values as percentages
    whole: bool = False  # where a table reports its scores as whole numbers, compare after rounding (9 for 8.6)


def dotted(node: ast.expr) -> str | None:
    """`a1.public.actual` parses as nested attributes; give it back as one name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def parse_expr(text: str, *, rule_id: str) -> ast.expr:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise DefinitionError(f"rule {rule_id}: cannot parse {text!r}: {exc.msg}") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise DefinitionError(f"rule {rule_id}: only {FUNCTIONS} may be called, not {ast.unparse(node)}")
    return tree


def names_in(node: ast.expr | None) -> list[str]:
    """Point names referenced by an expression, in reading order, without params and functions."""
    if node is None:
        return []
    out: list[str] = []

    def visit(n: ast.AST) -> None:
        name = dotted(n) if isinstance(n, ast.Name | ast.Attribute) else None
        if name is not None:
            if not name.startswith("param.") and name not in FUNCTIONS and name not in out:
                out.append(name)
            return
        for child in ast.iter_child_nodes(n):
            if not (isinstance(n, ast.Call) and child is n.func):
                visit(child)

    visit(node)
    return out


# --- loading and expansion ------------------------------------------------------------------------


def load_rules(
    profile: Profile,
    path: Path | None = None,
    *,
    percent_points: frozenset[str] = frozenset(),
    known: frozenset[str] = frozenset(),
) -> list[Rule]:
    """Read the catalogue and expand it for a profile. With `known` (every point key some edition has),
    a rule naming any other point stops loading: a misspelt key would otherwise never fire."""
    path = path or SCHEMAS_DIR / "rules.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"无法读取规则目录 {path}：{exc}") from exc
    definitions.check_rules(raw, path.name)
    rules: list[Rule] = []
    entries = {e["id"]: e for e in raw["rules"]}
    for entry in raw["rules"]:
        rid = entry["id"]
        for source, bindings in _sources(entry, entries, profile):
            rule = _compile(source, bindings, profile, percent_points)
            unknown = [p for p in rule.points if known and p not in known]
            if unknown:
                close = difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.5)
                hint = f"，最接近的有效名称是 {close[0]!r}" if close else ""
                raise DefinitionError(f"{path.name}：规则 {rid} 引用了任何表格版本都没有的数据项 {unknown[0]!r}{hint}")
            rules.append(rule)
    return rules


def _sources(
    entry: dict[str, Any], entries: dict[str, dict[str, Any]], profile: Profile
) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """What one catalogue entry compiles to: itself per for_each binding or, for an `itemised` entry, the total
    and parts of every sum it names (`of`), under its own id, level and message and the sum's frame."""
    if entry.get("kind") != "itemised":
        return [(entry, b) for b in _expansions(entry, profile)]
    out: list[tuple[dict[str, Any], dict[str, str]]] = []
    for sid in entry.get("of", []):
        sum_entry = entries.get(sid)
        if sum_entry is None or sum_entry.get("kind") != "sum":
            raise DefinitionError(f"规则 {entry['id']}：`of` 中的 {sid!r} 不是规则目录中的求和规则（kind = \"sum\"）")
        source = {**sum_entry, **{k: v for k, v in entry.items() if k not in ("of", "frame", "for_each")}}
        out += [(source, b) for b in _expansions(sum_entry, profile)]
    return out


def _expansions(entry: dict[str, Any], profile: Profile) -> list[dict[str, str]]:
    spec = entry.get("for_each") or {}
    axes: list[list[tuple[str, str]]] = []
    for name, values in spec.items():
        if values == "categories":
            values = [c.key for c in profile.categories]
        axes.append([(name, str(v)) for v in values])
    return [dict(combo) for combo in itertools.product(*axes)] if axes else [{}]


def _sub(text: str, bindings: dict[str, str]) -> str:
    for name, value in bindings.items():
        text = text.replace("{" + name + "}", value)
    return text


def _compile(entry: dict[str, Any], bindings: dict[str, str], profile: Profile, percent: frozenset[str]) -> Rule:
    rid, kind = entry["id"], entry.get("kind")
    if kind not in KINDS:
        raise DefinitionError(f"rule {rid}: kind {kind!r} is not one of {KINDS}")
    frame = entry.get("frame", "unit")
    if frame not in FRAMES:
        raise DefinitionError(f"rule {rid}: frame {frame!r} is not one of {FRAMES}")
    level = profile.levels.get(rid, entry.get("level", "error"))
    if level not in ("error", "warning"):
        raise DefinitionError(f"rule {rid}: level {level!r} must be error or warning")
    missing = entry.get("missing", "zero" if kind in ("sum", "itemised") else "skip")
    if missing not in MISSING:
        raise DefinitionError(f"rule {rid}: missing {missing!r} is not one of {MISSING}")
    left, op, right = _relation(entry, kind, bindings)
    listed = [_sub(p, bindings) for p in entry.get("points", [])]
    when = parse_expr(_sub(entry["when"], bindings), rule_id=rid) if entry.get("when") else None
    points = tuple(dict.fromkeys([*names_in(left), *names_in(right), *listed, *names_in(when)]))
    is_percent = (isinstance(left, ast.BinOp) and isinstance(left.op, ast.Div)) or (
        left is not None and dotted(left) in percent
    )
    return Rule(
        id=rid,
        level=level,
        frame=frame,
        kind=kind,
        message=entry.get("message", rid),
        points=points,
        left=left,
        op=op,
        right=right,
        when=when,
        missing=missing,
        check=entry.get("check") if kind == "builtin" else None,
        bindings=bindings,
        percent=bool(is_percent),
        whole=bool(entry.get("whole", False)),
    )


def _relation(entry: dict[str, Any], kind: str, b: dict[str, str]) -> tuple[ast.expr | None, str, ast.expr | None]:
    rid = entry["id"]
    if kind in ("sum", "itemised"):
        text = f"{_sub(entry['total'], b)} == " + " + ".join(_sub(p, b) for p in entry["parts"])
    elif kind == "ratio":
        text = f"{_sub(entry['result'], b)} == {_sub(entry['numerator'], b)} / {_sub(entry['denominator'], b)}"
    elif kind == "compare":
        text = f"{_sub(entry['left'], b)} {entry.get('op', '==')} {_sub(str(entry['right']), b)}"
    elif kind == "formula":
        text = _sub(entry["check"], b)
    else:
        return None, "==", None
    tree = parse_expr(text, rule_id=rid)
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in OPS):
        raise DefinitionError(f"rule {rid}: {text!r} must be one comparison (==, <=, >=, <, >)")
    return tree.left, OPS[type(tree.ops[0])], tree.comparators[0]


# --- interval evaluation --------------------------------------------------------------------------

Interval = tuple[np.ndarray, np.ndarray, np.ndarray]  # low, high, nominal
Lookup = Callable[[str], Interval]


def evaluate(node: ast.expr, lookup: Lookup) -> Interval:
    """Evaluate an expression over intervals; NaN marks a row where a value is missing."""
    name = dotted(node) if isinstance(node, ast.Name | ast.Attribute) else None
    if name is not None:
        return lookup(name)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        v = np.float64(node.value)
        return v, v, v  # type: ignore[return-value]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        lo, hi, mid = evaluate(node.operand, lookup)
        return -hi, -lo, -mid
    if isinstance(node, ast.BinOp):
        return _binop(node.op, evaluate(node.left, lookup), evaluate(node.right, lookup))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [evaluate(a, lookup) for a in node.args]
        if node.func.id == "abs":
            lo, hi, mid = args[0]
            both = np.maximum(np.abs(lo), np.abs(hi))
            low = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
            return low, both, np.abs(mid)
        fn = np.minimum if node.func.id == "min" else np.maximum
        lo, hi, mid = args[0]
        for a in args[1:]:
            lo, hi, mid = fn(lo, a[0]), fn(hi, a[1]), fn(mid, a[2])
        return lo, hi, mid
    raise DefinitionError(f"unsupported expression {ast.unparse(node)}")


def _binop(op: ast.operator, a: Interval, b: Interval) -> Interval:
    (alo, ahi, am), (blo, bhi, bm) = a, b
    if isinstance(op, ast.Add):
        return alo + blo, ahi + bhi, am + bm
    if isinstance(op, ast.Sub):
        return alo - bhi, ahi - blo, am - bm
    if isinstance(op, ast.Mult):
        products = np.stack(np.broadcast_arrays(alo * blo, alo * bhi, ahi * blo, ahi * bhi))
        return products.min(axis=0), products.max(axis=0), am * bm
    if isinstance(op, ast.Div):
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = (blo <= 0) & (bhi >= 0)  # a denominator that may be 0 gives no ratio to check
            q = np.stack(np.broadcast_arrays(alo / blo, alo / bhi, ahi / blo, ahi / bhi))
            lo = np.where(zero, np.nan, q.min(axis=0))
            hi = np.where(zero, np.nan, q.max(axis=0))
            mid = np.where(zero, np.nan, am / bm)
        return lo, hi, mid
    raise DefinitionError(f"unsupported operator {type(op).__name__}")


def holds(op: str, left: Interval, right: Interval) -> np.ndarray:
    """Row-wise truth of `left op right` under interval semantics; rows with a NaN hold (skipped)."""
    llo, lhi, _ = left
    rlo, rhi, _ = right
    with np.errstate(invalid="ignore"):
        if op == "==":
            ok = (llo <= rhi + EPS) & (rlo <= lhi + EPS)
        elif op == "<=":
            ok = llo <= rhi + EPS
        elif op == "<":
            ok = llo < rhi - EPS
        elif op == ">=":
            ok = lhi + EPS >= rlo
        else:
            ok = lhi > rlo + EPS
    unknown = np.isnan(llo) | np.isnan(lhi) | np.isnan(rlo) | np.isnan(rhi)
    return np.asarray(ok | unknown, dtype=bool)
