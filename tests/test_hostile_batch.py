"""One inbox holding every hostile file of issue #5 and a few valid submissions, run once in worker processes.

Each hostile file is refused with its code and Chinese reason (in the ledger and in the summary's 退回文件
sheet); the valid ones, including submissions whose text looks like formulas or links and whose names
try to leave the output folder, are checked as usual; the batch finishes every file; text a unit typed
stays text in every output; no file is written outside OUT.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
import pytest

from pipeline.batch.engine import run_inbox
from pipeline.batch.outcomes import RunReport
from pipeline.naming import MAX_NAME_BYTES
from pipeline.settings import RESULT_SUFFIX
from tests import hostile as h

CASES = {c.name: c for c in h.hostile_cases()}
REFUSED = {name: c for name, c in CASES.items() if c.code is not None}
CHECKED = {name: c for name, c in CASES.items() if c.code is None}


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


class Batch:
    def __init__(self, root: Path, report: RunReport, before: set[Path], after: set[Path]) -> None:
        self.root, self.report, self.before, self.after = root, report, before, after
        self.inbox, self.out = root / "inbox", root / "out"

    def ledger(self, sql: str) -> list[tuple]:  # type: ignore[type-arg]
        with sqlite3.connect(self.out / "ledger.sqlite3") as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("hostile")
    h.build_inbox(root / "inbox", root / "scratch", list(CASES.values()))
    before = tree(root)
    # Two workers: reads and writes are isolated, and the calamine-aborting file kills one of them.
    report = run_inbox(root / "inbox", root / "out", workers=1, settle_s=0, wait_s=0)
    return Batch(root, report, before, tree(root))


def test_every_file_is_accounted_for_and_the_batch_finishes(batch: Batch) -> None:
    assert sorted(o.original for o in batch.report.outcomes) == sorted(CASES)
    assert not batch.report.interrupted and not batch.report.unreadable and not batch.report.waiting
    assert list(batch.inbox.iterdir()) == []
    rows = batch.ledger("SELECT original_path, state, duplicate_of FROM submissions")
    assert sorted(r[0] for r in rows) == sorted(CASES)
    assert {(state, dup) for _, state, dup in rows} == {("filed", None)}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_hostile_file_is_refused_with_its_reason(batch: Batch, name: str) -> None:
    case = CASES[name]
    [(status, code, reason, dest)] = batch.ledger(
        f"SELECT status, reason_code, reason, dest_path FROM submissions WHERE original_path = '{name}'"
    )
    assert (status, code) == ("rejected", case.code), reason
    assert case.expect in reason
    assert dest == f"refused/{name}" and (batch.out / dest).is_file()


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_each_valid_file_is_checked_with_its_usual_status(batch: Batch, name: str) -> None:
    [(status, dest, output)] = batch.ledger(
        f"SELECT status, dest_path, output_path FROM submissions WHERE original_path = '{name}'"
    )
    assert status == CASES[name].expect
    assert dest == f"processed/{name}" and (batch.out / dest).is_file()
    assert (batch.out / output).is_file() if status != "ok" else output is None  # nothing to annotate


def test_the_uncached_formula_is_a_finding_not_a_blank(batch: Batch) -> None:
    rules = batch.ledger(
        "SELECT f.rule, f.cell FROM findings f JOIN submissions s ON s.id = f.submission_id"
        " WHERE s.original_path = 'uncached_formula.xlsx'"
    )
    assert ("GEN.FORMULA", "F18") in rules


def test_names_from_the_unit_never_leave_out_and_are_safe(batch: Batch) -> None:
    created = batch.after - batch.before
    out = batch.out.resolve()
    assert all(out in p.resolve().parents for p in created), sorted(p for p in created if out not in p.parents)
    assert batch.before - batch.after == {batch.root / "inbox" / n for n in CASES}  # only the inbox emptied
    units = dict(batch.ledger("SELECT original_path, unit FROM submissions WHERE status != 'rejected'"))
    assert units["上报..\\..\\..\\etc\\passwd.xlsx"] == "../../etc/passwd"  # recorded as typed, used as text
    assert units["CON.xlsx"] == "CON"
    results = {p.name for p in (batch.out / "results").iterdir()}
    for name in results:
        stem = name.removesuffix(RESULT_SUFFIX)
        assert "/" not in stem and "\\" not in stem and ".." not in stem, name
        assert len(stem.encode()) <= MAX_NAME_BYTES, name
    assert "_CON" + RESULT_SUFFIX in results  # a Windows device name gets a prefix
    assert "上报._._._etc_passwd" + RESULT_SUFFIX in results


def _cells(book: openpyxl.Workbook) -> list[openpyxl.cell.Cell]:
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def _links(book: openpyxl.Workbook) -> list[tuple[str | None, str | None]]:
    links = [cell.hyperlink for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.hyperlink]
    return [(link.target, link.location) for link in links]


def test_typed_formulas_and_links_stay_text_in_the_annotated_workbook(batch: Batch) -> None:
    [(output,)] = batch.ledger("SELECT output_path FROM submissions WHERE original_path = 'formula_injection.xlsx'")
    book = openpyxl.load_workbook(batch.out / output)
    cells = _cells(book)
    found = {c.value for c in cells if c.value in h.INJECTED}
    assert found == set(h.INJECTED)  # every injected string was copied over…
    assert {c.data_type for c in cells if c.value in h.INJECTED} == {"s"}  # …as text
    assert [c.coordinate for c in cells if c.data_type == "f"] == []  # the annotated copy holds no formula
    assert all(target is None for target, _ in _links(book))  # only links to its own cells
    summary = book.worksheets[0]
    block = {summary.cell(r, 1).value: summary.cell(r, 3) for r in range(2, 12)}
    assert (block["预算单位："].value, block["预算单位："].data_type) == (h.INJECTED_UNIT, "s")


def test_typed_formulas_and_links_stay_text_in_the_summary(batch: Batch) -> None:
    book = openpyxl.load_workbook(batch.out / "汇总_2023.xlsx")
    cells = _cells(book)
    injected = [c for c in cells if c.value in h.INJECTED]
    assert {c.value for c in injected} >= {h.INJECTED_UNIT}
    assert {(c.parent.title, c.data_type) for c in injected} >= {("总览", "s"), ("提交历史", "s")}
    assert {c.data_type for c in injected} == {"s"}
    formulas = [str(c.value) for c in cells if c.data_type == "f"]
    assert formulas == []  # not even the totals: 合计 and 小计 are the values the library computed
    links = _links(book)
    assert len(links) > len(CASES)  # 问题清单, 提交历史 and 退回文件 link to outputs: the check below is not vacuous
    for target, location in links:  # links only to outputs in OUT, never to submitted text
        assert location is None and target is not None
        parts = target.split("/")
        assert parts[0] in ("results", "processed", "refused") and ".." not in parts and "http" not in target, target


def test_the_summary_lists_every_refused_file_with_its_reason(batch: Batch) -> None:
    ws = openpyxl.load_workbook(batch.out / "汇总_2023.xlsx")["退回文件"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    rows = [r for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    listed = {r[header.index("原文件")]: r[header.index("退回原因")] for r in rows}
    assert sorted(listed) == sorted(REFUSED)
    for name, reason in listed.items():
        assert REFUSED[name].expect in reason, (name, reason)
    where = {
        r[header.index("原文件")]: ws.cell(i, header.index("文件位置") + 1)
        for i, r in enumerate(ws.iter_rows(values_only=True), start=1)
        if isinstance(r[0], int)
    }
    assert where["zero.xlsx"].hyperlink.target == "refused/zero.xlsx"
    traversal = where["退回..\\..\\..\\Windows\\System32\\calc.exe"]  # Windows would follow it out of OUT
    assert traversal.hyperlink is None and traversal.value == "refused/退回..\\..\\..\\Windows\\System32\\calc.exe"
