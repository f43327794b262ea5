"""Cross-sheet faults: unit names, project names, years and titles that disagree between sheets."""

from __future__ import annotations

from pipeline.forms import for_year, load_form
from pipeline.synth.faults.base import COLS, SPLIT, _num, _p, _r2, fault
from pipeline.synth.faults.edit import _retitle
from pipeline.synth.units import Draft

# -- cross-sheet ---------------------------------------------------------------------------------------
_ABBREVIATIONS = {
    "农业技术推广中心": "农技推广中心",
    "疾病预防控制中心": "疾控中心",
    "市场监督服务中心": "市场监管服务中心",
    "社会保险服务中心": "社保服务中心",
    "公共租赁房屋运营服务中心": "公租房运营中心",
    "城市管理综合执法大队": "城管执法大队",
    "动物疫病预防控制中心": "动物疫控中心",
}


@fault("cross.unit", "cross_sheet", "a1.unit", "a2.unit")
def _cross_unit(d: Draft) -> bool:
    name = d.name
    options = [name[:2] + name[3:], name + "（本级）"]
    options += [name.replace(k, a) for k, a in _ABBREVIATIONS.items() if k in name]
    d.a2.values["a2.unit_name"] = other = d.rng.choice(options)
    d.expect("A2.CROSS.UNIT", "cross_sheet", _p("a2", "a2.unit_name"), f"附件2 单位名称写作“{other}”")
    return True


@fault("cross.project", "cross_sheet", "a1.project", "a2.split")
def _cross_project(d: Draft) -> bool:
    v = d.a2.values
    d.touch(*SPLIT, "a2.total.exec", *(f"a1.project.{c}" for c in COLS))
    basic = _num(v, "a2.spend.basic")
    step = d.rng.choice([x for x in (0.5, 2.0, 10.0, 15.5, 50.0) if x < basic])
    v["a2.spend.project"] = _r2(_num(v, "a2.spend.project") + step)
    v["a2.spend.basic"] = _r2(basic - step)
    d.expect(
        "A2.CROSS.PROJECT",
        "cross_sheet",
        _p("a2", "a2.spend.project"),
        f"附件2 项目支出多填 {step:g}（基本支出相应调减）",
    )
    return True


@fault("cross.year", "cross_sheet", "a2.title")
def _cross_year(d: Draft) -> bool:
    title = for_year(load_form("a2").title, d.year)
    d.post.append(_retitle(title, for_year(load_form("a2").title, d.year - 1)))
    d.expect("A2.CROSS.YEAR", "cross_sheet", ("title", "a2"), f"附件2 沿用 {d.year - 1} 年表头")
    return True


@fault("cross.a3year", "cross_sheet", "a3.title", project=True)
def _cross_a3year(d: Draft) -> bool:
    if not d.projects:
        return False
    title = for_year(load_form("a3").title, d.year)
    d.post.append(_retitle(title, for_year(load_form("a3").title, d.year - 1)))
    for s in d.projects:  # the sheets share the title string: every project sheet shows the old year
        d.expect("A3.CROSS.YEAR", "cross_sheet", ("title", s.sid), f"附件3 沿用 {d.year - 1} 年表头")
    return True
