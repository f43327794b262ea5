"""Writes that fail between receiving a file and filing it: stop or refuse, lose nothing, rerun to the end.

A failure of OUT itself (disk full, permission denied, I/O error) is injected at each stage a file
passes — archive copy, annotated workbook, ledger commit, move to processed/, the fsync after the
move, the summary — by replacing the very call that writes (os.fsync, Path.open, xlsxwriter's
_store_workbook, os.rename, fsync_dir) or, for the ledger, by capping SQLite's page count so the commit
really fails with SQLITE_FULL. The run must stop with a clear Chinese message, leave every inbox file
whole in exactly one place and the ledger consistent, and a rerun once the fault is gone must end
exactly as an undisturbed run. A failure specific to one file's content (the annotated writer raising)
must cost that file only: its workbook falls back to the findings sheet, or it is refused, and the
batch goes on.

Running as root makes chmod ineffective, so the permission cases are injected (PermissionError) and
the one real chmod test is skipped under root; a real full disk is a small tmpfs, when mounting is allowed.
"""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.batch.workers import MSG_WRITE_FAILED
from pipeline.cli import main
from pipeline.errors import OutputError
from pipeline.store.ledger import Ledger
from tests.test_batch import age, assert_consistent, copy_samples, rows, run, sha

NAMES = ["金沙县文化馆_2023.xlsx", "临湖县图书馆_2023.xls"]
STOPPED = "输出目录无法写入，已停止"


class Fault:
    """Whether a fault is on ("the disk is full") and how often it struck."""

    def __init__(self) -> None:
        self.active, self.seen, self.raised = True, 0, 0


def inject(
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    exc: BaseException,
    *,
    when: Callable[..., bool] = lambda *a, **k: True,
    nth: int = 1,
) -> Fault:
    """From the `nth` call of `target` (dotted path) that `when(*args)` selects on, raise `exc` — a full disk
    stays full — until the fault's `active` is cleared."""
    owner_path, _, name = target.rpartition(".")
    owner = _resolve(owner_path)
    real = getattr(owner, name)
    fault = Fault()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if fault.active and when(*args, **kwargs):
            fault.seen += 1
            if fault.seen >= nth:
                fault.raised += 1
                raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return fault


def _resolve(dotted: str) -> Any:
    """A module, or an attribute of one ("xlsxwriter.workbook.Workbook")."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def denied() -> PermissionError:
    return PermissionError(errno.EACCES, "Permission denied")


def fill_ledger_on_commit(monkeypatch: pytest.MonkeyPatch, nth: int) -> Fault:
    """From the `nth` file on, the check commit hits a real SQLITE_FULL: the connection may not grow the
    database any more (PRAGMA max_page_count). A rerun opens a new connection: the space is back."""
    real = Ledger._record_check
    fault = Fault()

    def record_check(self: Ledger, *args: Any, **kwargs: Any) -> None:
        fault.seen += 1
        if fault.active and fault.seen >= nth:
            fault.raised += 1
            (pages,) = self.conn.execute("PRAGMA page_count").fetchone()
            self.conn.execute(f"PRAGMA max_page_count = {pages}")
        real(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "_record_check", record_check)
    return fault


def assert_nothing_lost(inbox: Path, out: Path, inputs: dict[str, str]) -> None:
    """Each input whole in exactly one place (inbox, processed/ or refused/); the ledger agrees."""
    for name, digest in inputs.items():
        places = [p for p in (inbox / name, out / "processed" / name, out / "refused" / name) if p.exists()]
        assert len(places) == 1, (name, places)
        assert sha(places[0]) == digest, f"{places[0]} is not the file received"
    ledger = rows(out, "SELECT original_path, state, sha256, archive_path, dest_path FROM submissions")
    assert len({digest for _, _, digest, _, _ in ledger}) == len(ledger), "one row per hash"
    for name, state, digest, archive, dest in ledger:
        assert sha(out / archive) == digest  # I1: a row only for bytes durably archived
        if state == "filed":
            assert (out / dest).is_file() and not (inbox / name).exists()
        elif state == "received":
            assert (inbox / name).is_file()  # I2: not moved before it is checked
        else:
            assert (inbox / name).is_file() or sha(out / dest) == digest


# ---------------------------------------------------------------------------------- OUT fails


STAGES: dict[str, tuple[Callable[[pytest.MonkeyPatch, Path], Fault], str]] = {
    "archive copy, disk full (fsync of the copy)": (
        lambda mp, out: inject(mp, "os.fsync", full(), when=lambda fd: "/archive/.tmp-" in _fd_path(fd), nth=2),
        "磁盘已满",
    ),
    "archive copy, permission denied": (
        lambda mp, out: inject(
            mp,
            "pathlib.Path.open",
            denied(),
            when=lambda self, *a, **k: self.parent.name == "archive" and self.name.startswith(".tmp-"),
        ),
        "没有写入权限",
    ),
    "annotated workbook, disk full": (
        lambda mp, out: inject(
            mp,
            "pipeline.report.annotate.patch_package",  # an .xlsx is annotated by patching its package
            full(),
            when=lambda src, dest, **kw: "/results/" in str(dest),
            nth=1,  # only files with findings are annotated: here the first is the only one
        ),
        "磁盘已满",
    ),
    "ledger commit, database or disk is full": (lambda mp, out: fill_ledger_on_commit(mp, 2), "磁盘已满"),
    "move to processed/, permission denied": (
        lambda mp, out: inject(mp, "os.rename", denied(), when=lambda src, dst: "/processed/" in str(dst), nth=2),
        "没有写入权限",
    ),
    "after the move, before filed: fsync of processed/ fails": (
        lambda mp, out: inject(
            mp,
            "pipeline.store.files.fsync_dir",
            OSError(errno.EIO, "Input/output error"),
            when=lambda path: Path(path).name == "processed",
            nth=1,  # once per commit group, after its moves and before its `filed` commit
        ),
        "磁盘读写错误",
    ),
    "summary workbook, disk full": (
        lambda mp, out: inject(
            mp,
            "xlsxwriter.workbook.Workbook._store_workbook",
            full(),
            when=lambda self: Path(self.filename).parent == out.resolve(),
        ),
        "磁盘已满",
    ),
}


@pytest.mark.parametrize("stage", STAGES)
def test_out_failing_stops_the_run_cleanly_and_the_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, ["白云区市场监督服务中心_2023.xlsx"])}
    if stage.startswith("summary"):  # an earlier summary exists: the stop must not leave it stale for good
        run(inbox, out)
    inputs |= {p.name: sha(p) for p in copy_samples(inbox, NAMES)}
    make_fault, cause = STAGES[stage]
    fault = make_fault(monkeypatch, out)

    with pytest.raises(OutputError) as stopped:
        run(inbox, out)
    assert fault.raised >= 1
    message = str(stopped.value)
    assert message.startswith(STOPPED) and cause in message, message
    assert "收件箱中剩余的文件均未移动，也未丢失" in message
    assert_nothing_lost(inbox, out, inputs)

    fault.active = False  # space freed, permission restored
    again = run(inbox, out)
    assert not again.interrupted
    assert_consistent(inbox, out, inputs)
    units = {row[0] for row in openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"].iter_rows(values_only=True)}
    units |= {row[1] for row in openpyxl.load_workbook(out / "汇总_2023.xlsx")["总览"].iter_rows(values_only=True)}
    assert {"白云区市场监督服务中心", "金沙县文化馆", "临湖县图书馆"} <= units, "summary rebuilt with every unit"


def test_cli_says_why_it_stopped_exits_2_and_the_rerun_exits_normally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, NAMES)}
    fault = inject(monkeypatch, "os.fsync", full(), when=lambda fd: "/archive/.tmp-" in _fd_path(fd))
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    err = "".join(captured.err.split())  # Rich wraps long lines (between CJK characters too)
    assert f"错误：{STOPPED}" in err and "磁盘已满" in err
    assert_nothing_lost(inbox, out, inputs)
    fault.active = False
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 0
    assert_consistent(inbox, out, inputs)


def test_an_unwritable_output_folder_is_refused_before_anything_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, NAMES)
    inject(monkeypatch, "os.open", denied(), when=lambda path, *a, **k: str(path).endswith(".jixiao.lock"))
    with pytest.raises(OutputError, match=f"^{STOPPED}：无法写入输出目录 .*（没有写入权限"):
        run(inbox, out)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(NAMES)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions: the injected cases cover this")
def test_a_read_only_processed_folder_stops_the_run_and_the_rerun_completes(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, NAMES)}
    (out / "processed").mkdir(parents=True)
    (out / "processed").chmod(0o555)
    try:
        with pytest.raises(OutputError, match="没有写入权限"):
            run(inbox, out)
        assert_nothing_lost(inbox, out, inputs)
    finally:
        (out / "processed").chmod(0o755)
    run(inbox, out)
    assert_consistent(inbox, out, inputs)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def test_a_really_full_disk_stops_the_run_and_the_rerun_completes_once_there_is_room(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, NAMES)}
    big = inbox / "大文件.xlsx"  # incompressible, and newest: the samples are taken first
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    inputs[big.name] = sha(big)
    age(big, 60)
    with tmpfs(out, "2m"):
        with pytest.raises(OutputError, match=f"^{STOPPED}.*磁盘已满"):
            run(inbox, out)
        assert_nothing_lost(inbox, out, inputs)
        subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)
        run(inbox, out)
        assert_consistent(inbox, out, inputs)


# ------------------------------------------------------------------------ one file's content fails


def _fail_content(monkeypatch: pytest.MonkeyPatch, name: str, *, also_findings_sheet: bool) -> None:
    """The annotated writer raises on `name`: on its sheets, or (also_findings_sheet) on anything of it."""
    import pipeline.report.annotate as annotate

    real, real_patched = annotate._fill_workbook, annotate._write_patched

    def fill(workbook: Any, result: Any, grid: Any, at: Any) -> None:
        if result.file.name == name and not result.rejected and (grid is not None or also_findings_sheet):
            raise ValueError("a cell this writer cannot handle")
        real(workbook, result, grid, at)

    def patched(result: Any, source: Any, out: Any, at: Any) -> bool:  # source: the archived .xlsx
        if result.file.name == name and not result.rejected:
            raise ValueError("a cell this writer cannot handle")
        return real_patched(result, source, out, at)

    monkeypatch.setattr(annotate, "_fill_workbook", fill)
    monkeypatch.setattr(annotate, "_write_patched", patched)


def test_a_writer_failing_on_one_files_sheets_keeps_its_findings_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, [*NAMES, "白云区市场监督服务中心_2023.xlsx"])}
    _fail_content(monkeypatch, "白云区市场监督服务中心_2023.xlsx", also_findings_sheet=False)
    report = run(inbox, out)
    by_name = {o.original: o for o in report.outcomes}
    odd = by_name["白云区市场监督服务中心_2023.xlsx"]
    assert odd.status == "errors" and odd.errors > 0
    assert odd.output is not None and openpyxl.load_workbook(odd.output).sheetnames == ["审核结果"]
    assert {by_name[n].status for n in NAMES} == {"ok"}
    assert_consistent(inbox, out, inputs)


def test_a_file_whose_workbook_cannot_be_written_at_all_is_refused_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, [*NAMES, "白云区市场监督服务中心_2023.xlsx"])}
    _fail_content(monkeypatch, "白云区市场监督服务中心_2023.xlsx", also_findings_sheet=True)
    report = run(inbox, out)
    by_name = {o.original: o for o in report.outcomes}
    odd = by_name["白云区市场监督服务中心_2023.xlsx"]
    assert (odd.status, odd.reason) == ("rejected", MSG_WRITE_FAILED.format(kind="ValueError"))
    assert odd.filed == out.resolve() / "refused" / "白云区市场监督服务中心_2023.xlsx"
    assert rows(out, "SELECT reason_code FROM submissions WHERE status = 'rejected'") == [("write_error",)]
    assert {by_name[n].status for n in NAMES} == {"ok"}
    assert_consistent(inbox, out, inputs)
