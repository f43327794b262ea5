"""`jixiao notices --out OUT`: one 退回通知 (.docx) per unit the reviewer returned, and a covering list per
主管部门, in `OUT/退回通知/`.

A notice names the unit, the workbook it sent, every finding to fix (`summary_returns.returns`: those marked
退回修改 or 不认可, and errors not accepted) with the unit's own 说明 and the reviewer's 备注, and the
deadline the profile sets (`return_deadline`). The covering list of a 主管部门 lists its returned units, whom
to call and the notice of each. Text a unit typed goes into the documents as text (python-docx never reads it
as a field or a link). Notices are rewritten on every call from the ledger; those of units no longer returned
are removed.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from pipeline.forms import load_profile
from pipeline.model import LEVEL_ZH
from pipeline.naming import safe_filename
from pipeline.report.summary import summary_path, summary_paths
from pipeline.report.summary_data import UNKNOWN_YEAR, YearData, year_data
from pipeline.report.summary_returns import Returned, returns
from pipeline.store.decisions import harvest
from pipeline.store.files import OutputLock, cannot_write
from pipeline.store.ledger import Ledger

NOTICE_DIR = "退回通知"
FONT = "宋体"
DEFAULT_DEADLINE = "收到本通知后 10 个工作日内"
_NO_DEPARTMENT = "未列主管部门"
_FINDING_COLUMNS = ("序号", "级别", "工作表", "单元格", "需修改的问题", "单位说明", "审核意见及备注")
_UNIT_COLUMNS = ("序号", "预算单位", "联系人", "联系电话", "需修改问题数", "退回通知")


def write_notices(out: Path, *, profile: str = "default", today: date | None = None) -> list[Path]:
    """Write the notices and covering lists of every year in OUT's ledger; returns the files written."""
    out = Path(out)
    deadline = load_profile(profile).return_deadline or DEFAULT_DEADLINE
    today = today or date.today()
    folder = out / NOTICE_DIR
    written: list[Path] = []
    with Ledger.open_existing(out) as ledger, OutputLock(out):
        if not summary_paths(ledger, out):
            return []
        for year in ledger.years():
            harvest(ledger, summary_path(out, year), year)
            data = year_data(ledger, out, year, totals=False)
            units = returns(data)
            by_department: dict[str, list[tuple[Returned, Path]]] = {}
            for r in units:
                path = folder / f"退回通知_{safe_filename(f'{r.name}_{_year(data)}')}.docx"
                written.append(_save(path, functools.partial(_notice, data=data, r=r, deadline=deadline, today=today)))
                by_department.setdefault(r.department or _NO_DEPARTMENT, []).append((r, path))
            for department, items in by_department.items():
                path = folder / f"退回单位清单_{safe_filename(f'{department}_{_year(data)}')}.docx"
                cover = functools.partial(_covering, data=data, department=department, items=items, today=today)
                written.append(_save(path, cover))
    _remove_stale(folder, written)
    return written


def _year(data: YearData) -> str:
    return str(data.year) if data.year is not None else UNKNOWN_YEAR


def _remove_stale(folder: Path, keep: Sequence[Path]) -> None:
    """Notices of units no longer returned go: a folder of notices is a list of what to send."""
    if not folder.is_dir():
        return
    for path in folder.glob("*.docx"):
        if path not in keep:
            path.unlink()


def _notice(doc: DocumentObject, data: YearData, r: Returned, deadline: str, today: date) -> None:
    e = r.unit.entry
    _heading(doc, f"{data.label}预算单位整体支出绩效自评退回修改通知")
    _para(doc, f"{r.name}：", bold=True)
    received = e.received_at.replace("T", " ")[:16]
    _para(
        doc,
        f"你单位报送的{data.label}整体支出绩效自评表（文件“{Path(e.original_path).name}”，{received} 收到）"
        f"经审核，有以下 {len(r.items)} 个问题需要修改。请逐项核实更正（对确无问题的提示，请在“审核说明”"
        f"工作表中写明理由），于{deadline}重新报送。可以直接在本局返回的审核结果工作簿中修改后报送。",
    )
    rows = [
        [
            str(n),
            LEVEL_ZH.get(t.finding.level, t.finding.level),
            t.finding.sheet,
            t.finding.cells.replace(",", "、"),
            t.finding.message,
            t.explanation,
            "：".join(x for x in (t.decision, t.note) if x),
        ]
        for n, t in enumerate(r.items, start=1)
    ]
    _table(doc, _FINDING_COLUMNS, rows, widths=(1.2, 1.4, 3.0, 3.2, 7.5, 4.2, 5.2))  # 25.7 cm: A4 landscape
    contact = "，".join(x for x in (r.contact, r.phone) if x)
    if contact:
        _para(doc, f"\n本单位联系人：{contact}")
    _signature(doc, today)


def _covering(
    doc: DocumentObject, data: YearData, department: str, items: list[tuple[Returned, Path]], today: date
) -> None:
    _heading(doc, f"{data.label}整体支出绩效自评退回修改单位清单")
    _para(doc, f"主管部门：{department}（共 {len(items)} 个单位）", bold=True)
    _para(doc, "以下单位的自评表经审核需修改后重新报送，请督促所属单位按各自的退回通知办理。")
    rows = [
        [str(n), r.name, r.contact, r.phone, str(len(r.items)), path.name] for n, (r, path) in enumerate(items, start=1)
    ]
    _table(doc, _UNIT_COLUMNS, rows, widths=(1.2, 7.0, 2.4, 3.5, 2.6, 9.0))
    _signature(doc, today)


# ---------------------------------------------------------------------------------------- python-docx


def _save(path: Path, fill: Callable[[DocumentObject], None]) -> Path:
    """Build a document (A4 landscape, 宋体) with `fill` and write it atomically to `path`."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.0)
    style = doc.styles["Normal"]
    style.font.name = FONT  # type: ignore[attr-defined]
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # type: ignore[attr-defined]
    fill(doc)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            doc.save(fh)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise cannot_write(f"退回通知 {path.name}", exc) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _signature(doc: DocumentObject, today: date) -> None:
    _para(doc, f"\n财政局绩效管理科\n{today.year}年{today.month}月{today.day}日", right=True)


def _heading(doc: DocumentObject, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.bold = True
    run.font.size = Pt(16)


def _para(doc: DocumentObject, text: str, *, bold: bool = False, right: bool = False) -> None:
    p = doc.add_paragraph()
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    run.bold = bold
    run.font.size = Pt(12)


def _table(doc: DocumentObject, headers: Sequence[str], rows: list[list[str]], *, widths: Sequence[float]) -> None:
    """A bordered table, the header row bold and repeated on every page."""
    table = doc.add_table(rows=0, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)  # the grid LibreOffice lays out by; Word reads the cells' widths
    for n, row in enumerate([list(headers), *rows]):
        added = table.add_row()
        if n == 0:
            added._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for cell, text, width in zip(added.cells, row, widths, strict=True):
            cell.width = Cm(width)
            run = cell.paragraphs[0].add_run(text or "")
            run.font.size = Pt(10)
            run.bold = n == 0
