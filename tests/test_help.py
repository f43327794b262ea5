"""`--help` laid out by display width (issue #21 point 6): a Chinese character takes two terminal columns, so
the help column of every option starts at the same display column and no line runs past the width."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from pipeline.argparse_zh import wrap_cells
from pipeline.cli import build_parser

COMMANDS = ["", "template", "check", "synth", "run", "watch", "summary", "export", "roster", "review"]


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*command.split(), "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def help_columns(text: str) -> set[int]:
    """The display column where each option's help text starts, in the 参数 and 选项 sections."""
    body = text.split("\n\n", 1)[1]
    columns = set()
    for section in re.split(r"\n(?=\S)", body):
        if not section.startswith(("参数", "选项")):
            continue
        for line in section.splitlines()[1:]:
            m = re.match(r"^( +\S.*?  +)\S", line) or re.match(r"^( {8,})\S", line)  # invocation, continuation
            if m:
                columns.add(cell_len(m.group(1)))
    return columns


@pytest.mark.parametrize("width", [60, 100])
@pytest.mark.parametrize("command", COMMANDS)
def test_help_columns_line_up_by_display_width(
    command: str, width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    text = help_text(command, capsys)
    columns = help_columns(text)
    assert len(columns) == 1, text
    assert all(cell_len(line) <= width for line in text.splitlines() if not line.startswith("用法")), text


def test_wrap_by_display_width_keeps_ascii_words_and_closing_marks() -> None:
    text = "审核口径：schemas/profiles/ 下的名称（如 example_40_40），或 .toml 文件的路径"
    lines = wrap_cells(text, 24)
    assert all(cell_len(line) <= 24 for line in lines)
    assert "example_40_40" in "\n".join(lines) and "schemas/profiles/" in "\n".join(lines)
    assert not any(line.startswith(("，", "）", "。")) for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
