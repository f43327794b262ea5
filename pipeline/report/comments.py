"""The 批注 on a marked cell: what each finding says (level, rule, message, expected, actual, their difference,
the other cells involved), and a comment box sized to its text.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pipeline.model import LEVEL_ZH, Finding

COMMENT_AUTHOR = "jixiao"
MAX_COMMENT = 32_767  # Excel's limit; xlsxwriter silently drops a longer comment


def comment_block(finding: Finding) -> str:
    lines = [f"【{LEVEL_ZH.get(finding.level, finding.level)}】规则 {finding.rule}", finding.message]
    if finding.expected not in (None, ""):
        lines.append(f"期望值：{finding.expected}")
    if finding.actual not in (None, ""):
        lines.append(f"实际值：{finding.actual}")
    diff = difference(finding.expected, finding.actual)
    if diff is not None:
        lines.append(f"相差：{diff}")
    if len(finding.cells) > 1:
        lines.append("涉及单元格：" + "、".join(finding.cells[1:]))
    return "\n".join(lines)


def difference(expected: str | None, actual: str | None) -> str | None:
    """actual − expected when both are plain numbers (or both percentages), exact in their decimals."""
    numbers = [_decimal(text) for text in (expected, actual)]
    if numbers[0] is None or numbers[1] is None or numbers[0][1] != numbers[1][1]:
        return None
    diff = numbers[1][0] - numbers[0][0]
    return f"{diff}{numbers[0][1]}" if diff else None


def _decimal(text: str | None) -> tuple[Decimal, str] | None:
    if text is None:
        return None
    cleaned = text.strip().replace(",", "")
    unit = "%" if cleaned.endswith("%") else ""
    try:
        value = Decimal(cleaned.removesuffix("%"))
    except InvalidOperation:
        return None
    return (value, unit) if value.is_finite() else None


def comment_options(text: str) -> dict[str, Any]:
    """A box wide enough for the longest line (up to 420 px) and tall enough for every wrapped line."""
    char_px = 6.5  # half-width character at 9 pt; a CJK character counts double
    longest = max(display_width(line) for line in text.split("\n"))
    width = int(min(max(longest * char_px + 16, 220), 420))
    per_line = max(int((width - 16) / char_px), 1)
    lines = sum(max(1, -(-display_width(line) // per_line)) for line in text.split("\n"))
    return {
        "author": COMMENT_AUTHOR,
        "width": width,
        "height": lines * 15 + 14,
        "font_name": "宋体",
        "font_size": 9,
    }


def display_width(text: str) -> int:
    longest = max(text.split("\n"), key=len, default="")
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in longest)
