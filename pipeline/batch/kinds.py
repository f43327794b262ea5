"""What an inbox file is, by its name: a workbook, a 自评报告 or a bundle (.zip) — and the few formats refused
before anything reads them.

The suffix decides, as in `jixiao check` (`report_text.is_report`): a unit's .docx/.pdf/.doc/.wps is its
report, a .zip holds several of its files. A format no well-kept pure-Python package reads is refused with a
reason saying what to send instead, not read as a wrong workbook: .ofd (the OFD readers on PyPI are early
0.0.x/0.1 releases), .rar (rarfile needs the unrar program) and .7z (not taken, to keep one bundle format).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pipeline.errors import RejectedFile
from pipeline.read.report_text import REPORT_SUFFIXES

WORKBOOK, REPORT, BUNDLE = "workbook", "report", "bundle"
SEPARATOR = " › "  # between a bundle's name and its member's: 材料.zip › 附件.xlsx
BUNDLE_SUFFIXES = frozenset({".zip"})
UNREAD_REPORTS = frozenset({".ofd"})
UNREAD_BUNDLES = frozenset({".rar", ".7z"})

MSG_OFD = "OFD 格式的自评报告暂无法读取，请另存为 .docx 或 .pdf 后重新提交"
MSG_UNREAD_BUNDLE = "暂不支持 {ext} 压缩包，请改用 .zip 打包，或直接提交其中的文件"
MSG_NESTED = "压缩包中又含压缩包（{name}），未解压；请把其中的文件直接放入一个 .zip 后提交"


def kind_of(name: str) -> str:
    """workbook | report | bundle, by the suffix of a file name (or of a bundle member's name)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in REPORT_SUFFIXES or suffix in UNREAD_REPORTS:
        return REPORT
    if suffix in BUNDLE_SUFFIXES or suffix in UNREAD_BUNDLES:
        return BUNDLE
    return WORKBOOK


def refusal(name: str, *, member: bool) -> RejectedFile | None:
    """Why a report or bundle is refused unread (None: it is read); `member`: it came inside a bundle."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in UNREAD_REPORTS:
        return RejectedFile(MSG_OFD, code="unsupported")
    if kind_of(name) != BUNDLE:
        return None
    if member:
        member_name = PurePosixPath(name.rpartition(SEPARATOR)[2]).name
        return RejectedFile(MSG_NESTED.format(name=member_name), code="nested_bundle")
    if suffix in UNREAD_BUNDLES:
        return RejectedFile(MSG_UNREAD_BUNDLE.format(ext=suffix), code="unsupported")
    return None
