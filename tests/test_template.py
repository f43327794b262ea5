"""The template writer and the sample inputs, checked by reading the workbooks back with openpyxl."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import settings
from pipeline.forms import for_year, load_form, load_forms
from pipeline.report.filling import Filling, IndicatorRow, indicator_total_key
from pipeline.report.template import build_templates, write_template, write_workbook
from pipeline.synth import samples

ROOT = Path(__file__).resolve().parent.parent


def names(ws: Worksheet) -> dict[str, str]:
    """Sheet-scoped defined names of `ws` → the coordinate they point at ("F18", "B30:I60")."""
    out: dict[str, str] = {}
    for name, dn in ws.defined_names.items():
        (sheet, coord), *_ = dn.destinations
        assert sheet == ws.title
        out[name] = coord.replace("$", "")
    return out


def value(ws: Worksheet, key: str) -> object:
    return ws[names(ws)[f"jx.{key}"]].value


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_template(tmp_path_factory.mktemp("t") / "t.xlsx", year=2023)
    return openpyxl.load_workbook(path)


@pytest.mark.parametrize("year", [2023, 2025])
def test_titles_and_headers_follow_the_year(tmp_path: Path, year: int) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", year=year))
    a1, a2, a3, explain = wb.worksheets
    assert explain.title == "审核说明"  # the sheet a unit may fill to explain warnings
    assert [a1["A2"].value, a2["A2"].value, a3["A2"].value] == [
        f"{year}年度预算单位整体支出绩效评价基础数据表",
        f"{year}年度预算单位整体支出绩效自评表",
        f"{year}年度项目支出绩效自评表",
    ]
    assert a1["A1"].value == "附件1"
    assert {"A2:G2"} <= {str(r) for r in a1.merged_cells.ranges}
    assert {"A2:I2"} <= {str(r) for r in a2.merged_cells.ranges}
    sangong = a1[names(a1)["jx.a1.sangong.prev"]]
    texts = [c.value for c in a1[sangong.row - 1] if c.value]
    assert texts == ["经费控制情况(万元)", f"{year - 1}年决算数", f"{year}年预算数", f"{year}年决算数"]
    side = a1.cell(a1[names(a1)["jx.a1.bld_area_approved"]].row - 1, 1).value  # merged over header + value
    assert side.replace("\n", "") == f"楼堂馆所控制情况({year - 1}年完工项目)"


def test_every_point_has_a_name_on_its_labelled_row(template: openpyxl.Workbook) -> None:
    forms = load_forms()
    for ws, form in zip(template.worksheets[:3], (forms["a1"], forms["a2"], forms["a3"]), strict=True):
        got = {n.removeprefix("jx.") for n in names(ws)}
        assert set(form.points()) <= got
        for sec in form.sections:
            if sec.kind != "table":
                continue
            for row in sec.rows:
                for col in sec.fields:
                    key = f"{form.id}.{row.key}.{col.key}"
                    if key not in form.points():
                        continue
                    cell = ws[names(ws)[f"jx.{key}"]]
                    left = [ws.cell(cell.row, c).value for c in range(1, cell.column)]
                    assert for_year(row.label, 2023) in left, key
                    above = [ws.cell(r, cell.column).value for r in range(1, cell.row)]
                    assert for_year(col.label, 2023) in above, key


def test_record_and_field_names_sit_under_or_beside_their_labels(template: openpyxl.Workbook) -> None:
    a1, a2, _ = template.worksheets[:3]
    assert a1[names(a1)["jx.a1.staff_rate"]].offset(-1, 0).value == "控制率"
    assert a1[names(a1)["jx.a1.unit_name"]].offset(0, -1).value == "预算单位名称"
    assert a2[names(a2)["jx.a2.spend.project"]].offset(0, -2).value == "项目支出"
    total = a2[names(a2)[f"jx.{indicator_total_key(load_form('a2'), 'weight')}"]]
    assert total.value == 100
    assert a2.cell(total.row, 1).value == "总分"
    assert a2[names(a2)["jx.a2.total.weight"]].value == 10
    for col, header in [("level1", "一级指标"), ("target", "年度指标值"), ("weight", "分值"), ("score", "得分")]:
        assert a2[names(a2)[f"jx.a2.ind.{col}"]].value == header


def test_indicator_table_has_profile_categories(template: openpyxl.Workbook) -> None:
    a2 = template.worksheets[1]
    body = names(a2)["jx.a2.ind"]
    first, last = body.split(":")
    col_b = [a2.cell(r, 2).value for r in range(a2[first].row, a2[last].row + 1)]
    assert [v for v in col_b if v] == ["产出指标(50分)", "效益指标(30分)", "满意度指标(10分)"]
    merged = {str(r) for r in a2.merged_cells.ranges}
    assert f"B{a2[first].row}:B{a2[first].row + 11}" in merged  # 4 二级 × 3 blank rows


def test_custom_properties(template: openpyxl.Workbook) -> None:
    props = {p.name: p.value for p in template.custom_doc_props.props}
    assert props == {
        "jixiao_template": settings.TEMPLATE_ID,
        "jixiao_template_version": settings.TEMPLATE_VERSION,
        "jixiao_year": 2023,
    }
    assert "2023" in template.properties.title


def test_validation_and_number_formats(template: openpyxl.Workbook) -> None:
    a1, a2, _ = template.worksheets[:3]

    def validation(ws: Worksheet, coord: str) -> tuple[str, str] | None:
        for dv in ws.data_validations.dataValidation:
            if coord in dv.sqref:
                return dv.type, dv.errorStyle
        return None

    for key, fmt, kind in [
        ("a1.sangong.actual", "0.00", "decimal"),
        ("a1.staff_quota", "0", "whole"),
        ("a1.staff_rate", "0.00%", "decimal"),
    ]:
        coord = names(a1)[f"jx.{key}"]
        assert a1[coord].number_format == fmt
        assert validation(a1, coord) == (kind, "warning")
        assert a1[coord].protection.locked is False
    assert validation(a1, names(a1)["jx.a1.unit_name"]) is None
    target = a2[names(a2)["jx.a2.ind.target"]].offset(1, 0)
    weight = a2[names(a2)["jx.a2.ind.weight"]].offset(1, 0)
    assert validation(a2, target.coordinate) is None  # units type "≥90%" here
    assert validation(a2, weight.coordinate) == ("decimal", "warning")
    assert a1[names(a1)["jx.a1.sangong.prev"]].fill.fgColor.rgb != a1["A8"].fill.fgColor.rgb


def test_print_setup(template: openpyxl.Workbook) -> None:
    a1 = template.worksheets[0]
    assert a1.page_setup.paperSize == 9
    assert a1.sheet_properties.pageSetUpPr.fitToPage
    assert a1.freeze_panes == "A3"
    assert a1.print_title_rows == "$1:$2"


def test_typed_text_never_becomes_a_formula_or_link(tmp_path: Path) -> None:
    filling = Filling(
        values={
            "a1.unit_name": '=HYPERLINK("http://x.example","x")',
            "a1.frugality": "http://x.example",
            "a1.business.actual": "=1+1",
            "a1.office.actual": "1,323.28",
        },
        indicators=[IndicatorRow("output", "数量指标", "=A1", "≥90%", "=2*3", 10, 10)],
    )
    path = write_workbook(tmp_path / "f.xlsx", year=2023, filling=filling)
    with zipfile.ZipFile(path) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in s or "<hyperlink" in s for s in sheets)
    a1, a2, _ = openpyxl.load_workbook(path).worksheets
    cell = a1[names(a1)["jx.a1.business.actual"]]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    assert value(a1, "a1.office.actual") == "1,323.28"
    assert value(a1, "a1.unit_name").startswith("=HYPERLINK")
    assert a2[names(a2)["jx.a2.ind.name"]].offset(1, 0).value == "=A1"


def test_inserted_special_rows_sit_under_their_row(tmp_path: Path) -> None:
    filling = Filling(special_rows={"special": [("甲专项", {"budget": 80, "actual": 78.5}), ("乙专项", {"actual": 3})]})
    a1 = openpyxl.load_workbook(write_workbook(tmp_path / "s.xlsx", year=2023, filling=filling)).worksheets[0]
    row = a1[names(a1)["jx.a1.special.actual"]].row
    assert a1.cell(row, 1).value == "3、区级专项资金(一个专项一行)"
    assert [a1.cell(row + 1, c).value for c in (1, 4, 6)] == ["甲专项", 80, 78.5]
    assert [a1.cell(row + 2, c).value for c in (1, 6)] == ["乙专项", 3]
    assert a1[names(a1)["jx.a1.transfer.actual"]].row == row + 3
    with pytest.raises(ValueError, match="未知列"):
        write_workbook(tmp_path / "x.xlsx", year=2023, filling=Filling(special_rows={"special": [("x", {"y": 1})]}))


def test_projects_get_one_sheet_each_with_their_own_names(tmp_path: Path) -> None:
    projects = [Filling(values={"a3.project_name": "甲项目"}), Filling(values={"a3.project_name": "乙项目"})]
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "p.xlsx", year=2023, filling=Filling(projects=projects)))
    assert len(wb.worksheets) == 4
    assert [value(ws, "a3.project_name") for ws in wb.worksheets[2:]] == ["甲项目", "乙项目"]


def test_placeholder_project_and_unknown_keys(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(
        write_workbook(tmp_path / "p.xlsx", year=2023, filling=Filling(placeholder_projects=True))
    )
    a3 = wb.worksheets[2]
    assert [value(a3, k) for k in ("a3.project_name", "a3.total.budget", "a3.total.weight")] == ["/", "/", 10]
    assert value(a3, indicator_total_key(load_form("a3"), "score")) == "/"
    with pytest.raises(ValueError, match=r"a1\.nonsense"):
        write_workbook(tmp_path / "x.xlsx", year=2023, filling=Filling(values={"a1.nonsense": 1}))


def test_layout_variety(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "l.xlsx", year=2023, filling=samples.REFERENCE, layout=samples.JINSHA_LAYOUT)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Sheet1", "Sheet2", "Sheet3"]
    a2 = wb["Sheet1"]
    assert a2["B4"].value == "2023年度预算单位整体支出绩效自评表"
    assert all(a2.cell(r, 1).value is None for r in range(1, a2.max_row + 1))
    assert not a2.defined_names and not wb.defined_names
    assert not list(wb.custom_doc_props.props)


def test_values_in_labels(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "v.xlsx", year=2023, filling=samples.REFERENCE, layout=samples.REFERENCE_LAYOUT)
    a2 = openpyxl.load_workbook(path).worksheets[1]
    general = a2[names(a2)["jx.a2.income.general"]]
    assert general.value is None
    assert general.offset(0, -2).value == "其中：一般公共预算：1208.74"
    assert a2[names(a2)["jx.a2.income.fund"]].offset(0, -2).value == "政府性基金拨款："
    assert a2[names(a2)["jx.a2.spend.project"]].offset(0, -2).value == "项目支出：736.36"


REFERENCE_FILE = ROOT / "sample_inputs" / f"{samples.REFERENCE_UNIT}_2023.xlsx"


@pytest.mark.parametrize("source", ["fresh", "committed"])
def test_reference_sample_carries_the_reference_figures(tmp_path: Path, source: str) -> None:
    if source == "committed":
        path = REFERENCE_FILE
    else:
        path = write_workbook(
            tmp_path / "r.xlsx", year=2023, filling=samples.REFERENCE, layout=samples.REFERENCE_LAYOUT
        )
    a1, a2, a3 = openpyxl.load_workbook(path).worksheets
    assert value(a1, "a1.public.actual") == 64.73
    parts = [value(a1, f"a1.{k}.actual") for k in ("office", "utilities", "meetings")]
    assert parts == [59.54, 4.5, 0.66]
    assert value(a1, "a1.project.prev") is None
    assert [value(a1, k) for k in ("a1.staff_quota", "a1.staff_actual", "a1.staff_rate")] == [40, 35, 0.875]
    assert [value(a1, k) for k in ("a1.preparer", "a1.phone", "a1.date")] == ["张某某", "0730-0000000", "2024.5.28"]
    assert [value(a2, f"a2.total.{k}") for k in ("initial", "budget", "exec", "weight", "rate", "score")] == [
        1023.19,
        1323.28,
        1323.28,
        10,
        1,
        10,
    ]
    form = load_form("a2")
    assert [value(a2, indicator_total_key(form, k)) for k in ("weight", "score")] == [100, 98]
    rows = [[c.value for c in row] for row in a2.iter_rows(min_col=4, max_col=9)]
    assert ["租金收缴金额", "670万元", "703万元", 20, 20, None] in rows
    assert ["公用经费使用情况", "68.4万元", "64.7万元", 10, 8, "预算指标编制欠合理"] in rows
    assert ["社会公众满意度", "≥90%", "≥90%", 10, 10, None] in rows
    assert value(a2, "a2.goal.expected") is None
    assert value(a3, "a3.project_name") == "/"


def test_clean_samples_hold_every_relation() -> None:
    for make in (samples._qingshan, samples._linhu, samples._songtao, samples._cuiping):
        f = make()
        v = f.values
        for col in ("prev", "budget", "actual"):
            n = {k.split(".")[1]: (x or 0) for k, x in v.items() if k.endswith(f".{col}") and k.startswith("a1.")}
            inserted = sum(vals.get(col) or 0 for rows in f.special_rows.values() for _, vals in rows)
            assert n["car"] == pytest.approx(n["car_purchase"] + n["car_upkeep"])
            assert n["sangong"] == pytest.approx(n["car"] + n["abroad"] + n["reception"])
            assert n["project"] == pytest.approx(
                n["business"] + n["operation"] + n["special"] + n["transfer"] + inserted
            )
            assert n["public"] == pytest.approx(n["office"] + n["utilities"] + n["meetings"])
        assert v["a2.spend.project"] == v["a1.project.actual"]
        assert v["a2.spend.basic"] + v["a2.spend.project"] == pytest.approx(v["a2.total.exec"])
        assert v["a2.income.general"] + v["a2.income.other"] == pytest.approx(v["a2.total.exec"])
        assert v["a2.total.rate"] == pytest.approx(v["a2.total.exec"] / v["a2.total.budget"], abs=5e-5)
        assert v["a1.staff_actual"] <= v["a1.staff_quota"]
        assert v["a1.sangong.actual"] <= v["a1.sangong.budget"] and v["a1.public.actual"] <= v["a1.public.budget"]
        for fill, prefix in [(f, "a2"), *((p, "a3") for p in f.projects)]:
            total = indicator_total_key(load_form(prefix), "score")
            scores = sum(i.score for i in fill.indicators)
            assert fill.values[total] == pytest.approx(fill.values[f"{prefix}.total.score"] + scores)
            assert all(i.score <= i.weight and (i.score == i.weight or i.reason) for i in fill.indicators)
        for p in f.projects:
            for col in ("initial", "budget", "exec"):
                parts = sum(p.values[f"a3.{k}.{col}"] for k in ("fiscal", "carryover", "other"))
                assert p.values[f"a3.total.{col}"] == pytest.approx(parts)


def test_faulty_sample_carries_its_faults() -> None:
    v = samples._baiyun().values
    assert v["a1.sangong.actual"] == 0 and v["a1.reception.actual"] == 1.6
    assert v["a2.total.rate"] != pytest.approx(v["a2.total.exec"] / v["a2.total.budget"], abs=1e-3)
    assert v["a2.spend.project"] != v["a1.project.actual"]


def test_build_samples_reuses_the_committed_xls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples.shutil, "which", lambda name: None)
    written = samples.build_samples(tmp_path)
    assert sorted(p.name for p in written) == sorted(s.filename for s in samples.SAMPLES)
    assert (tmp_path / "临湖县图书馆_2023.xls").read_bytes()[:4] == b"\xd0\xcf\x11\xe0"


def test_build_templates_names_the_file(tmp_path: Path) -> None:
    path = build_templates(tmp_path, 2024)
    assert path.name == "绩效自评模板_2024.xlsx"
    assert openpyxl.load_workbook(path).worksheets[0]["A2"].value.startswith("2024年度")
