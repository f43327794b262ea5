"""Workbooks in the published layouts of the shipped form editions, with values of our own.

Each builder appends one table to a sheet as published filings lay it out (merged label cells, the year
on the row under the title, numbers stored as text the way WPS exports them) and returns the rows it
used, so several tables can be stacked on one sheet. Faults are made by the caller through the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

#: Rules about what only other editions have, or about reading several editions: the synthetic corpus
#: and tests/test_rules.py write the Hunan 2023 layout, so these are broken in tests/test_editions.py.
EDITION_RULES = frozenset(
    {
        "A3.REQ.FUNDS",
        "A3.RATE.SOURCES",
        "A3.SCORE.SOURCES",
        "IND.COEF",
        "IND.NATURE",
        "IND.LEVEL",
        "GEN.UNREAD",
        "GEN.PROMPT",
        "GEN.YEAR",
        "A3.SUM.SCORE_IND",
        "GEN.NOTITLE",
        "IND.CATEGORY",
    }
)
#: Rules on the 自评报告 and on prose in text cells: broken in tests/test_statements.py.
REPORT_RULES = frozenset({"RPT.FIGURE", "RPT.UNIT", "RPT.BREAKDOWN", "RPT.UNREADABLE", "RPT.MISSING", "TXT.BREAKDOWN"})
#: Rules over last year's points (prev.*): they need a ledger holding the year before; broken in test_last_year.py.
HISTORY_RULES = frozenset({"A1.PREV.ACTUAL"})


@dataclass
class Sheet:
    """Rows written one after another; `put` writes a value and merges its range."""

    ws: Worksheet
    row: int = 1  # next free row (1-based)

    def put(self, r: int, c: int, value: Any, *, to: tuple[int, int] | None = None) -> None:
        if value is not None:
            self.ws.cell(r, c, value)
        if to is not None and to != (r, c):
            self.ws.merge_cells(start_row=r, start_column=c, end_row=to[0], end_column=to[1])


def workbook(path: Path, sheets: dict[str, list[Any]]) -> Path:
    """Write sheets (name → list of builder calls `fn(sheet)`) to an .xlsx."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, builders in sheets.items():
        sheet = Sheet(wb.create_sheet(name))
        for build in builders:
            build(sheet)
            sheet.row += 2  # a blank row between stacked tables
    wb.save(path)
    return path


# --- the national 项目支出绩效自评表 (财预〔2020〕10号) ---------------------------------------------------


@dataclass
class Project:
    name: str = "219001-城区道路日常维护项目"
    department: str = "219-池州市贵池区人民政府"
    implementer: str = "219001-池州市贵池区城市管理局"
    year: int = 2022
    # 年初预算数, 全年预算数, 全年执行数 for 年度资金总额 and its three sources (text, as WPS exports)
    total: tuple[Any, Any, Any] = ("120.00", "150.00", "135.00")
    fiscal: tuple[Any, Any, Any] = ("100.00", "130.00", "120.00")
    carryover: tuple[Any, Any, Any] = ("/", "/", "/")
    other: tuple[Any, Any, Any] = ("20.00", "20.00", "15.00")
    weight: Any = "10"
    rate: Any = "90.00%"
    exec_score: Any = "9.00"
    goal: str = "完成城区主次干道日常维护 50 公里，保障道路完好率。"
    done: str = "完成维护 50 公里，道路完好率 96%。"
    # (一级, 二级, 三级, 年度指标值, 实际完成值, 分值, 得分, 偏差原因)
    indicators: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("产出指标(50分)", "数量指标", "维护道路里程", "≥50公里", "50", "20", "20", ""),
            ("产出指标(50分)", "质量指标", "道路完好率", "≥95%", "96%", "15", "15", ""),
            ("产出指标(50分)", "时效指标", "维护及时率", "100%", "100%", "10", "10", ""),
            ("产出指标(50分)", "成本指标", "维护成本", "≤150万元", "135万元", "5", "5", ""),
            (
                "效益指标(30分)",
                "社会效益指标",
                "群众出行条件",
                "明显改善",
                "达成预期指标",
                "30",
                "27",
                "个别路段施工影响通行",
            ),
            ("满意度指标(10分)", "服务对象满意度指标", "群众满意度", "≥90%", "93%", "10", "10", ""),
        ]
    )
    total_weight: Any = "100"
    total_score: Any = "96.00"
    with_total_row: bool = True
    title: str = "项目支出绩效自评表"


def national_project(p: Project):  # type: ignore[no-untyped-def]
    def build(s: Sheet) -> None:
        r = s.row
        s.put(r, 1, "附件:")
        s.put(r + 1, 1, p.title, to=(r + 1, 10))
        s.put(r + 2, 1, f"（{p.year}年度）", to=(r + 2, 10))
        s.put(r + 3, 1, "项目名称", to=(r + 3, 2))
        s.put(r + 3, 3, p.name, to=(r + 3, 10))
        s.put(r + 4, 1, "主管部门", to=(r + 4, 2))
        s.put(r + 4, 3, p.department, to=(r + 4, 6))
        s.put(r + 4, 7, "实施单位", to=(r + 4, 7))
        s.put(r + 4, 8, p.implementer, to=(r + 4, 10))
        top = r + 5
        s.put(top, 1, "项目资金\n（万元）", to=(top + 4, 1))
        for c, text in enumerate(["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"], start=4):
            s.put(top, c, text)
        rows = [
            ("年度资金总额:", p.total, (p.weight, p.rate, p.exec_score)),
            ("其中:本年财政拨款", p.fiscal, ("—", "—", "—")),
            ("上年结转资金", p.carryover, ("—", "—", "—")),
            ("其他资金", p.other, ("—", "—", "—")),
        ]
        for i, (label, money, tail) in enumerate(rows, start=1):
            s.put(top + i, 2, label, to=(top + i, 3))
            for c, v in enumerate([*money, *tail], start=4):
                s.put(top + i, c, v)
        g = top + 5
        s.put(g, 1, "年度总体目标", to=(g + 1, 1))
        s.put(g, 2, "预期目标", to=(g, 6))
        s.put(g, 7, "实际完成情况", to=(g, 10))
        s.put(g + 1, 2, p.goal, to=(g + 1, 6))
        s.put(g + 1, 7, p.done, to=(g + 1, 10))
        h = g + 2
        n = len(p.indicators)
        s.put(h, 1, "绩效指标", to=(h + n, 1))
        headers = [
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ]
        for c, text in enumerate(headers, start=2):
            s.put(h, c, text, to=(h, 10) if c == 9 else None)
        _indicator_rows(s, h + 1, p.indicators, level_cols=(2, 3), first_value_col=4, reason_to=10)
        end = h + n + 1
        if p.with_total_row:
            s.put(end, 1, "总分", to=(end, 6))
            s.put(end, 7, p.total_weight)
            s.put(end, 8, p.total_score)
            end += 1
        s.put(end, 1, "填报人（签章）：            联系电话：")
        s.row = end + 1

    return build


def _indicator_rows(
    s: Sheet,
    first: int,
    rows: list[tuple[Any, ...]],
    *,
    level_cols: tuple[int, int],
    first_value_col: int,
    reason_to: int,
) -> None:
    """Indicator rows with 一级 and 二级 merged down over equal neighbours, as forms are filled."""
    for level, col in enumerate(level_cols):
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i][level] != rows[start][level]:
                s.put(first + start, col, rows[start][level], to=(first + i - 1, col))
                start = i
    for i, row in enumerate(rows):
        values = row[2:]
        for j, v in enumerate(values):
            c = first_value_col + j
            last = j == len(values) - 1
            s.put(first + i, c, v if v != "" else None, to=(first + i, reason_to) if last and reason_to > c else None)


# --- Sichuan 部门预算项目支出绩效自评表 --------------------------------------------------------------------


@dataclass
class SichuanProject:
    name: str = "51000022T000000012345-乡村学校校舍维修改造"
    department: str = "四川省某某厅"
    implementer: str = "四川省某某中心"
    year: int = 2023
    goal: str = "完成 12 所乡村学校校舍维修，消除安全隐患。"
    done: str = "完成 12 所学校维修，验收合格。"
    summary: str = "按计划招标、施工、验收。"
    # 年初预算, 调整后预算数, 预算执行数, 预算执行率, 权重, 得分, 原因
    total: tuple[Any, ...] = (200, 200, 190, "95.00%", 10, 9.5, "")
    fiscal: tuple[Any, ...] = (200, 200, 190, "95.00%", "/", "/", "")
    special: tuple[Any, ...] = (0, 0, 0, "/", "/", "/", "")
    unit: tuple[Any, ...] = (0, 0, 0, "/", "/", "/", "")
    other: tuple[Any, ...] = (0, 0, 0, "/", "/", "/", "")
    # (一级, 二级, 三级, 指标性质, 指标值, 度量单位, 完成值, 权重, 得分, 未完成原因分析)
    indicators: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("产出指标(50分)", "数量指标", "维修学校数", "≥", 12, "所", 12, 20, 20, ""),
            ("产出指标(50分)", "质量指标", "验收合格率", "=", 100, "%", 100, 20, 20, ""),
            ("产出指标(50分)", "时效指标", "完工时间", "≤", 10, "月", 10, 10, 10, ""),
            (
                "效益指标(30分)",
                "社会效益指标",
                "校舍安全隐患",
                "定性",
                "消除",
                "",
                "达成预期指标",
                30,
                28,
                "部分附属设施待完善",
            ),
            ("满意度指标(10分)", "服务对象满意度指标", "师生满意度", "≥", 90, "%", 95, 10, 10, ""),
        ]
    )
    total_weight: Any = 100
    total_score: Any = 97.5
    conclusion: str = "项目完成较好。"


def sichuan_project(p: SichuanProject):  # type: ignore[no-untyped-def]
    def build(s: Sheet) -> None:
        r = s.row
        s.put(r, 1, "报表编号:510000_0001")
        s.put(r + 1, 1, f"部门预算项目支出绩效自评表({p.year}年度)", to=(r + 1, 11))
        s.put(r + 2, 1, "项目名称", to=(r + 2, 2))
        s.put(r + 2, 3, p.name, to=(r + 2, 11))
        s.put(r + 3, 1, "主管部门", to=(r + 3, 2))
        s.put(r + 3, 3, p.department, to=(r + 3, 6))
        s.put(r + 3, 7, "实施单位 (盖章)", to=(r + 3, 8))
        s.put(r + 3, 9, p.implementer, to=(r + 3, 11))
        b = r + 4
        s.put(b, 1, "项目基本情况", to=(b + 2, 1))
        for i, (label, text) in enumerate(
            [("项目年度目标", p.goal), ("年度目标完成情况", p.done), ("项目实施内容及过程概述", p.summary)]
        ):
            s.put(b + i, 2, label, to=(b + i, 3))
            s.put(b + i, 4, text, to=(b + i, 11))
        t = b + 3
        s.put(t, 1, "预算执行情况(10分)", to=(t + 5, 1))
        for c, text in enumerate(
            ["年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分", "原因"], start=4
        ):
            s.put(t, c, text)
        for i, (label, values) in enumerate(
            [
                ("总额", p.total),
                ("其中:财政资金", p.fiscal),
                ("财政专户管理资金", p.special),
                ("单位资金", p.unit),
                ("其他资金", p.other),
            ],
            start=1,
        ):
            s.put(t + i, 2, label, to=(t + i, 3))
            for c, v in enumerate(values, start=4):
                s.put(t + i, c, v if v != "" else None)
        h = t + 6
        n = len(p.indicators)
        s.put(h, 1, "绩效指标(90分)", to=(h + n, 1))
        headers = [
            "一级指标",
            "二级指标",
            "三级指标",
            "指标性质",
            "指标值",
            "度量单位",
            "完成值",
            "权重",
            "得分",
            "未完成原因分析",
        ]
        for c, text in enumerate(headers, start=2):
            s.put(h, c, text)
        _indicator_rows(s, h + 1, p.indicators, level_cols=(2, 3), first_value_col=4, reason_to=11)
        end = h + n + 1
        s.put(end, 1, "合计", to=(end, 8))
        s.put(end, 9, p.total_weight)
        s.put(end, 10, p.total_score)
        for i, (label, text) in enumerate(
            [("评价结论", p.conclusion), ("存在问题", "无"), ("改进措施", "加强管理")], start=1
        ):
            s.put(end + i, 1, label, to=(end + i, 2))
            s.put(end + i, 3, text, to=(end + i, 11))
        s.put(end + 4, 1, "项目负责人:张三        财务负责人:李四        联系电话:028-12345678")
        s.row = end + 5

    return build


# --- Chongqing 部门整体绩效自评表 ------------------------------------------------------------------------


@dataclass
class Chongqing:
    unit: str = "重庆市某某区文化旅游委员会"
    department: str = "重庆市某某区人民政府"
    year: int = 2022
    self_score: Any = 95.5
    # 年初预算数, 全年(调整)预算数, 全年执行数, 执行率(%), 执行率权重, 执行率得分(分)
    funds: tuple[Any, ...] = (1000, 1200, 1140, 95, 10, 9.5)
    # (指标名称, 计量单位, 指标性质, 年初指标值, 调整指标值, 全年完成值,
    #  得分系数(%), 指标权重(分), 指标得分(分), 是否核心指标)
    indicators: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("举办文化活动场次", "场", "定量指标", 50, 50, 52, 100, 30, 30, "是"),
            ("公共文化设施开放率", "%", "定量指标", 100, 100, 100, 100, 30, 30, "是"),
            ("群众满意度", "%", "定量指标", 90, 90, 88, 87, 30, 26, "否"),
        ]
    )


def chongqing(p: Chongqing):  # type: ignore[no-untyped-def]
    def build(s: Sheet) -> None:
        r = s.row
        s.put(r, 1, "部门整体绩效自评表", to=(r, 11))
        s.put(r + 1, 1, f"({p.year}年度)", to=(r + 1, 11))
        s.put(r + 2, 1, "部门(单位)名称", to=(r + 2, 2))
        s.put(r + 2, 3, p.unit, to=(r + 2, 11))
        s.put(r + 3, 1, "主管部门", to=(r + 3, 2))
        s.put(r + 3, 3, p.department, to=(r + 3, 6))
        s.put(r + 3, 7, "自评总分(分)", to=(r + 3, 8))
        s.put(r + 3, 9, p.self_score, to=(r + 3, 11))
        s.put(r + 4, 1, "部门联系人", to=(r + 4, 2))
        s.put(r + 4, 3, "王五", to=(r + 4, 6))
        s.put(r + 4, 7, "联系电话", to=(r + 4, 8))
        s.put(r + 4, 9, "023-87654321", to=(r + 4, 11))
        t = r + 5
        s.put(t, 1, "部门预算执行情况(万元)", to=(t + 1, 2))
        heads = ["年初预算数", "全年(调整)预算数", "全年执行数", "执行率(%)", "执行率权重", "执行率得分(分)"]
        for c, text in enumerate(heads, start=3):
            s.put(t, c, text)
        for c, v in enumerate(p.funds, start=3):
            s.put(t + 1, c, v)
        g = t + 2
        s.put(g, 1, "当年绩效目标", to=(g + 1, 2))
        s.put(g, 3, "年初绩效目标", to=(g, 5))
        s.put(g, 6, "全年(调整)绩效目标", to=(g, 8))
        s.put(g, 9, "全年目标实际完成情况", to=(g, 11))
        s.put(g + 1, 3, "举办文化活动 50 场", to=(g + 1, 5))
        s.put(g + 1, 6, "举办文化活动 50 场", to=(g + 1, 8))
        s.put(g + 1, 9, "举办 52 场", to=(g + 1, 11))
        h = g + 2
        n = len(p.indicators)
        s.put(h, 1, "绩效指标", to=(h + n, 1))
        heads = ["指标名称", "计量单位", "指标性质(定量指标/定性指标)", "年初指标值", "调整指标值", "全年完成值"]
        heads += ["得分系数(%)", "指标权重(分)", "指标得分(分)", "是否核心指标"]
        for c, text in enumerate(heads, start=2):
            s.put(h, c, text)
        for i, row in enumerate(p.indicators, start=1):
            for c, v in enumerate(row, start=2):
                s.put(h + i, c, v)
        s.row = h + n + 1

    return build


# --- Hunan 2018 附件1 and its 指标表 ------------------------------------------------------------------------


@dataclass
class Hunan2018:
    unit: str = "某某县农业农村局"
    year: int = 2018
    staff: tuple[Any, Any, Any] = (40, 38, "95.00%")
    # {Y-1}年决算数, {Y}年预算数, {Y}年决算数
    rows: dict[str, tuple[Any, Any, Any]] = field(
        default_factory=lambda: {
            "三公经费": (5.2, 6, 4.8),
            "1、公务用车购置和维护经费": (3, 4, 3),
            "其中：公车购置": (0, 0, 0),
            "公车运行维护": (3, 4, 3),
            "2、出国经费": (0, 0, 0),
            "3、公务接待": (2.2, 2, 1.8),
            "项目支出：": (300, 320, 310.5),
            "1、业务工作专项": (200, 220, 210.5),
            "2、运行维护专项": (100, 100, 100),
            "公用经费": (60, 62, 61.5),
            "其中：办公经费": (40, 42, 41),
            "水费、电费、差旅费": (15, 15, 15.5),
            "会议费、培训费": (5, 5, 5),
            "政府采购金额": (20, 25, 22),
            "部门整体支出预算调整": (0, 0, 0),
        }
    )


def hunan2018_a1(p: Hunan2018):  # type: ignore[no-untyped-def]
    def build(s: Sheet) -> None:
        r = s.row
        y = p.year
        s.put(r, 1, "部门整体支出绩效评价基础数据表", to=(r, 7))
        s.put(r + 1, 1, f"填报单位:{p.unit}                    单位:万元", to=(r + 1, 7))
        s.put(r + 2, 1, "财政供养人员情况", to=(r + 3, 1))
        for c, text in enumerate(["编制数", f"{y}年实际在职人数", "控制率"], start=2):
            s.put(r + 2, c, text, to=(r + 2, c))
            s.put(r + 3, c, p.staff[c - 2])
        t = r + 4
        s.put(t, 1, "经费控制情况")
        for c, text in enumerate([f"{y - 1}年决算数", f"{y}年预算数", f"{y}年决算数"], start=2):
            s.put(t, c, text)
        for i, (label, values) in enumerate(p.rows.items(), start=1):
            s.put(t + i, 1, label)
            for c, v in enumerate(values, start=2):
                s.put(t + i, c, v)
        b = t + len(p.rows) + 1
        s.put(b, 1, f"楼堂馆所控制情况（{y - 1}年完工项目）", to=(b + 1, 1))
        heads = [
            "批复规模（㎡）",
            "实际规模（㎡）",
            "规模控制率",
            "预算投资（万元）",
            "实际投资（万元）",
            "投资概算控制率",
        ]
        for c, text in enumerate(heads, start=2):
            s.put(b, c, text)
            s.put(b + 1, c, 0)
        s.put(b + 2, 1, "厉行节约保障措施")
        s.put(b + 2, 2, "严格执行公务接待标准。", to=(b + 2, 7))
        s.put(b + 3, 1, "填表人：赵六")
        s.put(b + 3, 4, "填报日期：2019年4月20日")
        s.put(b + 4, 1, "联系电话：0731-1234567")
        s.put(b + 4, 4, "单位负责人签字：钱七")
        s.row = b + 5

    return build


@dataclass
class Hunan2018Index:
    # (一级, 二级, 三级, 分值, 指标说明, 评价标准, 得分)
    indicators: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("投入(20分)", "目标设定(8分)", "绩效目标合理性", 4, "目标是否合理", "合理得4分", 4),
            ("投入(20分)", "目标设定(8分)", "绩效指标明确性", 4, "指标是否明确", "明确得4分", 3),
            ("投入(20分)", "预算配置(12分)", "在职人员控制率", 6, "在职/编制", "≤100%得6分", 6),
            ("投入(20分)", "预算配置(12分)", "三公经费变动率", 6, "三公经费变动", "≤0得6分", 6),
            ("过程(30分)", "预算执行(30分)", "预算完成率", 30, "执行/预算", "按比例得分", 28),
            ("产出(25分)", "职责履行(25分)", "实际完成率", 25, "完成/计划", "按比例得分", 24),
            ("效果(25分)", "履职效益(25分)", "社会公众满意度", 25, "问卷调查", "按比例得分", 23),
        ]
    )
    total_weight: Any = 100
    total_score: Any = 94


def hunan2018_index(p: Hunan2018Index):  # type: ignore[no-untyped-def]
    def build(s: Sheet) -> None:
        r = s.row
        s.put(r, 1, "部门整体支出绩效评价指标表", to=(r, 7))
        h = r + 1
        for c, text in enumerate(["一级指标", "二级指标", "三级指标", "分值", "指标说明", "评价标准", "得分"], start=1):
            s.put(h, c, text)
        _indicator_rows(s, h + 1, p.indicators, level_cols=(1, 2), first_value_col=3, reason_to=0)
        end = h + len(p.indicators) + 1
        s.put(end, 1, "合计", to=(end, 3))
        s.put(end, 4, p.total_weight)
        s.put(end, 7, p.total_score)
        s.row = end + 1

    return build
