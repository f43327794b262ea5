"""Inbox and output folder: which files are submissions, when they are complete, and where they go.

The bureau drops received workbooks into an inbox folder (subfolders too). A file is a candidate
unless it is an editor's lock file (`~$*`, `.~lock.*#`), hidden, a partial download (`*.crdownload`,
`*.part`, `*.partial`, `*.download`, `*.tmp`) or system litter (Thumbs.db, desktop.ini); those are
left alone. A candidate is *ready* once it has not changed for `settle_s` seconds — by its mtime, or,
when the clock of a network share puts its mtime in the future, by an unchanged size and mtime
across passes — and it looks whole (`sniff.looks_complete`: a zip's central directory parses, an .xls
reaches all its sectors), so a copy that pauses mid-file is not taken half-written; otherwise it waits
for the next pass. A file that stays cut short for `INBOX_INCOMPLETE_S` is taken (and refused as damaged).

The output folder (OUT) is laid out as:

    ledger.sqlite3                        the ledger (pipeline.store.ledger)
    .jixiao.lock                          locked by the one run using OUT (`pipeline.store.files.OutputLock`)
    .jixiao.lock.pid                      that run's process id, for the message a second run gets
    archive/<sha[:2]>/<sha256><ext>       durable, content-addressed copy of every file received
    results/<dir>/<stem>_审核结果.xlsx     annotated workbooks
    processed/<dir>/<name>                inbox files that were checked (and duplicates of those)
    refused/<dir>/<name>                  inbox files that could not be read (and duplicates of those)
    汇总_<Y>.xlsx                          consolidated summaries (pipeline.report.summary)

Every write that matters is made durable the same way: write a temporary file in the target folder,
fsync it, rename it over the final name (atomic), fsync the folder. A move out of the inbox is a
rename when both sides share a filesystem, else copy-fsync-rename then unlink: a crash in between
leaves the file in both places, never in neither.

A write to OUT that fails (disk full, no permission, read-only file system, I/O error) raises
`OutputError` naming the cause in Chinese (`os_cause`): it concerns the whole folder, not one file, so
the run stops there (see `pipeline.batch.engine`); a failure to *read* an inbox file stays an `OSError`, which
the run reports for that file alone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from pipeline import settings
from pipeline.errors import JixiaoError, OutputError
from pipeline.naming import fit_name
from pipeline.read.sniff import looks_complete
from pipeline.store.files import cannot_write, fsync_dir, ignored_reason, os_cause

log = logging.getLogger(__name__)

ARCHIVE_DIR, RESULTS_DIR, PROCESSED_DIR, REFUSED_DIR = "archive", "results", "processed", "refused"
MANAGED_DIRS = (ARCHIVE_DIR, RESULTS_DIR, PROCESSED_DIR, REFUSED_DIR)

MSG_NO_INBOX = "收件箱目录不存在：{path}"
MSG_INBOX_IN_OUT = "收件箱不能位于输出目录的 {name}/ 子目录中：{path}"
MSG_OVERLAP = (
    "收件箱与输出目录不能相同或互相包含（含经由链接）：收件箱 {inbox}，输出目录 {out}；"
    "请另选一个与收件箱互不包含的文件夹作为输出目录"
)
MSG_CANNOT_MOVE = "无法把收件箱中的 {name} 移到 {dest}（{cause}）"

#: Why a path in the inbox was passed over (`Scan.skipped`, the run's report), by `ignored_reason` and more.
SKIPPED_ZH = {
    "link": "符号链接（不跟随链接读取）",
    "hidden": "隐藏文件",
    "hidden_folder": "隐藏文件夹（其中的文件均未审核）",
    "lock": "编辑软件的锁文件",
    "partial": "未下载完成的文件或临时文件",
    "system": "系统文件",
    "special": "不是普通文件",
    "changed": "扫描后被替换（现为链接或另一个文件），本次未读取",
}


class PathChanged(OSError):
    """The inbox path is not the file the scan saw: now a link, or another file (inode) under that name;
    `strerror` says so in Chinese."""


_COPY_CHUNK = 1024 * 1024
_TEMP_PREFIX = ".tmp-"
_READING_INLINE = ".reading-inline"  # the row a run reading in-line (workers=0) is reading now
_CRASHED_INLINE = ".crashed-inline"  # rows whose in-line read ended the process: never read again

Signature = tuple[int, int]  # (size, mtime_ns)


def signature(path: Path) -> Signature | None:
    """(size, mtime_ns) of a regular file, or None when it is gone or not a regular file."""
    try:
        st = path.stat(follow_symlinks=False)
    except OSError:
        return None
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    return st.st_size, st.st_mtime_ns


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file in the inbox that may be a submission."""

    path: Path
    rel: str  # path relative to the inbox, POSIX separators: what the ledger and the reports show
    size: int
    mtime_ns: int
    identity: tuple[int, int] = (0, 0)  # (st_dev, st_ino) at the scan: the file read must still be this one

    @property
    def signature(self) -> Signature:
        return self.size, self.mtime_ns


@dataclass(slots=True)
class Scan:
    """One pass over the inbox: files ready to process, and files still being written."""

    ready: list[Candidate]
    waiting: list[Candidate]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path in the inbox, why, in Chinese)


class Inbox:
    """Scans a folder for candidates and decides which are complete; remembers signatures across passes."""

    def __init__(
        self,
        root: Path,
        *,
        settle_s: float,
        exclude: Iterable[Path] = (),
        incomplete_s: float = settings.INBOX_INCOMPLETE_S,
    ) -> None:
        if settle_s < 0:
            raise ValueError(f"settle_s must be ≥ 0, got {settle_s!r}")
        root = Path(root)
        if not root.is_dir():
            raise JixiaoError(MSG_NO_INBOX.format(path=root))
        self.root = root.resolve()
        self.settle_s = settle_s
        self.incomplete_s = incomplete_s
        self.exclude = {Path(p).resolve() for p in exclude}
        self._seen: dict[str, tuple[Signature, float]] = {}  # rel → (signature, monotonic time first seen so)

    def scan(self, *, skip: Callable[[Path], bool] = lambda _: False) -> Scan:
        """Every candidate, split into ready and waiting, oldest first; `skip(path)` hides files already in hand."""
        now_wall, now_mono = time.time(), time.monotonic()
        ready: list[Candidate] = []
        waiting: list[Candidate] = []
        skipped: list[tuple[str, str]] = []
        seen: dict[str, tuple[Signature, float]] = {}
        for cand in self._walk(skipped):
            if skip(cand.path):
                continue
            previous = self._seen.get(cand.rel)
            since = previous[1] if previous and previous[0] == cand.signature else now_mono
            seen[cand.rel] = (cand.signature, since)
            quiet_for = max(now_wall - cand.mtime_ns / 1e9, now_mono - since)
            if self.settle_s == 0 or quiet_for >= self.settle_s:
                # A copy that pauses longer than the settle time is not finished: its format says so.
                complete = quiet_for >= self.incomplete_s or looks_complete(cand.path)
                (ready if complete else waiting).append(cand)
            else:
                waiting.append(cand)
        self._seen = seen
        ready.sort(key=lambda c: (c.mtime_ns, c.rel))
        return Scan(ready, waiting, skipped)

    def _walk(self, skipped: list[tuple[str, str]]) -> Iterator[Candidate]:
        """Every candidate under the root; what is passed over goes to `skipped` with the reason."""
        stack = [self.root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                log.warning("cannot list %s: %s", folder, exc)
                continue
            for entry in entries:
                path = Path(entry.path)
                rel = PurePosixPath(*path.relative_to(self.root).parts).as_posix()
                if entry.is_symlink():
                    log.info("symbolic link in the inbox left alone: %s", path)
                    skipped.append((rel, SKIPPED_ZH["link"]))
                    continue
                if entry.is_dir():
                    if entry.name.startswith("."):
                        skipped.append((f"{rel}/", SKIPPED_ZH["hidden_folder"]))
                    elif path.resolve() not in self.exclude:
                        stack.append(path)
                    continue
                why = ignored_reason(entry.name) if entry.is_file() else "special"
                if why is not None:
                    skipped.append((rel, SKIPPED_ZH[why]))
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # vanished between listing and stat
                yield Candidate(path, rel, st.st_size, st.st_mtime_ns, (st.st_dev, st.st_ino))


# ------------------------------------------------------------------------------------ output folder


def _ids(path: Path) -> list[int]:
    try:
        return [int(line) for line in path.read_text().split() if line.isdigit()]
    except FileNotFoundError:
        return []


def _open_same(src: Path, identity: tuple[int, int] | None) -> BinaryIO:
    """`src` opened for reading without following a link; PathChanged when it is not the file scanned."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathChanged(exc.errno, SKIPPED_ZH["changed"]) from exc
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (identity is not None and (st.st_dev, st.st_ino) != identity):
        os.close(fd)
        raise PathChanged(errno.ESTALE, SKIPPED_ZH["changed"])
    return os.fdopen(fd, "rb")


def _copy_durably(src: Path | IO[bytes], dest_dir: Path, identity: tuple[int, int] | None = None) -> tuple[Path, str]:
    """Copy `src` (a file, or a stream such as a bundle's member) to a temporary file in `dest_dir`, fsync it;
    return (temporary path, sha256). With `identity` (st_dev, st_ino from the scan), a file `src` must still be
    that file, and a link is never followed.

    A failure to read `src` raises OSError (PathChanged: not the file scanned; or what the stream raises); a
    failure to write `dest_dir` raises OutputError.
    """
    tmp = dest_dir / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    try:
        with _open_same(src, identity) if isinstance(src, Path) else contextlib.nullcontext(src) as fin:
            try:
                fout = tmp.open("xb")
            except OSError as exc:
                raise cannot_write(f"文件夹 {dest_dir}", exc) from exc
            with fout:
                while chunk := fin.read(_COPY_CHUNK):
                    digest.update(chunk)
                    try:
                        fout.write(chunk)
                    except OSError as exc:
                        raise cannot_write(f"文件夹 {dest_dir}", exc) from exc
                try:
                    fout.flush()
                    os.fsync(fout.fileno())
                except OSError as exc:
                    raise cannot_write(f"文件夹 {dest_dir}", exc) from exc
    except BaseException:
        # The close may itself fail on a full disk (buffered bytes): the temporary goes either way.
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest()


class OutDir:
    """The output folder's layout and its durable operations: archive, reserve names, move out of the inbox."""

    def __init__(self, root: Path) -> None:
        self.given = Path(root)  # as the user wrote it: what messages name
        self.root = self.given.resolve()

    def prepare(self) -> None:
        """Create the managed folders and drop temporary files a crash left behind."""
        try:
            for name in MANAGED_DIRS:
                (self.root / name).mkdir(parents=True, exist_ok=True)
            for tmp in self._temporaries():
                log.info("removing leftover temporary file %s", tmp)
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise cannot_write(f"输出目录 {self.root}", exc) from exc

    def reading_inline(self, entry_id: int | None) -> None:
        """Note durably which row this process is reading in-line (None: no row); see `crashed_inline`."""
        note = self.root / _READING_INLINE
        try:
            if entry_id is None:
                note.unlink(missing_ok=True)
                return
            with note.open("w") as fh:
                fh.write(f"{entry_id}\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise cannot_write(f"输出目录 {self.root}", exc) from exc

    def crashed_inline(self) -> set[int]:
        """Rows whose in-line read ended the process: a note left by `reading_inline` joins the list."""
        note, crashed = self.root / _READING_INLINE, self.root / _CRASHED_INLINE
        try:
            ids = set(_ids(crashed))
            left = _ids(note)
            if left:
                ids.update(left)
                tmp = crashed.with_name(f"{_TEMP_PREFIX}{uuid.uuid4().hex}")
                tmp.write_text("".join(f"{i}\n" for i in sorted(ids)))
                os.replace(tmp, crashed)
                fsync_dir(self.root)
            note.unlink(missing_ok=True)
        except OSError as exc:
            raise cannot_write(f"输出目录 {self.root}", exc) from exc
        return ids

    def _temporaries(self) -> Iterator[Path]:
        archive = self.root / ARCHIVE_DIR
        yield from archive.glob(f"{_TEMP_PREFIX}*")
        for name in (PROCESSED_DIR, REFUSED_DIR):
            yield from (self.root / name).rglob(f"{_TEMP_PREFIX}*")
        yield from (self.root / RESULTS_DIR).rglob(".*.tmp")  # annotated workbooks being written
        yield from self.root.glob(".*.tmp")  # summaries being written

    def check_inbox(self, inbox: Path) -> None:
        """Refuse an inbox that is OUT, lies inside it or holds it, links resolved: a run would take its own
        archive, results, 汇总 and ledger as new submissions and move archive copies out of the archive."""
        given = Path(inbox)
        inbox = given.resolve()
        for name in MANAGED_DIRS:
            managed = self.root / name
            if inbox == managed or managed in inbox.parents:
                raise JixiaoError(MSG_INBOX_IN_OUT.format(name=name, path=given))
        if inbox == self.root or self.root in inbox.parents or inbox in self.root.parents:
            raise JixiaoError(MSG_OVERLAP.format(inbox=given, out=self.given))

    def path(self, rel: str) -> Path:
        return self.root / rel

    def archive(
        self,
        src: Path | IO[bytes],
        *,
        unsynced: set[Path] | None = None,
        suffix: str | None = None,
        identity: tuple[int, int] | None = None,
    ) -> tuple[str, str]:
        """Durable content-addressed copy of `src`; returns (sha256, path relative to OUT).

        The copy is hashed as it is written, so the hash is that of the bytes archived even if the
        source changes meanwhile (the caller compares the source's signature before and after). With
        `unsynced`, the folder the copy was renamed into is added to it instead of fsynced: the caller
        fsyncs those folders (`fsync_dirs`) before it records the copies, once for a group of files.
        A stream (a bundle's member) is archived under `suffix`, the extension of its name.
        """
        archive = self.root / ARCHIVE_DIR
        tmp, sha = _copy_durably(src, archive, identity)  # OSError: src unreadable; OutputError: unwritable
        ext = (src.suffix if isinstance(src, Path) else suffix or "").lower()
        rel = f"{ARCHIVE_DIR}/{sha[:2]}/{sha}{ext}"
        final = self.root / rel
        try:
            # The same bytes under another extension (sent as .xlsx and as .xls) are the same content:
            # one copy. The extension stays in new names, so archives written before keep their names.
            same = sorted((archive / sha[:2]).glob(f"{sha}*")) if final.parent.exists() else []
            if same:
                tmp.unlink()  # same bytes already archived
                return sha, same[0].relative_to(self.root).as_posix()
            new_dir = not final.parent.exists()
            final.parent.mkdir(exist_ok=True)
            if new_dir:
                fsync_dir(archive)
            os.replace(tmp, final)
            if unsynced is None:
                fsync_dir(final.parent)
            else:
                unsynced.add(final.parent)
        except OSError as exc:
            raise cannot_write(f"归档目录 {archive}", exc) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return sha, rel

    def free_name(self, folder: str, rel: str, taken: Callable[[str], bool]) -> str:
        """`folder/rel`, or `folder/<stem>(n)<ext>` when that name exists or `taken(name)` says it is reserved;
        the stem cut so that the numbered name still fits the file system (`naming.fit_name`)."""
        base = PurePosixPath(folder) / PurePosixPath(rel)
        candidate, n = base.with_name(fit_name(base.stem, base.suffix)), 1
        while (self.root / candidate).exists() or taken(candidate.as_posix()):
            n += 1
            candidate = base.with_name(fit_name(base.stem, f"({n}){base.suffix}"))
        return candidate.as_posix()

    def move_out(self, src: Path, rel: str, *, unsynced: set[Path] | None = None) -> None:
        """Move an inbox file to `OUT/rel` (never overwriting), durably; OutputError when it cannot be.

        Whatever fails, the file is whole in the inbox, at `rel`, or both (a copy across file systems).
        With `unsynced`, the two folders of a rename are added to it instead of fsynced: the caller fsyncs
        them (`fsync_dirs`) before it records the move, once for a group (a rename not yet durable at a
        crash is undone by it: the file is back in the inbox, its row still `checked`, and is moved again).
        """
        dest = self.root / rel
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                raise OutputError(f"目标文件已存在，未覆盖：{dest}")
            try:
                os.rename(src, dest)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                tmp, _ = _copy_durably(src, dest.parent)  # another filesystem: copy, then drop the source
                try:
                    shutil.copystat(src, tmp)
                    os.replace(tmp, dest)
                finally:
                    tmp.unlink(missing_ok=True)
                fsync_dir(dest.parent)
                src.unlink()
            if unsynced is None:
                fsync_dir(dest.parent)
                fsync_dir(src.parent)
            else:
                unsynced.update((dest.parent, src.parent))
        except OSError as exc:
            raise OutputError(MSG_CANNOT_MOVE.format(name=src.name, dest=dest.parent, cause=os_cause(exc))) from exc
