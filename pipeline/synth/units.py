"""What a synthetic unit is (pipeline/synth/corpus.py): its figures, indicators, projects and layout.

A unit is built from parts the way pipeline/synth/samples.py builds its fictional units (`Unit` → `filling`,
`Project` → `project_filling`), so every total is computed and a unit without injected faults is
consistent by construction: it raises no finding at all. Variety: names, staffing and amounts, 1–4
三级指标 per 二级指标 used (targets written as units write them: "≥40期", "≥95%", "≤33万元", "12月31日前",
"达成预期目标"), 0–3 附件3 projects, inserted special-fund rows (label row blank or holding the subtotal),
a completed building project, an income split over several sources, and the layouts real units produce:
renamed and reordered sheets, tables moved down or right, values inside label cells, no defined names,
numbers typed as text or full-width. `Draft` carries a unit while faults (pipeline/synth/faults/)
change it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from pipeline.forms import load_form, load_profile
from pipeline.report.filling import Filling, IndicatorRow, Layout, indicator_total_key
from pipeline.synth.names import contact_people
from pipeline.synth.parts import Project, Triple, Unit, check_weights, filling, project_filling

_A2_WEIGHT = indicator_total_key(load_form("a2"), "weight")
_A2_SCORE = indicator_total_key(load_form("a2"), "score")
_A3_SCORE = indicator_total_key(load_form("a3"), "score")
_COLS = ("prev", "budget", "actual")

_FRUGALITY = (
    "严格落实中央八项规定精神，压减一般性支出，公务接待、会议培训实行事前审批和限额管理。",
    "完善内部控制制度，严控“三公”经费，公务用车实行定点维修、定点加油。",
    "建立厉行节约长效机制，办公用品集中采购，水电费实行分户计量、按月通报。",
    "从严控制会议数量和规模，推行视频会议，差旅费严格按标准报销。",
)
_REASONS = (
    "受客观因素影响未完全达到年度目标，下年度加强统筹调度",
    "部分任务因政策调整延后实施，将在下年度完成",
    "预算指标编制欠合理，下年度据实测算",
    "项目实施进度滞后，已督促加快推进",
)

# -- indicators: per 二级指标 (name, kind); kinds decide how targets and actuals are written ---------------
#: count: "≥40期" / "42期"; pct: "≥95%" / "97%"; full: "100%" / "100%"; cost: "≤33万元" / "30.93万元";
#: date: "12月31日前" / "12月20日"; text: "长期" / "持续运行"; qual: "有效提升" / "达成预期目标".
_POOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "数量指标": (
        ("开展业务培训", "count:期"),
        ("完成专项检查", "count:次"),
        ("服务群众", "count:人次"),
        ("办理业务", "count:件"),
        ("组织宣传活动", "count:场"),
        ("完成巡查", "count:次"),
        ("发放宣传资料", "count:份"),
        ("开展监督抽查", "count:批次"),
        ("培训基层人员", "count:人"),
        ("完成设备维护", "count:台"),
    ),
    "质量指标": (
        ("任务完成合格率", "pct"),
        ("验收合格率", "pct"),
        ("资料归档完整率", "full"),
        ("问题整改率", "full"),
        ("数据准确率", "pct"),
        ("服务规范率", "pct"),
    ),
    "时效指标": (
        ("任务按时完成", "date"),
        ("资金拨付及时性", "date"),
        ("报表按时报送率", "full"),
        ("问题整改时限", "date"),
        ("年度工作完成时间", "date"),
    ),
    "成本指标": (
        ("公用经费控制", "cost:万元"),
        ("单位运行成本", "cost:万元"),
        ("人均培训成本", "cost:元"),
        ("设备维护成本", "cost:万元"),
        ("印刷宣传成本", "cost:元"),
    ),
    "经济效益指标": (
        ("带动相关产业增收", "pct"),
        ("节约财政资金", "cost:万元"),
        ("降低群众办事成本", "qual"),
    ),
    "社会效益指标": (
        ("群众知晓率", "pct"),
        ("服务覆盖率", "pct"),
        ("社会公众受益程度", "qual"),
        ("政策宣传覆盖面", "pct"),
        ("群众办事便利度", "qual"),
    ),
    "生态效益指标": (
        ("环境整治达标率", "pct"),
        ("节能减排目标完成率", "pct"),
        ("绿化覆盖率", "pct"),
    ),
    "可持续影响指标": (
        ("长效管理机制建立", "text"),
        ("制度建设完善", "text"),
        ("队伍能力提升", "qual"),
        ("信息化水平提升", "text"),
    ),
    "服务对象满意度指标": (
        ("服务对象满意度", "pct"),
        ("群众满意度", "pct"),
        ("社会公众满意度", "pct"),
        ("职工满意度", "pct"),
    ),
}
#: Chance that a 二级指标 is used at all (the others are always used); 1–4 rows when used.
_SUB_USE = {"经济效益指标": 0.4, "生态效益指标": 0.3, "可持续影响指标": 0.8}
_ROWS_PER_SUB = ((1, 0.45), (2, 0.3), (3, 0.15), (4, 0.1))
#: Chance that a judged indicator is scored below full marks (with a 偏差原因) in a clean unit.
_PARTIAL = 0.1


@dataclass(slots=True)
class Ind:
    """An indicator row with how its values are written (see `_POOLS`), for faults that need a kind."""

    row: IndicatorRow
    kind: str


@dataclass(slots=True)
class Sheet:
    """One form sheet being built: its id ("a1", "a2", "a3", "a3.2"…), values and indicators."""

    sid: str
    fill: Filling
    inds: list[Ind] = field(default_factory=list)

    @property
    def values(self) -> dict[str, object]:
        return self.fill.values

    @property
    def form(self) -> str:
        return self.sid.partition(".")[0]


@dataclass(slots=True)
class Expect:
    """One finding a fault must raise. `where`: ("point", sid, key) | ("ind", sid, name, column) |
    ("title", sid) | ("sheet", sid) — located in the written workbook by `faults.locate`."""

    fault: int
    rule: str
    kind: str
    where: tuple[str, ...]
    description: str


@dataclass(slots=True)
class Draft:
    """A unit's submission while it is built: what the faults change before and after writing."""

    rng: random.Random
    year: int
    name: str
    theme: str
    fill: Filling
    a1: Sheet
    a2: Sheet
    projects: list[Sheet]
    layout: Layout
    text_numbers: bool
    subtotal_in_label: bool
    expects: list[Expect] = field(default_factory=list)
    post: list[Callable[[Path], None]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # keys faults rely on: never retyped as text
    reserved: set[tuple[str, int]] = field(default_factory=set)  # indicator rows a fault took
    applied: list[str] = field(default_factory=list)  # fault names, in order
    faults: int = 0

    def sheet(self, sid: str) -> Sheet:
        return {s.sid: s for s in (self.a1, self.a2, *self.projects)}[sid]

    def expect(self, rule: str, kind: str, where: tuple[str, ...], description: str) -> None:
        self.expects.append(Expect(self.faults, rule, kind, where, description))

    def touch(self, *keys: str) -> None:
        self.touched.update(keys)


# -- building a unit --------------------------------------------------------------------------------
def _r2(x: float) -> float:
    return float(round(x, 2))


def number(x: object) -> float:
    """A value known to be a number in a draft (0 for blanks)."""
    return float(x) if isinstance(x, int | float) else 0.0


def exec_score(rate: float, weight: float = 10.0) -> float:
    """执行率得分 as units type it: the displayed 执行率 (4 decimals) × 分值, rounded half up like Excel's
    ROUND — so 98.65 % gives 9.87 although 2276.22 / 2307.39 × 10 = 9.8649."""
    exact = Decimal(str(min(rate, 1.0))) * Decimal(str(weight))
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _u(rng: random.Random, lo: float, hi: float) -> float:
    return rng.uniform(lo, hi)


def _triple(rng: random.Random, budget: float, *, over: float = 1.0) -> tuple[float, float, float]:
    """(prev, budget, actual) around a budget; actual ≤ budget × over."""
    return _r2(budget * _u(rng, 0.85, 1.1)), _r2(budget), _r2(budget * _u(rng, 0.85, over))


def _maybe(rng: random.Random, p: float, make: Callable[[], tuple[float, float, float]]) -> tuple[float, float, float]:
    return make() if rng.random() < p else (0.0, 0.0, 0.0)


def _weights(rng: random.Random, total: float, n: int) -> list[float]:
    """`total` split into n positive whole weights, in fives when there are enough."""
    step = 5 if total / 5 >= n else 1
    pieces = int(total // step)
    cuts = sorted(rng.sample(range(1, pieces), n - 1)) if n > 1 else []
    bounds = [0, *cuts, pieces]
    return [float((bounds[i + 1] - bounds[i]) * step) for i in range(n)]


def _rows_per_sub(rng: random.Random) -> int:
    x, acc = rng.random(), 0.0
    for n, p in _ROWS_PER_SUB:
        acc += p
        if x < acc:
            return n
    return 1


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.0f}"


def indicator(rng: random.Random, level1: str, level2: str, name: str, kind: str, weight: float) -> Ind:
    """One consistent indicator row: full marks when the target is met, else the formula score and a reason."""
    base, _, unit = kind.partition(":")
    score: float = weight
    reason: str | None = None
    if base == "count":
        goal = rng.choice((4, 6, 10, 12, 15, 20, 30, 40, 50, 80, 100, 120, 200, 500, 800, 1200))
        done = rng.randint(goal, max(goal, int(goal * 1.2)))
        if rng.random() < _PARTIAL:
            done = max(1, int(goal * _u(rng, 0.7, 0.95)))
            score, reason = _r2(done / goal * weight), rng.choice(_REASONS)
        target, actual = f"≥{goal}{unit}", f"{done}{unit}"
    elif base in ("pct", "full"):
        t = 100.0 if base == "full" else float(rng.choice((80, 85, 90, 95, 98)))
        a = t if base == "full" else float(rng.randint(int(t), 100))
        if rng.random() < _PARTIAL:
            a = float(rng.randint(int(t * 0.75), int(t) - 1))
            score, reason = _r2(a / t * weight), rng.choice(_REASONS)
        target, actual = (f"≥{_fmt(t)}%" if base == "pct" else "100%"), f"{_fmt(a)}%"
    elif base == "cost":
        t = float(rng.choice((50, 80, 120, 200, 300))) if unit == "元" else _r2(_u(rng, 5, 300))
        a = float(rng.randint(int(t * 0.8), int(t))) if unit == "元" else _r2(t * _u(rng, 0.85, 1))
        if rng.random() < _PARTIAL:
            a = _r2(t * _u(rng, 1.05, 1.25))
            score, reason = _r2(t / a * weight), rng.choice(_REASONS)
        target, actual = f"≤{_fmt(t)}{unit}", f"{_fmt(a)}{unit}"
    elif base == "date":
        target = rng.choice(("6月30日前", "9月30日前", "11月30日前", "12月31日前"))
        actual = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    elif base == "qual":
        target, actual = (
            rng.choice(("有效提升", "明显改善", "稳步提高")),
            rng.choice(("达成预期目标", "完成", "已完成")),
        )
    else:
        target, actual = rng.choice(("长期", "持续", "建立")), rng.choice(("持续运行", "已建立", "持续推进"))
    return Ind(IndicatorRow(level1, level2, name, target, actual, weight, score, reason), base)


def indicators(rng: random.Random) -> list[Ind]:
    """1–4 rows per 二级指标 used, weights summing to each 一级指标's weight, names unique on the sheet."""
    out: list[Ind] = []
    for cat in load_profile().categories:
        subs = [s for s in cat.subs if rng.random() < _SUB_USE.get(s, 1.0)] or [cat.subs[0]]
        plan = [(s, _rows_per_sub(rng)) for s in subs]
        weights = iter(_weights(rng, cat.weight, sum(n for _, n in plan)))
        for sub, n in plan:
            pool = _POOLS[sub]
            picks = rng.sample(range(len(pool)), min(n, len(pool)))
            for i in range(n):
                name, kind = pool[picks[i % len(picks)]]
                name = name if i < len(picks) else f"{name}（{i + 1}）"
                out.append(indicator(rng, cat.key, sub, name, kind, next(weights)))
    check_weights([i.row for i in out], {c.key: c.weight for c in load_profile().categories})
    return out


def _leaves(rng: random.Random, quota: int, project: float) -> dict[str, Triple]:
    office = quota * _u(rng, 0.5, 1.2)
    return {
        "car_purchase": _maybe(rng, 0.1, lambda: (0.0, _r2(_u(rng, 15, 30)), _r2(_u(rng, 14, 15)))),
        "car_upkeep": _maybe(rng, 0.7, lambda: _triple(rng, _u(rng, 1, 8))),
        "abroad": _maybe(rng, 0.05, lambda: _triple(rng, _u(rng, 2, 6))),
        "reception": _maybe(rng, 0.8, lambda: _triple(rng, _u(rng, 0.2, 3))),
        "business": _triple(rng, project * _u(rng, 0.2, 0.5), over=1.05),
        "operation": _triple(rng, project * _u(rng, 0.2, 0.5), over=1.05),
        "special": (0.0, 0.0, 0.0),
        "transfer": _maybe(rng, 0.5, lambda: _triple(rng, project * _u(rng, 0.1, 0.4))),
        "office": _triple(rng, office),
        "utilities": _triple(rng, quota * _u(rng, 0.1, 0.4)),
        "meetings": _triple(rng, _u(rng, 0.2, 3)),
        "procurement": _triple(rng, project * _u(rng, 0.1, 0.6), over=1.1),
        "adjustment": _maybe(rng, 0.15, lambda: (0.0, _r2(_u(rng, 1, 20)), _r2(_u(rng, 1, 20)))),
    }


def _specials(rng: random.Random, theme: str) -> dict[str, list[tuple[str, Triple]]]:
    out: dict[str, list[tuple[str, Triple]]] = {}
    names = {
        "special": (f"{theme}专项", "基础设施维修专项", "信息化建设专项", "业务能力提升专项"),
        "transfer": ("中央转移支付资金", "省级专项补助资金", "市级专项补助资金"),
    }
    for key, pool in names.items():
        n = rng.randint(1, 3) if key == "special" else rng.randint(0, 2)
        for name in rng.sample(pool, min(n, len(pool))):
            budget = _r2(_u(rng, 5, 120))
            out.setdefault(key, []).append(
                (name, (0.0 if rng.random() < 0.6 else budget, budget, _r2(budget * _u(rng, 0.9, 1))))
            )
    return out


def building(rng: random.Random) -> dict[str, object]:
    """A completed building project with consistent control rates (15 % of units)."""
    area = float(rng.randint(300, 5000))
    built = float(round(area * _u(rng, 0.9, 1.0)))
    budget = _r2(_u(rng, 100, 2000))
    spent = _r2(budget * _u(rng, 0.85, 1.0))
    return {
        "a1.bld_area_approved": area,
        "a1.bld_area_actual": built,
        "a1.bld_area_rate": round(built / area, 4),
        "a1.bld_invest_budget": budget,
        "a1.bld_invest_actual": spent,
        "a1.bld_invest_rate": round(spent / budget, 4),
    }


def _project(
    rng: random.Random, theme: str, name: str, unit: str, contact: tuple[str, str, str, str], inds: list[Ind]
) -> Project:
    budget = _r2(_u(rng, 20, 500))
    fiscal = (_r2(budget * _u(rng, 0.8, 1.0)), budget, _r2(budget * _u(rng, 0.85, 1.0)))
    carry = _r2(_u(rng, 2, 50)) if rng.random() < 0.4 else 0.0
    other = _r2(_u(rng, 1, 30)) if rng.random() < 0.2 else 0.0
    return Project(
        name=name,
        department=f"{unit[:3]}{rng.choice(('财政局', '主管局', '人民政府办公室'))}",
        implementer=unit,
        funds={
            "fiscal": fiscal,
            "carryover": (carry, carry, _r2(carry * _u(rng, 0.8, 1.0))),
            "other": (0.0, other, other),
        },
        indicators=[i.row for i in inds],
        goals=(f"按计划实施{name}，保障{theme}工作顺利开展。", f"{name}已按计划完成，达到预期绩效目标。"),
        contact=contact,
    )


def build_unit(rng: random.Random, name: str, theme: str, *, year: int, projects: int | None = None) -> Draft:
    """A consistent unit: values, indicators, 0–3 projects and the layout it is written in."""
    quota = rng.randint(8, 180)
    actual = quota - rng.randint(0, max(1, quota // 7))
    project = quota * _u(rng, 5, 30)
    specials = _specials(rng, theme) if rng.random() < 0.25 else {}
    leaves = _leaves(rng, quota, project)
    if specials:
        leaves["special"] = (None, None, None)
        if "transfer" in specials:
            leaves["transfer"] = (None, None, None)
    public_budget = _r2(sum(number(leaves[k][1]) for k in ("office", "utilities", "meetings")))
    public_actual = _r2(sum(number(leaves[k][2]) for k in ("office", "utilities", "meetings")))
    inds = indicators(rng)
    for ind in inds:
        if ind.row.name == "公用经费控制":  # the reference unit repeats 附件1 公用经费 here
            ind.row.target, ind.row.actual = f"≤{_fmt(public_budget)}万元", f"{_fmt(public_actual)}万元"
            ind.row.score, ind.row.reason = ind.row.weight, None
    contact = contact_people(rng, year)
    basic = _r2(quota * _u(rng, 12, 22) + public_actual)
    unit = Unit(
        name=name,
        staff=(quota, actual),
        leaves=leaves,
        basic=basic,
        initial=0.0,
        budget=None,
        general=0.0,
        indicators=[i.row for i in inds],
        goals=(
            f"围绕{theme}职能，完成年度重点工作任务，提升服务质量和管理水平。",
            f"全面完成{theme}年度工作任务，各项绩效指标基本达到预期。",
        ),
        contact=contact,
        frugality=rng.choice(_FRUGALITY),
        specials=specials,
    )
    fill = filling(unit)  # totals computed from the parts
    v = fill.values
    exec_ = number(v["a2.total.exec"])
    budget = exec_ if rng.random() < 0.5 else _r2(exec_ / _u(rng, 0.91, 0.995))
    rate = round(exec_ / budget, 4)
    general = _r2(exec_ * _u(rng, 0.75, 1.0))
    other = _r2(exec_ - general)
    v.update(
        {
            "a2.total.initial": _r2(exec_ * _u(rng, 0.75, 1.0)),
            "a2.total.budget": budget,
            "a2.total.rate": rate,
            "a2.total.score": exec_score(rate),
            "a2.income.general": general,
            "a2.income.other": other,
        }
    )
    if other > 1 and rng.random() < 0.3:
        fund = _r2(other * _u(rng, 0.2, 0.6))
        v["a2.income.fund"], v["a2.income.other"] = fund, _r2(other - fund)
    v[_A2_SCORE] = _r2(number(v["a2.total.score"]) + sum(number(i.row.score) for i in inds))
    if rng.random() < 0.15:
        v.update(building(rng))
    subtotal = bool(specials) and rng.random() < 0.3
    if subtotal:  # the 一个专项一行 label row holds the subtotal of the rows inserted under it
        for key, funds in specials.items():
            for i, col in enumerate(_COLS):
                v[f"a1.{key}.{col}"] = _r2(sum(number(vals[i]) for _, vals in funds))
    n_projects = projects if projects is not None else rng.choices((0, 1, 2, 3), (0.45, 0.3, 0.15, 0.1))[0]
    sheets = _project_sheets(rng, theme, name, contact, n_projects)
    fill.projects = [s.fill for s in sheets]
    fill.placeholder_projects = not sheets
    return Draft(
        rng=rng,
        year=year,
        name=name,
        theme=theme,
        fill=fill,
        a1=Sheet("a1", fill),
        a2=Sheet("a2", fill, inds),
        projects=sheets,
        layout=layout(rng, len(sheets)),
        text_numbers=rng.random() < 0.2,
        subtotal_in_label=subtotal,
    )


def _project_sheets(
    rng: random.Random, theme: str, unit: str, contact: tuple[str, str, str, str], n: int
) -> list[Sheet]:
    names = rng.sample(
        (
            f"{theme}能力提升项目",
            f"{theme}设施建设项目",
            f"{theme}专项业务经费",
            f"{theme}信息化建设项目",
            f"{theme}宣传推广项目",
        ),
        n,
    )
    sheets: list[Sheet] = []
    for i, pname in enumerate(names, start=1):
        p_rng = random.Random(rng.getrandbits(64))
        inds = indicators(p_rng)
        project = _project(p_rng, theme, pname, unit, contact, inds)
        fill = project_filling(project)
        old = number(fill.values["a3.total.score"])
        fill.values["a3.total.score"] = exec_score(number(fill.values["a3.total.rate"]))
        fill.values[_A3_SCORE] = _r2(number(fill.values[_A3_SCORE]) - old + number(fill.values["a3.total.score"]))
        sheets.append(Sheet("a3" if i == 1 else f"a3.{i}", fill, inds))
    return sheets


# -- layout -----------------------------------------------------------------------------------------
def layout(rng: random.Random, projects: int) -> Layout:
    """Sheet names always given in full (the answer key names sheets as written); the rest varies."""
    sids = ["a1", "a2", *(["a3"] if projects == 0 else ["a3" if i == 1 else f"a3.{i}" for i in range(1, projects + 1)])]
    style = rng.choices(("official", "sheetN", "short", "named"), (0.6, 0.15, 0.15, 0.1))[0]
    names: dict[str, str] = {}
    for i, sid in enumerate(sids):
        n = int(sid.partition(".")[2] or 1)
        names[sid] = {
            "official": {"a1": "附件1 基础数据表", "a2": "附件2 整体支出自评表"}.get(
                sid, "附件3 项目支出自评表" + (f"({n})" if n > 1 else "")
            ),
            "sheetN": f"Sheet{i + 1}",
            "short": {"a1": "附件1", "a2": "附件2"}.get(sid, "附件3" + (f"-{n}" if n > 1 else "")),
            "named": {"a1": "基础数据表", "a2": "整体支出自评"}.get(sid, f"项目自评{n}"),
        }[style]
    order = list(sids)
    if rng.random() < 0.2:
        rng.shuffle(order)
    return Layout(
        sheet_names=names,
        order=order,
        row_offset=0 if rng.random() < 0.75 else rng.randint(1, 4),
        col_offset=0 if rng.random() < 0.8 else rng.randint(1, 2),
        values_in_labels=rng.random() < 0.15,
        names=rng.random() < 0.7,
    )


# -- numbers typed as text ----------------------------------------------------------------------------
_TEXT_ROWS = ("business", "operation", "office", "procurement", "sangong", "public")
_TEXT_AMOUNTS = (
    *(f"a1.{row}.{col}" for row in _TEXT_ROWS for col in _COLS),
    "a2.total.initial",
    "a2.total.budget",
    "a2.total.exec",
)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def type_as_text(draft: Draft) -> None:
    """Retype a few numbers the way units do: "1,086.40", " 156.1 ", full-width, "87.50%"."""
    rng, v = draft.rng, draft.fill.values
    keys = [k for k in _TEXT_AMOUNTS if isinstance(v.get(k), float) and k not in draft.touched]
    for key in rng.sample(keys, min(len(keys), rng.randint(2, 6))):
        x = number(v[key])
        v[key] = rng.choice((f"{x:,.2f}", f" {x:g} ", f"{x:.2f}".translate(_FULLWIDTH), f"{x:.2f}"))
    for key in ("a1.staff_quota", "a1.staff_actual"):
        if key not in draft.touched and rng.random() < 0.4:
            v[key] = str(v[key]).translate(_FULLWIDTH)
    for key in ("a1.staff_rate", "a2.total.rate"):
        if key not in draft.touched and rng.random() < 0.5:
            x = number(v[key])
            v[key] = rng.choice((f"{x * 100:.2f}%", f"{x * 100:.2f}"))
