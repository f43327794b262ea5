"""A unit's 自评报告 (附件4) → numbered paragraphs of text.

Reports arrive as .docx (read with python-docx), as .pdf with a text layer (pypdf), or as .doc/.wps
(converted to .docx with LibreOffice when it is installed; otherwise the unit is asked to save as .docx).
A PDF without a text layer (a scan) is accepted and said to be unreadable, not refused as broken.
Paragraph numbers count the non-empty paragraphs from 1, as a reviewer counts them in Word.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from pipeline import settings
from pipeline.errors import RejectedFile
from pipeline.model import Report
from pipeline.read.sniff import guard_zip_directory

log = logging.getLogger(__name__)

REPORT_SUFFIXES = frozenset({".docx", ".pdf", ".doc", ".wps"})
CONVERT_TIMEOUT_S = 120  # LibreOffice on a large .doc; a hung conversion must not stop a batch


def is_report(path: Path) -> bool:
    return path.suffix.lower() in REPORT_SUFFIXES


def read_report(path: Path) -> Report:
    """Read a report's paragraphs; problems become `Report.problem`, never an exception."""
    suffix = path.suffix.lower()
    try:
        _guard(path)
        if suffix == ".docx":
            return Report(path, _docx_paragraphs(path))
        if suffix == ".pdf":
            paragraphs = _pdf_paragraphs(path)
            if not paragraphs:
                return Report(path, [], "PDF 中没有可读取的文字（可能是扫描件），无法核对报告中的数字")
            return Report(path, paragraphs)
        if suffix in (".doc", ".wps"):
            return _converted(path)
    except RejectedFile as exc:  # too large, or a zip bomb: not opened at all
        return Report(path, [], f"报告文件未读取：{exc.reason}")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.info("cannot read report %s: %s", path, exc)
        return Report(path, [], f"无法读取报告文件（{type(exc).__name__}），请另存为 .docx 后重新提交")
    except Exception as exc:  # pypdf and python-docx raise many kinds on damaged files
        log.info("cannot read report %s: %r", path, exc)
        return Report(path, [], "报告文件已损坏或格式无法识别，请另存为 .docx 后重新提交")
    return Report(path, [], f"不支持的报告格式 {suffix}，请另存为 .docx")


def _guard(path: Path) -> None:
    """The limits a workbook gets, before python-docx or pypdf (which run in this process) see the file."""
    if path.stat().st_size > settings.MAX_FILE_BYTES:
        raise RejectedFile(f"文件超过 {settings.MAX_FILE_BYTES // (1024 * 1024)} MB", code="too_large")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            guard_zip_directory(zf.infolist())


def _docx_paragraphs(path: Path) -> list[str]:
    import docx  # python-docx: imported only when a report is read

    document = docx.Document(str(path))
    out = [p.text.strip() for p in document.paragraphs]
    for table in document.tables:  # figures in a report's own tables count too
        for row in table.rows:
            cells = list(dict.fromkeys(c.text.strip() for c in row.cells))
            out.append("，".join(c for c in cells if c))
    return [p for p in out if p]


_PAGE_NUMBER = re.compile(r"^[—\-－\s]*\d+[—\-－\s]*$")


def _pdf_paragraphs(path: Path) -> list[str]:
    """PDF text comes as lines; a line ending a sentence (。；：) or a short heading ends a paragraph."""
    import pypdf

    reader = pypdf.PdfReader(str(path))
    lines: list[str] = []
    for page in reader.pages:
        lines += [line.strip() for line in (page.extract_text() or "").splitlines()]
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line or _PAGE_NUMBER.match(line):
            continue
        current += line
        if line.endswith(("。", "；", ";", "：", ":")) or len(line) < 20:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return [p for p in paragraphs if p.strip()]


def _converted(path: Path) -> Report:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return Report(path, [], f"报告为 {path.suffix} 格式，本机无法转换，请另存为 .docx 后重新提交")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [office, "--headless", "--convert-to", "docx", "--outdir", tmp, str(path)],
                check=True,
                capture_output=True,
                timeout=CONVERT_TIMEOUT_S,
            )
        except (subprocess.SubprocessError, OSError):
            return Report(path, [], f"报告 {path.suffix} 转换失败，请另存为 .docx 后重新提交")
        converted = Path(tmp) / f"{path.stem}.docx"
        if not converted.is_file():
            return Report(path, [], f"报告 {path.suffix} 转换失败，请另存为 .docx 后重新提交")
        return Report(path, _docx_paragraphs(converted))
