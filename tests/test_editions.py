"""Form editions: workbooks in each shipped edition's published layout, read through the same path as a
submitted file (sniff → grid → extract → validate), clean and with the faults published filings show."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import openpyxl
import pytest
from editions import (
    Chongqing,
    Hunan2018,
    Hunan2018Index,
    Project,
    SichuanProject,
    chongqing,
    hunan2018_a1,
    hunan2018_index,
    national_project,
    sichuan_project,
    workbook,
)

from pipeline.check import check_files, load_submission
from pipeline.errors import DefinitionError, RejectedFile
from pipeline.forms import load_editions, load_form, load_profile, load_shared
from pipeline.model import Result
from pipeline.rules.catalogue import load_rules
from pipeline.rules.validate import point_types
from pipeline.settings import SCHEMAS_DIR

SAMPLES = Path(__file__).parent.parent / "sample_inputs"


def run(path: Path, **kw: object) -> Result:
    return check_files([path], **kw)[0]  # type: ignore[arg-type]


def errors(result: Result) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.rule, f.sheet, f.cells) for f in result.findings if f.level == "error"]


def rules(result: Result) -> set[str]:
    return {f.rule for f in result.findings}


def editions_read(path: Path) -> list[tuple[str, str, int | None]]:
    sub = load_submission(path)
    return [(d.form, d.edition, d.year) for d in [*sub.forms.values(), *sub.projects]]


# --- the national 项目支出绩效自评表 -------------------------------------------------------------------


def test_national_clean_two_projects_on_one_sheet(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "池州.xlsx", {"Sheet1": [national_project(Project()), national_project(Project(name="B"))]}
    )
    assert editions_read(path) == [("a3", "a3_national", 2022)] * 2
    result = run(path)
    assert result.findings == []
    sub = load_submission(path)
    first = sub.projects[0].points
    assert first["a3.total.budget"].value == 150.0  # "150.00" stored as text
    assert first["a3.carryover.exec"].value is None  # "/" means nothing
    assert first["a3.project_name"].value == "219001-城区道路日常维护项目"
    assert sub.unit == "219001-池州市贵池区城市管理局"  # a project-only workbook is named by its 实施单位


def test_national_total_row_left_zero_with_filled_sources(tmp_path: Path) -> None:
    bad = Project(total=("0", "0", "0"), rate="0.00%", exec_score="0")
    path = workbook(tmp_path / "zero.xlsx", {"Sheet1": [national_project(Project()), national_project(bad)]})
    found = {(f.rule, f.cells[0]) for f in run(path).findings}
    # the second table starts 2 rows after the first ends; its 年度资金总额 row is the 7th of the table
    second = load_submission(path).projects[1].points
    row = second["a3.total.exec"].cells[0]
    assert ("A3.SUM.FUNDS", second["a3.total.exec"].cells[0]) in found
    assert ("A3.RATE.SOURCES", second["a3.total.rate"].cells[0]) in found
    assert ("A3.SCORE.SOURCES", second["a3.total.score"].cells[0]) in found
    messages = [f.message for f in run(path).findings if f.rule == "A3.RATE.SOURCES"]
    assert messages and "按资金来源计算" in messages[0] and "应为 90.00%，填报为 0.00%" in messages[0]
    assert row.startswith("F")


def test_national_full_marks_with_missed_target(tmp_path: Path) -> None:
    p = Project()
    p.indicators[0] = ("产出指标(50分)", "数量指标", "维护道路里程", "≥50公里", "40", "20", "20", "")
    path = workbook(tmp_path / "full.xlsx", {"Sheet1": [national_project(p)]})
    result = run(path)
    scoring = [f for f in result.findings if f.rule == "IND.SCORING"]
    assert [(f.level, f.expected) for f in scoring] == [("warning", "16.0")]
    assert errors(result) == []


def test_national_missing_total_row_is_reported_missing(tmp_path: Path) -> None:
    path = workbook(tmp_path / "nototal.xlsx", {"Sheet1": [national_project(Project(with_total_row=False))]})
    result = run(path)
    assert "A3.SUM.SCORE" not in rules(result)  # not "0.0 ≠ 96" at some other cell
    assert any(f.rule == "GEN.LABEL" and "总分" in f.message for f in result.findings)


def test_blank_total_is_shown_blank(tmp_path: Path) -> None:
    path = workbook(tmp_path / "blank.xlsx", {"Sheet1": [national_project(Project(total_score=None))]})
    [finding] = [f for f in run(path).findings if f.rule == "A3.SUM.SCORE"]
    assert "（空）" in finding.message and "0.00" not in finding.message


def test_national_table_inside_a_hunan_workbook(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"
    shutil.copy(SAMPLES / "岳阳市公共租赁房屋运营服务中心_2023.xlsx", path)
    wb = openpyxl.load_workbook(path)
    from editions import Sheet

    p = Project(year=2023, total=("0", "0", "0"), rate="0.00%", exec_score="0")
    national_project(p)(Sheet(wb.create_sheet("项目自评")))
    wb.save(path)
    sub = load_submission(path)
    assert [d.edition for d in sub.projects] == ["a3_national"]
    result = run(path)
    assert {"A1.SUM.PUBLIC", "A3.SUM.FUNDS", "A3.RATE.SOURCES"} <= rules(result)
    assert all(f.sheet == "项目自评" for f in result.findings if f.rule.startswith("A3."))


def test_project_only_workbook_by_collection(tmp_path: Path) -> None:
    path = workbook(tmp_path / "only.xlsx", {"Sheet1": [national_project(Project())]})
    assert run(path).findings == []  # 自动 (default): a 项目 submission
    project = dataclasses.replace(load_profile(), collect="项目")
    assert run(path, profile=project).findings == []
    whole = dataclasses.replace(load_profile(), collect="整体")
    assert [f.rule for f in run(path, profile=whole).findings] == ["GEN.SHEET", "GEN.SHEET"]


# --- Sichuan 部门预算项目支出绩效自评表 --------------------------------------------------------------------


def test_sichuan_clean_stacked(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "sc.xlsx", {"Sheet1": [sichuan_project(SichuanProject()), sichuan_project(SichuanProject())]}
    )
    assert editions_read(path) == [("a3", "a3_sichuan", 2023)] * 2
    assert run(path).findings == []
    points = load_submission(path).projects[0].points
    assert points["a3.implementer"].value == "四川省某某中心"  # not the "(盖章)" of its label
    assert points["a3.special_account.budget"].value == 0.0


def test_sichuan_prompt_text_left_in_a_cell(tmp_path: Path) -> None:
    p = SichuanProject(done="对照年度目标,说明年度目标完成情况(100字以内)")
    path = workbook(tmp_path / "prompt.xlsx", {"Sheet1": [sichuan_project(p)]})
    result = run(path)
    prompt = [(f.rule, f.cells) for f in result.findings if f.rule == "GEN.PROMPT"]
    assert prompt == [("GEN.PROMPT", ("D6",))]
    assert [f.rule for f in result.findings if f.cells[:1] == ("D6",)] == ["GEN.PROMPT"]  # once, not A3.REQ.GOALS


def test_sichuan_nature_and_unit_in_own_cells(tmp_path: Path) -> None:
    p = SichuanProject()
    p.indicators[0] = ("产出指标(50分)", "数量指标", "维修学校数", "≥", 12, "所", 10, 20, 20, "")  # missed, full marks
    p.indicators[2] = ("产出指标(50分)", "时效指标", "完工时间", "大约", 10, "月", 10, 10, 10, "")
    path = workbook(tmp_path / "nature.xlsx", {"Sheet1": [sichuan_project(p)]})
    result = run(path)
    ind = load_submission(path).projects[0].indicators
    assert ind[0].cells["target"].raw == "≥12所"
    found = [(f.rule, f.cells[0]) for f in result.findings if f.rule.startswith("IND.")]
    assert ("IND.SCORING", ind[0].cells["score"].cells[0]) in found
    assert ("IND.NATURE", ind[2].cells["nature"].cells[0]) in found


def test_level_weight_written_in_the_label(tmp_path: Path) -> None:
    p = SichuanProject()
    p.indicators = [("效益指标(35分)", *row[1:]) if row[0].startswith("效益") else row for row in p.indicators]
    path = workbook(tmp_path / "level.xlsx", {"Sheet1": [sichuan_project(p)]})
    [level] = [f for f in run(path).findings if f.rule == "IND.LEVEL"]
    assert level.level == "error" and "效益指标(35分)的分值" in level.message and level.expected == "30.0"
    assert "A3.WEIGHT.CAT" not in rules(run(path))  # 30 is the profile's 效益 weight: the label is what is wrong


def test_level_weight_of_the_profile_is_reported_once(tmp_path: Path) -> None:
    p = SichuanProject()
    p.indicators[0] = ("产出指标(50分)", "数量指标", "维修学校数", "≥", 12, "所", 12, 15, 15, "")
    path = workbook(tmp_path / "level.xlsx", {"Sheet1": [sichuan_project(p)]})
    assert [f.rule for f in run(path).findings if f.level == "error"] == ["A3.WEIGHT.CAT", "A3.SUM.SCORE"]


# --- Chongqing 部门整体绩效自评表 ------------------------------------------------------------------------


def test_chongqing_clean(tmp_path: Path) -> None:
    path = workbook(tmp_path / "cq.xlsx", {"Sheet1": [chongqing(Chongqing())]})
    assert editions_read(path) == [("a2", "a2_chongqing", 2022)]
    # 群众满意度 28 of 30, and the form has no column for the reason: the 自评报告 is asked for it
    assert [(f.rule, f.level, f.cells[0]) for f in run(path).findings] == [("IND.REASON", "warning", "J13")]
    points = load_submission(path).forms["a2"].points
    assert (points["a2.total.budget"].value, points["a2.total.rate"].value) == (1200.0, 0.95)


def test_chongqing_score_is_weight_times_coefficient(tmp_path: Path) -> None:
    p = Chongqing(self_score=97.5)
    p.indicators[2] = ("群众满意度", "%", "定量指标", 90, 90, 88, 87, 30, 28, "否")  # 30 × 87% = 26.1
    path = workbook(tmp_path / "coef.xlsx", {"Sheet1": [chongqing(p)]})
    result = run(path)
    ind = load_submission(path).forms["a2"].indicators[2]
    assert ("IND.COEF", ind.cells["score"].cells[0]) in [(f.rule, f.cells[0]) for f in result.findings]
    assert "A2.SUM.SCORE" not in rules(result)  # 9.5 + 30 + 30 + 28 = 97.5


def test_chongqing_self_score_not_the_sum(tmp_path: Path) -> None:
    path = workbook(tmp_path / "total.xlsx", {"Sheet1": [chongqing(Chongqing(self_score=99))]})
    [finding] = [f for f in run(path).findings if f.rule == "A2.SUM.SCORE"]
    assert finding.expected == "95.5"


# --- Hunan 2018 附件1 and 指标表 -------------------------------------------------------------------------


def hunan2018(tmp_path: Path, a1: Hunan2018 | None = None, index: Hunan2018Index | None = None) -> Path:
    sheets = {"附件1": [hunan2018_a1(a1 or Hunan2018())], "附件2": [hunan2018_index(index or Hunan2018Index())]}
    return workbook(tmp_path / "湘2018.xlsx", sheets)


def test_hunan2018_clean_year_from_headers(tmp_path: Path) -> None:
    path = hunan2018(tmp_path)
    assert editions_read(path) == [("a1", "a1_hunan2018", 2018), ("a2", "a2_hunan2018", 2018)]
    result = run(path)
    assert result.findings == []
    points = load_submission(path).forms["a1"].points
    assert points["a1.unit_name"].value == "某某县农业农村局"  # 填报单位: … 单位:万元 on one row
    assert points["a1.project.actual"].value == 310.5


def test_hunan2018_faults(tmp_path: Path) -> None:
    a1 = Hunan2018()
    a1.rows["公用经费"] = (60, 62, 65)
    index = Hunan2018Index()
    index.indicators[4] = ("过程(30分)", "预算执行(30分)", "预算完成率", 25, "执行/预算", "按比例得分", 23)
    index.total_weight, index.total_score = 95, 89
    result = run(hunan2018(tmp_path, a1, index))
    found = {f.rule for f in result.findings if f.level == "error"}
    assert {"A1.SUM.PUBLIC", "IND.LEVEL"} <= found
    assert any("过程(30分)的分值" in f.message for f in result.findings if f.rule == "IND.LEVEL")


# --- nothing dropped silently ----------------------------------------------------------------------------


def test_unknown_sheet_and_unknown_table_are_reported(tmp_path: Path) -> None:
    def other(s):  # type: ignore[no-untyped-def]
        s.put(s.row, 1, "2023年度单位资产统计表")
        for r in range(s.row + 1, s.row + 5):
            s.put(r, 1, f"资产{r}")
            s.put(r, 2, r * 10)

    def notes(s):  # type: ignore[no-untyped-def]
        for r in range(1, 5):
            s.put(r, 1, f"说明第{r}条：按要求填报")

    path = workbook(tmp_path / "extra.xlsx", {"项目": [national_project(Project()), other], "说明": [notes]})
    unread = [(f.sheet, f.cells, f.message.split("”")[0]) for f in run(path).findings if f.rule == "GEN.UNREAD"]
    assert unread == [("项目", ("A24",), "“2023年度单位资产统计表"), ("说明", (), "“说明第1条：按要求填报")]


def test_unknown_kind_is_refused_with_the_titles_it_found(tmp_path: Path) -> None:
    def other(s):  # type: ignore[no-untyped-def]
        s.put(1, 1, "2023年度部门决算报表")
        s.put(2, 1, "收入")
        s.put(2, 2, 100)

    path = workbook(tmp_path / "other.xlsx", {"Sheet1": [other]})
    with pytest.raises(RejectedFile, match="2023年度部门决算报表"):
        load_submission(path)


# --- editions are data, checked when loaded ---------------------------------------------------------------


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def test_misspelt_point_key_in_an_edition_names_the_nearest(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    path = schemas / "forms" / "a3_national.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('key = "carryover"', 'key = "carryovr"'), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"a3_national\.toml.*carryovr.*carryover"):
        load_editions(schemas)


def test_label_used_twice_in_a_section(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    path = schemas / "forms" / "a2_chongqing.toml"
    text = path.read_text(encoding="utf-8").replace('header = "调整指标值"', 'header = "年初指标值"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="年初指标值"):
        load_editions(schemas)


def test_rule_naming_a_point_no_edition_has(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    path = schemas / "rules.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"a1.public.{col}"', '"a1.pubic.{col}"'), encoding="utf-8")
    profile = load_profile()
    with pytest.raises(DefinitionError, match=r"A1\.SUM\.PUBLIC.*a1\.pubic.*a1\.public"):
        load_rules(profile, path, known=frozenset(point_types(profile)))


def test_every_edition_loads_with_shared_spellings() -> None:
    shared = load_shared()
    assert ("项目支出名称", "项目名称") in shared.groups
    assert "项目名称" in load_form("a3").sections[0].field_rows[0][0].names
    assert {f.edition for f in load_editions()} >= {"a1", "a2", "a3", "a3_national", "a3_sichuan", "a2_chongqing"}


def test_scores_left_blank(tmp_path: Path) -> None:
    path = workbook(tmp_path / "noscore_2022.xlsx", {"Sheet1": [national_project(Project(exec_score=None))]})
    required = [f for f in run(path).findings if f.rule == "A3.REQ.FUNDS"]
    assert [f.cells for f in required] == [("I7",)]  # 年度资金总额 row, 得分 column
    assert "（得分）" in required[0].message or "得分" in required[0].message


def test_year_nowhere_on_the_table(tmp_path: Path) -> None:
    def no_year(name: str) -> Path:
        path = workbook(tmp_path / name, {"Sheet1": [national_project(Project(year=0))]})
        wb = openpyxl.load_workbook(path)
        wb["Sheet1"]["A3"] = None  # no （2022年度） row
        wb.save(path)
        return path

    [named] = [f.message for f in run(no_year("贵池区_2022.xlsx")).findings if f.rule == "GEN.YEAR"]
    assert "按文件名取为 2022 年" in named
    assert load_submission(no_year("贵池区_2022.xlsx")).year == 2022
    [unknown] = [f.message for f in run(no_year("贵池区.xlsx")).findings if f.rule == "GEN.YEAR"]
    assert "无法确定年度" in unknown
    profile = dataclasses.replace(load_profile(), year=2021)
    [given] = [f.message for f in run(no_year("贵池区.xlsx"), profile=profile).findings if f.rule == "GEN.YEAR"]
    assert "按审核口径或 --year 设置取为 2021 年" in given


def test_every_edition_rule_is_broken_here() -> None:
    from editions import EDITION_RULES

    text = Path(__file__).read_text(encoding="utf-8")
    assert [rule for rule in sorted(EDITION_RULES) if f'"{rule}"' not in text] == []


def test_level_label_written_on_every_row_is_one_group(tmp_path: Path) -> None:
    path = workbook(tmp_path / "rows_2022.xlsx", {"Sheet1": [national_project(Project())]})
    wb = openpyxl.load_workbook(path)
    ws = wb["Sheet1"]
    for rng in [r for r in ws.merged_cells.ranges if r.min_col == 2 and r.min_row >= 14]:
        ws.unmerge_cells(str(rng))
        for row in range(rng.min_row + 1, rng.max_row + 1):
            ws.cell(row, 2, ws.cell(rng.min_row, 2).value)
    wb.save(path)
    assert load_submission(path).projects[0].indicators[1].cells["level1_name"].cells == ("B15",)
    assert run(path).findings == []  # 产出指标(50分) on each row: still one group of 50


@pytest.mark.parametrize("edition", ["a3_national", "a3_sichuan", "a2_chongqing", "a1_hunan2018", "a2_hunan2018"])
def test_template_of_an_edition_reads_back_as_that_edition(edition: str, tmp_path: Path) -> None:
    from pipeline.read.grid import read_grid
    from pipeline.read.labels import SheetIndex
    from pipeline.read.titles import choose_edition, find_titles
    from pipeline.report.template import write_template

    path = write_template(tmp_path / "模板_2023.xlsx", year=2023, editions=[edition])
    chosen = []
    for sheet in read_grid(path).sheets:
        index = SheetIndex.build(sheet)
        for title in find_titles(sheet, index, load_editions()):
            form = choose_edition(title, SheetIndex.build(sheet, title.row), 2023)
            chosen.append(form.edition if form else None)
    kind = load_form(edition).id
    assert edition in chosen and chosen == [edition if k == kind else k for k in ("a1", "a2", "a3")]


def test_a_hunan_layout_under_another_editions_title_is_read_as_hunan(tmp_path: Path) -> None:
    path = tmp_path / "部门.xlsx"
    shutil.copy(SAMPLES / "岳阳市公共租赁房屋运营服务中心_2023.xlsx", path)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=3):
            for cell in row:
                if cell.value == "2023年度预算单位整体支出绩效自评表":
                    cell.value = "2023年度部门整体支出绩效自评表"  # the Chongqing edition's wording
    wb.save(path)
    assert [(d.form, d.edition) for d in load_submission(path).forms.values()] == [("a1", "a1"), ("a2", "a2")]
    assert [f.rule for f in run(path).findings if f.level == "error"] == ["A1.SUM.PUBLIC"]


def test_a_total_row_of_the_indicators_only(tmp_path: Path) -> None:
    clean = workbook(
        tmp_path / "90.xlsx", {"Sheet1": [sichuan_project(SichuanProject(total_weight=90, total_score=88))]}
    )
    assert run(clean).findings == []  # 合计 90 / 88: the indicator table alone, execution apart
    wrong = workbook(
        tmp_path / "90b.xlsx", {"Sheet1": [sichuan_project(SichuanProject(total_weight=90, total_score=90))]}
    )
    assert [f.rule for f in run(wrong).findings] == ["A3.SUM.SCORE_IND"]


def test_a_table_that_lost_its_title_is_read_by_its_labels(tmp_path: Path) -> None:
    path = workbook(tmp_path / "无标题_2022.xlsx", {"Sheet1": [national_project(Project())]})
    wb = openpyxl.load_workbook(path)
    ws = wb["Sheet1"]
    for ref in ("A1", "A2", "A3"):
        ws[ref] = None  # 附件, the title and the year row gone: the table starts at 项目名称
    wb.save(path)
    sub = load_submission(path)
    assert [(d.edition, d.titled, d.year, d.year_source) for d in sub.projects] == [
        ("a3_national", False, 2022, "文件名")
    ]
    assert sorted(f.rule for f in run(path).findings) == ["GEN.NOTITLE", "GEN.YEAR"]
    words = workbook(tmp_path / "说明.xlsx", {"Sheet1": [national_project(Project())]})
    wb = openpyxl.load_workbook(words)
    notes = wb.create_sheet("填表说明")
    for row, text in enumerate(
        ["1.项目名称填写项目全称。", "2.主管部门填写一级预算单位。", "3.年初预算数按批复填写。"], 1
    ):
        notes.cell(row, 1, text)
    wb.save(words)
    assert [f.rule for f in run(words).findings] == ["GEN.UNREAD"]  # a sheet of words is not a table


def test_an_indicator_filed_under_the_wrong_level1(tmp_path: Path) -> None:
    p = Project()
    effect, satisfaction = p.indicators[4], p.indicators[5]
    p.indicators[4] = ("效益指标(30分)", *satisfaction[1:])  # the 满意度 row filed under 效益
    p.indicators[5] = ("满意度指标(10分)", *effect[1:])  # and the other way round
    path = workbook(tmp_path / "cat_2022.xlsx", {"Sheet1": [national_project(p)]})
    found = [(f.rule, f.cells) for f in run(path).findings if f.rule == "IND.CATEGORY"]
    assert found == [("IND.CATEGORY", ("C18",)), ("IND.CATEGORY", ("C19",))]


def test_an_indicator_warning_shows_the_units_own_reason(tmp_path: Path) -> None:
    p = Project()
    p.indicators[0] = ("产出指标(50分)", "数量指标", "维护道路里程", "≥50公里", "40", "20", "20", "雨季停工两个月")
    path = workbook(tmp_path / "reason_2022.xlsx", {"Sheet1": [national_project(p)]})
    [scoring] = [f for f in run(path).findings if f.rule == "IND.SCORING"]
    assert scoring.message.endswith("（单位填写的偏差原因：雨季停工两个月）")


def test_prompt_texts_are_the_templates_not_a_units_own_words() -> None:
    from pipeline.read.points import is_prompt

    assert is_prompt("对照年度目标,说明年度目标完成情况(100字以内)")
    assert is_prompt("请填写项目名称")
    assert not is_prompt("现说明未完成原因如下：雨季停工两个月")
    assert not is_prompt("完成城区主次干道日常维护 50 公里")


def test_a_refusal_names_a_few_titles_not_all(tmp_path: Path) -> None:
    def tables(s):  # type: ignore[no-untyped-def]
        for n in range(8):
            s.put(1 + n * 3, 1, f"第{n + 1}号资产明细表")
            s.put(2 + n * 3, 1, "资产")
            s.put(2 + n * 3, 2, 100)

    path = workbook(tmp_path / "many.xlsx", {"Sheet1": [tables]})
    with pytest.raises(RejectedFile) as caught:
        load_submission(path)
    assert "“第5号资产明细表” 等 8 个" in caught.value.reason and "第6号" not in caught.value.reason
