"""附件4 自评报告: figures stated in prose checked against the unit's own tables, through real files
(a .docx built from the reference report's text, checked with the reference workbook)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import docx
import pytest

from pipeline.check import check_files
from pipeline.model import Finding, Report
from pipeline.read.report_text import read_report
from pipeline.rules.statements import clean, figures

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TEXT = Path("/work/shared/reference/000_4a10ef3bb9586782.txt")
WORKBOOK = ROOT / "sample_inputs" / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"

#: The reference's 附件4 as its unit wrote it (shared/reference holds the text of the real submission),
#: abridged to the paragraphs that state figures and the headings around them.
REPORT = [
    "2023年度岳阳楼区岳阳市公共租赁房屋运营服务中心整体支出绩效自评报告",
    "一、单位基本情况",
    "岳阳市公共租赁房屋运营服务中心为区政府所属正科级公益一类事业单位。根据相关文件，我中心为：主任1名，"
    "副主任3名，核定事业编制为40名。目前我中心在岗在编人员35名，临聘人员6人。",
    "单位内设股室(根据岳编办通〔2011〕154号文件)9个：办公室、房屋管理股、工程股、财务股。",
    "二、一般公共预算支出情况",
    "(一)基本支出情况",
    "2023年本单位基本支出586.92万元。其中，其他城乡社区支出493.32万元，住房公积金支出39.57万元，"
    "机关事业单位基本养老保险缴费支出52.4万元，财政对工伤保险基金的补助1.63万元。",
    "(二)项目支出情况",
    "2023年度本单位项目支出736.36万元，其中，其他城乡社区支出583.25万元，财政对工伤保险基金的补助0.6万元，"
    "其他卫生健康支出1.88万元，其他支出104.89万元，其他城乡社区管理事务支出36.4万元，重大公共卫生服务支出9.34万元。",
    "六、部门整体支出绩效情况",
    "截止2023年11月底，已完成租金收缴约690余万元，完成全年任务。",
    "截止2023年10月底，共收回往年欠租42.3万元，腾退住房20套(含起诉腾退4套)。",
    "七、存在的问题及原因分析",
    "1.公用经费执行率95%,原因是预算编制结构欠合理。",
]


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def report_findings(tmp_path: Path, paragraphs: list[str]) -> list[Finding]:
    shutil.copy(WORKBOOK, tmp_path / WORKBOOK.name)
    report = write_docx(tmp_path / "岳阳市公共租赁房屋运营服务中心_自评报告.docx", paragraphs)
    results = check_files([tmp_path / WORKBOOK.name, report])
    assert [r.file.name for r in results] == [WORKBOOK.name]  # the report is checked with its workbook
    assert results[0].submission is not None and results[0].submission.report is not None
    return [f for f in results[0].findings if f.rule.startswith(("RPT.", "TXT."))]


def test_report_text_matches_the_reference_source() -> None:
    if not REFERENCE_TEXT.is_file():
        pytest.skip("shared/reference is not part of this checkout")
    source = re.sub(r"\s+", "", REFERENCE_TEXT.read_text(encoding="utf-8"))
    for paragraph in REPORT[2:]:
        for figure in re.findall(r"\d+(?:\.\d+)?(?:万元|名|%)", paragraph):
            assert figure in source


def test_every_figure_of_the_reference_is_tied_to_its_point() -> None:
    tied = {
        (f.written, f.point) for n, p in enumerate(REPORT, start=1) for f in figures(clean(p), n) if f.point is not None
    }
    assert tied == {
        ("40名", "a1.staff_quota"),
        ("35名", "a1.staff_actual"),
        ("586.92万元", "a2.spend.basic"),
        ("736.36万元", "a2.spend.project"),
        ("95%", "a1.public.actual / a1.public.budget"),
    }


def test_the_reference_report_has_no_false_alarm(tmp_path: Path) -> None:
    # 95% holds for 64.73 / 68.40 = 94.6 %; both breakdowns add up; 约690余万元 is not compared
    assert report_findings(tmp_path, REPORT) == []


@pytest.mark.parametrize(
    ("old", "new", "rule", "paragraph"),
    [
        ("项目支出736.36万元", "项目支出763.36万元", "RPT.FIGURE", 9),  # a changed total (and then its breakdown)
        ("住房公积金支出39.57万元", "住房公积金支出93.57万元", "RPT.BREAKDOWN", 7),  # items do not add up
        ("基本支出586.92万元", "基本支出586.92元", "RPT.UNIT", 7),  # 万元 written as 元
        ("在岗在编人员35名", "在岗在编人员36名", "RPT.FIGURE", 3),  # a changed headcount
        ("公用经费执行率95%", "公用经费执行率85%", "RPT.FIGURE", 14),
    ],
)
def test_a_fault_in_the_prose_is_found_with_paragraph_and_sentence(
    tmp_path: Path, old: str, new: str, rule: str, paragraph: int
) -> None:
    changed = [p.replace(old, new) for p in REPORT]
    assert changed != REPORT
    found = [f for f in report_findings(tmp_path, changed) if f.rule == rule]
    assert found, [f.rule for f in report_findings(tmp_path, changed)]
    assert f"第{paragraph}段" in found[0].message
    assert new.replace("，", ",") in found[0].message or new in found[0].message  # the sentence is quoted
    assert found[0].sheet == "自评报告" and found[0].level == "warning"


def test_a_text_cell_listing_amounts_that_do_not_add_up(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / WORKBOOK.name
    shutil.copy(WORKBOOK, path)
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if any("整体支出绩效自评表" in str(c.value) for c in ws["A"][:3]))
    ws["B12"] = "全年安排资金1323.28万元，其中基本支出586.92万元、项目支出763.36万元。"
    wb.save(path)
    [finding] = [f for f in check_files([path])[0].findings if f.rule == "TXT.BREAKDOWN"]
    assert finding.cells == ("B12",) and "1350.28万元" in finding.message


def test_a_report_without_its_workbook_and_an_unreadable_one(tmp_path: Path) -> None:
    lone = write_docx(tmp_path / "某某单位_自评报告.docx", REPORT[:3])
    [result] = check_files([lone])
    assert [f.rule for f in result.findings] == ["RPT.ORPHAN"]
    scan = tmp_path / "岳阳市公共租赁房屋运营服务中心_报告.pdf"
    scan.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    assert read_report(scan).problem
    shutil.copy(WORKBOOK, tmp_path / WORKBOOK.name)
    [result] = check_files([tmp_path / WORKBOOK.name, scan])
    assert [f.rule for f in result.findings if f.rule.startswith("RPT.")] == ["RPT.UNREADABLE"]


def test_report_read_from_docx_keeps_paragraph_numbers(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "r.docx", ["", *REPORT[:3], "  "])
    report = read_report(path)
    assert isinstance(report, Report) and report.problem == ""
    assert report.paragraphs == REPORT[:3]


def test_a_missing_report_where_the_profile_requires_one(tmp_path: Path) -> None:
    import dataclasses

    from pipeline.forms import load_profile

    shutil.copy(WORKBOOK, tmp_path / WORKBOOK.name)
    profile = load_profile()
    required = dataclasses.replace(profile, params={**profile.params, "report_required": 1})
    [result] = check_files([tmp_path / WORKBOOK.name], profile=required)
    assert "RPT.MISSING" in [f.rule for f in result.findings]
    [result] = check_files([tmp_path / WORKBOOK.name], profile=profile)
    assert "RPT.MISSING" not in [f.rule for f in result.findings]


def test_every_report_rule_is_broken_here() -> None:
    from editions import REPORT_RULES

    text = Path(__file__).read_text(encoding="utf-8")
    assert [rule for rule in sorted(REPORT_RULES) if f'"{rule}"' not in text] == []


def test_a_folder_check_takes_the_report_not_our_own_rendered_results(tmp_path: Path) -> None:
    from pipeline.check import expand_paths

    shutil.copy(WORKBOOK, tmp_path / WORKBOOK.name)
    report = write_docx(tmp_path / "岳阳市公共租赁房屋运营服务中心_自评报告.docx", REPORT)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "岳阳市公共租赁房屋运营服务中心_2023_审核结果.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert expand_paths([tmp_path]) == [tmp_path / WORKBOOK.name, report]


def test_synthetic_reports_are_all_found_and_clean_ones_raise_nothing(tmp_path: Path) -> None:
    from pipeline.synth.reports import evaluate, write_reports

    clean = ["翠屏区疾病预防控制中心_2023.xlsx", "松涛区水利工程管理站_2023.xlsx", "金沙县文化馆_2023.xlsx"]
    workbooks = [Path(shutil.copy(ROOT / "sample_inputs" / name, tmp_path / name)) for name in clean]
    seen: dict[str, list[tuple[str, str]]] = {}
    faults = set()
    for seed in range(4):
        key = write_reports(workbooks, tmp_path, seed=seed, fault_rate=0.7)
        pairs = [p for name, info in key["reports"].items() for p in (tmp_path / info["workbook"], tmp_path / name)]
        seen = {r.file.name: [(f.rule, f.message) for f in r.findings] for r in check_files(pairs)}
        score = evaluate(key, seen)
        assert (score["recall"], score["false_alarms"], score["missed"]) == (1.0, 0, [])
        faults |= {info["fault"] for info in key["reports"].values()}
    assert faults - {None} == {"total", "breakdown", "yuan", "headcount"}  # the seeds above inject every kind


def test_a_report_that_is_a_zip_bomb_is_not_opened(tmp_path: Path) -> None:
    import zipfile

    bomb = tmp_path / "岳阳市公共租赁房屋运营服务中心_报告.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    report = read_report(bomb)
    assert report.paragraphs == [] and "压缩炸弹" in report.problem
