"""The annotated workbook, read back with openpyxl: summary sheet, copies, fills, comments, styles."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Alignment, Border, Color, Font, PatternFill, Side

from pipeline.errors import OutputError
from pipeline.model import Finding, Grid, Result, cell_ref
from pipeline.read.grid import read_grid
from pipeline.report.annotate import write_annotated
from pipeline.report.comments import comment_block, difference
from pipeline.report.styles import colour, is_date_format, read_styles

AT = datetime(2024, 6, 1, 9, 30)
THIN = Side(style="thin")
MEDIUM = Side(style="medium", color="FF0000FF")

ERROR_C5 = Finding(
    "A1.SUM.PUBLIC", "error", "附件1", ("C5", "C3", "C4"), "公用经费合计不等于各项之和", "64.70", "64.73"
)
WARNING_C7 = Finding("A1.TEXT.BLANK", "warning", "附件1", ("C7",), "厉行节约保障措施未填写")
WARNING_D5 = Finding("A1.PLAUSIBLE.OVER", "warning", "附件1", ("D5",), "公用经费决算大于预算", "≤ 68.4", "70")
ERROR_D5 = Finding("A1.REQUIRED", "error", "附件1", ("D5",), "必填项未填写")
MISSING_A2 = Finding("FILE.MISSING_A2", "error", "附件2", (), "未找到附件2 整体支出绩效自评表")
BEYOND = Finding("A1.FAR", "warning", "附件1", ("Z40",), "用过的区域之外")
FINDINGS = [WARNING_C7, ERROR_C5, WARNING_D5, ERROR_D5, MISSING_A2, BEYOND]


def make_source(path: Path) -> Path:
    """A small submitted workbook with the look a real form has."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件1"
    ws["A1"] = "2023年度预算单位整体支出绩效评价基础数据表"
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells("A1:E1")
    for row in range(3, 8):
        for col in range(1, 6):
            ws.cell(row, col).border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    ws["A3"], ws["C3"], ws["C4"] = "办公经费", 59.54, 4.5
    ws["B5"], ws["C5"] = "公用经费", 64.73
    ws["C5"].number_format = "0.00"
    ws["C5"].font = Font(name="仿宋", size=12, bold=True, italic=True, color="FF112233")
    ws["C5"].border = Border(left=MEDIUM, right=THIN, top=THIN, bottom=THIN)
    ws["C5"].alignment = Alignment(horizontal="right", vertical="top", wrap_text=True)
    ws["A6"].fill = PatternFill("solid", fgColor="FFDDEEFF")
    ws["B7"] = "合并的说明"
    ws.merge_cells("B7:D7")
    ws["E5"] = date(2024, 5, 28)
    ws["E5"].number_format = "yyyy/m/d"
    ws["E6"] = date(2024, 5, 29)  # no date format in the source: the copy must still show a date
    formula_text = ws["A9"]
    formula_text.value = '=HYPERLINK("http://evil.example","点我")'
    formula_text.data_type = "s"  # typed as text by the unit: must stay text
    ws["A10"], ws["A11"], ws["A12"] = "http://x", "+1", "@SUM(A1)"
    ws["B12"], ws["C12"] = True, 40
    ws.column_dimensions["C"].width = 18
    ws.row_dimensions[5].height = 30
    wb.create_sheet("Sheet2")["A1"] = "第二张表"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, openpyxl.Workbook]:
    folder = tmp_path_factory.mktemp("annotate")
    source = make_source(folder / "unit.xlsx")
    grid = read_grid(source)
    result = Result(file=source, findings=list(FINDINGS))
    out = write_annotated(result, grid, folder / "unit_审核结果.xlsx", checked_at=AT)
    return out, openpyxl.load_workbook(out)


def summary_rows(wb: openpyxl.Workbook) -> tuple[int, list[tuple]]:
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "序号")
    return header + 1, [row for row in rows[header + 1 :] if row[0] is not None]


def test_sheet_order_and_names(written: tuple[Path, openpyxl.Workbook]) -> None:
    out, wb = written
    assert wb.sheetnames == ["审核结果", "附件1", "Sheet2"]
    assert out.name == "unit_审核结果.xlsx"
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_summary_header_block(written: tuple[Path, openpyxl.Workbook]) -> None:
    ws = written[1]["审核结果"]
    assert ws["A1"].value == "绩效自评审核结果"
    block = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, 10) if ws.cell(r, 1).value}
    assert block["文件："] == "unit.xlsx"
    assert block["审核结论："] == "有错误"
    assert (block["错误数："], block["提示数："]) == (3, 3)
    assert block["审核时间："] == "2024-06-01 09:30"
    status = next(ws.cell(r, 3) for r in range(2, 10) if ws.cell(r, 1).value == "审核结论：")
    assert status.fill.fgColor.rgb == "FFFFC7CE"


def test_summary_table_errors_first_with_links(written: tuple[Path, openpyxl.Workbook]) -> None:
    wb = written[1]
    first, rows = summary_rows(wb)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (1, "错误", "A1.SUM.PUBLIC", "附件1", "附件1!C5"),
        (2, "错误", "A1.REQUIRED", "附件1", "附件1!D5"),
        (3, "错误", "FILE.MISSING_A2", "附件2", "—"),
        (4, "提示", "A1.TEXT.BLANK", "附件1", "附件1!C7"),
        (5, "提示", "A1.PLAUSIBLE.OVER", "附件1", "附件1!D5"),
        (6, "提示", "A1.FAR", "附件1", "附件1!Z40"),
    ]
    assert rows[0][5:] == ("公用经费合计不等于各项之和", "64.70", "64.73", "")
    ws = wb["审核结果"]
    explain = [ws.cell(first, 9).value, ws.cell(first + 4, 9), ws.cell(first + 1, 9)]
    assert explain[0] == "单位说明"
    assert (explain[1].protection.locked, explain[1].alignment.wrap_text) == (False, True)  # a warning row
    assert (explain[1].fill.fgColor.rgb, explain[2].fill.fgColor.rgb) == ("FFFFF9E5", "00000000")
    assert ws.cell(first + 1, 5).hyperlink.location == "'附件1'!C5"
    assert ws.cell(first + 3, 5).hyperlink is None  # 附件2 is not in the workbook
    assert ws.cell(first + 1, 2).fill.fgColor.rgb == "FFFFC7CE"
    assert ws.cell(first + 4, 2).fill.fgColor.rgb == "FFFFEB9C"
    assert ws.auto_filter.ref == f"A{first}:I{first + len(rows)}"
    assert ws.freeze_panes == f"A{first + 1}"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9


def test_error_cell_filled_keeps_its_look_and_has_comment(written: tuple[Path, openpyxl.Workbook]) -> None:
    cell = written[1]["附件1"]["C5"]
    assert cell.value == 64.73
    assert cell.fill.fgColor.rgb == "FFFFC7CE"
    assert cell.font.color.rgb == "FF9C0006"
    assert (cell.font.name, cell.font.sz, cell.font.b, cell.font.i) == ("仿宋", 12, True, True)
    assert cell.number_format == "0.00"
    assert (cell.border.left.style, cell.border.left.color.rgb, cell.border.top.style) == ("medium", "FF0000FF", "thin")
    assert (cell.alignment.horizontal, cell.alignment.vertical, cell.alignment.wrap_text) == ("right", "top", True)
    assert cell.comment.author == "jixiao"
    assert cell.comment.text == (
        "【错误】规则 A1.SUM.PUBLIC\n公用经费合计不等于各项之和\n期望值：64.70\n实际值：64.73\n相差：0.03\n"
        "涉及单元格：C3、C4"
    )


def test_parts_get_a_dashed_frame_and_no_fill(written: tuple[Path, openpyxl.Workbook]) -> None:
    ws = written[1]["附件1"]
    for ref in ("C3", "C4"):
        assert ws[ref].border.left.style == "mediumDashed" and ws[ref].border.left.color.rgb == "FFC00000"
        assert ws[ref].fill.fill_type is None
        assert ws[ref].comment is None


def test_warning_on_merged_cell_lands_on_its_anchor(written: tuple[Path, openpyxl.Workbook]) -> None:
    ws = written[1]["附件1"]
    assert ws["B7"].fill.fgColor.rgb == "FFFFEB9C"
    assert ws["B7"].comment.text.startswith("【提示】规则 A1.TEXT.BLANK\n厉行节约保障措施未填写")
    assert ws["B7"].value == "合并的说明"


def test_error_wins_and_comment_lists_every_finding(written: tuple[Path, openpyxl.Workbook]) -> None:
    cell = written[1]["附件1"]["D5"]
    assert cell.fill.fgColor.rgb == "FFFFC7CE"
    assert cell.comment.text == (
        "【错误】规则 A1.REQUIRED\n必填项未填写\n\n"
        "【提示】规则 A1.PLAUSIBLE.OVER\n公用经费决算大于预算\n期望值：≤ 68.4\n实际值：70"
    )


def test_finding_beyond_the_used_area_is_still_marked(written: tuple[Path, openpyxl.Workbook]) -> None:
    cell = written[1]["附件1"]["Z40"]
    assert cell.value is None
    assert cell.fill.fgColor.rgb == "FFFFEB9C"
    assert cell.comment.text.startswith("【提示】规则 A1.FAR")


def test_copy_keeps_values_merges_and_dimensions(written: tuple[Path, openpyxl.Workbook]) -> None:
    ws = written[1]["附件1"]
    assert sorted(str(r) for r in ws.merged_cells.ranges) == ["A1:E1", "B7:D7"]
    assert ws["A1"].value == "2023年度预算单位整体支出绩效评价基础数据表"
    assert (ws["A1"].font.name, ws["A1"].font.sz, ws["A1"].font.b) == ("宋体", 16, True)
    assert ws["A1"].alignment.horizontal == "center"
    assert ws["A3"].border.bottom.style == "thin"
    assert ws["A6"].fill.fgColor.rgb == "FFDDEEFF"
    assert ws.column_dimensions["C"].width == pytest.approx(18, abs=0.1)
    assert ws.row_dimensions[5].height == 30
    assert ws["E5"].value == datetime(2024, 5, 28) and ws["E5"].number_format == "yyyy/m/d"
    assert ws["E6"].is_date and ws["E6"].number_format == "yyyy-mm-dd"
    assert (ws["B12"].value, ws["C12"].value) == (True, 40)
    assert written[1]["Sheet2"]["A1"].value == "第二张表"


def test_typed_text_never_becomes_a_formula_or_link(written: tuple[Path, openpyxl.Workbook]) -> None:
    ws = written[1]["附件1"]
    for ref, text in [
        ("A9", '=HYPERLINK("http://evil.example","点我")'),
        ("A10", "http://x"),
        ("A11", "+1"),
        ("A12", "@SUM(A1)"),
    ]:
        assert (ws[ref].value, ws[ref].data_type) == (text, "s")
        assert ws[ref].hyperlink is None
    assert ws._hyperlinks == []


def test_rejected_result_writes_only_the_summary(tmp_path: Path) -> None:
    reason = Finding("FILE.ENCRYPTED", "error", "", (), "文件已加密，请取消密码后重新提交")
    result = Result(file=tmp_path / "locked.xlsx", findings=[reason], rejected=True)
    out = write_annotated(result, None, tmp_path / "locked_审核结果.xlsx", checked_at=AT)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["审核结果"]
    ws = wb.active
    block = {ws.cell(r, 1).value: ws.cell(r, 3) for r in range(2, 10) if ws.cell(r, 1).value}
    assert block["审核结论："].value == "退回"
    assert block["审核结论："].fill.fgColor.rgb == "FFD9D9D9"
    assert block["退回原因："].value == "文件已加密，请取消密码后重新提交"


def test_sheet_named_like_the_summary_keeps_its_name(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "审核结果"
    wb.active["B2"] = 1
    wb.save(tmp_path / "odd.xlsx")
    grid = read_grid(tmp_path / "odd.xlsx")
    result = Result(file=grid.path, findings=[Finding("X.Y", "error", "审核结果", ("B2",), "示例")])
    out = openpyxl.load_workbook(write_annotated(result, grid, tmp_path / "odd_审核结果.xlsx"))
    assert out.sheetnames == ["审核结果_jixiao", "审核结果"]
    first, rows = summary_rows(out)
    assert out.worksheets[0].cell(first + 1, 5).hyperlink.location == "'审核结果'!B2"
    assert out["审核结果"]["B2"].fill.fgColor.rgb == "FFFFC7CE"
    assert len(rows) == 1


def test_no_findings_says_so(tmp_path: Path) -> None:
    source = make_source(tmp_path / "clean.xlsx")
    out = write_annotated(Result(file=source, findings=[]), read_grid(source), tmp_path / "clean_审核结果.xlsx")
    _, rows = summary_rows(openpyxl.load_workbook(out))
    assert rows == [("未发现问题", *[None] * 8)]


def test_unwritable_destination_raises_output_error(tmp_path: Path) -> None:
    result = Result(file=tmp_path / "x.xlsx", findings=[])
    with pytest.raises(OutputError, match="无法写入审核结果文件"):
        write_annotated(result, None, tmp_path / "missing" / "x_审核结果.xlsx")


def test_unreadable_styles_fall_back_to_values(tmp_path: Path) -> None:
    source = make_source(tmp_path / "unit.xlsx")
    grid = read_grid(source)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert read_styles(broken) is None
    grid = Grid(path=broken, fmt="xlsx", sheets=grid.sheets)
    out = write_annotated(Result(file=source, findings=[ERROR_C5]), grid, tmp_path / "b_审核结果.xlsx")
    ws = openpyxl.load_workbook(out)["附件1"]
    assert ws["C5"].value == 64.73 and ws["C5"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["A3"].border.left.style == "thin"  # the default grid of a sheet whose look is unknown


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_xls_ods_source_gets_values_merges_and_default_grid(tmp_path: Path, fmt: str) -> None:
    source = make_source(tmp_path / "unit.xlsx")
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            fmt,
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    grid = read_grid(tmp_path / f"unit.{fmt}")
    out = write_annotated(Result(file=grid.path, findings=FINDINGS), grid, tmp_path / "unit_审核结果.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["审核结果", "附件1", "Sheet2"]
    ws = wb["附件1"]
    # python-calamine reports no merged ranges for .ods (grid.py's limit): the copy has what the grid has
    expected = ["A1:E1", "B7:D7"] if fmt == "xls" else []
    assert (
        sorted(str(r) for r in ws.merged_cells.ranges)
        == expected
        == [f"{cell_ref(r0, c0)}:{cell_ref(r1, c1)}" for r0, c0, r1, c1 in sorted(grid.sheets[0].merged)]
    )
    assert ws["C5"].value == 64.73 and ws["C5"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["B7" if expected else "C7"].fill.fgColor.rgb == "FFFFEB9C"  # a merged cell: on its anchor
    assert (ws["A9"].value, ws["A9"].data_type) == ('=HYPERLINK("http://evil.example","点我")', "s")
    assert ws["E5"].is_date
    assert ws["B3"].border.top.style == "thin"
    if fmt == "xls":
        assert (ws["A1"].font.b, ws["A1"].alignment.horizontal) == (True, "center")  # the merged title row
    assert ws.column_dimensions["B"].width > 6


def test_difference_only_between_numbers() -> None:
    assert difference("64.70", "64.73") == "0.03"
    assert difference("1,323.28", "1323.00") == "-0.28"
    assert difference("87.5%", "90.0%") == "2.5%"
    assert difference("87.5%", "90") is None
    assert difference("≤ 68.4", "70") is None
    assert difference("64.70", "64.70") is None
    assert difference(None, "1") is None


def test_comment_block_without_values() -> None:
    assert comment_block(MISSING_A2) == "【错误】规则 FILE.MISSING_A2\n未找到附件2 整体支出绩效自评表"


def test_theme_and_indexed_colours() -> None:
    theme = ["FFFFFF", "000000"]
    assert colour(Color(theme=0, tint=-0.1499984740745262), theme, []) == "#D9D9D9"
    assert colour(Color(theme=1), theme, []) == "#000000"
    assert colour(Color(indexed=10), theme, ["FF000000"] * 10 + ["FFFF0000"]) == "#FF0000"
    assert colour(Color(indexed=64), theme, ["FF000000"] * 66) is None
    assert colour(Color(rgb="FF1F4E78"), theme, []) == "#1F4E78"
    assert colour(Color(auto=True), theme, []) is None


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
ODD_PARTS = {
    "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
    f'Type="{RELS}/officeDocument"/></Relationships>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Target="/xl/worksheets/sheet1.xml" Type="{RELS}/worksheet"/>'
    f'<Relationship Id="rId2" Target="styles.xml" Type="{RELS}/styles"/></Relationships>',
    "xl/workbook.xml": f'<x:workbook xmlns:x="{MAIN}" xmlns:rel="{RELS}"><x:sheets>'
    '<x:sheet name="表A" sheetId="1" rel:id="rId1"/></x:sheets></x:workbook>',
    "xl/styles.xml": f'<x:styleSheet xmlns:x="{MAIN}">'
    '<x:numFmts><x:numFmt numFmtId="176" formatCode="0.000_ "/></x:numFmts>'
    '<x:fonts><x:font><x:sz val="11"/><x:name val="宋体"/></x:font>'
    '<x:font><x:b val="0"/><x:i/><x:u val="double"/><x:sz val="9"/><x:color theme="1"/><x:name val="黑体"/></x:font>'
    "</x:fonts>"
    '<x:fills><x:fill><x:patternFill patternType="none"/></x:fill>'
    '<x:fill><x:patternFill patternType="solid"><x:fgColor theme="0" tint="-0.1499984740745262"/>'
    "</x:patternFill></x:fill></x:fills>"
    '<x:borders><x:border/><x:border><x:left style="thin"><x:color indexed="10"/></x:left>'
    '<x:bottom style="double"><x:color rgb="FF00B050"/></x:bottom></x:border></x:borders>'
    '<x:cellStyleXfs><x:xf fontId="1" fillId="1"/></x:cellStyleXfs>'
    '<x:cellXfs><x:xf numFmtId="0" fontId="0"/>'
    '<x:xf numFmtId="176" fontId="1" fillId="1" borderId="1"><x:alignment horizontal="centerContinuous" '
    'vertical="center" wrapText="1" textRotation="255"/></x:xf><x:xf numFmtId="14"/></x:cellXfs>'
    '<x:dxfs><x:dxf><x:font><x:b/></x:font><x:fill><x:patternFill><x:bgColor rgb="FFFF0000"/></x:patternFill>'
    "</x:fill></x:dxf></x:dxfs></x:styleSheet>",
    "xl/worksheets/sheet1.xml": f'<x:worksheet xmlns:x="{MAIN}"><x:sheetFormatPr defaultColWidth="12"/>'
    '<x:cols><x:col min="2" max="3" width="20.5" customWidth="1"/><x:col min="4" max="4" width="9" hidden="1"/>'
    '</x:cols><x:sheetData><x:row r="2" ht="25" customHeight="1"><x:c r="B2" s="1"><x:v>1</x:v></x:c>'
    '<x:c s="2"><x:v>45000</x:v></x:c></x:row><x:row ht="40" hidden="1"><x:c r="A3" s="1"/></x:row>'
    '</x:sheetData><x:pageSetup orientation="landscape"/></x:worksheet>',
}


def test_read_styles_of_a_prefixed_package(tmp_path: Path) -> None:
    """Prefixed elements, absolute targets, dxfs and cellStyleXfs, no theme part, hidden row and column."""
    path = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, xml in ODD_PARTS.items():
            archive.writestr(name, xml)
    look = read_styles(path)
    assert look is not None
    sheet = look.sheets["表A"]
    assert sheet.cells == {(1, 1): 1, (1, 2): 2, (2, 0): 1}
    assert sheet.columns == [(1, 2, 20.5)]
    assert (sheet.row_heights, sheet.default_col_width, sheet.landscape) == ({1: 25.0}, 12.0, True)
    assert look.styles[0] == {"font_name": "宋体", "font_size": 11.0, "valign": "bottom"}
    assert look.styles[1] == {
        "font_name": "黑体",
        "font_size": 9.0,
        "italic": True,
        "underline": 2,
        "font_color": "#000000",
        "pattern": 1,
        "bg_color": "#D9D9D9",
        "left": 1,
        "left_color": "#FF0000",
        "bottom": 6,
        "bottom_color": "#00B050",
        "num_format": "0.000_ ",
        "align": "center_across",
        "valign": "vcenter",
        "text_wrap": True,
        "rotation": 270,
    }
    assert look.styles[2]["num_format"] == 14 and is_date_format(14)


def test_date_formats() -> None:
    assert is_date_format("yyyy/m/d") and is_date_format("[$-804]yyyy年m月d日") and is_date_format("h:mm")
    assert not is_date_format("0.00_ ") and not is_date_format("General") and not is_date_format('0"天"')
    assert not is_date_format(2) and is_date_format(58)
