"""The gate every submitted file passes before a reader opens it: its real format, decided by bytes.

`sniff(path)` returns "xlsx", "xlsm", "xls" or "ods", or raises `RejectedFile` with a Chinese reason
and a stable `code`. The extension is never trusted: units rename Word documents, web pages and CSV
exports to `.xls`. Sniffing is cheap: it reads the first bytes, the zip directory and a few KB of a few
parts, or the compound-file directory; it never decompresses a whole archive.

Zip guard. Both readers (openpyxl through zipfile, python-calamine through the Rust zip crate) trust
the uncompressed sizes an archive *declares* and size their buffers by them, so a reader must never be
given a file whose declared sizes exceed the limits in settings: entry count, total declared size and
worst per-entry ratio are checked over the directory before anything is extracted. An archive can also
lie, declaring small sizes for parts that inflate to far more. Where the local and central headers
disagree we refuse it here, and a part declared smaller than the prefix we read fails its CRC here;
other consistent lies cannot be seen without inflating everything, so what a reader may read is capped
instead: zipfile stops at the declared size (CRC error), calamine 0.9 raises "File is larger than its
declared uncompressed size" (both measured), and files are read in worker processes with an
address-space limit and a timeout (`pipeline.read.isolate`).

XML guard. openpyxl parses through defusedxml, python-calamine does not: every XML part of a workbook
must not carry a DTD (external entities, billion laughs). A DTD can only sit in the prolog before the
root element, so reading the first `XML_PROLOG_BYTES` of each part is enough; a prolog longer than that
is refused too.

Macros in .xlsm are never run: readers only read cell values.
"""

from __future__ import annotations

import logging
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from pipeline import settings
from pipeline.errors import RejectedFile

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "xlsm", "xls", "ods")

#: Bytes read from the start of every file: enough to tell text formats apart.
_HEAD_BYTES = 4096
#: Bytes of [Content_Types].xml or an ODF manifest searched for content types.
_MANIFEST_BYTES = 64 * 1024

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")

# Stable messages (codes go into the ledger; reasons are shown to users).
MSG_EMPTY = "文件为空（0 字节）"
MSG_CORRUPT = "文件已损坏（不是完整的压缩包），请重新导出后提交"
MSG_LYING_SIZES = "文件已损坏（压缩包内记录的文件大小前后不一致），请重新导出后提交"
MSG_ZIP_BOMB = "文件疑似压缩炸弹（{detail}），已拒绝"
MSG_XML_ATTACK = "文件包含不安全的 XML 声明（DTD/外部实体），已拒绝"
MSG_ENCRYPTED = "文件已加密，请取消密码后重新提交"
MSG_DOCX = "这是 Word 文档（.docx），不是 Excel 工作簿"
MSG_DOC = "这是 Word 97-2003 文档（.doc），不是 Excel 工作簿"
MSG_PPT = "这是 PowerPoint 演示文稿，不是 Excel 工作簿"
MSG_NO_WORKBOOK = "压缩包中没有 Excel 工作簿"
MSG_HTML = "这是网页文件（HTML）另存为 Excel 扩展名，不是真正的 Excel 工作簿，请在 Excel 中另存为 .xlsx"
MSG_CSV = "这是 CSV 文本文件（逗号或制表符分隔），不是 Excel 工作簿，请在 Excel 中另存为 .xlsx"
MSG_UNKNOWN = "无法识别的文件格式（不是 Excel 工作簿）"
MSG_LEGACY = "这是旧版本格式（{what}），无法读取，请在 Excel 或 WPS 中另存为 .xlsx"
MSG_XLSB = "这是 Excel 二进制工作簿（.xlsb），暂不支持，请在 Excel 中另存为 .xlsx"
MSG_ZIP_VERSION = "文件使用了不支持的压缩包格式版本，请在 Excel 或 WPS 中打开后重新另存为 .xlsx 再提交"
MSG_XML2003 = "这是 Excel 2003 XML 表格，不是真正的 Excel 工作簿，请在 Excel 中另存为 .xlsx"

#: Other files people submit by mistake, named so the reason says what was received.
_OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "这是 PDF 文件，不是 Excel 工作簿，请提交 Excel 原文件"),
    (b"\x89PNG\r\n\x1a\n", "这是图片文件（PNG），不是 Excel 工作簿"),
    (b"\xff\xd8\xff", "这是图片文件（JPEG），不是 Excel 工作簿"),
    (b"Rar!\x1a\x07", "这是 RAR 压缩包，不是 Excel 工作簿，请解压后提交其中的 Excel 文件"),
    (b"7z\xbc\xaf\x27\x1c", "这是 7z 压缩包，不是 Excel 工作簿，请解压后提交其中的 Excel 文件"),
    (b"\x1f\x8b", "这是 gzip 压缩文件，不是 Excel 工作簿"),
    (b"{\\rtf", "这是 RTF 文档，不是 Excel 工作簿"),
)

_OOXML_WORKBOOK_TYPES = (
    "spreadsheetml.sheet.main+xml",
    "spreadsheetml.template.main+xml",
    "ms-excel.sheet.macroEnabled.main+xml",
    "ms-excel.template.macroEnabled.main+xml",
)
_ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)
_ODF_OTHER = {
    b"application/vnd.oasis.opendocument.text": "这是 OpenDocument 文本文档（.odt），不是电子表格",
    b"application/vnd.oasis.opendocument.presentation": "这是 OpenDocument 演示文稿（.odp），不是电子表格",
}


def sniff(path: Path) -> str:
    """The real format of `path` ("xlsx", "xlsm", "xls", "ods"), or `RejectedFile` saying why not."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise RejectedFile(f"文件不存在：{path.name}", code="missing") from None
    except OSError as exc:
        raise _unreadable(exc) from exc
    if not stat.S_ISREG(st.st_mode):
        what = "文件夹" if stat.S_ISDIR(st.st_mode) else "特殊文件"
        raise RejectedFile(f"这是{what}，不是普通文件，无法读取", code="unreadable")
    if st.st_size == 0:
        raise RejectedFile(MSG_EMPTY, code="empty")
    if st.st_size > settings.MAX_FILE_BYTES:
        raise RejectedFile(
            f"文件过大（{_mb(st.st_size)} MB，上限 {_mb(settings.MAX_FILE_BYTES)} MB）", code="oversized"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            if head.startswith(_ZIP_MAGICS):
                return _sniff_zip(fh)
            if head.startswith(_OLE_MAGIC):
                return _sniff_ole(fh, st.st_size)
    except OSError as exc:
        raise _unreadable(exc) from exc
    _sniff_other(head, truncated=st.st_size > len(head))
    raise AssertionError("unreachable")  # pragma: no cover  (_sniff_other always raises)


def looks_complete(path: Path) -> bool:
    """Whether a file that may still be being copied into the inbox holds all of itself: a zip's central
    directory (written last) parses; a compound file (.xls) reaches every sector its FAT uses; a file
    of 0 bytes has not begun. Other files cannot tell, and a file that cannot be opened is left to the
    run to report: both count as complete."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(len(_OLE_MAGIC))
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return False
            if head.startswith(b"PK"):
                with zipfile.ZipFile(fh):
                    return True
            if head == _OLE_MAGIC:
                return _Cfb(fh, size).holds_all_sectors()
    except (OSError, NotImplementedError):  # NotImplementedError: a whole zip of a version we cannot read
        return True
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error):
        return False
    return True


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0")


def _unreadable(exc: OSError) -> RejectedFile:
    if isinstance(exc, PermissionError):
        return RejectedFile("无法读取文件（没有读取权限）", code="unreadable")
    return RejectedFile(f"无法读取文件（系统错误 {exc.errno}）", code="unreadable")


# --------------------------------------------------------------------------------------------- zip


def _sniff_zip(fh: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(fh) as zf:  # parses the central directory only
            infos = zf.infolist()
            guard_zip_directory(infos)
            kind = _zip_kind(fh, {i.filename: i for i in infos})
            _check_parts(fh, infos)
        return kind
    except NotImplementedError as exc:  # zipfile: "zip file version 14.8" needed, or an unknown method
        log.info("unsupported zip: %s", exc)
        raise RejectedFile(MSG_ZIP_VERSION, code="unsupported") from exc
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error, zlib.error) as exc:
        log.info("corrupt zip: %s", exc)
        raise RejectedFile(MSG_CORRUPT, code="corrupt") from exc


def guard_zip_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse archives whose directory declares more than a reader may be asked to inflate."""
    if len(infos) > settings.MAX_ZIP_ENTRIES:
        detail = f"包含 {len(infos)} 个条目，上限 {settings.MAX_ZIP_ENTRIES}"
        raise RejectedFile(MSG_ZIP_BOMB.format(detail=detail), code="zip_bomb")
    total = sum(i.file_size for i in infos)
    if total > settings.MAX_UNZIPPED_BYTES:
        detail = f"解压后 {_mb(total)} MB，上限 {_mb(settings.MAX_UNZIPPED_BYTES)} MB"
        raise RejectedFile(MSG_ZIP_BOMB.format(detail=detail), code="zip_bomb")
    for info in infos:
        if info.file_size >= settings.ZIP_RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > settings.MAX_ZIP_RATIO:
                detail = f"压缩比 {ratio:.0f} 倍，上限 {settings.MAX_ZIP_RATIO} 倍"
                raise RejectedFile(MSG_ZIP_BOMB.format(detail=detail), code="zip_bomb")


def _part_prefix(fh: BinaryIO, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The first `limit` bytes of a member, inflated straight from the file; checks its local header.

    Refuses a member whose local header contradicts the directory, or whose data inflates to more (or,
    when read whole, to other) than its declared size: one of the headers lies.
    """
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ValueError(f"no local header for {info.filename!r}")
    flags, method = struct.unpack_from("<HH", local, 6)
    csize, usize, n_name, n_extra = struct.unpack_from("<IIHH", local, 18)
    declared = (info.compress_size, info.file_size)
    if not (flags & 0x08 or 0xFFFFFFFF in (csize, usize)) and (csize, usize) != declared:
        log.info("zip sizes disagree for %r: local %s, central %s", info.filename, (csize, usize), declared)
        raise RejectedFile(MSG_LYING_SIZES, code="corrupt")
    if flags & 0x01:
        raise RejectedFile(MSG_ENCRYPTED, code="encrypted")
    if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):  # all that Excel, WPS and LibreOffice write
        raise RejectedFile("文件使用了不支持的压缩方式，请在 Excel 中重新另存为 .xlsx", code="unsupported")
    if method == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise RejectedFile(MSG_LYING_SIZES, code="corrupt")
    if limit <= 0 or info.file_size == 0:
        return b""
    fh.seek(info.header_offset + 30 + n_name + n_extra)
    remaining = info.compress_size
    if method == zipfile.ZIP_STORED:
        data = fh.read(min(limit, remaining))
        whole = len(data) == remaining
    else:
        inflater, pieces, got = zlib.decompressobj(-15), [], 0
        while got < limit and remaining > 0 and not inflater.eof:
            chunk = fh.read(min(2 * limit, remaining, 64 * 1024))
            if not chunk:
                raise ValueError(f"{info.filename!r} is cut short")
            remaining -= len(chunk)
            pieces.append(inflater.decompress(chunk, limit - got))
            got += len(pieces[-1])
        data = b"".join(pieces)
        whole = inflater.eof
    if len(data) > info.file_size or (whole and (len(data), zlib.crc32(data)) != (info.file_size, info.CRC)):
        log.info("%r inflates to more or other than its declared size", info.filename)
        raise RejectedFile(MSG_LYING_SIZES, code="corrupt")
    return data


def _zip_kind(fh: BinaryIO, by_name: dict[str, zipfile.ZipInfo]) -> str:
    if "mimetype" in by_name:
        mimetype = _part_prefix(fh, by_name["mimetype"], 200).strip()
        if mimetype in _ODS_MIMETYPES:
            manifest = by_name.get("META-INF/manifest.xml")
            if manifest and b"encryption-data" in _part_prefix(fh, manifest, _MANIFEST_BYTES):
                raise RejectedFile(MSG_ENCRYPTED, code="encrypted")
            return "ods"
        if mimetype in _ODF_OTHER:
            raise RejectedFile(_ODF_OTHER[mimetype], code="wrong_type")
    ct_info = by_name.get("[Content_Types].xml")
    ct = _part_prefix(fh, ct_info, _MANIFEST_BYTES).decode("utf-8", "replace") if ct_info else ""
    if "xl/workbook.bin" in by_name or "sheet.binary.macroEnabled.main" in ct:
        raise RejectedFile(MSG_XLSB, code="unsupported")
    if "xl/workbook.xml" in by_name:
        macro = "xl/vbaProject.bin" in by_name or "macroEnabled" in ct
        return "xlsm" if macro else "xlsx"
    if any(t in ct for t in _OOXML_WORKBOOK_TYPES):
        raise RejectedFile("工作簿结构不标准（缺少 xl/workbook.xml），请在 Excel 中另存为 .xlsx", code="unsupported")
    if "word/document.xml" in by_name or "wordprocessingml.document" in ct:
        raise RejectedFile(MSG_DOCX, code="wrong_type")
    if any(n.startswith("ppt/") for n in by_name):
        raise RejectedFile(MSG_PPT, code="wrong_type")
    inner = [n for n in by_name if n.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods", ".et"))]
    if inner:
        raise RejectedFile(
            f"这是压缩包（内含 {len(inner)} 个 Excel 文件），不是 Excel 工作簿，请解压后分别提交",
            code="wrong_type",
        )
    raise RejectedFile(MSG_NO_WORKBOOK, code="wrong_type")


def _check_parts(fh: BinaryIO, infos: list[zipfile.ZipInfo]) -> None:
    """Every member's local header; the prolog of every XML part (a reader parses them)."""
    limit = settings.XML_PROLOG_BYTES
    for info in infos:
        xml = info.filename.lower().endswith((".xml", ".rels"))
        prefix = _part_prefix(fh, info, limit if xml else 0)
        if xml and info.file_size and not _prolog_is_safe(prefix, whole=info.file_size <= limit):
            log.warning("DTD or overlong prolog in %r", info.filename)
            raise RejectedFile(MSG_XML_ATTACK, code="xml_attack")


def _prolog_is_safe(prefix: bytes, *, whole: bool) -> bool:
    """True if the XML prolog in `prefix` ends (root element starts) without any DTD."""
    # Dropping NULs turns UTF-16/32 markup into ASCII, so a DTD cannot hide behind an encoding.
    text = prefix.replace(b"\x00", b"")
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:  # XML keywords are case-sensitive
        return False
    i = 0
    while True:
        while i < len(text) and text[i] in b" \t\r\n\xef\xbb\xbf\xfe\xff":  # blanks and byte-order marks
            i += 1
        if i >= len(text):
            return whole
        if text.startswith(b"<?", i):
            end, skip = text.find(b"?>", i + 2), 2
        elif text.startswith(b"<!--", i):
            end, skip = text.find(b"-->", i + 4), 3
        else:
            # "<!" here is a DTD or worse; anything else is the root element (or junk a reader refuses)
            return not text.startswith(b"<!", i)
        if end < 0:
            return whole
        i = end + skip


# -------------------------------------------------------------------------------------------- OLE2

_FREE_OR_END = 0xFFFFFFFA  # sector ids at or above this are markers (end of chain, free, FAT, DIFAT)
_MAX_CHAIN = 512  # directory sectors / mini-stream hops walked: real files need a handful


class _Cfb:
    """Just enough of a compound file (MS-CFB) to list the root's streams and read a stream's start."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        header = self._read_at(0, 512)
        (shift,) = struct.unpack_from("<H", header, 0x1E)
        if shift not in (9, 12):
            raise ValueError(f"sector shift {shift}")
        self.ss = 1 << shift
        self.first_dir, _, self.mini_cutoff = struct.unpack_from("<3I", header, 0x30)
        (self.next_difat,) = struct.unpack_from("<I", header, 0x44)
        self.difat = list(struct.unpack_from("<109I", header, 0x4C))

    def _read_at(self, offset: int, n: int) -> bytes:
        if offset + n > self.size:
            raise ValueError("read past end of file")
        self.fh.seek(offset)
        return self.fh.read(n)

    def _sector(self, sid: int, offset: int = 0, n: int | None = None) -> bytes:
        return self._read_at((sid + 1) * self.ss + offset, self.ss - offset if n is None else n)

    def _fat_sector(self, index: int) -> int:
        while index >= len(self.difat):  # FAT sector ids beyond the header's 109 live in DIFAT sectors
            if self.next_difat >= _FREE_OR_END or len(self.difat) > self.size // 4:
                raise ValueError("FAT sector missing")
            ids = struct.unpack(f"<{self.ss // 4}I", self._sector(self.next_difat))
            self.difat.extend(ids[:-1])
            self.next_difat = ids[-1]
        return self.difat[index]

    def _next(self, sid: int) -> int:
        per = self.ss // 4
        return struct.unpack("<I", self._sector(self._fat_sector(sid // per), (sid % per) * 4, 4))[0]

    def root_entries(self) -> dict[str, tuple[int, int, int]]:
        """Name (lower case) → (type, start sector, size) of the root storage's direct children."""
        sectors, sid = [], self.first_dir
        seen: set[int] = set()
        while sid < _FREE_OR_END:
            if sid in seen or len(seen) >= _MAX_CHAIN:
                raise ValueError("directory chain loops or is implausibly long")
            seen.add(sid)
            sectors.append(self._sector(sid))
            sid = self._next(sid)
        raw = b"".join(sectors)
        entries = [raw[i : i + 128] for i in range(0, len(raw) - 127, 128)]
        if not entries or entries[0][0x42] != 5:
            raise ValueError("no root entry")
        self.root_start = struct.unpack_from("<I", entries[0], 0x74)[0]
        found: dict[str, tuple[int, int, int]] = {}
        stack: list[int] = [struct.unpack_from("<I", entries[0], 0x4C)[0]]
        visited: set[int] = set()
        while stack:  # the children form a red-black tree linked by left/right sibling ids
            did = stack.pop()
            if did >= len(entries) or did in visited:
                continue
            visited.add(did)
            e = entries[did]
            name_len = min(struct.unpack_from("<H", e, 0x40)[0], 64)
            name = e[: max(name_len - 2, 0)].decode("utf-16-le", "replace")
            left, right = struct.unpack_from("<II", e, 0x44)
            start, size = struct.unpack_from("<II", e, 0x74)
            found[name.lower()] = (e[0x42], start, size)
            stack += [left, right]
        return found

    def holds_all_sectors(self) -> bool:
        """Whether the file reaches every sector its FAT marks as used: a copy cut short does not."""
        (n_fat,) = struct.unpack_from("<I", self._read_at(0, 512), 0x2C)
        per = self.ss // 4
        last = 0
        for index in range(min(n_fat, self.size // self.ss + 1)):
            sid = self._fat_sector(index)
            if sid >= _FREE_OR_END:
                return False
            used = [i for i, e in enumerate(struct.unpack(f"<{per}I", self._sector(sid))) if e != 0xFFFFFFFF]
            if used:
                last = index * per + used[-1]
        return (last + 2) * self.ss <= self.size

    def stream_head(self, start: int, size: int, n: int) -> bytes:
        """The first ≤ n bytes of a stream (at most one sector or one 64-byte mini sector)."""
        if size >= self.mini_cutoff:  # large streams live in regular sectors
            return self._sector(start, 0, min(n, size, self.ss))
        offset = start * 64  # small streams live in the mini stream, itself a chain from the root
        if offset // self.ss > _MAX_CHAIN:
            raise ValueError("mini stream implausibly long")
        sid = self.root_start
        for _ in range(offset // self.ss):
            sid = self._next(sid)
        return self._sector(sid, offset % self.ss, min(n, size, 64))


def _sniff_ole(fh: BinaryIO, size: int) -> str:
    try:
        cfb = _Cfb(fh, size)
        entries = cfb.root_entries()
        if "encryptioninfo" in entries or "encryptedpackage" in entries:
            raise RejectedFile(MSG_ENCRYPTED, code="encrypted")
        if "worddocument" in entries:
            raise RejectedFile(MSG_DOC, code="wrong_type")
        if "powerpoint document" in entries:
            raise RejectedFile(MSG_PPT, code="wrong_type")
        book = entries.get("workbook") or entries.get("book")
        if book is None or book[0] != 2:
            raise RejectedFile("无法识别的文件格式（Office 复合文档，但不是 Excel 工作簿）", code="unknown")
        if _biff_has_filepass(cfb.stream_head(book[1], book[2], 64)):
            raise RejectedFile(MSG_ENCRYPTED, code="encrypted")
        return "xls"
    except (ValueError, struct.error) as exc:
        log.info("corrupt compound file: %s", exc)
        raise RejectedFile("文件已损坏（Excel 97-2003 文件结构不完整），请重新导出后提交", code="corrupt") from exc


def _biff_has_filepass(head: bytes) -> bool:
    """A FILEPASS record among the first records of the globals substream means the workbook is encrypted."""
    pos = 0
    while pos + 4 <= len(head):
        rtype, rlen = struct.unpack_from("<HH", head, pos)
        if rtype == 0x002F:  # FILEPASS
            return True
        if rtype in (0x00E1, 0x005C, 0x0042):  # INTERFACEHDR, WRITEACCESS, CODEPAGE: past where it sits
            return False
        pos += 4 + rlen
    return False


# ------------------------------------------------------------------------------------ other formats


def _sniff_other(head: bytes, *, truncated: bool) -> None:
    """Name what a non-archive file is; always raises."""
    for magic, reason in _OTHER_MAGICS:
        if head.startswith(magic):
            raise RejectedFile(reason, code="wrong_type")
    legacy = _legacy_kind(head)
    if legacy:
        raise RejectedFile(MSG_LEGACY.format(what=legacy), code="legacy")
    text = _decode_text(head, truncated=truncated)
    if text is not None:
        start = text.lstrip("\ufeff \t\r\n").lower()
        if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
            raise RejectedFile(MSG_XML2003, code="unsupported")  # its <Table> is not HTML's
        if start.startswith("<") and any(tag in start for tag in ("<html", "<table", "<!doctype html")):
            raise RejectedFile(MSG_HTML, code="html")
        if start.startswith("mime-version:"):  # "single file web page" (.mht) saved as .xls
            raise RejectedFile(MSG_HTML, code="html")
        if _looks_like_csv(text, truncated=truncated):
            raise RejectedFile(MSG_CSV, code="csv")
    raise RejectedFile(MSG_UNKNOWN, code="unknown")


def _legacy_kind(head: bytes) -> str | None:
    if len(head) >= 8 and head[0] == 0x09 and head[1] in (0x00, 0x02, 0x04, 0x08):
        (rlen,) = struct.unpack_from("<H", head, 2)
        if rlen in (4, 6, 8, 16):  # a bare BIFF BOF record: Excel 2.x–4.0 worksheet
            return "Excel 2.x–4.0 工作表"
    if head[:6] in (b"\x00\x00\x02\x00\x04\x04", b"\x00\x00\x02\x00\x06\x04") or head[:4] == b"\x00\x00\x1a\x00":
        return "Lotus 1-2-3 工作表"  # .wks/.wk1, .wk3/.wk4
    return None


def _decode_text(head: bytes, *, truncated: bool) -> str | None:
    """The head as text if it is text in a plausible encoding, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    elif head.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        # A multi-byte character may be cut at the end of the head: drop up to 3 trailing bytes.
        for cut in range(4 if truncated else 1):
            try:
                text = head[: len(head) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            if any(ch < " " and ch not in "\t\r\n\f" for ch in text):
                return None
            return text
    return None


def _looks_like_csv(text: str, *, truncated: bool) -> bool:
    lines = text.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = [ln for ln in lines[:50] if ln.strip()]
    if not lines:
        return False
    delimited = sum(1 for ln in lines if "," in ln or "\t" in ln)
    return delimited >= 0.8 * len(lines)


__all__ = ["FORMATS", "sniff"]
