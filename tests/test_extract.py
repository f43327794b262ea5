"""Reading real submissions: every variation units produce reads to the same points.

Fixtures are the committed sample inputs (named for what they exercise) plus grids and workbooks
derived from them in the tests: rows inserted, tables moved, labels written differently.
"""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline.check import check_files, load_submission
from pipeline.model import Grid, SheetGrid, Submission
from pipeline.read.extract import extract
from pipeline.read.grid import read_grid
from pipeline.report.filling import IndicatorRow
from tests.builders import CLEAN_UNIT, REFERENCE_UNIT, sample_filling, write

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
REFERENCE = SAMPLES / f"{REFERENCE_UNIT}_2023.xlsx"
TEXT_NUMBERS = SAMPLES / "金沙县文化馆_2023.xlsx"  # text numbers, renamed/reordered sheets, moved tables
SPECIAL_ROWS = SAMPLES / "松涛区水利工程管理站_2023.xlsx"  # rows inserted under 区级专项资金 / 上级转移支付
LEGACY_XLS = SAMPLES / "临湖县图书馆_2023.xls"
PROJECTS = SAMPLES / f"{CLEAN_UNIT}_2023.xlsx"


def values(sub: Submission, form: str) -> dict[str, object]:
    return {k: p.value for k, p in sub.forms[form].points.items()}


@pytest.fixture(scope="module")
def reference() -> Submission:
    return load_submission(REFERENCE)


def test_reference_reads_every_figure_as_filed(reference: Submission) -> None:
    a1, a2 = values(reference, "a1"), values(reference, "a2")
    assert reference.unit == REFERENCE_UNIT and reference.year == 2023
    assert (a1["a1.staff_quota"], a1["a1.staff_actual"], a1["a1.staff_rate"]) == (40.0, 35.0, 0.875)
    assert (a1["a1.public.prev"], a1["a1.public.budget"], a1["a1.public.actual"]) == (78.77, 68.4, 64.73)
    assert a1["a1.project.prev"] is None and a1["a1.project.actual"] == 736.36
    assert a1["a1.date"] == date(2024, 5, 28)
    # values written inside the label cells: 其中：一般公共预算：1208.74
    assert (a2["a2.income.general"], a2["a2.income.other"], a2["a2.income.fund"]) == (1208.74, 114.54, None)
    assert (a2["a2.spend.basic"], a2["a2.spend.project"]) == (586.92, 736.36)
    assert (a2["a2.total.budget"], a2["a2.total.rate"], a2["a2.sum.score"]) == (1323.28, 1.0, 98.0)
    assert reference.projects == []  # 附件3 left as "/" means no project


def test_reference_indicators_keep_what_was_written(reference: Submission) -> None:
    rows = [
        (
            i.level1,
            i.level2,
            i.cells["name"].value,
            i.cells["target"].value,
            i.cells["actual"].value,
            i.cells["weight"].value,
            i.cells["score"].value,
        )
        for i in reference.forms["a2"].indicators
    ]
    assert rows[0] == ("output", "数量指标", "租金收缴金额", "670万元", "703万元", 20.0, 20.0)
    assert rows[3][1:] == ("成本指标", "公用经费使用情况", "68.4万元", "64.7万元", 10.0, 8.0)
    assert rows[-1] == ("satisfaction", "服务对象满意度指标", "社会公众满意度", "≥90%", "≥90%", 10.0, 10.0)
    assert [r[0] for r in rows].count("effect") == 2 and len(rows) == 7


def test_every_value_keeps_its_sheet_and_cell(reference: Submission) -> None:
    public = reference.forms["a1"].points["a1.public.actual"]
    grid = read_grid(REFERENCE)
    sheet = next(s for s in grid.sheets if s.name == public.sheet)
    from pipeline.model import parse_ref

    r, c = parse_ref(public.cells[0])
    assert sheet.value(r, c) == 64.73
    for data in reference.forms.values():
        for key, point in data.points.items():
            assert point.sheet == data.sheet, key
            if point.filled:
                assert point.cells, key


def test_decimals_written_are_kept(reference: Submission) -> None:
    a1 = reference.forms["a1"].points
    assert a1["a1.public.actual"].decimals == 2
    assert a1["a1.staff_rate"].decimals == 3  # 87.5 % → ±0.05 percentage points
    assert a1["a1.staff_quota"].tolerance == 0.0  # headcounts are exact


def test_text_numbers_moved_tables_and_renamed_sheets_read_the_same() -> None:
    sub = load_submission(TEXT_NUMBERS)
    assert sorted(d.sheet for d in sub.forms.values()) == ["Sheet1", "Sheet2"]
    assert sub.forms["a2"].sheet == "Sheet1"  # found by title, not by name or position
    a1 = sub.forms["a1"].points
    assert isinstance(a1["a1.staff_quota"].value, float) and a1["a1.staff_rate"].value == 0.875
    assert sub.forms["a1"].missing == [] and sub.forms["a2"].missing == []
    assert check_files([TEXT_NUMBERS])[0].status == "ok"


def test_inserted_special_fund_rows_count_in_project_spending() -> None:
    sub = load_submission(SPECIAL_ROWS)
    a1 = sub.forms["a1"].points
    special, transfer = a1["a1.special.actual"], a1["a1.transfer.actual"]
    assert len(special.cells) >= 2 and len(transfer.cells) >= 2  # the inserted rows are read
    parts = sum(a1[f"a1.{k}.actual"].value for k in ("business", "operation", "special", "transfer"))  # type: ignore[misc]
    assert parts == pytest.approx(a1["a1.project.actual"].value)
    assert check_files([SPECIAL_ROWS])[0].status == "ok"


def test_legacy_xls_reads_like_xlsx() -> None:
    sub = load_submission(LEGACY_XLS)
    assert set(sub.forms) == {"a1", "a2"} and sub.year == 2023
    assert check_files([LEGACY_XLS])[0].status == "ok"


def test_project_sheets_are_read_one_each() -> None:
    sub = load_submission(PROJECTS)
    assert len(sub.projects) == 2
    assert {p.points["a3.project_name"].value for p in sub.projects} == {"重大公共卫生服务项目", "免疫规划疫苗接种项目"}


def _insert_rows(grid: Grid, sheet_index: int, at: int, count: int = 1, *, cols: int = 0) -> Grid:
    """What a unit does in Excel: blank rows (or columns) inserted, merged ranges shifted."""
    grid = copy.deepcopy(grid)
    sheet = grid.sheets[sheet_index]
    width = sheet.n_cols
    rows = [list(r) for r in sheet.rows]
    rows[at:at] = [[""] * width for _ in range(count)]
    if cols:
        rows = [[""] * cols + r for r in rows]
    merged = [
        (r0 + (count if r0 >= at else 0), c0 + cols, r1 + (count if r1 >= at else 0), c1 + cols)
        for r0, c0, r1, c1 in sheet.merged
    ]
    grid.sheets[sheet_index] = SheetGrid(sheet.name, rows, merged)
    names = grid.names.get(sheet.name, {})  # Excel moves defined names with their cells
    grid.names[sheet.name] = {k: (r + (count if r >= at else 0), c + cols) for k, (r, c) in names.items()}
    return grid


@pytest.mark.parametrize(("at", "count", "cols"), [(0, 3, 0), (8, 1, 0), (20, 2, 0), (0, 0, 2), (15, 4, 1)])
def test_blank_rows_and_columns_inserted_anywhere_read_the_same(at: int, count: int, cols: int) -> None:
    grid = read_grid(REFERENCE)
    base = extract(grid)
    moved = extract(_insert_rows(grid, 0, at, count, cols=cols))
    assert values(moved, "a1") == values(base, "a1")
    assert values(moved, "a2") == values(base, "a2")


def test_labels_written_differently_still_match(tmp_path: Path) -> None:
    grid = read_grid(REFERENCE)
    sheet = grid.sheets[0]
    variants = {
        "三公经费": " 三 公 经 费 ",
        "政府采购金额": "政府采购金额：",
        "公用经费": "公用经费\n",
        "其中：办公经费": "（1）办公经费",
        "水费、电费、差旅费": "水费,电费,差旅费",
    }
    for r, row in enumerate(sheet.rows):
        for c, v in enumerate(row):
            if v in variants:
                sheet.rows[r][c] = variants[v]
    assert values(extract(grid), "a1") == values(load_submission(REFERENCE), "a1")


def test_many_indicator_rows_under_one_level2(tmp_path: Path) -> None:
    filling, layout = sample_filling(CLEAN_UNIT)
    extra = [IndicatorRow("output", "数量指标", f"新增指标{i}", "100%", "100%", 0, 0) for i in range(5)]
    filling.indicators[1:1] = extra
    sub = load_submission(write(tmp_path / "many.xlsx", filling, layout))
    names = [i.cells["name"].value for i in sub.forms["a2"].indicators]
    assert names.count("新增指标0") == 1 and len(names) == len(filling.indicators)


@pytest.mark.parametrize("blank", ["/", "-", "无", "", " ", "——"])
def test_not_filled_markers_read_as_blank(tmp_path: Path, blank: str) -> None:
    filling, layout = sample_filling(CLEAN_UNIT)
    filling.values["a1.frugality"] = blank
    filling.values["a1.abroad.prev"] = blank
    sub = load_submission(write(tmp_path / "blank.xlsx", filling, layout))
    assert sub.forms["a1"].points["a1.frugality"].value is None
    assert sub.forms["a1"].points["a1.abroad.prev"].value is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2024.5.28", date(2024, 5, 28)), ("2024年5月28日", date(2024, 5, 28)), ("2024-05-28", date(2024, 5, 28))],
)
def test_dates_as_units_write_them(tmp_path: Path, typed: str, expected: date) -> None:
    filling, layout = sample_filling(CLEAN_UNIT)
    filling.values["a1.date"] = typed
    sub = load_submission(write(tmp_path / "date.xlsx", filling, layout))
    assert sub.forms["a1"].points["a1.date"].value == expected


def test_value_beside_label_and_inside_label_read_alike(tmp_path: Path) -> None:
    filling, _ = sample_filling(CLEAN_UNIT)
    from pipeline.report.filling import Layout

    inside = load_submission(write(tmp_path / "inside.xlsx", filling, Layout(values_in_labels=True)))
    beside = load_submission(write(tmp_path / "beside.xlsx", filling, Layout()))
    keys = ("a2.income.general", "a2.income.other", "a2.spend.basic", "a2.spend.project")
    assert [inside.forms["a2"].points[k].value for k in keys] == [beside.forms["a2"].points[k].value for k in keys]


def test_ods_reads_like_xlsx(tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed: cannot make an .ods fixture")
    import subprocess

    subprocess.run(
        [soffice, "--headless", "--convert-to", "ods", "--outdir", str(tmp_path), str(REFERENCE)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ods = load_submission(tmp_path / REFERENCE.with_suffix(".ods").name)
    assert values(ods, "a1") == values(load_submission(REFERENCE), "a1")


def test_template_names_locate_inputs_whose_labels_were_edited(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "renamed_label.xlsx"
    shutil.copyfile(PROJECTS, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["附件1 基础数据表"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "政府采购金额":
                cell.value = "采购（按合同）"
    wb.save(path)
    grid = read_grid(path)
    assert grid.names["附件1 基础数据表"]["a1.procurement.actual"] == (21, 5)
    sub = extract(grid)
    assert sub.forms["a1"].points["a1.procurement.actual"].value == 362.4
    assert "政府采购金额" in sub.forms["a1"].missing  # still reported: the form was altered


def test_a_legacy_xls_renamed_xlsx_reads_by_its_content(tmp_path: Path) -> None:
    renamed = tmp_path / "改了扩展名.xlsx"
    shutil.copyfile(LEGACY_XLS, renamed)
    assert values(load_submission(renamed), "a1") == values(load_submission(LEGACY_XLS), "a1")
