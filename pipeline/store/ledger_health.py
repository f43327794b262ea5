"""Is OUT's ledger whole? Checked every time it is opened, so a damaged one is never taken for a new start.

A ledger that SQLite cannot read (garbage, cut short, a page that fails `PRAGMA quick_check`), that is not a
jixiao ledger (tables but no `schema_migrations` version 1), or that is missing or empty while OUT's archive
holds files, stops every command with `LedgerDamaged` (exit code 2, a Chinese message): history would be lost
silently otherwise (earlier units gone from the 汇总, identical resubmissions no longer recognised). The damaged
file, with its -wal and -shm, is renamed aside (`ledger.damaged-<time>.sqlite3`), never deleted; `jixiao
ledger recover --out OUT` (`pipeline.batch.recover`) rebuilds the ledger from the archive and the last 汇总.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from pipeline.errors import JixiaoError
from pipeline.store.files import cannot_write

log = logging.getLogger(__name__)

#: OUT's archive folder (`pipeline.batch.inbox.ARCHIVE_DIR`): every file ever received has its copy there.
ARCHIVE_DIR = "archive"
_SIDE_FILES = ("-wal", "-shm", "-journal")

MSG_DAMAGED = (
    "审核账本 {path} 已损坏（{why}），已停止；原文件已改名为 {aside} 保留（未删除）。"
    "请运行 jixiao ledger recover --out {out} 从归档和汇总表重建账本"
)
MSG_MISSING = (
    "输出目录 {out} 的审核账本{what}，但归档中有 {n} 个已收文件：为免历史记录丢失，已停止。"
    "请运行 jixiao ledger recover --out {out} 从归档和汇总表重建账本"
)


class LedgerDamaged(JixiaoError):
    """OUT's ledger is damaged, or missing while its archive is not: rebuild it (`jixiao ledger recover`)."""


def archived_files(out: Path) -> list[Path]:
    """The archive copies in OUT (`archive/<sha[:2]>/<sha256><ext>`), oldest first (the order received)."""
    archive = Path(out) / ARCHIVE_DIR
    if not archive.is_dir():
        return []
    files = [p for p in archive.glob("??/*") if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def check_before_open(path: Path) -> None:
    """Refuse a ledger file that is missing or empty while the archive beside it holds files."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = None
    if size:
        return
    n = len(archived_files(path.parent))
    if not n:
        return
    if size == 0:
        aside = set_aside(path)
        log.warning("empty ledger %s set aside as %s", path, aside)
    raise LedgerDamaged(MSG_MISSING.format(out=path.parent, what="缺失" if size is None else "为空文件", n=n))


def check_sound(conn: sqlite3.Connection, path: Path, *, rebuild: bool = False) -> str | None:
    """Why an open ledger is not sound, in Chinese, or None: `PRAGMA quick_check`, then its schema version;
    one without tables (its -wal lost) is new only while the archive beside it is empty, or when rebuilt."""
    problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        return f"完整性检查未通过：{problems[0]}"
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        n = 0 if rebuild else len(archived_files(path.parent))
        return f"账本中没有任何表，但归档中有 {n} 个已收文件" if n else None  # else new: the migrations create it
    if "schema_migrations" not in tables:
        return "不是 jixiao 的审核账本（没有结构版本表）"
    if conn.execute("SELECT 1 FROM schema_migrations WHERE version = 1").fetchone() is None:
        return "结构版本记录不完整"
    return None


def damaged(path: Path, why: str) -> LedgerDamaged:
    """Set the damaged ledger aside and return the error to raise."""
    aside = set_aside(path)
    log.warning("damaged ledger %s (%s) set aside as %s", path, why, aside)
    return LedgerDamaged(MSG_DAMAGED.format(path=path, why=why, aside=aside.name, out=path.parent))


def set_aside(path: Path) -> Path:
    """Rename the ledger (and its -wal, -shm) to `ledger.damaged-<time>.sqlite3`; returns the new name."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside, n = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}"), 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
    try:
        for side in ("", *_SIDE_FILES):
            src = Path(f"{path}{side}")
            if src.exists():
                os.replace(src, f"{aside}{side}")
    except OSError as exc:
        raise cannot_write(f"审核账本 {path}", exc) from exc
    return aside
