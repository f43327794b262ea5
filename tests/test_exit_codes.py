"""One exit-code table for every command (issue #21 point 6), as the README states it: 0 clean, 1 some file has
errors, 2 some file refused or nothing done (usage error, broken profile, missing input), 130 interrupted."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from test_batch import age, copy_samples

from pipeline import model
from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLEAN = ["临湖县图书馆_2023.xls", "金沙县文化馆_2023.xlsx"]
WITH_ERRORS = ["岳阳市公共租赁房屋运营服务中心_2023.xlsx"]


def junk(inbox: Path) -> None:
    """A file no reader takes: refused."""
    path = inbox / "东区" / "自评表.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7 not a workbook")
    age(path)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT of one run over the samples: what summary, export and review work on."""
    root = tmp_path_factory.mktemp("exit")
    copy_samples(root / "inbox")
    assert main(["run", str(root / "inbox"), "--out", str(root / "out"), "--workers", "0"]) == model.EXIT_ERRORS
    return root / "out"


def test_the_readme_table_is_the_codes() -> None:
    section = README.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) +\| (.+?) \|$", section, re.M))
    assert sorted(map(int, rows)) == sorted(
        {model.EXIT_CLEAN, model.EXIT_ERRORS, model.EXIT_REFUSED, model.EXIT_USAGE, model.EXIT_INTERRUPTED}
    )
    for command in ("check", "run", "watch", "summary", "review", "export", "template"):
        assert f"`{command}`" in section


@pytest.mark.parametrize(
    ("names", "refused", "expected"),
    [(CLEAN, False, 0), (CLEAN + WITH_ERRORS, False, 1), (CLEAN + WITH_ERRORS, True, 2)],
)
def test_check_and_run(tmp_path: Path, names: list[str], refused: bool, expected: int) -> None:
    inbox = tmp_path / "inbox"
    copy_samples(inbox, names)
    if refused:
        junk(inbox)
    assert main(["check", str(inbox), "--workers", "0"]) == expected
    assert main(["run", str(inbox), "--out", str(tmp_path / "out"), "--workers", "0"]) == expected


@pytest.mark.parametrize("command", ["check", "run", "watch"])
def test_a_usage_error_is_2(tmp_path: Path, command: str) -> None:
    (tmp_path / "inbox").mkdir()
    argv = [command, str(tmp_path / "inbox"), "--workers", "0", "--profile", "nowhere"]
    assert main(argv if command == "check" else [*argv, "--out", str(tmp_path / "out")]) == model.EXIT_USAGE


def _filed(out: Path) -> int:
    try:
        with sqlite3.connect(out / "ledger.sqlite3") as db:
            return int(db.execute("SELECT count(*) FROM submissions WHERE state = 'filed'").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize(
    ("names", "refused", "expected"),
    [(CLEAN, False, 0), (CLEAN + WITH_ERRORS, False, 1), (CLEAN, True, 2)],
)
def test_watch_stopped_by_ctrl_c_says_what_the_files_it_saw_hold(
    tmp_path: Path, names: list[str], refused: bool, expected: int
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, names)
    if refused:
        junk(inbox)
    total = len(names) + refused

    def stop_when_all_filed() -> None:
        deadline = time.monotonic() + 120
        while _filed(out) < total and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: watch stops between files

    stopper = threading.Thread(target=stop_when_all_filed)
    stopper.start()
    try:
        code = main(["watch", str(inbox), "--out", str(out), "--workers", "0"])
    finally:
        stopper.join()
    assert (_filed(out), code) == (total, expected)


def test_summary_export_and_review(out: Path, tmp_path: Path) -> None:
    assert main(["summary", "--out", str(out)]) == model.EXIT_CLEAN
    assert main(["export", "--out", str(out)]) == model.EXIT_CLEAN
    summary = next(out.glob("汇总_*.xlsx"))
    assert main(["review", str(summary), "--out", str(out)]) == model.EXIT_CLEAN
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["summary", "--out", str(empty)]) == model.EXIT_USAGE
    assert main(["export", "--out", str(empty)]) == model.EXIT_USAGE
    assert main(["review", str(tmp_path / "nothing.xlsx"), "--out", str(out)]) == model.EXIT_USAGE


def test_template(tmp_path: Path) -> None:
    assert main(["template", "--out", str(tmp_path)]) == model.EXIT_CLEAN
    assert main(["template", "--year", "1850", "--out", str(tmp_path)]) == model.EXIT_USAGE


def test_exit_code_of_statuses() -> None:
    assert model.exit_code([]) == 0
    assert model.exit_code(["ok", "warnings", "duplicate"]) == 0
    assert model.exit_code(["ok", "errors"]) == 1
    assert model.exit_code(["errors", "rejected", "ok"]) == 2
