"""argparse for a Chinese command line: headings, argparse's own messages, and help laid out by display width.

argparse pads and wraps help by characters; a Chinese character takes two columns on a terminal, so the help
column drifted from option to option. This formatter measures with `rich.cells.cell_len` instead (rich-argparse
1.8 pads with `Text.set_length`, by characters too, and drifts the same way).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

from rich.cells import cell_len


class Formatter(argparse.HelpFormatter):
    """Help text with a Chinese usage heading; invocations padded and help wrapped by display width."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            invocations = [self._format_action_invocation(action)]
            invocations += [self._format_action_invocation(a) for a in self._iter_indented_subactions(action)]
            width = max(map(cell_len, invocations)) + self._current_indent
            self._action_max_length = max(self._action_max_length, width)

    def _format_action(self, action: argparse.Action) -> str:
        help_position = min(self._action_max_length + 2, self._max_help_position)
        help_width = max(self._width - help_position, 11)
        action_width = help_position - self._current_indent - 2
        header = self._format_action_invocation(action)
        indent = " " * self._current_indent
        lines = self._split_lines(self._expand_help(action), help_width) if action.help and action.help.strip() else []
        if not lines:
            parts = [f"{indent}{header}\n"]
        elif cell_len(header) <= action_width:  # the help starts on the same line
            parts = [f"{indent}{header}{' ' * (action_width - cell_len(header))}  {lines[0]}\n"]
            lines = lines[1:]
        else:  # a long invocation: the help starts on the next line
            parts = [f"{indent}{header}\n"]
        parts += [f"{' ' * help_position}{line}\n" for line in lines]
        parts += [self._format_action(sub) for sub in self._iter_indented_subactions(action)]
        return self._join_parts(parts)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_cells(text, width)


_NO_LINE_START = "，。；：、）！？”’」』"


def wrap_cells(text: str, width: int) -> list[str]:
    """Greedy wrap by display width. A Chinese character may end a line anywhere; a run of ASCII letters,
    digits and signs (a path, `example_40_40`) moves to the next line whole."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[!-~]+| |.", " ".join(text.split())):
        if line and cell_len(line + token) > width:
            carry = ""
            if token in _NO_LINE_START and len(line) > 1 and not line[-1].isascii():  # a closing mark takes its word
                carry, line = line[-1], line[:-1]
            lines.append(line.rstrip())
            line = (carry + token).lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


#: argparse's own messages (English, from its source) → what a user is shown.
_ARGPARSE_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"the following arguments are required: (.*)", "缺少必需的参数：{0}"),
        (r"unrecognized arguments: (.*)", "无法识别的参数：{0}"),
        (r"argument (.*?): invalid int value: (.*)", "参数 {0} 须为整数，收到 {1}"),
        (r"argument (.*?): invalid float value: (.*)", "参数 {0} 须为数字，收到 {1}"),
        (r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)", "参数 {0} 的值 {1} 无效，可选：{2}"),
        (r"argument (.*?): expected one argument", "参数 {0} 需要一个值"),
        (r"argument (.*?): (.*)", "参数 {0}：{1}"),
        (r"ambiguous option: (.*?) could match (.*)", "选项 {0} 有歧义，可能是：{1}"),
    )
)


def zh(message: str) -> str:
    for pattern, text in _ARGPARSE_ZH:
        m = pattern.fullmatch(message)
        if m:
            return text.format(*m.groups())
    return message


class Parser(argparse.ArgumentParser):
    """argparse speaking Chinese: headings, -h, and its error messages (exit code 2, as argparse)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{zh(message)}\n")
