"""Synthetic 自评报告 (附件4) for synthetic workbooks, with an answer key: the report cross-check's bench.

`write_reports(workbooks, out_dir, seed=S, fault_rate=R)` reads each workbook back (the figures a report
repeats are the tables' own), writes `<stem>_自评报告.docx` beside it in the phrasings units use (核定事业编制
为40名 / 编制数40人, 基本支出586.92万元。其中，… with 2–4 items that add up to the fen, 公用经费执行率95%), and
injects into a share R of them one prose fault of the kinds published reports show: a changed total, a
breakdown that does not add up, 万元 written as 元, a changed headcount. `.report_key.json` lists, per
report, the rules each fault must raise and the paragraph they point at. Only workbooks without findings
should be given: a report is compared with its tables, and a table already wrong says nothing reliable.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_KEY = ".report_key.json"
FAULTS = ("total", "breakdown", "yuan", "headcount")


@dataclass
class Facts:
    """What a report repeats from its unit's tables."""

    unit: str
    quota: int
    staff: int
    basic: float
    project: float
    public_rate: float | None


@dataclass
class Draft:
    paragraphs: list[str] = field(default_factory=list)
    expected: list[dict[str, Any]] = field(default_factory=list)


def facts_of(path: Path) -> Facts | None:
    from pipeline.check import load_submission

    sub = load_submission(path)
    points = {k: p.value for data in sub.forms.values() for k, p in data.points.items()}
    try:
        quota, staff = int(points["a1.staff_quota"]), int(points["a1.staff_actual"])  # type: ignore[arg-type]
        basic, project = float(points["a2.spend.basic"]), float(points["a2.spend.project"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None
    public, budget = points.get("a1.public.actual"), points.get("a1.public.budget")
    rate = public / budget if isinstance(public, float) and isinstance(budget, float) and budget > 0 else None
    return Facts(sub.unit or path.stem, quota, staff, basic, project, rate)


def split(total: float, rng: random.Random) -> list[float]:
    """2–4 parts in fen that add up to `total` exactly."""
    fen = round(total * 100)
    n = rng.randint(2, 4) if fen >= 4 else 1
    cuts = sorted(rng.sample(range(1, fen), n - 1)) if n > 1 else []
    edges = [0, *cuts, fen]
    return [(b - a) / 100 for a, b in itertools.pairwise(edges)]


ITEMS = (
    "工资福利支出",
    "商品和服务支出",
    "对个人和家庭的补助",
    "住房公积金支出",
    "其他城乡社区支出",
    "基本养老保险缴费支出",
)


def _money(x: float) -> str:
    """52.40 is written 52.4 by many units, 120.00 as 120."""
    text = f"{x:.2f}"
    return text.rstrip("0").rstrip(".") if round(x * 100) % 10 == 0 else text


def draft(f: Facts, rng: random.Random, fault: str | None) -> Draft:
    d = Draft()
    d.paragraphs.append(f"{f.unit}整体支出绩效自评报告")
    d.paragraphs.append("一、单位基本情况")
    staff = f.staff
    if fault == "headcount":
        staff = f.staff + rng.choice((-3, -2, -1, 1, 2, 3))
    quota_phrase = rng.choice(("核定事业编制为{}名", "核定编制{}人", "编制数为{}名"))
    staff_phrase = rng.choice(("目前在岗在编人员{}名", "实有在编人员{}人", "在职人员{}人"))
    temps = rng.randint(0, 9)
    people = f"{quota_phrase.format(f.quota)}，{staff_phrase.format(staff)}，临聘人员{temps}人"
    d.paragraphs.append(f"本单位为公益一类事业单位，{people}。")
    if fault == "headcount":
        d.expected.append({"rule": "RPT.FIGURE", "paragraph": len(d.paragraphs)})
    d.paragraphs.append("二、一般公共预算支出情况")
    parts = split(f.basic, rng)
    total = f.basic
    if fault == "total":
        total = round(f.basic + rng.choice((-1, 1)) * rng.choice((1.0, 10.0, 0.5, 100.0)), 2)
    if fault == "breakdown":
        k = rng.randrange(len(parts))
        parts[k] = round(parts[k] + rng.choice((1.0, 10.0, 0.9)), 2)
    names = rng.sample(ITEMS, len(parts))
    listed = "，".join(f"{n}{_money(x)}万元" for n, x in zip(names, parts, strict=True))
    unit = "元" if fault == "yuan" else "万元"
    if len(parts) > 1:
        d.paragraphs.append(f"{rng.choice(('2023年本单位', '全年'))}基本支出{_money(total)}{unit}。其中，{listed}。")
    else:
        d.paragraphs.append(f"全年基本支出{_money(total)}{unit}。")
    n = len(d.paragraphs)
    if fault == "total":
        d.expected.append({"rule": "RPT.FIGURE", "paragraph": n})
        if len(parts) > 1:
            d.expected.append({"rule": "RPT.BREAKDOWN", "paragraph": n})
    elif fault == "breakdown" and len(parts) > 1:
        d.expected.append({"rule": "RPT.BREAKDOWN", "paragraph": n})
    elif fault == "yuan":
        d.expected.append({"rule": "RPT.UNIT", "paragraph": n})
        if len(parts) > 1:
            d.expected.append({"rule": "RPT.BREAKDOWN", "paragraph": n})
    d.paragraphs.append(f"全年项目支出{_money(f.project)}万元，主要用于业务工作和运行维护。")
    if f.public_rate is not None:
        d.paragraphs.append("三、存在的问题")
        d.paragraphs.append(f"1.公用经费执行率{f.public_rate * 100:.0f}%，预算编制有待细化。")
    return d


def write_docx(path: Path, paragraphs: list[str]) -> None:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.core_properties.author = "jixiao synth"
    document.save(str(path))


def write_reports(workbooks: list[Path], out_dir: Path, *, seed: int = 0, fault_rate: float = 0.3) -> dict[str, Any]:
    """Write a report beside each workbook that has the figures a report repeats; returns the key."""
    rng = random.Random(seed)
    key: dict[str, Any] = {"seed": seed, "fault_rate": fault_rate, "reports": {}}
    for path in workbooks:
        facts = facts_of(path)
        if facts is None:
            continue
        fault = rng.choice(FAULTS) if rng.random() < fault_rate else None
        d = draft(facts, rng, fault)
        if fault == "breakdown" and not d.expected:
            fault = None  # one item only: nothing to break
        name = f"{path.stem}_自评报告.docx"
        write_docx(out_dir / name, d.paragraphs)
        key["reports"][name] = {"workbook": path.name, "fault": fault, "expected": d.expected}
    (out_dir / REPORT_KEY).write_text(json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8")
    return key


def evaluate(key: dict[str, Any], seen: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """Recall of the report rules against the key; `seen` maps a workbook name to its (rule, message)."""
    expected = found = false_alarms = clean_files = 0
    missed: list[str] = []
    for name, info in key["reports"].items():
        findings = [(r, m) for r, m in seen.get(info["workbook"], []) if r.startswith("RPT.")]
        wanted = {(e["rule"], e["paragraph"]) for e in info["expected"]}
        got = {(r, int(m.split("第", 1)[1].split("段", 1)[0])) for r, m in findings if "段" in m}
        expected += len(wanted)
        found += len(wanted & got)
        missed += [f"{name}: {r} 第{p}段" for r, p in sorted(wanted - got)]
        false_alarms += len(got - wanted)
        clean_files += info["fault"] is None
    return {
        "reports": len(key["reports"]),
        "clean": clean_files,
        "expected": expected,
        "found": found,
        "recall": found / expected if expected else 1.0,
        "false_alarms": false_alarms,
        "missed": missed[:20],
    }
