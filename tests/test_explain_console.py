"""The console tables of `jixiao check` and `jixiao run` count a unit whose warnings are all explained as
通过（提示已说明）, not as 有提示 (#12 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from tests.test_batch import copy_samples
from tests.test_explain import EXPLAINED, SOURCE, UNIT, _send_back


@pytest.fixture
def returned(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A first run, then the unit's annotated workbook fixed and explained, waiting in the inbox."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [SOURCE.name])
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 1
    (annotated,) = (out / "results").iterdir()
    back = _send_back(annotated, inbox / f"{UNIT}_2023_报回.xlsx", fix=True, notes=EXPLAINED)
    return inbox, out, back


def test_check_counts_an_explained_unit_as_passed_with_warnings_explained(
    returned: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _, _, back = returned
    capsys.readouterr()
    assert main(["check", str(back), "--workers", "0"]) == 0
    assert "共审核 1 个文件：通过 0，通过（提示已说明） 1，有提示 0，有错误 0" in capsys.readouterr().out


def test_run_table_has_a_column_for_explained_units(
    returned: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    inbox, out, _ = returned
    capsys.readouterr()
    assert main(["run", str(inbox), "--out", str(out), "--workers", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if "单位数" in line)
    headers = [c.strip() for c in lines[head].strip("┃ ").split("┃")]
    values = [c.strip() for c in lines[head + 2].strip("│ ").split("│")]
    row = dict(zip(headers, values, strict=True))
    assert (row["通过（提示已说明）"], row["有提示"], row["通过"]) == ("1", "0", "0")
