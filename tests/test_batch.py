"""Batch runs: every inbox file processed exactly once, duplicates recognised, crashes recovered.

Crash points are simulated two ways: by rewinding the ledger and the folders to the state a crash
leaves at each step (deterministic, one test per step), and by SIGKILL-ing a real `jixiao run`
subprocess in the middle of a batch (the JIXIAO_TEST_DELAY_S hook slows each file step down so
the kill lands mid-batch).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.batch.engine import run_inbox, watch_inbox
from pipeline.batch.filing import NOTE_CHANGED
from pipeline.batch.outcomes import FileOutcome, Listener
from pipeline.cli import main
from pipeline.errors import JixiaoError
from pipeline.read.isolate import MSG_CRASH
from pipeline.settings import TEST_DELAY_ENV
from pipeline.store.files import OutputLock
from tests import hostile as h

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
N_SAMPLES = 7
WITH_ERRORS = {"岳阳市公共租赁房屋运营服务中心_2023.xlsx", "白云区市场监督服务中心_2023.xlsx"}


def age(path: Path, seconds: float = 3600) -> Path:
    """Back-date a file: it looks complete to the inbox's settle rule."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def drop(path: Path, data: bytes) -> Path:
    """A file that arrived in the inbox a while ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return age(path)


def copy_samples(inbox: Path, names: list[str] | None = None) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    return [
        age(Path(shutil.copyfile(p, inbox / p.name)))
        for p in sorted(SAMPLES.iterdir())
        if names is None or p.name in names
    ]


def run(inbox: Path, out: Path, **options: object) -> object:
    options = {"workers": 0, "settle_s": 0, "wait_s": 0, **options}
    return run_inbox(inbox, out, **options)  # type: ignore[arg-type]


def files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def rows(out: Path, sql: str = "SELECT original_path, state, status FROM submissions ORDER BY id") -> list[tuple]:
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(inbox: Path, out: Path, inputs: dict[str, str]) -> None:
    """Every input (relative name → sha256) processed exactly once, nothing lost, the ledger consistent."""
    assert [f for f in files(inbox) if not Path(f).name.startswith(".")] == []  # hidden files are left alone
    filed = files(out / "processed") + files(out / "refused")
    assert sorted(filed) == sorted(inputs), "each file in processed/ or refused/ exactly once, under its own name"
    for name, digest in inputs.items():
        where = out / "processed" / name
        where = where if where.exists() else out / "refused" / name
        assert sha(where) == digest
        assert list((out / "archive" / digest[:2]).glob(f"{digest}.*")), f"{name} not archived"
    ledger = rows(out, "SELECT sha256, state, duplicate_of FROM submissions")
    assert sorted(s for s, _, _ in ledger) == sorted(inputs.values()), "exactly one row per hash"
    assert {(state, dup) for _, state, dup in ledger} == {("filed", None)}
    outputs = rows(out, "SELECT output_path FROM submissions")
    assert all((out / o).is_file() for (o,) in outputs if o is not None)
    assert not list(out.rglob(".tmp-*")) and not list(out.rglob(".*.tmp"))
    orphans = rows(out, "SELECT COUNT(*) FROM findings WHERE submission_id NOT IN (SELECT id FROM submissions)")
    assert orphans == [(0,)]


# ------------------------------------------------------------------------------------ one run


def test_a_run_processes_every_workbook_and_leaves_lock_and_partial_files(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox)}
    litter = [
        "~$白云区市场监督服务中心_2023.xlsx",
        ".~lock.金沙县文化馆_2023.xlsx#",
        "下载中.xlsx.crdownload",
        "x.part",
    ]
    for name in litter:
        drop(inbox / name, b"lock")
    report = run(inbox, out)
    assert files(inbox) == sorted(litter)  # left alone
    assert len(report.outcomes) == N_SAMPLES
    assert {o.original for o in report.outcomes if o.status == "errors"} == WITH_ERRORS
    assert report.units == N_SAMPLES and report.exit_code == 1
    assert report.summaries == [out.resolve() / "汇总_2023.xlsx"] and report.summaries[0].is_file()
    with_findings = [o.original for o in report.outcomes if o.errors or o.warnings]
    assert files(out / "results") == sorted(Path(n).stem + "_审核结果.xlsx" for n in with_findings)
    assert all(o.output is None for o in report.outcomes if o.status == "ok")  # nothing to annotate
    for name in litter:
        (inbox / name).unlink()
    assert_consistent(inbox, out, inputs)


def test_a_clean_batch_exits_0_and_a_refused_file_has_its_reason(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, ["临湖县图书馆_2023.xls", "金沙县文化馆_2023.xlsx"])
    assert run(inbox, out).exit_code == 0
    drop(inbox / "东区" / "自评表.xlsx", b"%PDF-1.7 not a workbook")
    report = run(inbox, out)
    [refused] = report.outcomes
    assert (refused.status, refused.original) == ("rejected", "东区/自评表.xlsx")
    assert "PDF" in (refused.reason or "")
    assert refused.filed == out.resolve() / "refused" / "东区" / "自评表.xlsx" and refused.filed.is_file()
    assert refused.output is not None and refused.output.is_file()  # the reason, as a workbook to send back
    assert report.exit_code == 2  # a refused file: README "Exit codes"


def test_an_identical_file_dropped_again_is_a_duplicate_not_validated_twice(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])
    run(inbox, out)
    findings_before = rows(out, "SELECT COUNT(*) FROM findings")
    drop(inbox / "东区" / "文化馆（重发）.xlsx", (SAMPLES / "金沙县文化馆_2023.xlsx").read_bytes())
    [dup] = run(inbox, out).outcomes
    assert (dup.status, dup.unit) == ("duplicate", "金沙县文化馆")
    assert "“金沙县文化馆_2023.xlsx”内容完全相同" in (dup.reason or "")
    assert dup.filed == out.resolve() / "processed" / "东区" / "文化馆（重发）.xlsx"
    assert dup.output is None
    assert rows(out, "SELECT COUNT(*) FROM findings") == findings_before
    assert rows(out, "SELECT COUNT(*) FROM points WHERE submission_id = 2") == [(0,)]


def test_identical_files_in_one_batch_and_a_refused_duplicate(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    workbook = (SAMPLES / "松涛区水利工程管理站_2023.xlsx").read_bytes()
    drop(inbox / "a.xlsx", workbook)
    age(drop(inbox / "b.xlsx", workbook), 60)  # newer: received second
    drop(inbox / "junk.xlsx", b"\x00" * 64)
    age(drop(inbox / "junk again.xlsx", b"\x00" * 64), 60)
    report = run(inbox, out)
    assert sorted((o.original, o.status) for o in report.outcomes) == [
        ("a.xlsx", "ok"),
        ("b.xlsx", "duplicate"),
        ("junk again.xlsx", "duplicate"),
        ("junk.xlsx", "rejected"),
    ]
    assert files(out / "refused") == ["junk again.xlsx", "junk.xlsx"]  # a refused file's twin is refused too
    assert files(out / "processed") == ["a.xlsx", "b.xlsx"]


def test_a_file_that_crashes_its_worker_is_refused_and_the_rest_finish(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, ["临湖县图书馆_2023.xls", "金沙县文化馆_2023.xlsx", "松涛区水利工程管理站_2023.xlsx"])
    # Two cells at opposite corners: calamine allocates the whole 17-billion-cell range and aborts.
    age(h.far_corners_xlsx(inbox / "巨型表.xlsx"))
    report = run(inbox, out, workers=2)
    by_name = {o.original: o for o in report.outcomes}
    assert by_name["巨型表.xlsx"].status == "rejected"
    assert by_name["巨型表.xlsx"].reason == MSG_CRASH
    assert files(out / "refused") == ["巨型表.xlsx"]
    assert sorted(o.status for n, o in by_name.items() if n != "巨型表.xlsx") == ["ok", "ok", "ok"]
    assert files(inbox) == []


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])
    with OutputLock(out):
        with pytest.raises(JixiaoError, match="另一个审核任务正在使用输出目录"):
            run(inbox, out)
        assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 2
    assert "另一个审核任务正在使用输出目录" in capsys.readouterr().err
    assert files(inbox) == ["金沙县文化馆_2023.xlsx"]


# ------------------------------------------------------------------------- crash points, rewound


def _processed(out: Path) -> Path:
    return out / "processed"


def test_crash_after_checked_before_the_move(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, ["金沙县文化馆_2023.xlsx", "临湖县图书馆_2023.xls"])}
    run(inbox, out)
    os.rename(_processed(out) / "金沙县文化馆_2023.xlsx", inbox / "金沙县文化馆_2023.xlsx")  # keeps the mtime
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        conn.execute("UPDATE submissions SET state = 'checked', filed_at = NULL WHERE original_path LIKE '金沙%'")
    report = run(inbox, out)
    assert report.recovered == 1 and [o.original for o in report.outcomes] == ["金沙县文化馆_2023.xlsx"]
    assert_consistent(inbox, out, inputs)


def test_crash_after_the_move_before_filed(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])}
    run(inbox, out)
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        conn.execute("UPDATE submissions SET state = 'checked', filed_at = NULL")
    assert run(inbox, out).recovered == 1
    assert_consistent(inbox, out, inputs)


def test_crash_mid_move_across_filesystems_leaves_both_copies(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])}
    run(inbox, out)
    shutil.copy2(_processed(out) / "金沙县文化馆_2023.xlsx", inbox / "金沙县文化馆_2023.xlsx")  # not yet unlinked
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        conn.execute("UPDATE submissions SET state = 'checked', filed_at = NULL")
    run(inbox, out)
    assert_consistent(inbox, out, inputs)


def test_crash_after_received_before_checked(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {
        p.name: sha(p) for p in copy_samples(inbox, ["白云区市场监督服务中心_2023.xlsx", "金沙县文化馆_2023.xlsx"])
    }
    run(inbox, out)
    findings = rows(out, "SELECT COUNT(*) FROM findings")
    os.rename(_processed(out) / "白云区市场监督服务中心_2023.xlsx", inbox / "白云区市场监督服务中心_2023.xlsx")
    (out / "results" / "白云区市场监督服务中心_2023_审核结果.xlsx").unlink()
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        (rid,) = conn.execute("SELECT id FROM submissions WHERE original_path LIKE '白云%'").fetchone()
        conn.execute("DELETE FROM findings WHERE submission_id = ?", (rid,))
        conn.execute("DELETE FROM points WHERE submission_id = ?", (rid,))
        conn.execute(
            "UPDATE submissions SET state = 'received', status = NULL, unit = NULL, year = NULL, errors = 0,"
            " warnings = 0, checked_at = NULL, output_path = NULL, dest_path = NULL, filed_at = NULL WHERE id = ?",
            (rid,),
        )
    report = run(inbox, out)
    assert [(o.original, o.status) for o in report.outcomes] == [("白云区市场监督服务中心_2023.xlsx", "errors")]
    assert rows(out, "SELECT COUNT(*) FROM findings") == findings
    assert_consistent(inbox, out, inputs)


def test_crash_after_the_archive_copy_before_the_ledger_row(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])}
    run(inbox, out)
    os.rename(_processed(out) / "金沙县文化馆_2023.xlsx", inbox / "金沙县文化馆_2023.xlsx")
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        conn.execute("DELETE FROM findings")
        conn.execute("DELETE FROM points")
        conn.execute("DELETE FROM submissions")
    (out / "results" / "金沙县文化馆_2023_审核结果.xlsx").unlink(missing_ok=True)  # a clean file has none
    (out / "archive" / "leftover").mkdir()
    (out / "archive" / ".tmp-0123").write_bytes(b"half")  # an interrupted copy
    [outcome] = run(inbox, out).outcomes
    assert outcome.status == "ok"
    assert_consistent(inbox, out, inputs)


def test_a_file_changed_before_its_move_is_left_and_received_again(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])
    run(inbox, out)
    # The row is checked, and meanwhile someone saved a new version under the same name.
    shutil.copyfile(SAMPLES / "松涛区水利工程管理站_2023.xlsx", inbox / "金沙县文化馆_2023.xlsx")
    (_processed(out) / "金沙县文化馆_2023.xlsx").unlink()
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        conn.execute("UPDATE submissions SET state = 'checked', filed_at = NULL")
    report = run(inbox, out)
    first, second = report.outcomes
    assert (first.id, first.note, first.filed) == (1, NOTE_CHANGED, None)
    assert (second.id, second.unit, second.status) == (2, "松涛区水利工程管理站", "ok")
    assert files(inbox) == []


# ------------------------------------------------------------------------------ stopping cleanly


class StopAfter(Listener):
    def __init__(self, n: int, stop: threading.Event) -> None:
        self.n, self.stop, self.seen = n, stop, 0

    def done(self, outcome: FileOutcome) -> None:
        self.seen += 1
        if self.seen == self.n:
            self.stop.set()


def test_a_stop_request_ends_the_run_between_files_and_the_rerun_finishes(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox)}
    stop = threading.Event()
    report = run(inbox, out, stop=stop, listener=StopAfter(2, stop))
    assert report.interrupted and len(report.outcomes) == 2
    states = [state for _, state, _ in rows(out)]
    # the files recorded with them stay `checked` (and in the inbox) until the rerun files them
    assert states.count("filed") == 2 and set(states) <= {"filed", "checked", "received"}
    assert len(files(inbox)) == N_SAMPLES - 2  # the others are untouched
    again = run(inbox, out)
    assert len(again.outcomes) == N_SAMPLES - 2 and not again.interrupted
    assert_consistent(inbox, out, inputs)


def test_watch_processes_files_as_they_arrive_until_stopped(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    stop = threading.Event()
    passes: list[int] = []
    result: dict[str, object] = {}

    def watch() -> None:
        result["report"] = watch_inbox(
            inbox,
            out,
            stop=stop,
            interval_s=0.05,
            workers=0,
            settle_s=0,
            on_pass=lambda r: passes.append(len(r.outcomes)),
        )

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        copy_samples(inbox, ["金沙县文化馆_2023.xlsx"])
        _wait_for(lambda: files(out / "processed") == ["金沙县文化馆_2023.xlsx"])
        copy_samples(inbox, ["临湖县图书馆_2023.xls"])
        _wait_for(lambda: len(files(out / "processed")) == 2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert passes == [1, 1]
    report = result["report"]
    assert [o.original for o in report.outcomes] == ["金沙县文化馆_2023.xlsx", "临湖县图书馆_2023.xls"]  # type: ignore[attr-defined]
    assert (out / "汇总_2023.xlsx").is_file()


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------- CLI


def test_cli_run_shows_the_counts_and_where_the_outputs_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy_samples(tmp_path / "inbox")
    assert main(["run", "inbox", "--out", "out", "--workers", "0"]) == 1
    text = capsys.readouterr().out
    assert "7/7" in text
    for expected in ("单位数", "有错误", "需处理的文件", "out/汇总_2023.xlsx", "out/results", "out/ledger.sqlite3"):
        assert expected in text
    (tmp_path / "out" / "汇总_2023.xlsx").unlink()
    assert main(["summary", "--out", "out"]) == 0
    assert "已生成汇总表" in capsys.readouterr().out
    assert (tmp_path / "out" / "汇总_2023.xlsx").is_file()


# ---------------------------------------------------------------------------- real processes


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.synth.corpus import generate

    folder = tmp_path_factory.mktemp("synth")
    generate(folder, units=30, fault_rate=0.3, seed=3, workers=0)  # its answer key is hidden: not a submission
    return folder


def _jixiao(*args: str, delay: float | None = None, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, TEST_DELAY_ENV: str(delay or "")}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes its workers too
        **popen,  # type: ignore[arg-type]
    )


def _count(out: Path, where: str) -> int:
    try:
        with sqlite3.connect(out / "ledger.sqlite3", timeout=5) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM submissions WHERE {where}").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _kill_when(proc: subprocess.Popen[str], out: Path, where: str, n: int, *, group: bool = True) -> None:
    """SIGKILL the run (with its workers, or the parent alone) once `n` rows match `where`."""
    deadline = time.monotonic() + 60
    while _count(out, where) < n:
        assert proc.poll() is None, f"the run ended before the kill: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out waiting for the run to progress"
        time.sleep(0.01)
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (Linux /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_sigkill_mid_batch_then_rerun_processes_every_file_exactly_once(tmp_path: Path, thirty: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(thirty, inbox)
    for path in inbox.iterdir():
        age(path)
    inputs = {p.name: sha(p) for p in inbox.iterdir() if not p.name.startswith(".")}
    assert len(inputs) == 30
    assert (inbox / ".answer_key.json").is_file()  # and the runs leave it alone

    # 1. killed while receiving (archive copies and received rows, nothing checked yet)
    proc = _jixiao("run", str(inbox), "--out", str(out), "--workers", "2", delay=0.05)
    _kill_when(proc, out, "1", 8)
    assert _count(out, "state = 'filed'") == 0

    # 2. the rerun recovers those, and is killed while filing — the parent alone: its workers follow it
    proc = _jixiao("run", str(inbox), "--out", str(out), "--workers", "2", delay=0.05)
    unfinished = "EXISTS (SELECT 1 FROM submissions WHERE state != 'filed')"  # rows the last run must finish
    _kill_when(proc, out, f"state = 'filed' AND {unfinished}", 5, group=False)
    assert _count(out, "state = 'filed'") < 30, "the kill should land mid-batch"
    deadline = time.monotonic() + 10
    while _group(proc.pid):
        assert time.monotonic() < deadline, f"processes left behind by the killed run: {_group(proc.pid)}"
        time.sleep(0.05)

    # 3. the last run finishes
    proc = _jixiao("run", str(inbox), "--out", str(out), "--workers", "2")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), stderr
    assert "已完成上次中断时未处理完的" in stdout
    assert_consistent(inbox, out, inputs)


def test_ctrl_c_on_the_process_group_stops_watch_between_files(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox)}
    proc = _jixiao("watch", str(inbox), "--out", str(out), "--workers", "2", delay=0.3)
    deadline = time.monotonic() + 60
    while _count(out, "state = 'filed'") < 2:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the parent, the forkserver and every worker
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (0, 1), stderr  # what the files seen so far hold; none was refused
    assert "已停止监视" in stdout
    assert _count(out, "status = 'rejected'") == 0  # no worker died of the Ctrl-C and got a file refused
    assert _count(out, "state = 'filed'") < N_SAMPLES
    run(inbox, out)
    assert_consistent(inbox, out, inputs)
