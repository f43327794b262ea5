"""The ledger: every file received, what was found in it and where it went (SQLite, OUT/ledger.sqlite3).

One row of `submissions` per file taken from the inbox, moving through three states:

    received  its archive copy exists (fsynced before the row was committed); nothing else is known
    checked   status, unit, year, counts, findings, data points, annotated workbook and the planned
              destination (processed/ or refused/) are recorded — all in one transaction
    filed     the inbox file is at its destination (or was gone from the inbox: see `note`)

A file whose bytes were already received is a row too, with `duplicate_of` pointing at the first
row with those bytes and status "duplicate"; it is never read or validated. A partial unique index
keeps exactly one non-duplicate row per sha256.

The schema is created by numbered migrations (`ledger_schema.py`) recorded in `schema_migrations`; add a migration,
never edit an applied one. The connection runs in WAL mode with synchronous=FULL, so a committed
transaction survives `kill -9` and power loss alike. A write the storage refuses (disk full, read-only
or unwritable folder, I/O error) rolls its transaction back whole and raises `OutputError`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import JixiaoError, OutputError
from pipeline.model import FormData, Point, Result, Submission, cell_key
from pipeline.store.ledger_schema import MIGRATIONS

log = logging.getLogger(__name__)

LEDGER_NAME = "ledger.sqlite3"
STATES = ("received", "checked", "filed")
STATUSES = ("ok", "warnings", "errors", "rejected", "duplicate")
CHECKED_STATUSES = ("ok", "warnings", "errors")  # a unit's workbook that was read: it counts in the summary

MSG_NEWER = "审核账本 {path} 由更新版本的 jixiao 创建（结构版本 {found}，本程序支持到 {known}），请升级 jixiao"
MSG_NO_LEDGER = "输出目录 {out} 中没有审核账本（{name}），请先运行 jixiao run"

MSG_STORAGE = "无法写入审核账本 {path}（{cause}）"

#: SQLite result codes (prefixes of their extended names) that mean the storage refused a write.
_STORAGE_CODES = {
    "SQLITE_FULL": "磁盘已满",
    "SQLITE_READONLY": "没有写入权限或磁盘为只读",
    "SQLITE_PERM": "没有写入权限",
    "SQLITE_CANTOPEN": "无法打开或创建账本文件",
    "SQLITE_IOERR": "磁盘读写错误",
}

_SQL_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-variable limit


@dataclass(slots=True)
class Entry:
    """One row of `submissions`."""

    id: int
    sha256: str
    original_path: str
    inbox: str
    size: int
    mtime_ns: int
    received_at: str
    archive_path: str
    state: str
    duplicate_of: int | None
    status: str | None
    unit: str | None
    year: int | None
    errors: int
    warnings: int
    reason: str | None
    reason_code: str | None
    checked_at: str | None
    output_path: str | None
    dest_path: str | None
    filed_at: str | None
    note: str | None
    kind: str = "workbook"  # workbook | report | bundle (migration 4)
    bundle_id: int | None = None  # the .zip this file came in: it has no inbox file of its own

    @property
    def source(self) -> Path:
        """Where the file was in the inbox."""
        return Path(self.inbox) / self.original_path


_COLUMNS = ", ".join(f.name for f in fields(Entry))


@dataclass(frozen=True, slots=True)
class StoredFinding:
    submission_id: int
    rule: str
    level: str
    sheet: str
    cell: str | None
    cells: str
    message: str
    expected: str | None
    actual: str | None


@dataclass(frozen=True, slots=True)
class Received:
    """A file whose archive copy is durable, to be recorded `received` (`Ledger.receive_many`)."""

    sha256: str
    original_path: str
    inbox: Path
    size: int
    mtime_ns: int
    archive_path: str
    received_at: str | None = None
    kind: str = "workbook"
    bundle_id: int | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A file's outcome, to be recorded `checked` (`Ledger.record_checks`)."""

    entry_id: int
    result: Result
    output_path: str | None
    dest_path: str | None  # None: a bundle's member, which has no inbox file to file


@dataclass(frozen=True, slots=True)
class Filed:
    """A checked file now at its destination, or gone from the inbox (`Ledger.mark_filed_many`)."""

    entry_id: int
    moved: bool
    note: str | None = None
    dest_path: str | None = None


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


class Ledger:
    """The ledger of one output folder. Use as a context manager; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except sqlite3.Error as exc:
            error = self._storage_error(exc)
            if error is None:
                raise
            raise error from exc
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.migrate()
        except BaseException as exc:
            self.conn.close()
            error = self._storage_error(exc) if isinstance(exc, sqlite3.Error) else None
            if error is None:
                raise
            raise error from exc

    def _storage_error(self, exc: sqlite3.Error) -> OutputError | None:
        """The OutputError for an error that means the storage refused a write; None for any other."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        cause = next((zh for code, zh in _STORAGE_CODES.items() if name.startswith(code)), None)
        if cause is None:
            return None
        return OutputError(MSG_STORAGE.format(path=self.path, cause=f"{cause}：{exc}"))

    @classmethod
    def open_existing(cls, out: Path) -> Ledger:
        """The ledger of `out`; JixiaoError when there is none (nothing was ever run there)."""
        path = Path(out) / LEDGER_NAME
        if not path.is_file():
            raise JixiaoError(MSG_NO_LEDGER.format(out=out, name=LEDGER_NAME))
        return cls(path)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing; OutputError when the storage refuses the write (see the module docstring)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (SQLITE_FULL, SQLITE_IOERR): a second
                # ROLLBACK would raise "no transaction is active" and hide the real error.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            error = self._storage_error(exc)
            if error is None:
                raise
            raise error from exc

    # ------------------------------------------------------------------------------- schema

    def migrate(self) -> list[int]:
        """Apply the migrations not yet recorded; returns their versions."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {v for (v,) in self.conn.execute("SELECT version FROM schema_migrations")}
        known = max(v for v, _, _ in MIGRATIONS)
        if done and max(done) > known:
            raise JixiaoError(MSG_NEWER.format(path=self.path, found=max(done), known=known))
        applied: list[int] = []
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as conn:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now_text()),
                )
            log.info("ledger %s: applied migration %d (%s)", self.path, version, name)
            applied.append(version)
        return applied

    def versions(self) -> list[int]:
        return [v for (v,) in self.conn.execute("SELECT version FROM schema_migrations ORDER BY version")]

    # ------------------------------------------------------------------------------- writes

    def receive(
        self,
        *,
        sha256: str,
        original_path: str,
        inbox: Path,
        size: int,
        mtime_ns: int,
        archive_path: str,
        received_at: str | None = None,
    ) -> Entry:
        """Record a file whose archive copy is durable; a duplicate when its bytes were received before."""
        [entry] = self.receive_many([Received(sha256, original_path, inbox, size, mtime_ns, archive_path, received_at)])
        return entry

    def receive_many(self, files: Sequence[Received]) -> list[Entry]:
        """`receive` for several files in one transaction (a duplicate of one received earlier in the same
        call is recognised as such)."""
        with self.transaction() as conn:
            ids = [insert_received(conn, f) for f in files]
        return self.entries_by_id(ids)

    def record_check(
        self, entry_id: int, result: Result, *, output_path: str | None, dest_path: str, checked_at: str | None = None
    ) -> None:
        """Store a checked file's outcome, findings and data points, and mark it checked: one transaction."""
        self.record_checks([Checked(entry_id, result, output_path, dest_path)], checked_at=checked_at)

    def record_checks(
        self,
        checked: Sequence[Checked],
        *,
        checked_at: str | None = None,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """`record_check` for several files in one transaction: all of them are checked, or none; `also(conn)`
        adds what belongs with them (a report's row, a bundle's members) to the same transaction."""
        with self.transaction() as conn:
            for item in checked:
                self._record_check(conn, item, checked_at or now_text())
            if also is not None:
                also(conn)

    def _record_check(self, conn: sqlite3.Connection, item: Checked, checked_at: str) -> None:
        entry_id, result, output_path, dest_path = item.entry_id, item.result, item.output_path, item.dest_path
        reason = code = None
        if result.rejected:
            reason = "；".join(f.message for f in result.findings) or None
            code = result.findings[0].rule.removeprefix("FILE.").lower() if result.findings else None
        cur = conn.execute(
            "UPDATE submissions SET state = 'checked', status = ?, unit = ?, year = ?, errors = ?, warnings = ?,"
            " reason = ?, reason_code = ?, checked_at = ?, output_path = ?, dest_path = ?"
            " WHERE id = ? AND state = 'received' AND duplicate_of IS NULL",
            (
                result.status,
                result.unit,
                result.year,
                result.errors,
                result.warnings,
                reason,
                code,
                checked_at,
                output_path,
                dest_path,
                entry_id,
            ),
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"submission {entry_id} is not a received original")
        insert_findings(conn, entry_id, result)
        if result.submission is not None:
            summed: list[tuple[Any, ...]] = []
            listed: list[tuple[Any, ...]] = []
            for row in point_rows(result.submission):
                (summed if row[0] == 0 and ".ind." not in row[1] else listed).append(row)
            conn.executemany(
                "INSERT OR REPLACE INTO points"
                " (submission_id, part, key, value_num, value_text, sheet, cell, decimals)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(entry_id, *row) for row in summed],
            )
            conn.execute(
                "INSERT OR REPLACE INTO point_lists (submission_id, rows) VALUES (?, ?)",
                (entry_id, json.dumps(listed, ensure_ascii=False, separators=(",", ":"))),
            )

    def record_duplicate(self, entry_id: int, *, dest_path: str | None, checked_at: str | None = None) -> None:
        """Mark a duplicate checked: it takes its original's unit and year, and a reason naming the original."""
        with self.transaction() as conn:
            original = conn.execute(
                "SELECT o.original_path, o.received_at, o.unit, o.year, o.status, o.reason FROM submissions d"
                " JOIN submissions o ON o.id = d.duplicate_of WHERE d.id = ?",
                (entry_id,),
            ).fetchone()
            if original is None:
                raise RuntimeError(f"submission {entry_id} is not a duplicate")
            reason = f"与 {original[1][:16].replace('T', ' ')} 收到的“{original[0]}”内容完全相同，未重复审核"
            if original[4] == "rejected":
                reason += f"（该文件已退回：{original[5]}）"
            cur = conn.execute(
                "UPDATE submissions SET state = 'checked', status = 'duplicate', unit = ?, year = ?, reason = ?,"
                " reason_code = 'duplicate', checked_at = ?, dest_path = ? WHERE id = ? AND state = 'received'",
                (original[2], original[3], reason, checked_at or now_text(), dest_path, entry_id),
            )
            if cur.rowcount != 1:
                raise RuntimeError(f"submission {entry_id} is not received")

    def mark_filed(
        self,
        entry_id: int,
        *,
        moved: bool,
        note: str | None = None,
        dest_path: str | None = None,
        filed_at: str | None = None,
    ) -> None:
        """The inbox file is at its destination (`moved`; `dest_path` when it had to change), or was no
        longer in the inbox as received (`note` says why; the destination is cleared)."""
        self.mark_filed_many([Filed(entry_id, moved, note, dest_path)], filed_at=filed_at)

    def mark_filed_many(self, filed: Sequence[Filed], *, filed_at: str | None = None) -> None:
        """`mark_filed` for several files in one transaction."""
        when = filed_at or now_text()
        with self.transaction() as conn:
            for f in filed:
                cur = conn.execute(
                    "UPDATE submissions SET state = 'filed', filed_at = ?, note = ?,"
                    " dest_path = CASE WHEN ? THEN COALESCE(?, dest_path) END WHERE id = ? AND state = 'checked'",
                    (when, f.note, f.moved, f.dest_path, f.entry_id),
                )
                if cur.rowcount != 1:
                    raise RuntimeError(f"submission {f.entry_id} is not checked")

    # ------------------------------------------------------------------------------- reads

    def entry(self, entry_id: int) -> Entry:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM submissions WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise KeyError(entry_id)
        return Entry(*row)

    def entries_by_id(self, ids: Sequence[int]) -> list[Entry]:
        """The rows with these ids, in the order given."""
        rows: dict[int, Entry] = {}
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_COLUMNS} FROM submissions WHERE id IN ({marks})", chunk):
                rows[row[0]] = Entry(*row)
        return [rows[i] for i in ids]

    def entries(self, *, state: str | None = None, where: str = "", params: Sequence[Any] = ()) -> list[Entry]:
        """Rows in id order, optionally in one state and matching an extra SQL condition."""
        clauses = [c for c in ("state = ?" if state else "", where) if c]
        sql = f"SELECT {_COLUMNS} FROM submissions"
        if clauses:
            sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
        args = ([state] if state else []) + list(params)
        return [Entry(*row) for row in self.conn.execute(sql + " ORDER BY id", args)]

    def last_filed(self) -> datetime | None:
        """When the newest row was filed (whole seconds), None before any: older summaries miss it."""
        (value,) = self.conn.execute("SELECT MAX(filed_at) FROM submissions").fetchone()
        return datetime.fromisoformat(value) if value else None

    def output_taken(self, rel: str) -> bool:
        return self.conn.execute("SELECT 1 FROM submissions WHERE output_path = ?", (rel,)).fetchone() is not None

    def dest_taken(self, rel: str) -> bool:
        return self.conn.execute("SELECT 1 FROM submissions WHERE dest_path = ?", (rel,)).fetchone() is not None

    def years(self) -> list[int | None]:
        """Years of the workbooks read (None: read, but no year found), newest first."""
        rows = self.conn.execute(
            "SELECT DISTINCT year FROM submissions WHERE duplicate_of IS NULL AND status IN (?, ?, ?)"
            " AND kind = 'workbook'"
            " ORDER BY year IS NULL, year DESC",
            CHECKED_STATUSES,
        )
        return [y for (y,) in rows]

    def latest(self, year: int | None) -> list[tuple[Entry, int]]:
        """Each unit's newest checked workbook of `year`, with how many versions the unit sent.

        A workbook without a unit name stands alone (its own "unit"). Duplicates never supersede.
        """
        group = "COALESCE(unit, '#' || sha256)"
        base = "duplicate_of IS NULL AND status IN ('ok', 'warnings', 'errors') AND kind = 'workbook' AND year IS ?"
        rows = self.conn.execute(
            f"SELECT {', '.join('s.' + f.name for f in fields(Entry))}, v.n FROM submissions s"
            f" JOIN (SELECT MAX(id) AS id, COUNT(*) AS n FROM submissions WHERE {base} GROUP BY {group}) v"
            " ON v.id = s.id ORDER BY s.unit IS NULL, s.unit, s.id",
            (year,),
        )
        return [(Entry(*row[:-1]), row[-1]) for row in rows]

    def history(self, year: int | None) -> list[Entry]:
        """Every finished row of `year` (superseded versions and duplicates too), oldest first."""
        return list(self.each_history(year))

    def each_history(self, year: int | None, known: dict[int, Entry] | None = None) -> Iterator[Entry]:
        """`history` one row at a time, the rows in `known` (by id) given as those objects: a 10,000-unit
        summary streams it instead of holding a second copy of every unit's row."""
        known = known or {}
        sql = f"SELECT {_COLUMNS} FROM submissions WHERE state != 'received' AND year IS ? ORDER BY id"
        for row in self.conn.execute(sql, (year,)):
            yield known.get(row[0]) or Entry(*row)

    def refused(self) -> list[Entry]:
        return self.entries(where="status = 'rejected' AND state != 'received'")

    def findings(self, ids: Iterable[int]) -> list[StoredFinding]:
        out: list[StoredFinding] = []
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            out += [
                StoredFinding(*row)
                for row in self.conn.execute(
                    "SELECT submission_id, rule, level, sheet, cell, cells, message, expected, actual FROM findings"
                    f" WHERE submission_id IN ({marks}) ORDER BY submission_id, seq",
                    chunk,
                )
            ]
        return out

    def numbers(self, ids: Iterable[int], *, part: int = 0) -> dict[int, dict[str, float]]:
        """Numeric data points per submission: id → {key: value}."""
        out: dict[int, dict[str, float]] = {}
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            for sid, key, value in self.conn.execute(
                f"SELECT submission_id, key, value_num FROM all_points WHERE part = ? AND submission_id IN ({marks})"
                " AND value_num IS NOT NULL",
                [part, *chunk],
            ):
                out.setdefault(sid, {})[key] = value
        return out


def insert_received(conn: sqlite3.Connection, f: Received) -> int:
    """Insert one `received` row (a duplicate when its bytes have a row already); returns its id."""
    row = conn.execute("SELECT id FROM submissions WHERE sha256 = ? AND duplicate_of IS NULL", (f.sha256,)).fetchone()
    cur = conn.execute(
        "INSERT INTO submissions (sha256, original_path, inbox, size, mtime_ns, received_at,"
        " archive_path, duplicate_of, kind, bundle_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            f.sha256,
            f.original_path,
            str(f.inbox),
            f.size,
            f.mtime_ns,
            f.received_at or now_text(),
            f.archive_path,
            row[0] if row else None,
            f.kind,
            f.bundle_id,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def insert_findings(conn: sqlite3.Connection, entry_id: int, result: Result) -> None:
    """A result's findings, in order, and the explanations the unit wrote against them."""
    conn.executemany(
        "INSERT INTO findings (submission_id, seq, rule, level, sheet, cell, cells, message, expected, actual)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                entry_id,
                seq,
                f.rule,
                f.level,
                f.sheet,
                f.cells[0] if f.cells else None,
                ",".join(f.cells),
                f.message,
                f.expected,
                f.actual,
            )
            for seq, f in enumerate(result.findings)
        ],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO explanations (submission_id, rule, cell, text) VALUES (?, ?, ?, ?)",
        [
            (entry_id, f.rule, cell_key(f.sheet, ",".join(f.cells)), note)
            for f in result.findings
            if (note := result.explanation(f))
        ],
    )


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, split where SQLite's own tokenizer says one is complete."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL at the end of a migration: {buffer.strip()[:60]!r}")


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _SQL_CHUNK):
        yield ids[i : i + _SQL_CHUNK]


# ----------------------------------------------------------------------------------- data points


def point_row(key: str, point: Point) -> tuple[Any, ...]:
    """(key, value_num, value_text, sheet, cell, decimals): one point as the ledger stores it."""
    value = point.value
    num: float | None = None
    text: str | None = None
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, int | float):
        num = float(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif value is not None:
        text = str(value)
    return key, num, text, point.sheet, point.cells[0] if point.cells else None, point.decimals


def _form_rows(data: FormData) -> Iterator[tuple[Any, ...]]:
    for key, point in data.points.items():
        yield point_row(key, point)
    for i, ind in enumerate(data.indicators, start=1):
        prefix = f"{data.form}.ind.{i}"
        yield f"{prefix}.level1", None, ind.level1 or None, ind.sheet, None, None
        yield f"{prefix}.level2", None, ind.level2 or None, ind.sheet, None, None
        for name, point in ind.cells.items():
            yield point_row(f"{prefix}.{name}", point)


def point_rows(submission: Submission) -> Iterator[tuple[Any, ...]]:
    """(part, key, value_num, value_text, sheet, cell, decimals) for every extracted point."""
    for data in submission.forms.values():
        for row in _form_rows(data):
            yield (0, *row)
    for part, project in enumerate(submission.projects, start=1):
        for row in _form_rows(project):
            yield (part, *row)
