"""The output folder's shared file operations: its lock, durable folder syncs, and write errors in Chinese.

Portable: nothing here needs a POSIX-only module. OUT's lock is `filelock`'s (flock on POSIX, LockFileEx on
Windows), with the holder's pid in a file beside it; folders are fsynced where the OS can open one.

Every layer that writes into OUT (the batch run, the summary, export, the portal) takes the same lock and
reports a failed write the same way: `cannot_write` names the file or folder and the cause (`os_cause`: disk
full, no permission, read-only, I/O error) in Chinese. `ignored_reason` says which names in a folder are not
submissions (editors' lock files, hidden files, partial downloads, system litter), for the inbox and `check` alike.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import JixiaoError, OutputError

if TYPE_CHECKING:
    from filelock import BaseFileLock

_COPY_CHUNK = 1024 * 1024

LOCK_NAME = ".jixiao.lock"
#: Beside the lock, the pid of the run holding it: a Windows lock file cannot be read while it is locked.
PID_NAME = ".jixiao.lock.pid"
MSG_BUSY = "另一个审核任务正在使用输出目录 {out}（进程 {pid}），请等待其结束"
MSG_CANNOT_WRITE = "无法写入{what}（{cause}）"

#: errno → what a bureau's administrator should be told; the system's own words follow in brackets.
_CAUSES = {
    errno.ENOSPC: "磁盘已满",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "磁盘为只读",
    errno.EIO: "磁盘读写错误",
    errno.ENAMETOOLONG: "文件名过长",
}

_LOCK_PREFIXES = ("~$", ".~lock.")
_PARTIAL_SUFFIXES = (".crdownload", ".part", ".partial", ".download", ".tmp")
_SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})


def os_cause(exc: BaseException) -> str:
    """Why a write failed, in Chinese: "磁盘已满：No space left on device", "没有写入权限：…"…

    Accepts an OSError or an error wrapping one (xlsxwriter's FileCreateError keeps it in args[0]).
    """
    inner: BaseException | None = exc
    while inner is not None and not isinstance(inner, OSError):
        inner = next((a for a in inner.args if isinstance(a, OSError)), None) or inner.__cause__ or inner.__context__
    if inner is None:
        return f"系统错误：{exc}"
    zh = "没有写入权限" if isinstance(inner, PermissionError) else _CAUSES.get(inner.errno or 0, "系统错误")
    return f"{zh}：{inner.strerror or inner}"


def cannot_write(what: str, exc: BaseException) -> OutputError:
    """The OutputError for a failed write to OUT; `what` names the file or folder in Chinese."""
    return OutputError(MSG_CANNOT_WRITE.format(what=what, cause=os_cause(exc)))


def ignored_reason(name: str) -> str | None:
    """Why a file name is not a submission (lock file, hidden, partial download), or None if it may be one."""
    lower = name.lower()
    if name.startswith(_LOCK_PREFIXES):
        return "lock"
    if name.startswith("."):
        return "hidden"
    if lower.endswith(_PARTIAL_SUFFIXES):
        return "partial"
    if lower in _SYSTEM_NAMES:
        return "system"
    return None


class OutputLock:
    """An exclusive lock on OUT/.jixiao.lock for the duration of a run; the OS drops it if we die."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out / LOCK_NAME
        self.pid_path = self.out / PID_NAME
        self._lock: BaseFileLock | None = None

    def __enter__(self) -> OutputLock:
        import filelock  # here, not at the top: `jixiao --help` and `check` need no lock, and it costs an import

        lock = filelock.FileLock(self.path)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise JixiaoError(MSG_BUSY.format(out=self.out, pid=self._holder())) from None
        except OSError as exc:
            raise cannot_write(f"输出目录 {self.out}", exc) from exc
        try:
            self.pid_path.write_text(f"{os.getpid()}\n", encoding="ascii")
        except OSError as exc:
            lock.release()
            raise cannot_write(f"输出目录 {self.out}", exc) from exc
        self._lock = lock
        return self

    def _holder(self) -> str:
        try:
            return self.pid_path.read_text(encoding="ascii", errors="replace").strip() or "未知"
        except OSError:  # not written yet, or already removed: the holder is starting or leaving
            return "未知"

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):  # a stale pid file is overwritten by the next holder
                self.pid_path.unlink(missing_ok=True)
            self._lock.release()
            self._lock = None


#: Flags that open a folder for fsync; None where the OS cannot (Windows: NTFS journals its renames itself).
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY if hasattr(os, "O_DIRECTORY") else None


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable (a no-op where folders cannot be opened: Windows)."""
    if _DIR_FLAGS is None:
        return
    fd = os.open(path, _DIR_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dirs(paths: set[Path], what: str) -> None:
    """fsync each folder and forget it; OutputError naming `what` when one cannot be."""
    try:
        for path in sorted(paths):
            fsync_dir(path)
    except OSError as exc:
        raise cannot_write(what, exc) from exc
    paths.clear()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
