"""Issue #18, reliability second pass: one regression test per row of the issue's table (named after it).

Each test drives the library or the command line with a workbook made in the test (tests/hostile.py,
tests/builders.py) and reads what jixiao wrote back: the ledger, the output folder, the workbooks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from tests import hostile as h


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


# ------------------------------------------------------------------ row 1: a folder that eats itself


@pytest.mark.parametrize("layout", ["same", "link", "out_inside_inbox", "inbox_inside_out"])
def test_row1_out_inside_inbox_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str) -> None:
    inbox = tmp_path / "box"
    inbox.mkdir()
    h.write_submission(inbox / "a.xlsx", unit="甲单位")
    out = {
        "same": inbox,
        "link": tmp_path / "link",
        "out_inside_inbox": inbox / "out",
        "inbox_inside_out": tmp_path,
    }[layout]
    if layout == "link":
        out.symlink_to(inbox)
    before = sorted(p for p in tmp_path.rglob("*"))
    code, out_text, err = run_cli(capsys, "run", str(inbox), "--out", str(out), "--workers", "0")
    assert code == 2
    assert f"收件箱与输出目录不能相同或互相包含（含经由链接）：收件箱 {inbox}，输出目录 {out}" in one_line(err)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing archived, moved or created
