"""Windows-safe (issue #21 point 4): nothing POSIX-only at module level, the start method a switch, OUT's
lock and folder syncs through what every OS has.

The POSIX-only modules are made unimportable by a sitecustomize in a real subprocess (and in the workers it
spawns), as they are on Windows; `spawn`, the start method Windows has, is what those workers use.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import settings
from pipeline.errors import JixiaoError
from pipeline.store import files
from pipeline.store.files import OutputLock

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "sample_inputs" / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"  # has findings
POSIX_ONLY = ("fcntl", "resource", "termios", "pwd", "grp")


def without_posix(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the checkout with the POSIX-only modules unimportable, workers spawned."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in POSIX_ONLY), encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        settings.START_METHOD_ENV: "spawn",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def test_the_cli_imports_and_helps_without_posix_only_modules(tmp_path: Path) -> None:
    probe = f"import sys, pipeline.cli; print(sorted(m for m in {POSIX_ONLY!r} if sys.modules.get(m)))"
    done = without_posix(tmp_path, "-c", probe)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
    done = without_posix(tmp_path, "-m", "pipeline", "--help")
    assert done.returncode == 0, done.stderr
    assert "审核" in done.stdout and "Traceback" not in done.stderr


def test_check_reads_in_spawned_workers_without_a_memory_cap_module(tmp_path: Path) -> None:
    done = without_posix(tmp_path, "-m", "pipeline", "check", str(REFERENCE), "--workers", "2", "--json")
    assert done.returncode == 1, done.stderr  # findings, read by workers that could not cap their memory
    assert '"status": "rejected"' not in done.stdout and "Traceback" not in done.stderr
    assert "A1.SUM" in done.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "forkserver"), ("spawn", "spawn"), (" forkserver ", "forkserver")],
)
def test_the_start_method_is_a_switch(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    monkeypatch.setenv(settings.START_METHOD_ENV, value)
    assert settings.start_method() == expected


def test_fork_or_a_typo_as_start_method_is_refused_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.START_METHOD_ENV, "fork")
    with pytest.raises(JixiaoError, match=r"JIXIAO_START_METHOD='fork' 无效，本机可用：forkserver、spawn"):
        settings.start_method()


def test_the_lock_holder_pid_is_written_beside_the_lock_and_removed_with_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputLock(out):
        assert (out / files.PID_NAME).read_text(encoding="ascii") == f"{os.getpid()}\n"
        with pytest.raises(JixiaoError, match=rf"（进程 {os.getpid()}）"), OutputLock(out):
            pass
    assert not (out / files.PID_NAME).exists()
    assert (out / files.LOCK_NAME).exists()  # the lock file stays: a waiter shares its inode


def test_folders_are_not_opened_where_the_os_cannot_fsync_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_DIR_FLAGS", None)  # Windows
    monkeypatch.setattr(os, "open", lambda *a, **k: pytest.fail("a folder was opened"))
    files.fsync_dir(tmp_path)
    files.fsync_dirs({tmp_path}, "输出目录")
