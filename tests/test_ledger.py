"""The SQLite ledger: migrations, the received → checked → filed life of a row, duplicates, supersession."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.check import load_submission, rejected
from pipeline.errors import JixiaoError, OutputError, RejectedFile
from pipeline.model import Result
from pipeline.rules.validate import validate
from pipeline.store.ledger import MIGRATIONS, Ledger

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
REFERENCE = SAMPLES / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"  # 1 error (公用经费), 3 warnings


@pytest.fixture(scope="module")
def reference() -> Result:
    submission = load_submission(REFERENCE)
    [findings] = validate([submission])
    return Result(Path(REFERENCE.name), findings, submission)


@pytest.fixture()
def ledger(tmp_path: Path) -> Ledger:
    with Ledger(tmp_path / "ledger.sqlite3") as led:
        yield led


def receive(ledger: Ledger, sha: str, name: str) -> int:
    entry = ledger.receive(
        sha256=sha, original_path=name, inbox=Path("/inbox"), size=1, mtime_ns=1, archive_path=f"archive/{sha}"
    )
    return entry.id


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as first:
        assert first.versions() == [v for v, _, _ in MIGRATIONS]
    with Ledger(path) as again:
        assert again.migrate() == []
        assert again.versions() == [v for v, _, _ in MIGRATIONS]


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    with pytest.raises(JixiaoError, match="更新版本的 jixiao"):
        Ledger(path)


def test_open_existing_needs_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(JixiaoError, match="请先运行 jixiao run"):
        Ledger.open_existing(tmp_path)


def test_a_checked_file_keeps_status_findings_and_points(ledger: Ledger, reference: Result) -> None:
    entry_id = receive(ledger, "a" * 64, REFERENCE.name)
    assert ledger.entry(entry_id).state == "received"
    ledger.record_check(entry_id, reference, output_path="results/r.xlsx", dest_path="processed/r.xlsx")
    entry = ledger.entry(entry_id)
    assert (entry.state, entry.status, entry.unit, entry.year, entry.errors, entry.warnings) == (
        "checked",
        "errors",
        "岳阳市公共租赁房屋运营服务中心",
        2023,
        1,
        3,
    )
    stored = ledger.findings([entry_id])
    assert [(f.rule, f.level, f.sheet, f.cell) for f in stored] == [
        (f.rule, f.level, f.sheet, f.cells[0] if f.cells else None) for f in reference.findings
    ]
    numbers = ledger.numbers([entry_id])[entry_id]
    assert numbers["a1.public.actual"] == 64.73
    assert numbers["a2.total.exec"] == 1323.28
    text = ledger.conn.execute(
        "SELECT value_text, sheet, cell FROM points WHERE submission_id = ? AND key = 'a1.unit_name'", (entry_id,)
    ).fetchone()
    assert text[0] == "岳阳市公共租赁房屋运营服务中心" and text[2]
    indicators = ledger.conn.execute(
        "SELECT COUNT(*) FROM all_points WHERE submission_id = ? AND key LIKE 'a2.ind.%.name'", (entry_id,)
    ).fetchone()[0]
    assert indicators == len(reference.submission.forms["a2"].indicators)  # type: ignore[union-attr]
    ledger.mark_filed(entry_id, moved=True)
    assert ledger.entry(entry_id).state == "filed"
    assert ledger.entry(entry_id).dest_path == "processed/r.xlsx"


def test_a_check_is_one_transaction(ledger: Ledger, reference: Result) -> None:
    entry_id = receive(ledger, "b" * 64, "b.xlsx")
    ledger.conn.execute(
        "CREATE TRIGGER fail_points BEFORE INSERT ON points BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        ledger.record_check(entry_id, reference, output_path="results/b.xlsx", dest_path="processed/b.xlsx")
    assert ledger.entry(entry_id).state == "received"
    assert ledger.findings([entry_id]) == []


def test_a_rejected_file_keeps_its_reason(ledger: Ledger) -> None:
    entry_id = receive(ledger, "c" * 64, "报告.pdf")
    result = rejected(Path("报告.pdf"), RejectedFile("这是 PDF 文件，不是 Excel 工作簿", code="wrong_type"))
    ledger.record_check(entry_id, result, output_path=None, dest_path="refused/报告.pdf")
    entry = ledger.entry(entry_id)
    assert (entry.status, entry.reason_code) == ("rejected", "wrong_type")
    assert entry.reason == "这是 PDF 文件，不是 Excel 工作簿"
    assert [e.id for e in ledger.refused()] == [entry_id]


def test_the_same_bytes_again_are_a_duplicate(ledger: Ledger, reference: Result) -> None:
    first = receive(ledger, "d" * 64, "东区/a.xlsx")
    second = receive(ledger, "d" * 64, "西区/a(1).xlsx")
    assert ledger.entry(second).duplicate_of == first
    ledger.record_check(first, reference, output_path="results/a.xlsx", dest_path="processed/东区/a.xlsx")
    ledger.record_duplicate(second, dest_path="processed/西区/a(1).xlsx")
    dup = ledger.entry(second)
    assert (dup.status, dup.unit, dup.year, dup.reason_code) == ("duplicate", reference.unit, 2023, "duplicate")
    assert "“东区/a.xlsx”内容完全相同" in (dup.reason or "")
    with pytest.raises(sqlite3.IntegrityError):  # one original per hash, enforced by the schema
        ledger.conn.execute(
            "INSERT INTO submissions (sha256, original_path, inbox, size, mtime_ns, received_at, archive_path)"
            " VALUES (?, 'x', '/', 1, 1, 'now', 'a')",
            ("d" * 64,),
        )


def test_a_newer_workbook_supersedes_and_history_is_kept(ledger: Ledger, reference: Result) -> None:
    old = receive(ledger, "e" * 64, "v1.xlsx")
    new = receive(ledger, "f" * 64, "v2.xlsx")
    again = receive(ledger, "e" * 64, "v1 again.xlsx")  # re-sent old bytes: a duplicate never supersedes
    for entry_id, name in ((old, "v1"), (new, "v2")):
        ledger.record_check(entry_id, reference, output_path=f"results/{name}.xlsx", dest_path=f"processed/{name}.xlsx")
    ledger.record_duplicate(again, dest_path="processed/v1 again.xlsx")
    [(latest, versions)] = ledger.latest(2023)
    assert (latest.id, versions) == (new, 2)
    assert [e.id for e in ledger.history(2023)] == [old, new, again]
    assert ledger.years() == [2023]


def test_filing_needs_a_checked_row(ledger: Ledger) -> None:
    entry_id = receive(ledger, "9" * 64, "a.xlsx")
    with pytest.raises(RuntimeError, match="not checked"):
        ledger.mark_filed(entry_id, moved=True)


def test_a_full_disk_rolls_the_whole_check_back_and_says_so(ledger: Ledger, reference: Result) -> None:
    # SQLite rolls a transaction back itself on SQLITE_FULL: a second ROLLBACK must not hide the error.
    rid = receive(ledger, "a" * 64, "a.xlsx")
    (pages,) = ledger.conn.execute("PRAGMA page_count").fetchone()
    ledger.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    with pytest.raises(OutputError, match=r"^无法写入审核账本 .*（磁盘已满：database or disk is full）$"):
        ledger.record_check(rid, reference, output_path="results/a.xlsx", dest_path="processed/a.xlsx")
    assert not ledger.conn.in_transaction
    assert ledger.entry(rid).state == "received"
    assert ledger.findings([rid]) == [] and ledger.numbers([rid]) == {}


def test_an_unopenable_ledger_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="无法打开或创建账本文件"):
        Ledger(tmp_path / "missing" / "ledger.sqlite3")
