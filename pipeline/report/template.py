"""Write the official 绩效自评 workbook (附件1–3) from the form definitions and a profile.

Everything about a form's layout comes from schemas/forms/*.toml (sections, spans, labels, column
widths) and the indicator categories from the profile; nothing about a form is written here twice.
With no `Filling` the result is the blank official template; with one it is a unit's submission,
which is how the sample inputs and test fixtures are made. `Layout` reproduces the variety real
units produce (renamed and reordered sheets, tables moved down or right, values typed inside
label cells, no defined names).

Every input cell carries a sheet-scoped defined name `'<sheet>'!jx.<point key>` (point keys are
`Form.points()` keys), and each indicator table names its header cells `jx.<form>.ind.<column>` and
its body `jx.<form>.ind`. Should a definition give the indicator 总分 row a key already taken by a
table cell on the same sheet, the 总分 cells get `<form>.ind.<key>` instead, so that every name and
every `Filling.values` key points at exactly one cell.

This module writes the workbook; `filling` holds what goes into it, `template_sheet` lays out one sheet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook

from pipeline import settings
from pipeline.errors import OutputError
from pipeline.forms import Form, Profile, for_year, load_editions, load_forms, load_profile
from pipeline.read.explanations import EXPLAIN_COLUMNS, EXPLAIN_TITLE
from pipeline.report.filling import Filling, Layout
from pipeline.report.template_sheet import Book, SheetWriter

log = logging.getLogger(__name__)

#: File name of the blank template written by `build_templates`.
TEMPLATE_FILENAME = "绩效自评模板_{year}.xlsx"


def _sheets(filling: Filling, forms: dict[str, Form]) -> list[tuple[str, Form, Filling, bool]]:
    """(sheet id, form, filling, placeholder) for every sheet, in the official order."""
    out = [("a1", forms["a1"], filling, False), ("a2", forms["a2"], filling, False)]
    projects = filling.projects or [Filling()]
    for i, project in enumerate(projects, start=1):
        sid = "a3" if i == 1 else f"a3.{i}"
        out.append((sid, forms["a3"], project, filling.placeholder_projects and not filling.projects))
    return out


def _sheet_name(sid: str, form: Form, layout: Layout) -> str:
    if sid in layout.sheet_names:
        return layout.sheet_names[sid]
    suffix = sid.partition(".")[2]
    return f"{form.sheet_name}({suffix})" if suffix else form.sheet_name


def _properties(wb: Workbook, year: int, layout: Layout) -> None:
    if not layout.names:
        return
    wb.set_properties(
        {
            "title": for_year("{Y}年度预算单位整体支出绩效自评表（附件1–3）", year),
            "subject": "预算单位整体支出绩效自评",
            "author": "jixiao",
            "comments": "绩效自评审核官方模板：请在浅蓝色单元格中填写，不要删除或改名已命名的单元格。",
            "created": datetime(year + 1, 1, 1),
        }
    )
    wb.set_custom_property("jixiao_template", settings.TEMPLATE_ID)
    wb.set_custom_property("jixiao_template_version", settings.TEMPLATE_VERSION)
    wb.set_custom_property("jixiao_year", year)


def _check_keys(filling: Filling, used: set[str], *, form_id: str) -> None:
    unknown = sorted(k for k in filling.values if k.startswith(f"{form_id}.") and k not in used)
    if unknown:
        raise ValueError(f"填报数据含表中不存在的数据项：{unknown}")


def write_workbook(
    path: Path,
    *,
    year: int,
    profile: Profile | None = None,
    filling: Filling | None = None,
    layout: Layout | None = None,
    editions: Sequence[str] = (),
    explanation_sheet: bool = False,
) -> Path:
    """Write 附件1, 附件2 and one 附件3 sheet per project (or one blank/placeholder 附件3) to `path`, each
    in its kind's primary edition or in the edition `editions` names for that kind ("a3_national")."""
    if not 2000 <= year <= 2100:
        raise ValueError(f"年度 {year!r} 不在 2000–2100 之间")
    profile = profile or load_profile()
    filling = filling or Filling()
    layout = layout or Layout()
    forms = dict(load_forms())
    for name in editions:
        known = {f.edition: f for f in load_editions()}
        if name not in known:
            raise ValueError(f"没有表格版本 {name!r}，可选：{'、'.join(sorted(known))}")
        forms[known[name].id] = known[name]
    sheets = _sheets(filling, forms)
    order = layout.order or [sid for sid, *_ in sheets]
    if sorted(order) != sorted(sid for sid, *_ in sheets):
        raise ValueError(f"工作表顺序 {order!r} 与表单 {[sid for sid, *_ in sheets]!r} 不一致")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    book = Book(wb, year=year, profile=profile, layout=layout)
    _properties(wb, year, layout)
    by_id = {sid: (form, fill, placeholder) for sid, form, fill, placeholder in sheets}
    used: dict[str, set[str]] = {"a1": set(), "a2": set()}
    for sid in order:
        form, sheet_filling, placeholder = by_id[sid]
        ws = wb.add_worksheet(_sheet_name(sid, form, layout))
        writer = SheetWriter(book, ws, form, sheet_filling, placeholder=placeholder)
        writer.write()
        if form.id != "a3":
            used[form.id] |= writer.used
        else:
            _check_keys(sheet_filling, writer.used, form_id="a3")
    for fid, keys in used.items():
        _check_keys(filling, keys, form_id=fid)
    if explanation_sheet:
        write_explanation_sheet(wb)
    try:
        wb.close()
    except OSError as exc:
        raise OutputError(f"无法写入 {path}：{exc}") from exc
    return path


def write_template(path: Path, *, year: int, profile: Profile | None = None, editions: Sequence[str] = ()) -> Path:
    """The blank official template for `year` (in other editions for the kinds `editions` names)."""
    return write_workbook(path, year=year, profile=profile, editions=editions, explanation_sheet=True)


#: Rows of the blank 审核说明 sheet; a unit needing more inserts rows.
EXPLANATION_ROWS = 30
EXPLANATION_NOTE = (
    "如对审核提示有需要说明的情况，请逐条填写：规则编号与单元格照抄审核结果（如 A1.PLAUS.PUBLIC、F18），"
    "工作表可不填；说明请写明原因。提交时与本工作簿一并报送。强制性错误须改正，说明不能代替改正。"
)


def write_explanation_sheet(wb: Workbook) -> None:
    """The 审核说明 sheet a unit may fill (pipeline/read/explanations.py reads it back)."""
    ws = wb.add_worksheet(EXPLAIN_TITLE)
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top", "locked": False})
    note = wb.add_format({"text_wrap": True, "font_size": 9, "valign": "top"})
    ws.write_string(0, 0, EXPLAIN_TITLE, title)
    ws.merge_range(1, 0, 1, 3, EXPLANATION_NOTE, note)
    ws.set_row(1, 48)
    for col, (text, width) in enumerate(zip(EXPLAIN_COLUMNS, (18, 24, 12, 60), strict=True)):
        ws.write_string(2, col, text, head)
        ws.set_column(col, col, width)
    for row in range(3, 3 + EXPLANATION_ROWS):
        for col in range(len(EXPLAIN_COLUMNS)):
            ws.write_blank(row, col, None, cell)


def build_templates(out_dir: Path, year: int = settings.DEFAULT_YEAR) -> Path:
    """Write the blank template into `out_dir` (what `jixiao template` runs); returns its path."""
    path = Path(out_dir) / TEMPLATE_FILENAME.format(year=year)
    write_template(path, year=year)
    log.info("wrote template %s", path)
    return path
