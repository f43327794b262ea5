"""The clean final copy (issue #19 acceptance 4): an accepted unit's workbook in OUT/定稿/ equals what it filled.
A unit that answers in the annotated workbook we sent gets our sheet, fills, frames and 批注 taken off, its own
values and styles kept; a clean workbook is copied as sent; a unit no longer accepted loses its copy."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import openpyxl
import pytest

from pipeline.batch.engine import run_inbox
from pipeline.cli import main
from pipeline.report.annotate import MARK_COLOURS
from pipeline.report.final_copy import strip_marks
from pipeline.store.ledger import Ledger
from tests.test_batch import SAMPLES, age, copy_samples
from tests.test_review import _rows, _type

YEAR = 2023
UNIT = "岳阳市公共租赁房屋运营服务中心"  # 公用经费 does not add up (F18), and three warnings
CLEAN = "松涛区水利工程管理站"
A1 = "附件1 基础数据表"


def _fix(path: Path) -> Path:
    """What the unit corrects: 公用经费 set to the sum of its parts."""
    wb = openpyxl.load_workbook(path)
    wb[A1]["F18"].value = 64.70
    wb.save(path)
    return age(path)


def _look(path: Path) -> dict[tuple[str, str], tuple[object, ...]]:
    """Every cell's value and style, and its 批注, by (sheet, cell)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                style = tuple(copy.copy(s) for s in (c.fill, c.font, c.border, c.alignment, c.protection))  # unproxied
                style += (c.number_format,)
                out[(ws.title, c.coordinate)] = (c.value, *style, c.comment.text if c.comment else None)
    return out


@pytest.fixture
def out(tmp_path: Path) -> Path:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{UNIT}_2023.xlsx", f"{CLEAN}_2023.xlsx"])
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    return out


def test_a_unit_answering_in_our_annotated_workbook_gets_back_exactly_its_own(out: Path, tmp_path: Path) -> None:
    [annotated] = [p for p in (out / "results").iterdir() if p.name.startswith(UNIT)]
    assert "审核结果" in openpyxl.load_workbook(annotated).sheetnames
    answer = _fix(Path(shutil.copyfile(annotated, tmp_path / "inbox" / f"{UNIT}_2023_修改.xlsx")))
    assert "审核结果" in openpyxl.load_workbook(answer).sheetnames  # the unit answered in our workbook
    run_inbox(tmp_path / "inbox", out, workers=0, settle_s=0, wait_s=0)
    final = out / "定稿" / f"{UNIT}_{YEAR}.xlsx"
    assert not final.exists()  # three warnings still open: not accepted yet

    book, rows = _rows(out / f"汇总_{YEAR}.xlsx")  # the reviewer accepts every warning left
    for row in (r for r in rows if r["预算单位"].value == UNIT):
        row["审核意见"].value = "认可"
    book.save(out / f"汇总_{YEAR}.xlsx")
    assert main(["summary", "--out", str(out)]) == 0

    assert final.is_file()
    expected = _fix(Path(shutil.copyfile(SAMPLES / f"{UNIT}_2023.xlsx", tmp_path / "own.xlsx")))
    assert openpyxl.load_workbook(final).sheetnames == openpyxl.load_workbook(expected).sheetnames
    got, own = _look(final), _look(expected)
    differing = [key for key in own if got.get(key) != own[key]]
    assert differing == [], differing[:3]
    assert not any(look[-1] for look in got.values())  # no 批注 left
    with Ledger.open_existing(out) as ledger:
        [(path,)] = ledger.conn.execute("SELECT final_path FROM reviews WHERE final_path IS NOT NULL AND status != ''")
    assert path == f"定稿/{UNIT}_{YEAR}.xlsx"


def test_a_clean_unit_is_copied_as_sent_and_leaves_when_returned(out: Path) -> None:
    final = out / "定稿" / f"{CLEAN}_{YEAR}.xlsx"
    assert final.read_bytes() == (SAMPLES / f"{CLEAN}_2023.xlsx").read_bytes()
    assert not (out / "定稿" / f"{UNIT}_{YEAR}.xlsx").exists()  # errors: not accepted

    # a clean unit has no findings to return over; the reviewer returns the other unit, this one stays
    _type(out / f"汇总_{YEAR}.xlsx", {(UNIT, "A1.SUM.PUBLIC"): ("退回修改", "")})
    assert main(["summary", "--out", str(out)]) == 0
    assert final.is_file()


def test_without_the_original_only_what_matches_our_marks_is_taken_off(out: Path, tmp_path: Path) -> None:
    [annotated] = [p for p in (out / "results").iterdir() if p.name.startswith(UNIT)]
    strip_marks(annotated, tmp_path / "clean.xlsx")
    got, own = _look(tmp_path / "clean.xlsx"), _look(SAMPLES / f"{UNIT}_2023.xlsx")
    assert openpyxl.load_workbook(tmp_path / "clean.xlsx").sheetnames == list(dict.fromkeys(s for s, _ in own))
    marked = [key for key in own if got[key] != own[key]]
    ours = {fill for fill, _, _ in MARK_COLOURS.values()}
    for key in marked:  # a marked cell keeps its own fill when it had one; ours, our frame and 批注 are gone
        fill, border, note = got[key][1], got[key][3], got[key][-1]
        assert fill.fgColor.rgb not in ours and note is None
        sides = (border.left, border.right, border.top, border.bottom)
        assert "mediumDashed" not in {getattr(side, "style", None) for side in sides}
    assert marked
    assert {key: own[key][0] for key in own} == {key: got[key][0] for key in own}  # values untouched
