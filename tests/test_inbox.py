"""Inbox scanning (what is a submission, when it is complete) and the output folder's durable operations."""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path

import pytest

from pipeline.batch.inbox import Inbox, OutDir
from pipeline.errors import JixiaoError, OutputError
from pipeline.store.files import OutputLock, ignored_reason, os_cause


def put(path: Path, data: bytes = b"x", *, age_s: float = 3600) -> Path:
    """Write a file whose mtime is `age_s` seconds ago (0: just written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age_s:
        past = time.time() - age_s
        os.utime(path, (past, past))
    return path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("~$白云区_2023.xlsx", "lock"),  # Excel / WPS owner file
        (".~lock.白云区_2023.xlsx#", "lock"),  # LibreOffice
        (".DS_Store", "hidden"),
        (".白云区_2023.xlsx", "hidden"),
        ("白云区_2023.xlsx.crdownload", "partial"),  # Chrome
        ("白云区_2023.xlsx.part", "partial"),  # Firefox
        ("白云区_2023.xlsx.tmp", "partial"),
        ("Thumbs.db", "system"),
        ("白云区_2023.xlsx", None),
        ("白云区_2023.XLS", None),
        ("自评报告.pdf", None),  # not a workbook, but a submission: refused later, with the reason
    ],
)
def test_ignored_names(name: str, reason: str | None) -> None:
    assert ignored_reason(name) == reason


def test_scan_walks_subfolders_and_leaves_lock_partial_and_hidden_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    put(inbox / "a.xlsx")
    put(inbox / "东区" / "b.xls")
    put(inbox / "东区" / "~$b.xls")
    put(inbox / ".~lock.a.xlsx#")
    put(inbox / "c.xlsx.crdownload")
    put(inbox / "d.part")
    put(inbox / ".hidden" / "e.xlsx")  # a hidden folder is not walked
    scan = Inbox(inbox, settle_s=2).scan()
    assert sorted(c.rel for c in scan.ready) == ["a.xlsx", "东区/b.xls"]
    assert scan.waiting == []


def test_a_file_still_being_written_waits_for_a_later_pass(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    put(inbox / "old.xlsx")
    put(inbox / "new.xlsx", age_s=0)
    box = Inbox(inbox, settle_s=0.3)
    scan = box.scan()
    assert [c.rel for c in scan.ready] == ["old.xlsx"]
    assert [c.rel for c in scan.waiting] == ["new.xlsx"]
    time.sleep(0.35)
    assert [c.rel for c in box.scan().ready] == ["old.xlsx", "new.xlsx"]  # oldest first


def test_a_growing_file_keeps_waiting(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = put(inbox / "copying.xlsx", b"PK", age_s=0)
    box = Inbox(inbox, settle_s=0.3)
    for _ in range(3):
        time.sleep(0.15)
        with path.open("ab") as fh:
            fh.write(b"more")
        assert [c.rel for c in box.scan().waiting] == ["copying.xlsx"]


def test_a_future_mtime_is_ready_once_unchanged_across_passes(tmp_path: Path) -> None:
    # A network share whose clock runs ahead: the age rule never fires; an unchanged signature does.
    path = put(tmp_path / "inbox" / "ahead.xlsx", age_s=0)
    future = time.time() + 3600
    os.utime(path, (future, future))
    box = Inbox(tmp_path / "inbox", settle_s=0.2)
    assert [c.rel for c in box.scan().waiting] == ["ahead.xlsx"]
    time.sleep(0.25)
    assert [c.rel for c in box.scan().ready] == ["ahead.xlsx"]


def test_scan_skips_the_output_folder_inside_the_inbox_and_files_in_hand(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    put(inbox / "a.xlsx")
    put(inbox / "b.xlsx")
    put(inbox / "out" / "processed" / "c.xlsx")
    box = Inbox(inbox, settle_s=0, exclude=[inbox / "out"])
    assert [c.rel for c in box.scan().ready] == ["a.xlsx", "b.xlsx"]
    held = (inbox / "a.xlsx").resolve()
    assert [c.rel for c in box.scan(skip=lambda p: p == held).ready] == ["b.xlsx"]


def test_missing_inbox_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JixiaoError, match="收件箱目录不存在"):
        Inbox(tmp_path / "nowhere", settle_s=0)


def test_an_inbox_inside_a_managed_folder_is_refused(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    with pytest.raises(JixiaoError, match="processed/"):
        out.check_inbox(tmp_path / "out" / "processed" / "x")
    with pytest.raises(JixiaoError, match="收件箱与输出目录不能相同或互相包含"):
        out.check_inbox(tmp_path / "out" / "inbox")  # a plain subfolder of OUT is refused too (issue #18)
    out.check_inbox(tmp_path / "inbox")  # a sibling is fine


def test_the_lock_refuses_a_second_holder_with_a_clear_message(tmp_path: Path) -> None:
    busy = r"另一个审核任务正在使用输出目录 .*（进程 \d+），请等待其结束"
    with OutputLock(tmp_path / "out"), pytest.raises(JixiaoError, match=busy), OutputLock(tmp_path / "out"):
        pass
    with OutputLock(tmp_path / "out"):  # released on exit
        pass


def test_archive_is_content_addressed_and_leaves_no_temporaries(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    out.prepare()
    data = b"PK\x03\x04 some workbook bytes"
    sha = hashlib.sha256(data).hexdigest()
    first = out.archive(put(tmp_path / "inbox" / "A.XLSX", data))
    again = out.archive(put(tmp_path / "inbox" / "copy.xlsx", data))
    assert first == again == (sha, f"archive/{sha[:2]}/{sha}.xlsx")
    assert out.path(first[1]).read_bytes() == data
    assert sorted(p.name for p in (out.root / "archive").rglob("*") if p.is_file()) == [f"{sha}.xlsx"]


def test_prepare_removes_temporaries_a_crash_left(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    out.prepare()
    put(out.root / "archive" / ".tmp-deadbeef", b"half a file")
    put(out.root / "processed" / "东区" / ".tmp-cafe", b"half a move")
    put(out.root / "results" / "东区" / ".报表_审核结果.k2j4.tmp", b"half a workbook")
    put(out.root / ".汇总_2023.x8a1.tmp", b"half a summary")
    out.prepare()
    assert not list(out.root.rglob(".tmp-*")) and not list(out.root.rglob(".*.tmp"))


def test_free_name_numbers_taken_names(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    put(out.root / "processed" / "东区" / "报表.xlsx")
    reserved = {"processed/东区/报表(2).xlsx"}
    assert out.free_name("processed", "东区/报表.xlsx", reserved.__contains__) == "processed/东区/报表(3).xlsx"
    assert out.free_name("refused", "东区/报表.xlsx", reserved.__contains__) == "refused/东区/报表.xlsx"


def test_move_out_keeps_the_relative_path_and_never_overwrites(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    src = put(tmp_path / "inbox" / "东区" / "a.xlsx", b"one")
    out.move_out(src, "processed/东区/a.xlsx")
    assert not src.exists()
    assert (out.root / "processed" / "东区" / "a.xlsx").read_bytes() == b"one"
    other = put(tmp_path / "inbox" / "东区" / "a.xlsx", b"two")
    with pytest.raises(OutputError, match="目标文件已存在"):
        out.move_out(other, "processed/东区/a.xlsx")
    assert other.read_bytes() == b"two"


def test_move_out_across_filesystems_copies_then_unlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def no_rename(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    out = OutDir(tmp_path / "out")
    src = put(tmp_path / "inbox" / "a.xlsx", b"bytes", age_s=7200)
    monkeypatch.setattr("pipeline.batch.inbox.os.rename", no_rename)
    out.move_out(src, "processed/a.xlsx")
    dest = out.root / "processed" / "a.xlsx"
    assert not src.exists() and dest.read_bytes() == b"bytes"
    assert abs(dest.stat().st_mtime - (time.time() - 7200)) < 5  # the unit's timestamp is kept
    assert not list(out.root.rglob(".tmp-*"))


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "磁盘已满：No space left on device"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "磁盘配额已用完：Disk quota exceeded"),
        (PermissionError("denied"), "没有写入权限：denied"),  # no errno, as a monkeypatch raises it
        (OSError(errno.EROFS, "Read-only file system"), "磁盘为只读：Read-only file system"),
        (OSError(errno.EIO, "Input/output error"), "磁盘读写错误：Input/output error"),
        (OSError(errno.EBUSY, "Device or resource busy"), "系统错误：Device or resource busy"),
    ],
)
def test_os_cause_names_what_went_wrong_in_chinese(exc: OSError, cause: str) -> None:
    from xlsxwriter.exceptions import FileCreateError

    assert os_cause(exc) == cause
    try:
        raise FileCreateError(exc)  # how xlsxwriter wraps it
    except FileCreateError as wrapped:
        assert os_cause(wrapped) == cause


def test_an_unreadable_source_is_an_oserror_an_unwritable_archive_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = OutDir(tmp_path / "out")
    out.prepare()
    with pytest.raises(FileNotFoundError):  # the inbox side: that one file is reported, the run goes on
        out.archive(tmp_path / "inbox" / "gone.xlsx")
    src = put(tmp_path / "inbox" / "a.xlsx", b"bytes")
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        if "/archive/" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError, match=r"^无法写入文件夹 .*/archive（磁盘已满：No space left on device）$"):
        out.archive(src)
    assert src.read_bytes() == b"bytes"
    assert [p for p in (out.root / "archive").rglob("*") if p.is_file()] == []  # no temporary left


def test_a_move_that_fails_leaves_the_file_whole_in_the_inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    out = OutDir(tmp_path / "out")
    src = put(tmp_path / "inbox" / "a.xlsx", b"bytes")
    monkeypatch.setattr("pipeline.batch.inbox.os.rename", denied)
    with pytest.raises(OutputError, match=r"无法把收件箱中的 a\.xlsx 移到 .*（没有写入权限：Permission denied）"):
        out.move_out(src, "processed/a.xlsx")
    assert src.read_bytes() == b"bytes" and not (out.root / "processed" / "a.xlsx").exists()
