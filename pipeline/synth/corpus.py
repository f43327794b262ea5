"""Synthetic submissions with an answer key: `jixiao synth` and the benchmark corpus.

`generate(out_dir, units=N, fault_rate=R, seed=S)` writes N fictional units' workbooks through the
template writer. Each unit is built from parts the way pipeline/synth/samples.py builds its fictional units
(`Unit` → `filling`, `Project` → `project_filling`: every total is computed, so a unit without
injected faults is consistent by construction and raises no finding at all), with varied names,
staffing, amounts, 1–4 三级指标 per 二级指标 and 0–3 附件3 projects, in the layouts real units produce:
inserted special-fund rows (label row blank or holding the subtotal), renamed and reordered sheets,
tables moved down or right, numbers typed as text or full-width, values inside label cells, no
defined names, and optionally some `.xls` (LibreOffice, one batch call).

A share R of the units get one or more faults (pipeline/synth/faults.py) from every rule class of the
catalogue plus typical slips, and `DIR/.answer_key.json` (hidden: never taken as a submission) lists,
for every file, every finding each fault must raise: rule, sheet as written, the cell the finding points
at first, and the fault's class.
`evaluate` scores a checker's findings against that key (recall, false alarms, misses).

Determinism: all randomness comes from `random.Random(seed)`: the main process draws names, faulty
units, fault classes and one seed per unit, so a process pool writes the same files as one process;
creation times and zip timestamps are pinned, so the same seed writes byte-identical `.xlsx` files.
`.xls` copies are the exception: LibreOffice stamps its own metadata, only their values repeat.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import tomllib
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.forms import load_profile
from pipeline.report.template import write_workbook
from pipeline.settings import SCHEMAS_DIR
from pipeline.synth import faults as synth_faults
from pipeline.synth.faults import rewrite_zip
from pipeline.synth.names import unit_names
from pipeline.synth.samples import to_xls
from pipeline.synth.units import build_unit, type_as_text

log = logging.getLogger(__name__)

#: Bump when the same seed would write different files: the benchmark cache is keyed by it.
GENERATOR_VERSION = 10
#: A hidden name: the folder is then used as an inbox (`jixiao run DIR`), which leaves hidden files alone,
#: and `jixiao check DIR` skips them too; as answer_key.json it was taken and refused as a submission.
ANSWER_KEY = ".answer_key.json"
#: Fault classes of the answer key: the catalogue's rule classes plus typical slips.
FAULT_KINDS = ("sum", "ratio", "score", "weight", "cross_sheet", "completeness", "plausibility", "slip")
KIND_ZH = {
    "sum": "合计",
    "ratio": "比率",
    "score": "得分",
    "weight": "分值",
    "cross_sheet": "跨表",
    "completeness": "完整性",
    "plausibility": "合理性",
    "slip": "笔误",
}
#: Findings an .xls copy cannot give (the conversion calculates a formula, keeps only a linked value): a unit
#: expecting one is never one of the .xls share, else its answer key would expect what the file no longer has.
NOT_IN_XLS = frozenset({"GEN.FORMULA", "GEN.EXTERNAL"})

#: Share of units whose 附件1 totals are formulas (with calculated values), as many real workbooks have.
FORMULA_SHARE = 0.1
#: Warning-level faults a unit without errors may carry (`warning_share`): real submissions almost always
#: raise a 提示 or two, so nearly every file gets an annotated workbook.
WARNING_FAULTS = (
    "req.frugality",
    "req.a1contact",
    "req.a2contact",
    "req.goals",
    "plaus.overstaff",
    "plaus.sangong",
    "plaus.public",
    "plaus.execrate",
)
#: Below this many units per worker a process pool costs more (start-up, imports) than it saves.
MIN_UNITS_PER_WORKER = 8


# -- writing ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Job:
    """What a worker needs to write one unit: everything drawn in the main process for determinism."""

    index: int
    name: str
    theme: str
    seed: int
    faults: tuple[str, ...]
    extra: int
    year: int
    out_dir: str
    warnings: tuple[str, ...] = ()


def filename(index: int, name: str, year: int) -> str:
    return f"{index:05d}_{name}_{year}.xlsx"


def write_unit(job: Job) -> tuple[str, dict[str, Any]]:
    """Build, break, write and locate one unit; returns its file name and answer-key entry."""
    rng = random.Random(job.seed)
    needs_project = any(synth_faults.FAULTS[f].project for f in job.faults)
    draft = build_unit(rng, job.name, job.theme, year=job.year, projects=rng.randint(1, 2) if needs_project else None)
    for name in job.faults:
        if not synth_faults.inject(draft, name):  # no place for it in this unit: another of its class
            kind = synth_faults.FAULTS[name].kind
            others = sorted(n for n, f in synth_faults.FAULTS.items() if f.kind == kind and not f.project and n != name)
            rng.shuffle(others)
            if not any(synth_faults.inject(draft, other) for other in others):
                raise RuntimeError(f"no {kind} fault fits unit {job.name}")
    synth_faults.add_extras(draft, job.extra, exclude=job.faults)
    for name in job.warnings:  # a 提示 only: skipped where it does not fit
        synth_faults.inject(draft, name)
    if draft.text_numbers:
        type_as_text(draft)
    if rng.random() < FORMULA_SHARE:
        synth_faults.formula_totals(draft)
    path = Path(job.out_dir) / filename(job.index, job.name, job.year)
    write_workbook(path, year=job.year, filling=draft.fill, layout=draft.layout)
    for edit in draft.post:
        edit(path)
    normalize_zip(path, year=job.year)
    entries = synth_faults.locate(path, draft) if draft.expects else []
    lay = draft.layout
    return path.name, {
        "unit": job.name,
        "clean": not entries or not job.faults,  # 提示 added by `warning_share` only: still fault-free
        "layout": {
            "sheets": [lay.sheet_names[s] for s in lay.order],
            "row_offset": lay.row_offset,
            "col_offset": lay.col_offset,
            "values_in_labels": lay.values_in_labels,
            "names": lay.names,
            "text_numbers": draft.text_numbers,
            "special_rows": sum(len(v) for v in draft.fill.special_rows.values()),
            "projects": len(draft.projects),
        },
        "faults": entries,
    }


_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalize_zip(path: Path, *, year: int) -> None:
    """Pin the creation time xlsxwriter stamps when no jixiao document properties are set."""
    with zipfile.ZipFile(path) as z:
        core = z.read("docProps/core.xml") if "docProps/core.xml" in z.namelist() else b""
        stamped = [i.date_time for i in z.infolist()]
    fixed = f"{year + 1}-01-01T00:00:00Z".encode()
    if _STAMP.sub(rb"\g<1>" + fixed + rb"\g<3>", core) == core and all(t == (1980, 1, 1, 0, 0, 0) for t in stamped):
        return
    rewrite_zip(path, {"docProps/core.xml": lambda data: _STAMP.sub(rb"\g<1>" + fixed + rb"\g<3>", data)})


# -- the corpus -----------------------------------------------------------------------------------
def fault_plan(rng: random.Random, n: int) -> list[str]:
    """n fault names, classes taken in turn so that any run of len(FAULT_KINDS) faulty units covers all."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for name, fault in sorted(synth_faults.FAULTS.items()):
        by_kind[fault.kind].append(name)
    queues: dict[str, list[str]] = {k: [] for k in by_kind}
    kinds = sorted(by_kind)
    out: list[str] = []
    while len(out) < n:
        rng.shuffle(kinds)
        for kind in kinds:
            if not queues[kind]:
                queues[kind] = rng.sample(by_kind[kind], len(by_kind[kind]))
            out.append(queues[kind].pop())
    return out[:n]


def generate(
    out_dir: Path,
    *,
    units: int,
    fault_rate: float = 0.3,
    seed: int = 0,
    year: int = 2023,
    xls_share: float = 0.0,
    warning_share: float = 0.0,
    workers: int | None = None,
) -> list[Path]:
    """Write `units` workbooks and `.answer_key.json` into `out_dir`; returns the workbooks' paths.
    A share `warning_share` of the units without faults get one or two 提示-level faults (WARNING_FAULTS)."""
    if units < 1:
        raise ValueError(f"单位数 {units!r} 应为正整数")
    if not 0 <= fault_rate <= 1:
        raise ValueError(f"错误比例 {fault_rate!r} 应在 0–1 之间")
    if not 0 <= xls_share <= 1:
        raise ValueError(f".xls 比例 {xls_share!r} 应在 0–1 之间")
    if not 2000 <= year <= 2100:
        raise ValueError(f"年度 {year!r} 不在 2000–2100 之间")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"输出目录 {out_dir} 不为空：请指定新的目录，以免与旧文件混在一起")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = unit_names(rng, units)
    faulty = sorted(rng.sample(range(units), round(units * fault_rate)))
    plan = dict(zip(faulty, fault_plan(rng, len(faulty)), strict=True))
    jobs = []
    warn_rng = random.Random(seed ^ 0x5EED)  # its own stream: the other draws stay as they were
    for i, (name, theme) in enumerate(names, start=1):
        unit_seed = rng.getrandbits(64)
        extra = rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0] if i - 1 in plan else 0
        faults = (plan[i - 1],) if i - 1 in plan else ()
        warned = i - 1 not in plan and warn_rng.random() < warning_share
        warns = tuple(warn_rng.sample(WARNING_FAULTS, warn_rng.choice((1, 1, 2)))) if warned else ()
        jobs.append(Job(i, name, theme, unit_seed, faults, extra, year, str(out_dir), warns))
    entries = _run(jobs, workers)
    # LibreOffice calculates every formula and resolves links while it converts: an .xls copy cannot carry them
    convertible = [i for i, (_, e) in enumerate(entries) if NOT_IN_XLS.isdisjoint(f["rule"] for f in e["faults"])]
    xls = set(rng.sample(convertible, min(len(convertible), round(units * xls_share))))
    paths = [out_dir / name for name, _ in entries]
    if xls:
        converted = to_xls([paths[i] for i in sorted(xls)])
        for i in sorted(xls):
            if paths[i] in converted:
                entries[i] = (converted[paths[i]].name, entries[i][1])
                paths[i] = converted[paths[i]]
    key = {
        "generator": "jixiao synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "units": units,
        "fault_rate": fault_rate,
        "year": year,
        "files": dict(entries),
    }
    (out_dir / ANSWER_KEY).write_text(
        json.dumps(key, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return paths


def _run(jobs: list[Job], workers: int | None) -> list[tuple[str, dict[str, Any]]]:
    workers = workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(jobs) // MIN_UNITS_PER_WORKER))
    if workers == 1:
        return [write_unit(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(write_unit, jobs, chunksize=max(1, min(32, len(jobs) // (workers * 4)))))


# -- scoring a checker against the key ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Seen:
    """A finding as the scorer needs it (from a `Finding`, the CLI's JSON or a ledger)."""

    rule: str
    level: str
    sheet: str
    cells: tuple[str, ...]


def rule_levels() -> dict[str, str]:
    raw = tomllib.loads((SCHEMAS_DIR / "rules.toml").read_text(encoding="utf-8"))
    levels = {r["id"]: r["level"] for r in raw["rules"]}
    levels.update(load_profile().levels)
    return levels


def load_key(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def key_summary(key: Mapping[str, Any]) -> dict[str, Any]:
    """Counts of an answer key: files, faulty files, faults, expected findings, findings per class."""
    files = key["files"]
    entries = [e for info in files.values() for e in info["faults"]]
    return {
        "files": len(files),
        "xls": sum(name.endswith(".xls") for name in files),
        "faulty_files": sum(not info["clean"] for info in files.values()),
        "faults": sum(len({e["fault"] for e in info["faults"]}) for info in files.values()),
        "expected": len(entries),
        "by_kind": dict(sorted(Counter(e["kind"] for e in entries).items())),
    }


def _matches(entry: Mapping[str, Any], f: Seen) -> bool:
    if f.rule != entry["rule"]:
        return False
    if entry.get("sheet") is not None and f.sheet != entry["sheet"]:
        return False
    return entry.get("cell") is None or (bool(f.cells) and f.cells[0] == entry["cell"])


def evaluate(key: Mapping[str, Any], findings: Mapping[str, Iterable[Seen]], *, limit: int = 50) -> dict[str, Any]:
    """Recall and false alarms of `findings` (file name → findings) against an answer key.

    A fault entry is detected when a finding has its rule (and its sheet and first cell, where the key
    gives them). False alarms are error findings on fault-free files; error findings on faulty files that
    match no entry are counted apart, and so are unexpected warnings. Files missing from `findings`
    (not checked, or rejected) count as missed.
    """
    levels = rule_levels()
    totals: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[dict[str, Any]] = []
    false_alarms: list[dict[str, Any]] = []
    unexpected: list[dict[str, Any]] = []
    warnings: Counter[str] = Counter()
    for name, info in sorted(key["files"].items()):
        seen = list(findings.get(name, ()))
        totals["files"] += 1
        totals["clean_files" if info["clean"] else "faulty_files"] += 1
        if name not in findings:
            totals["unchecked_files"] += 1
        for entry in info["faults"]:
            hit = any(_matches(entry, f) for f in seen)
            for counter in (totals, by_kind[entry["kind"]], by_rule[entry["rule"]]):
                counter["injected"] += 1
                counter["detected"] += hit
            if not hit:
                same_rule = [(f.sheet, f.cells[:3]) for f in seen if f.rule == entry["rule"]]
                missed.append({"file": name, **entry, "got": same_rule})
        for f in seen:
            if any(_matches(e, f) for e in info["faults"]):
                continue
            item = {"file": name, "rule": f.rule, "sheet": f.sheet, "cells": list(f.cells[:3])}
            if f.level != "error":
                warnings[f.rule] += 1
            elif info["clean"]:
                false_alarms.append(item)
            else:
                unexpected.append(item)

    def recall(c: Counter[str]) -> float | None:
        return round(c["detected"] / c["injected"], 4) if c["injected"] else None

    return {
        "files": totals["files"],
        "clean_files": totals["clean_files"],
        "faulty_files": totals["faulty_files"],
        "unchecked_files": totals["unchecked_files"],
        "injected": totals["injected"],
        "detected": totals["detected"],
        "recall": recall(totals),
        "false_alarms": len(false_alarms),
        "false_alarm_files": len({a["file"] for a in false_alarms}),
        "unexpected_errors_on_faulty": len(unexpected),
        "unexpected_warnings": sum(warnings.values()),
        "unexpected_warnings_by_rule": dict(sorted(warnings.items())),
        "by_kind": {
            k: {"injected": c["injected"], "detected": c["detected"], "recall": recall(c)}
            for k, c in sorted(by_kind.items())
        },
        "by_rule": {
            r: {"level": levels.get(r, "?"), "injected": c["injected"], "detected": c["detected"], "recall": recall(c)}
            for r, c in sorted(by_rule.items())
        },
        "missed": missed[:limit],
        "false_alarm_list": false_alarms[:limit],
        "unexpected_errors_list": unexpected[:limit],
    }


def seen_from_results(results: Iterable[Any]) -> dict[str, list[Seen]]:
    """`check_files` results → file name → findings, for `evaluate`. Rejected files are left out."""
    out: dict[str, list[Seen]] = {}
    for r in results:
        if getattr(r, "rejected", False):
            continue
        out[Path(r.file).name] = [Seen(f.rule, f.level, f.sheet, tuple(f.cells)) for f in r.findings]
    return out
