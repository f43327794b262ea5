"""Sample submissions for the demo, the tests and the bureau's first try (`python -m pipeline.synth.samples DIR`).

Every workbook is written by template.py from a `Filling`; amounts are in 万元 and every total of a
fictional unit is computed from its parts (parts.py), so "consistent" holds by construction.

Samples (file `<unit>_2023.xlsx` unless noted), what each is, and its faults on purpose:

- 岳阳市公共租赁房屋运营服务中心: the reference submission, every figure as filed; split values inside the
  附件2 label cells; 附件3 all "/". Faults: 公用经费 2023年决算数 64.73 ≠ 59.54 + 4.5 + 0.66 (error);
  年度总体目标 and 厉行节约保障措施 blank (warnings).
- (a) 青山县农业技术推广中心: clean; goals, measures and contact filled, full marks. Faults: none (zero findings).
- (b) 白云区市场监督服务中心: typical faults:
  1. 三公经费 2023年决算数 left 0 while 公务用车 2.8 and 公务接待 1.6 are filled;
  2. 执行率 98 % but 585 / 650 = 90 % (its 得分 9.8 follows the wrong rate);
  3. 时效指标 得分 12 > 分值 10;
  4. 附件2 项目支出 210.5 ≠ 附件1 项目支出 2023年决算数 195 (基本支出 lowered so the split still adds up);
  5. 产出指标 weights 20 + 10 + 10 + 5 = 45 ≠ 50 (so the weights total 95 ≠ 100);
  6. 在职 32 > 编制 30 (warning; 控制率 106.67 % is computed right);
  7. 满意度 得分 8 < 分值 10 with no 偏差原因 (warning).
- (c) 临湖县图书馆 (.xls, converted by LibreOffice): clean; 执行率 96.52 %, the split values add up to 全年执行数.
- (d) 松涛区水利工程管理站: two funds inserted under 区级专项资金 and two under 上级转移支付 (the label rows left
  blank), all counted in 项目支出; one 质量指标 scored 9.5 of 10 by the formula, with a 偏差原因. Faults: none.
- (e) 金沙县文化馆: numbers typed as text ("1,086.40", full-width "１６" and "６５０场次", " 156.1 ", "87.5%",
  "100%"); sheets renamed Sheet1–Sheet3 and reordered (附件2 first); every table moved 2 rows down and
  1 column right; no defined names, no jixiao document properties. Faults: none once text numbers are read.
- (f) 翠屏区疾病预防控制中心: two filled 附件3 project sheets, 年度资金总额 = 当年财政拨款 + 上年结转资金 +
  其他资金 per column, one project indicator scored 19.56 of 20 with a 偏差原因. Faults: none.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.report.filling import Filling, Layout
from pipeline.report.template import write_workbook
from pipeline.synth.parts import (
    A2_SCORE,
    A2_WEIGHT,
    Project,
    Triple,
    Unit,
    add_up,
    check_weights,
    filling,
    ind_row,
    project_filling,
    row_values,
    total_score,
)

log = logging.getLogger(__name__)

YEAR = 2023
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_inputs"
#: LibreOffice converting one small workbook takes seconds; a hung conversion must not hang the build.
SOFFICE_TIMEOUT_S = 180


# -- the reference submission (text in shared/reference), contact replaced by placeholders --------------
REFERENCE_UNIT = "岳阳市公共租赁房屋运营服务中心"
REFERENCE_LAYOUT = Layout(values_in_labels=True)
REFERENCE = Filling(
    values={
        "a1.unit_name": REFERENCE_UNIT,
        "a1.staff_quota": 40,
        "a1.staff_actual": 35,
        "a1.staff_rate": 0.875,
        **row_values(
            "a1",
            {
                "sangong": (0, 2, 0),
                "car": (0, 0, 0),
                "car_purchase": (0, 0, 0),
                "car_upkeep": (0, 0, 0),
                "abroad": (0, 0, 0),
                "reception": (0, 2, 0),
                "project": (None, 350, 736.36),
                "business": (0, 115, 156.1),
                "operation": (0, 235, 580.26),
                "special": (0, 0, 0),
                "transfer": (0, 0, 0),
                "public": (78.77, 68.4, 64.73),
                "office": (70.83, 64.4, 59.54),
                "utilities": (7.45, 3, 4.5),
                "meetings": (0.49, 1, 0.66),
                "procurement": (81.69, 416.57, 221.15),
                "adjustment": (0, 0, 0),
            },
        ),
        "a1.bld_area_approved": 0,
        "a1.bld_area_actual": 0,
        "a1.bld_area_rate": 0,
        "a1.bld_invest_budget": 0,
        "a1.bld_invest_actual": 0,
        "a1.bld_invest_rate": 0,
        "a1.preparer": "张某某",
        "a1.phone": "0730-0000000",
        "a1.date": "2024.5.28",
        "a2.unit_name": REFERENCE_UNIT,
        "a2.total.initial": 1023.19,
        "a2.total.budget": 1323.28,
        "a2.total.exec": 1323.28,
        "a2.total.weight": 10,
        "a2.total.rate": 1,
        "a2.total.score": 10,
        "a2.income.general": 1208.74,
        "a2.income.other": 114.54,
        "a2.spend.basic": 586.92,
        "a2.spend.project": 736.36,
        A2_WEIGHT: 100,
        A2_SCORE: 98,
        "a2.preparer": "张某某",
        "a2.phone": "0730-0000000",
        "a2.date": "2024.5.28",
    },
    indicators=[
        ind_row("output", "数量指标", "租金收缴金额", "670万元", "703万元", 20),
        ind_row("output", "质量指标", "房屋日常应急维修完成情况", "100%", "100%", 10),
        ind_row("output", "时效指标", "按时完成租金收缴工作", "12月31日", "12月31日", 10),
        ind_row("output", "成本指标", "公用经费使用情况", "68.4万元", "64.7万元", 10, 8, "预算指标编制欠合理"),
        ind_row("effect", "社会效益指标", "推动住房产业发展", "100%", "100%", 20),
        ind_row("effect", "可持续影响指标", "完成业务培训任务", "100%", "100%", 10),
        ind_row("satisfaction", "服务对象满意度指标", "社会公众满意度", "≥90%", "≥90%", 10),
    ],
    placeholder_projects=True,
)


_OUTPUT, _EFFECT, _SATISFY = "output", "effect", "satisfaction"
_WEIGHTS = {_OUTPUT: 50.0, _EFFECT: 30.0, _SATISFY: 10.0}
_NO_CARS: dict[str, Triple] = {
    "car_purchase": (0, 0, 0),
    "abroad": (0, 0, 0),
    "special": (0, 0, 0),
    "adjustment": (0, 0, 0),
}


def _qingshan() -> Filling:
    """(a) Clean: every relation holds, goals and contact filled, full marks."""
    unit = Unit(
        name="青山县农业技术推广中心",
        staff=(28, 26),
        leaves={
            **_NO_CARS,
            "car_upkeep": (3.2, 3.5, 3.18),
            "reception": (1.05, 1.2, 0.96),
            "business": (85.4, 92, 90.35),
            "operation": (40.12, 45, 43.8),
            "transfer": (30, 35, 35),
            "office": (22.3, 24, 23.15),
            "utilities": (6.8, 7, 6.42),
            "meetings": (1.5, 2, 1.36),
            "procurement": (48.6, 55, 52.3),
        },
        basic=412.6,
        initial=540,
        budget=None,
        general=520.3,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "开展农业技术培训", "≥40期", "42期", 10),
            ind_row(_OUTPUT, "数量指标", "推广主导品种和主推技术", "≥15项", "16项", 10),
            ind_row(_OUTPUT, "质量指标", "技术培训合格率", "≥95%", "97%", 10),
            ind_row(_OUTPUT, "时效指标", "培训任务完成时间", "2023年12月31日前", "2023年12月15日", 10),
            ind_row(_OUTPUT, "成本指标", "公用经费控制", "≤33万元", "30.93万元", 10),
            ind_row(_EFFECT, "经济效益指标", "带动农户增收", "≥5%", "6.2%", 10),
            ind_row(_EFFECT, "社会效益指标", "农业技术入户率", "≥90%", "93%", 10),
            ind_row(_EFFECT, "可持续影响指标", "基层农技推广体系运行", "长期", "持续运行", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "服务对象满意度", "≥90%", "95%", 10),
        ],
        goals=(
            "完成全县农业技术推广和培训任务，推广主导品种和主推技术，保障粮食生产安全。",
            "全年开展农业技术培训42期，推广主导品种和主推技术16项，全县粮食生产稳定。",
        ),
        contact=("李某某", "0736-7200000", "王某某", "2024.5.20"),
    )
    check_weights(unit.indicators, _WEIGHTS)
    return filling(unit)


def _baiyun() -> Filling:
    """(b) Typical faults, each listed in the module docstring."""
    unit = Unit(
        name="白云区市场监督服务中心",
        staff=(30, 32),
        leaves={
            **_NO_CARS,
            "car_upkeep": (2.5, 3, 2.8),
            "reception": (1.2, 2, 1.6),
            "business": (120, 130, 125),
            "operation": (60, 70, 70),
            "transfer": (0, 0, 0),
            "office": (30, 32, 31.2),
            "utilities": (8, 9, 8.7),
            "meetings": (2, 2.5, 2.1),
            "procurement": (40, 60, 58.5),
        },
        basic=390,
        initial=600,
        budget=650,
        general=540,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "完成食品抽检批次", "≥800批次", "820批次", 20),
            ind_row(_OUTPUT, "质量指标", "抽检任务完成率", "100%", "100%", 10),
            ind_row(_OUTPUT, "时效指标", "投诉举报按时办结率", "100%", "100%", 10, 12),
            ind_row(_OUTPUT, "成本指标", "公用经费控制", "≤43.5万元", "42万元", 5),
            ind_row(_EFFECT, "社会效益指标", "消费者投诉处理率", "≥95%", "98%", 15),
            ind_row(_EFFECT, "可持续影响指标", "监管长效机制建立", "建立", "已建立", 15),
            ind_row(_SATISFY, "服务对象满意度指标", "群众满意度", "≥90%", "85%", 10, 8),
        ],
        goals=("完成年度食品安全抽检和市场主体监管任务。", "完成食品抽检820批次，投诉举报全部按时办结。"),
        contact=("孙某某", "0735-2800000", "周某某", "2024.5.21"),
    )
    fill = filling(unit)
    v = fill.values
    v["a1.sangong.actual"] = 0  # total not updated although 公务用车 2.8 and 公务接待 1.6 were filled
    v["a2.total.rate"], v["a2.total.score"] = 0.98, 9.8  # 585 / 650 is 90 %
    v["a2.spend.project"], v["a2.spend.basic"] = 210.5, add_up(v["a2.total.exec"], -210.5)  # type: ignore[arg-type]
    v[A2_SCORE] = total_score(v, "a2", unit.indicators)
    return fill


def _linhu() -> Filling:
    """(c) Clean, saved as .xls; 执行率 below 100 %."""
    unit = Unit(
        name="临湖县图书馆",
        staff=(15, 14),
        leaves={
            **_NO_CARS,
            "car_upkeep": (0, 0, 0),
            "reception": (0.3, 0.5, 0.28),
            "business": (36.5, 40, 38.6),
            "operation": (22.1, 25, 24.35),
            "transfer": (10, 12, 11.8),
            "office": (9.6, 10, 9.45),
            "utilities": (4.2, 4.5, 4.38),
            "meetings": (0.6, 0.8, 0.52),
            "procurement": (18.2, 20, 19.7),
        },
        basic=198.3,
        initial=260,
        budget=282.9,
        general=250,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "年接待读者人次", "≥12万人次", "12.6万人次", 20),
            ind_row(_OUTPUT, "质量指标", "图书外借率", "≥60%", "63%", 10),
            ind_row(_OUTPUT, "时效指标", "新书上架周期", "≤30天", "25天", 10),
            ind_row(_OUTPUT, "成本指标", "公用经费控制", "≤15.3万元", "14.35万元", 10),
            ind_row(_EFFECT, "社会效益指标", "全民阅读活动场次", "≥50场", "56场", 20),
            ind_row(_EFFECT, "可持续影响指标", "数字资源建设", "持续推进", "持续推进", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "读者满意度", "≥90%", "96%", 10),
        ],
        goals=(
            "保障图书馆免费开放，开展全民阅读活动，提升公共文化服务水平。",
            "全年免费开放，接待读者12.6万人次，举办阅读活动56场。",
        ),
        contact=("赵某某", "0731-5600000", "钱某某", "2024.5.22"),
    )
    check_weights(unit.indicators, _WEIGHTS)
    return filling(unit)


def _songtao() -> Filling:
    """(d) Special funds in inserted rows under 区级专项资金 and 上级转移支付, counted in 项目支出."""
    unit = Unit(
        name="松涛区水利工程管理站",
        staff=(22, 20),
        leaves={
            **_NO_CARS,
            "car_upkeep": (4.5, 5, 4.86),
            "reception": (0.8, 1, 0.62),
            "business": (45, 50, 48.3),
            "operation": (60.5, 65, 63.75),
            "special": (None, None, None),
            "transfer": (None, None, None),
            "office": (14.2, 15, 14.66),
            "utilities": (5.1, 5.5, 5.27),
            "meetings": (1.2, 1.5, 0.98),
            "procurement": (150.6, 260, 248.35),
        },
        specials={
            "special": [("小型水库除险加固专项", (0, 80, 78.5)), ("河道清淤疏浚专项", (0, 40, 39.2))],
            "transfer": [("中央水利发展资金", (60, 120, 118.6)), ("省级山洪灾害防治资金", (0, 25, 25))],
        },
        basic=286.4,
        initial=520,
        budget=None,
        general=600,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "完成水库除险加固", "2座", "2座", 10),
            ind_row(_OUTPUT, "数量指标", "河道清淤长度", "≥12公里", "12.5公里", 10),
            ind_row(_OUTPUT, "质量指标", "工程验收合格率", "100%", "95%", 10, 9.5, "1处堤段因汛期停工，验收推迟至次年"),
            ind_row(_OUTPUT, "时效指标", "汛前完成工程主体", "5月31日前", "5月28日", 10),
            ind_row(_OUTPUT, "成本指标", "工程成本控制", "≤380万元", "373.35万元", 10),
            ind_row(_EFFECT, "社会效益指标", "保护下游人口", "≥3万人", "3.2万人", 10),
            ind_row(_EFFECT, "生态效益指标", "河道水质达标率", "≥90%", "92%", 10),
            ind_row(_EFFECT, "可持续影响指标", "工程运行管护制度落实", "落实", "已落实", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "受益群众满意度", "≥90%", "94%", 10),
        ],
        goals=(
            "完成小型水库除险加固和河道清淤，确保安全度汛。",
            "完成2座水库除险加固、清淤12.5公里，全年无水利工程安全事故。",
        ),
        contact=("吴某某", "0739-5300000", "郑某某", "2024.5.23"),
    )
    check_weights(unit.indicators, _WEIGHTS)
    return filling(unit)


def _jinsha() -> Filling:
    """(e) Numbers typed as text; the layout variety is in its `Layout`."""
    unit = Unit(
        name="金沙县文化馆",
        staff=(16, 14),
        leaves={
            **_NO_CARS,
            "car_upkeep": (1.8, 2, 1.95),
            "reception": (0.4, 0.5, 0.35),
            "business": (150.2, 160, 156.1),
            "operation": (45.3, 50, 48.72),
            "transfer": (20, 30, 28.5),
            "office": (12.4, 13, 12.66),
            "utilities": (3.9, 4, 3.85),
            "meetings": (0.8, 1, 0.74),
            "procurement": (60.3, 75, 71.2),
        },
        basic=853.08,
        initial=980,
        budget=None,
        general=1000,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "举办群众文化活动", "≥600场次", "６５０场次", 20),
            ind_row(_OUTPUT, "质量指标", "文艺作品获奖", "≥4项", "5项", 10),
            ind_row(_OUTPUT, "时效指标", "年度活动计划完成时间", "12月31日前", "12月20日", 10),
            ind_row(_OUTPUT, "成本指标", "公用经费控制", "≤18万元", "17.25万元", 10),
            ind_row(_EFFECT, "社会效益指标", "惠及群众人次", "≥20万人次", "22万人次", 20),
            ind_row(_EFFECT, "可持续影响指标", "文化志愿者队伍", "≥100人", "120人", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "群众满意度", "≥90%", "95%", 10),
        ],
        goals=("开展群众文化活动，繁荣基层文化。", "举办群众文化活动650场次，惠及群众22万人次。"),
        contact=("冯某某", "0743-8200000", "陈某某", "2024.5.24"),
    )
    check_weights(unit.indicators, _WEIGHTS)
    fill = filling(unit)
    assert fill.values["a2.total.exec"] == 1086.4 and fill.values["a1.business.actual"] == 156.1
    fill.values.update(
        {
            "a1.staff_quota": "１６",
            "a1.staff_rate": "87.5%",
            "a1.business.actual": " 156.1 ",
            "a2.total.budget": "1,086.40",
            "a2.total.exec": "1,086.40",
            "a2.total.rate": "100%",
        }
    )
    return fill


JINSHA_LAYOUT = Layout(
    sheet_names={"a1": "Sheet2", "a2": "Sheet1", "a3": "Sheet3"},
    order=["a2", "a1", "a3"],
    row_offset=2,
    col_offset=1,
    names=False,
)


def _cuiping() -> Filling:
    """(f) Two filled 附件3 project sheets."""
    unit = Unit(
        name="翠屏区疾病预防控制中心",
        staff=(60, 57),
        leaves={
            **_NO_CARS,
            "car_upkeep": (6.2, 7, 6.85),
            "reception": (1.1, 1.5, 1.02),
            "business": (210.4, 230, 226.8),
            "operation": (80.5, 90, 88.35),
            "transfer": (150, 273, 264.8),
            "office": (40.2, 42, 41.3),
            "utilities": (15.6, 16, 15.8),
            "meetings": (3.2, 4, 3.5),
            "procurement": (320.5, 380, 362.4),
        },
        basic=1420.6,
        initial=1850,
        budget=2050,
        general=1800,
        indicators=[
            ind_row(_OUTPUT, "数量指标", "传染病疫情报告及时处置率", "100%", "100%", 10),
            ind_row(_OUTPUT, "数量指标", "开展公共卫生监测", "≥1200批次", "1260批次", 10),
            ind_row(_OUTPUT, "质量指标", "实验室检测准确率", "≥98%", "99%", 10),
            ind_row(_OUTPUT, "时效指标", "突发疫情响应时间", "≤2小时", "1.5小时", 10),
            ind_row(_OUTPUT, "成本指标", "公用经费控制", "≤62万元", "60.6万元", 10),
            ind_row(_EFFECT, "社会效益指标", "甲乙类传染病发病率", "低于全省平均", "低于全省平均", 20),
            ind_row(_EFFECT, "可持续影响指标", "疾控体系建设", "持续完善", "持续完善", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "群众满意度", "≥90%", "93%", 10),
        ],
        goals=("做好传染病防控、公共卫生监测和免疫规划工作。", "全年传染病疫情及时处置，完成监测1260批次。"),
        contact=("褚某某", "0831-8100000", "卫某某", "2024.5.27"),
    )
    check_weights(unit.indicators, _WEIGHTS)
    fill = filling(unit)
    fill.placeholder_projects = False
    fill.projects = [project_filling(p) for p in _cuiping_projects(unit.contact)]
    return fill


def _cuiping_projects(contact: tuple[str, str, str, str]) -> list[Project]:
    health = Project(
        name="重大公共卫生服务项目",
        department="翠屏区卫生健康局",
        implementer="翠屏区疾病预防控制中心",
        funds={"fiscal": (120, 150, 142.6), "carryover": (0, 12.5, 12.5), "other": (0, 5, 4.2)},
        indicators=[
            ind_row(_OUTPUT, "数量指标", "免费健康体检人数", "≥2万人", "2.1万人", 20),
            ind_row(_OUTPUT, "质量指标", "慢病规范管理率", "≥70%", "72%", 10),
            ind_row(_OUTPUT, "时效指标", "资金拨付及时率", "100%", "100%", 10),
            ind_row(_OUTPUT, "成本指标", "人均服务成本", "≤80元", "76元", 10),
            ind_row(
                _EFFECT,
                "社会效益指标",
                "居民健康档案建档率",
                "≥90%",
                "88%",
                20,
                19.56,
                "流动人口建档难，下年加强入户宣传",
            ),
            ind_row(_EFFECT, "可持续影响指标", "基本公共卫生服务长效机制", "建立", "已建立", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "服务对象满意度", "≥85%", "90%", 10),
        ],
        goals=("为辖区居民提供免费健康体检和慢病管理服务。", "完成体检2.1万人，慢病规范管理率72%。"),
        contact=contact,
    )
    vaccine = Project(
        name="免疫规划疫苗接种项目",
        department="翠屏区卫生健康局",
        implementer="翠屏区疾病预防控制中心",
        funds={"fiscal": (80, 95, 95), "carryover": (10.5, 10.5, 10.5), "other": (0, 0, 0)},
        indicators=[
            ind_row(_OUTPUT, "数量指标", "适龄儿童疫苗接种人次", "≥3万人次", "3.15万人次", 20),
            ind_row(_OUTPUT, "质量指标", "免疫规划疫苗接种率", "≥95%", "97%", 10),
            ind_row(_OUTPUT, "时效指标", "疫苗按时配送率", "100%", "100%", 10),
            ind_row(_OUTPUT, "成本指标", "疫苗损耗率", "≤1%", "0.8%", 10),
            ind_row(_EFFECT, "社会效益指标", "疫苗针对传染病发病率", "下降", "下降", 20),
            ind_row(_EFFECT, "可持续影响指标", "冷链系统运行", "正常", "正常", 10),
            ind_row(_SATISFY, "服务对象满意度指标", "家长满意度", "≥90%", "95%", 10),
        ],
        goals=("完成适龄儿童免疫规划疫苗接种。", "接种3.15万人次，接种率97%。"),
        contact=contact,
    )
    for p in (health, vaccine):
        check_weights(p.indicators, _WEIGHTS)
    return [health, vaccine]


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample file: the unit, how to build its filling, its layout and file format."""

    unit: str
    make: Callable[[], Filling]
    layout: Layout = field(default_factory=Layout)
    suffix: str = ".xlsx"

    @property
    def filename(self) -> str:
        return f"{self.unit}_{YEAR}{self.suffix}"


SAMPLES: tuple[Sample, ...] = (
    Sample(REFERENCE_UNIT, lambda: REFERENCE, REFERENCE_LAYOUT),
    Sample("青山县农业技术推广中心", _qingshan),
    Sample("白云区市场监督服务中心", _baiyun),
    Sample("临湖县图书馆", _linhu, suffix=".xls"),
    Sample("松涛区水利工程管理站", _songtao),
    Sample("金沙县文化馆", _jinsha, JINSHA_LAYOUT),
    Sample("翠屏区疾病预防控制中心", _cuiping),
)


def to_xls(paths: Sequence[Path]) -> dict[Path, Path]:
    """Convert workbooks to Excel 97 `.xls` with one LibreOffice call; {xlsx: xls} of those converted.
    Nothing is converted (and a warning logged) when soffice is missing or fails."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or not paths:
        if paths:
            log.warning("soffice not found: %d .xls files left as .xlsx", len(paths))
        return {}
    out: dict[Path, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--convert-to",
            "xls:MS Excel 97",
            "--outdir",
            tmp,
            *map(str, paths),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=SOFFICE_TIMEOUT_S + 2 * len(paths))
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("LibreOffice could not convert %d files: %s", len(paths), exc)
            return {}
        for path in paths:
            made = Path(tmp) / (path.stem + ".xls")
            if made.is_file():
                target = path.with_suffix(".xls")
                shutil.move(made, target)
                path.unlink()
                out[path] = target
    return out


def _write_xls(sample: Sample, out_dir: Path) -> Path | None:
    target = out_dir / sample.filename
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = Path(tmp) / f"{sample.unit}_{YEAR}.xlsx"
        write_workbook(xlsx, year=YEAR, filling=sample.make(), layout=sample.layout)
        converted = to_xls([xlsx]).get(xlsx)
        if converted is not None:
            shutil.move(converted, target)
            return target
    committed = SAMPLES_DIR / sample.filename
    if committed.is_file():
        if committed.resolve() != target.resolve():
            shutil.copyfile(committed, target)
        log.warning("soffice unavailable: reused the committed %s", committed.name)
        return target
    log.warning("soffice unavailable and no committed %s: skipped", sample.filename)
    return None


def build_samples(out_dir: Path) -> list[Path]:
    """Write every sample submission into `out_dir`; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for sample in SAMPLES:
        if sample.suffix == ".xls":
            path = _write_xls(sample, out_dir)
            if path:
                written.append(path)
            continue
        written.append(
            write_workbook(out_dir / sample.filename, year=YEAR, filling=sample.make(), layout=sample.layout)
        )
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for p in build_samples(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES_DIR):
        print(p)
