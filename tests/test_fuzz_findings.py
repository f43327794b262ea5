"""Issue #10: the crashes, hangs and wrong records that fuzzing and kill tests found, one test per row.

Each input is one edit of a sample workbook (`tests/mutate.py`), made here: no binary is committed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.batch import engine as batch
from pipeline.batch.engine import MSG_KILLED_INLINE, run_inbox
from pipeline.batch.filing import NOTE_CHANGED
from pipeline.check import check_files, load_submission
from pipeline.errors import JixiaoError, RejectedFile
from pipeline.read.grid import MSG_DAMAGED, MSG_OUT_OF_RANGE, read_grid
from pipeline.read.sniff import MSG_ZIP_VERSION, sniff
from pipeline.report.summary import rebuild_summaries
from pipeline.store.files import OutputLock
from tests import mutate as m
from tests.test_batch import age, files, rows

ROOT = Path(__file__).resolve().parent.parent


def reason(path: Path) -> tuple[str, str]:
    """(code, reason) of the RejectedFile that reading `path` raises."""
    with pytest.raises(RejectedFile) as caught:
        load_submission(path)
    return caught.value.code, caught.value.reason


# Row 1 -----------------------------------------------------------------------------------------------


def test_a_merge_over_the_whole_sheet_is_not_drawn_cell_by_cell(tmp_path: Path) -> None:
    src = m.huge_merge(m.REFERENCE, tmp_path / "merged.xlsx")
    [result] = check_files([src], out_dir=tmp_path / "out")
    assert result.status == "errors"
    assert result.output is not None
    wb = openpyxl.load_workbook(result.output)
    ws = wb["附件1 基础数据表"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A1:XFD1048576" not in merged
    original = openpyxl.load_workbook(m.REFERENCE)["附件1 基础数据表"]
    assert merged == {str(r) for r in original.merged_cells.ranges}  # the form's own merges are all there


# Row 2 -----------------------------------------------------------------------------------------------


def test_two_sheets_of_one_name_get_an_annotated_workbook(tmp_path: Path) -> None:
    src = m.duplicate_sheet_name(m.REFERENCE, tmp_path / "twins.xlsx")
    [result] = check_files([src], out_dir=tmp_path / "out")
    assert not result.rejected
    assert result.output is not None
    names = openpyxl.load_workbook(result.output, read_only=True).sheetnames
    assert names == ["审核结果", "附件1 基础数据表", "附件1 基础数据表(2)", "附件3 项目支出自评表"]


# Row 3 -----------------------------------------------------------------------------------------------


def test_a_value_openpyxl_cannot_parse_does_not_refuse_a_file_calamine_read(tmp_path: Path) -> None:
    src = m.nan_and_formula(m.REFERENCE, tmp_path / "nan.xlsx")
    grid = read_grid(src, fmt=sniff(src))
    assert grid.uncached == {}
    [result] = check_files([src])
    assert not result.rejected
    assert "A1.SUM.PUBLIC" in {f.rule for f in result.findings}


# Row 4 -----------------------------------------------------------------------------------------------


def panicking_xls(tmp_path: Path) -> Path:
    """One byte of the .xls sample changed: calamine panics in parse_lbl (a Rust slice index)."""
    return m.flip_byte(m.XLS, tmp_path / "panic.xls", 8467, 55)


def test_a_reader_panic_is_a_refusal_not_a_base_exception(tmp_path: Path) -> None:
    assert reason(panicking_xls(tmp_path)) == ("corrupt", MSG_DAMAGED)
    [result] = check_files([panicking_xls(tmp_path)], workers=0)
    assert [(f.rule, f.message) for f in result.findings] == [("FILE.CORRUPT", MSG_DAMAGED)]


def test_a_reader_panic_in_an_inline_run_refuses_that_file_and_the_batch_goes_on(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(panicking_xls(inbox))
    age(Path(shutil.copyfile(m.CLEAN, inbox / m.CLEAN.name)))
    report = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    assert sorted((o.original, o.status) for o in report.outcomes) == [
        ("panic.xls", "rejected"),
        (m.CLEAN.name, "ok"),
    ]
    assert {state for _, state, _ in rows(out)} == {"filed"}


def test_a_reader_panic_in_a_worker_shows_the_user_the_reason_not_rust_s_stack_trace(tmp_path: Path) -> None:
    panic = panicking_xls(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(panic)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 2  # refused
    assert "文件内容已损坏" in "".join(done.stdout.split())  # Rich wraps the reason
    assert "panicked" not in done.stderr and "rust" not in done.stderr.lower(), done.stderr
    assert not done.stderr.strip(), done.stderr


# Row 5 -----------------------------------------------------------------------------------------------


def test_a_zip_needing_an_unknown_version_is_refused_saying_so(tmp_path: Path) -> None:
    src = m.version_needed(m.REFERENCE, tmp_path / "v148.xlsx")
    with pytest.raises(RejectedFile) as caught:
        sniff(src)
    assert (caught.value.code, caught.value.reason) == ("unsupported", MSG_ZIP_VERSION)


# Row 6 -----------------------------------------------------------------------------------------------


def test_a_duration_beyond_any_date_is_refused_saying_so(tmp_path: Path) -> None:
    src = m.huge_duration(m.REFERENCE, tmp_path / "duration.xlsx")
    assert reason(src) == ("corrupt", MSG_OUT_OF_RANGE)


# Row 7 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["ZZZZZZ1", "XFE1", "A1048577", "A99999999"])
def test_a_cell_reference_beyond_the_grid_never_reaches_the_reader(tmp_path: Path, ref: str) -> None:
    change = m.sub_once(r'<c r="A3"', f'<c r="{ref}"')
    src = m.edit_part(m.REFERENCE, tmp_path / "ref.xlsx", "xl/worksheets/sheet1.xml", change)
    code, why = reason(src)  # inline: calamine would have aborted this very process
    assert code == "corrupt"
    assert f"单元格地址 {ref} 超出" in why


def test_a_check_of_a_file_calamine_aborts_on_ends_in_a_refusal(tmp_path: Path) -> None:
    [result] = check_files([m.bad_reference(m.REFERENCE, tmp_path / "zz.xlsx")], workers=0)
    assert [f.rule for f in result.findings] == ["FILE.CORRUPT"]


def test_the_largest_references_excel_allows_are_accepted(tmp_path: Path) -> None:
    change = m.sub_once(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"')
    src = m.edit_part(m.REFERENCE, tmp_path / "edge.xlsx", "xl/worksheets/sheet1.xml", change)
    assert load_submission(src).unit == "岳阳市公共租赁房屋运营服务中心"


# Row 8 -----------------------------------------------------------------------------------------------


def test_the_same_bytes_as_xlsx_and_xls_are_archived_once(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(m.CLEAN, inbox / "a.xlsx")))
    age(Path(shutil.copyfile(m.CLEAN, inbox / "b.xls")))
    report = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    assert sorted(o.status for o in report.outcomes) == ["duplicate", "ok"]
    assert len(files(out / "archive")) == 1
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        assert len({p for (p,) in conn.execute("SELECT archive_path FROM submissions")}) == 1


# Row 10 ----------------------------------------------------------------------------------------------


def test_summary_waits_for_no_run_it_takes_the_output_lock(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(m.CLEAN, inbox / m.CLEAN.name)))
    run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    with OutputLock(out), pytest.raises(JixiaoError, match="另一个审核任务正在使用输出目录"):
        rebuild_summaries(out)
    assert [p.name for p in rebuild_summaries(out)] == ["汇总_2023.xlsx"]
    with OutputLock(out):  # and the summary let go of it
        pass


# Row 11 ----------------------------------------------------------------------------------------------


def test_an_inbox_file_replaced_with_the_same_size_and_mtime_is_not_filed_as_the_checked_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    path = age(Path(shutil.copyfile(m.CLEAN, inbox / "unit.xlsx")))
    original = path.read_bytes()
    other = m.flip_byte(m.CLEAN, tmp_path / "other.xlsx", len(original) - 30, original[-30] ^ 0xFF).read_bytes()
    validate = batch._Engine.validate

    def replace_then_validate(self: object, *args: object) -> object:  # after it was received and read
        st = path.stat()
        path.write_bytes(other)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return validate(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(batch._Engine, "validate", replace_then_validate)
    [outcome] = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0).outcomes
    assert (outcome.status, outcome.note) == ("ok", NOTE_CHANGED)
    assert path.read_bytes() == other  # left in the inbox: it is a new submission
    assert files(out / "processed") == []
    monkeypatch.setattr(batch._Engine, "validate", validate)
    [again] = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0).outcomes
    assert again.status != "duplicate"
    assert (out / again.filed).read_bytes() == other  # type: ignore[operator]


# Row 9 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [m.CLEAN, m.XLS], ids=["xlsx", "xls"])
def test_a_copy_paused_mid_file_is_waited_for_then_checked_once(tmp_path: Path, sample: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    data = sample.read_bytes()
    path = inbox / sample.name
    path.write_bytes(data[: len(data) // 2])
    age(path, 10)  # the copy paused 10 s ago: longer than the settle time
    first = run_inbox(inbox, out, workers=0, settle_s=2, wait_s=0)
    assert (first.outcomes, first.waiting) == ([], [sample.name])
    assert files(out / "archive") == files(out / "refused") == []
    with path.open("ab") as fh:  # the copy goes on and finishes
        fh.write(data[len(data) // 2 :])
    age(path, 10)
    [outcome] = run_inbox(inbox, out, workers=0, settle_s=2, wait_s=0).outcomes
    assert outcome.status in ("ok", "warnings")
    assert [state for _, state, _ in rows(out)] == ["filed"]


def test_a_file_cut_short_for_good_is_taken_in_the_end_and_refused(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    data = m.CLEAN.read_bytes()
    path = inbox / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    age(path, 3600)
    [outcome] = run_inbox(inbox, out, workers=0, settle_s=2, wait_s=0).outcomes
    assert outcome.status == "rejected"


# Item 2: a file that kills an in-line run is not read again ---------------------------------------------

_DYING_RUN = """
import os, signal, sys
from pathlib import Path
import pipeline.batch.engine as batch

real = batch.load_worker


def dying(item):
    if item[1].endswith(".xls"):  # the archived copy of the file that kills its reader
        os.kill(os.getpid(), signal.SIGKILL)
    return real(item)


batch.load_worker = dying
batch.run_inbox(Path(sys.argv[1]), Path(sys.argv[2]), workers=0, settle_s=0, wait_s=0)
"""


def test_a_file_that_killed_an_inline_run_is_refused_by_the_rerun_without_reading_it(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(m.XLS, inbox / m.XLS.name)))
    age(Path(shutil.copyfile(m.CLEAN, inbox / m.CLEAN.name)))
    command = [sys.executable, "-c", _DYING_RUN, str(inbox), str(out)]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == -signal.SIGKILL, first.stderr
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)  # would die again
    assert again.returncode == 0, again.stderr
    assert sorted(rows(out, "SELECT original_path, state, status, reason FROM submissions")) == [
        (m.XLS.name, "filed", "rejected", MSG_KILLED_INLINE),
        (m.CLEAN.name, "filed", "ok", None),
    ]
