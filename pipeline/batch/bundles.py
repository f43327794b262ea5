"""Bundles: a unit's .zip holding its workbook and report, unpacked into members processed one by one.

`members(path)` lists what a bundle holds under the guards a workbook gets (`sniff.guard_zip_directory`:
entry count, unzipped total, compression ratio) and a bundle's own: at most MAX_BUNDLE_MEMBERS files, none
over MAX_FILE_BYTES, no name leading outside the bundle (`../`, an absolute path, a drive), no link, no
password. Any of those refuses the whole bundle with a Chinese reason; nothing of it is unpacked. Names
written without the UTF-8 flag (bit 11: Windows' built-in zip, WinRAR) are GBK bytes that `zipfile` decoded
as cp437: they are decoded again as GBK. Folders, hidden files and system litter (`__MACOSX/`, Thumbs.db)
are skipped.

`unpack(outdir, ledger, bundle)` is a step of the run (`flow.Flow` calls it for a received bundle):
 1. archive each member durably (content-addressed, like an inbox file; the folders fsynced once);
 2. one transaction: the members' rows `received` (named `材料.zip › 附件.xlsx`, `bundle_id` the bundle's row)
    and the bundle's row `checked` with its place in processed/.
The run then files the bundle like any checked file, and the members go through the run as if dropped one
by one. A crash before 2 leaves the bundle `received` (unpacked again; the member copies are reused); after
it, the bundle is filed and the members read by recovery — each exactly once. A member has no inbox file:
filing it moves nothing.
"""

from __future__ import annotations

import contextlib
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline import settings
from pipeline.batch.inbox import OutDir
from pipeline.batch.kinds import SEPARATOR, kind_of
from pipeline.errors import OutputError, RejectedFile
from pipeline.model import Result
from pipeline.read.sniff import guard_zip_directory
from pipeline.store.files import fsync_dirs, ignored_reason
from pipeline.store.ledger import Checked, Entry, Ledger, Received, insert_received

_UTF8_FLAG = 0x800
_SKIPPED_FOLDERS = ("__MACOSX",)

MSG_BROKEN = "压缩包已损坏，无法解压（{cause}），请重新打包后提交"
MSG_OUTSIDE = "压缩包中的“{name}”指向压缩包以外的位置，整个压缩包未解压，请重新打包后提交"
MSG_LINK = "压缩包中的“{name}”是链接而不是文件，整个压缩包未解压，请重新打包后提交"
MSG_TOO_MANY = "压缩包中有 {n} 个文件，上限 {limit} 个，请分开提交"
MSG_TOO_LARGE = "压缩包中的“{name}”解压后超过 {mb} MB，整个压缩包未解压"
MSG_ENCRYPTED = "压缩包设有密码，请取消密码后重新提交"
MSG_EMPTY = "压缩包中没有文件"


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # its path inside the bundle, "/"-separated, as the unit named it
    info: zipfile.ZipInfo


def member_name(info: zipfile.ZipInfo) -> str:
    """The name as the unit's computer wrote it: bytes `zipfile` read as cp437 (no UTF-8 flag) are read again
    as UTF-8 (some Mac and Linux tools leave the flag out) or else as GBK (Windows' own zip, WinRAR)."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        with contextlib.suppress(UnicodeEncodeError):
            raw = name.encode("cp437")
            for encoding in ("utf-8", "gbk"):  # GBK bytes are almost never valid UTF-8: the order is safe
                with contextlib.suppress(UnicodeDecodeError):
                    name = raw.decode(encoding)
                    break
    return name.replace("\\", "/")


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def _outside(name: str) -> bool:
    path = PurePosixPath(name)
    return name.startswith("/") or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def members(path: Path) -> list[Member]:
    """The files a bundle holds, in its order; RejectedFile naming why when the bundle is refused whole."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RejectedFile(MSG_BROKEN.format(cause=type(exc).__name__), code="corrupt") from exc
    guard_zip_directory(infos)
    found: list[Member] = []
    for info in infos:
        name = member_name(info)
        if _outside(name):
            raise RejectedFile(MSG_OUTSIDE.format(name=name), code="bundle_path")
        if _is_link(info):
            raise RejectedFile(MSG_LINK.format(name=name), code="bundle_link")
        parts = PurePosixPath(name).parts
        if info.is_dir() or not parts or any(p in _SKIPPED_FOLDERS or p.startswith(".") for p in parts):
            continue
        if ignored_reason(parts[-1]):
            continue
        if info.flag_bits & 0x1:
            raise RejectedFile(MSG_ENCRYPTED, code="encrypted")
        if info.file_size > settings.MAX_FILE_BYTES:
            raise RejectedFile(MSG_TOO_LARGE.format(name=name, mb=settings.MAX_FILE_BYTES >> 20), code="too_large")
        found.append(Member(name, info))
    if len(found) > settings.MAX_BUNDLE_MEMBERS:
        raise RejectedFile(MSG_TOO_MANY.format(n=len(found), limit=settings.MAX_BUNDLE_MEMBERS), code="zip_bomb")
    if not found:
        raise RejectedFile(MSG_EMPTY, code="empty")
    return found


def unpack(outdir: OutDir, ledger: Ledger, bundle: Entry, dest: str) -> list[Entry] | RejectedFile:
    """Archive a received bundle's members and record them `received` with the bundle `checked` (for `dest`),
    in one transaction; returns the members' rows, or why the bundle is refused (nothing recorded then)."""
    path = outdir.path(bundle.archive_path)
    try:
        found = members(path)
    except RejectedFile as exc:
        return exc
    received: list[Received] = []
    folders: set[Path] = set()
    try:
        with zipfile.ZipFile(path) as zf:
            for m in found:
                with zf.open(m.info) as stream:
                    sha, rel = outdir.archive(stream, unsynced=folders, suffix=PurePosixPath(m.name).suffix)
                original = f"{bundle.original_path}{SEPARATOR}{m.name}"
                inbox, size, kind = Path(bundle.inbox), m.info.file_size, kind_of(m.name)
                received.append(Received(sha, original, inbox, size, bundle.mtime_ns, rel, None, kind, bundle.id))
    except OutputError:
        raise
    except Exception as exc:  # a CRC error, a truncated member, a bad deflate stream
        return RejectedFile(MSG_BROKEN.format(cause=type(exc).__name__), code="corrupt")
    fsync_dirs(folders, f"归档目录 {outdir.path('archive')}")
    ids: list[int] = []
    checked = Checked(bundle.id, Result(Path(bundle.original_path), []), None, dest)
    ledger.record_checks([checked], also=lambda conn: ids.extend(insert_received(conn, r) for r in received))
    return ledger.entries_by_id(ids)
