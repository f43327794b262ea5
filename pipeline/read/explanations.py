"""出错说明: what a unit wrote to explain a finding, read from the workbook it sends.

Two places hold them, both recognised by their content, not their sheet name:

- the 审核结果 sheet of an annotated workbook the unit sends back (title `绩效自评审核结果` in its first row;
  columns 规则编号, 单元格 as `sheet!A1`, 单位说明). The sheet itself is jixiao's, not the unit's: it is
  neither read as a form nor copied into the next annotated workbook (`is_old_result`);
- a 审核说明 sheet the unit adds to its own workbook (`jixiao template` writes it): title `审核说明`,
  columns 规则编号, 工作表 (optional), 单元格, 说明.

An explanation is keyed by (rule, sheet, cell); a blank sheet matches the cell on any sheet.
"""

from __future__ import annotations

from pipeline.model import ExplanationKey, SheetGrid

RESULT_TITLE = "绩效自评审核结果"  # annotate.TITLE; repeated here so reading does not import the writer
EXPLAIN_TITLE = "审核说明"
EXPLAIN_COLUMNS = ("规则编号", "工作表", "单元格", "说明")
RULE, SHEET, CELL = "规则编号", "工作表", "单元格"
TEXT_HEADERS = ("单位说明", "说明")
_HEADER_SEARCH_ROWS = 20  # the 审核结果 header block is ~10 rows


def _first_text(sheet: SheetGrid) -> str:
    for row in sheet.rows[:3]:
        for value in row:
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def is_old_result(sheet: SheetGrid) -> bool:
    """The 审核结果 sheet of an annotated workbook jixiao wrote earlier."""
    return _first_text(sheet) == RESULT_TITLE


def is_explanation_sheet(sheet: SheetGrid) -> bool:
    return is_old_result(sheet) or _first_text(sheet) == EXPLAIN_TITLE


def read_explanations(sheet: SheetGrid) -> dict[ExplanationKey, str]:
    """The explanations on an explanation sheet (empty when it holds none, or is not one)."""
    if not is_explanation_sheet(sheet):
        return {}
    head, first = None, 0
    for r, row in enumerate(sheet.rows[:_HEADER_SEARCH_ROWS]):
        texts = [str(v).strip() for v in row]
        if RULE in texts and CELL in texts and any(h in texts for h in TEXT_HEADERS):
            head, first = {t: c for c, t in enumerate(texts) if t}, r + 1
            break
    if head is None:
        return {}
    text_col = next(head[h] for h in TEXT_HEADERS if h in head)
    out: dict[ExplanationKey, str] = {}
    for row in sheet.rows[first:]:

        def at(col: int | None, row: list[object] = row) -> str:
            return str(row[col]).strip() if col is not None and col < len(row) and row[col] is not None else ""

        rule, cell, text = at(head[RULE]), at(head[CELL]), at(text_col)
        if not (rule and text):
            continue
        cell = "" if cell in ("—", "-") else cell  # a finding about the whole file
        sheet_name, _, ref = cell.rpartition("!")
        sheet_name = sheet_name or at(head.get(SHEET))
        out[(rule, sheet_name.strip("'"), ref.replace("$", "").upper())] = text
    return out
