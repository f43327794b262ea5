"""What the portal (`jixiao serve`) keeps in the ledger: units' 提交码, reviewers' accounts, portal submissions.

A 提交码 reads `SSSS-XXXX-XXXX-XXXX`: the first group (the selector) finds the unit's row and is not secret; the
rest is checked against an scrypt hash with a salt of its own. The plain code exists only in the file
`issue_codes` writes once for the bureau to hand out. A unit's code is renewed with `renew=[unit]`: the old one
stops working at once (a session opened with it too: sessions carry the selector, `unit_of_selector`).
Reviewers' passwords are stored the same way (scrypt, salt per user).

Every function takes an open `Ledger`; migration 7 (`ledger_schema.py`) holds the tables.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import itertools
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import JixiaoError
from pipeline.settings import PASSWORD_MIN_CHARS
from pipeline.store.files import cannot_write
from pipeline.store.ledger import Ledger, now_text
from pipeline.store.roster import RosterEntry

#: Letters and digits a unit reads off paper without confusion (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4  # the selector and three secret groups: 60 bits of secret
CODE_GROUP_CHARS = 4
#: scrypt cost: ≈ 50 ms and 16 MB per check, so guessing is slow even from a stolen ledger.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
CODES_FILE = "提交码_{stamp}.csv"

MSG_NO_ROSTER = "输出目录中没有预算单位名单（名单.xlsx），请先用 jixiao run --roster 名单文件 指定名单"
MSG_NOT_ON_ROSTER = "名单中没有单位：{units}"
MSG_USER_EXISTS = "审核人员 {name} 已存在"
MSG_BAD_USER = "审核人员名称须为 1–40 个字符，不含空格，收到 {name!r}"
MSG_SHORT_PASSWORD = "密码至少 {n} 个字符"


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **SCRYPT)  # type: ignore[arg-type]


def _group(n: int = CODE_GROUP_CHARS) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


def normalise_code(text: str) -> str:
    """A code as typed (lower case, spaces, full-width dashes) → `SSSS-XXXX-XXXX-XXXX`, or '' if it is none."""
    chars = [c for c in text.upper().replace("－", "-") if c in CODE_ALPHABET]
    if len(chars) != CODE_GROUPS * CODE_GROUP_CHARS:
        return ""
    return "-".join("".join(chars[i : i + CODE_GROUP_CHARS]) for i in range(0, len(chars), CODE_GROUP_CHARS))


# ------------------------------------------------------------------------------------------ codes


@dataclass(frozen=True, slots=True)
class IssuedCodes:
    file: Path | None  # None: every unit had a code already
    issued: list[tuple[RosterEntry, str]]


def issue_codes(ledger: Ledger, roster: list[RosterEntry], out: Path, *, renew: Sequence[str] = ()) -> IssuedCodes:
    """A code for every roster unit that has none, and a new one for each unit in `renew`; the plain codes
    are written once to OUT/提交码_<time>.csv (readable by the owner only). JixiaoError for a `renew`
    name not on the roster."""
    by_name = {e.name: e for e in roster}
    unknown = [name for name in renew if name not in by_name]
    if unknown:
        raise JixiaoError(MSG_NOT_ON_ROSTER.format(units="、".join(unknown)))
    have = {unit for (unit,) in ledger.conn.execute("SELECT unit FROM portal_codes")}
    wanted = [e for e in roster if e.name not in have or e.name in renew]
    issued: list[tuple[RosterEntry, str]] = []
    with ledger.transaction() as conn:
        taken = {s for (s,) in conn.execute("SELECT selector FROM portal_codes")}
        for entry in wanted:
            selector = _group()
            while selector in taken:
                selector = _group()
            taken.add(selector)
            secret = "-".join(_group() for _ in range(CODE_GROUPS - 1))
            salt = os.urandom(16)
            conn.execute(
                "INSERT OR REPLACE INTO portal_codes (unit, selector, salt, hash, issued_at) VALUES (?, ?, ?, ?, ?)",
                (entry.name, selector, salt, _hash(secret, salt), now_text()),
            )
            issued.append((entry, f"{selector}-{secret}"))
        path = _write_codes(out, issued) if issued else None
    return IssuedCodes(path, issued)


def _write_codes(out: Path, issued: list[tuple[RosterEntry, str]]) -> Path:
    """The one copy of the plain codes: a CSV (UTF-8 with BOM, opens in Excel) only the owner may read."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(out) / CODES_FILE.format(stamp=stamp)
    try:
        for n in itertools.count(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:  # codes renewed twice within a second: never overwrite the first file
                path = path.with_name(CODES_FILE.format(stamp=f"{stamp}-{n}"))
        with open(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["单位名称", "单位编码", "主管部门", "提交码"])
            for entry, code in issued:
                writer.writerow([entry.name, entry.code, entry.department, code])
    except OSError as exc:
        raise cannot_write(f"提交码文件 {path.name}", exc) from exc
    return path


def verify_code(ledger: Ledger, code: str) -> tuple[str, str] | None:
    """(unit, selector) whose live code this is, or None."""
    plain = normalise_code(code)
    if not plain:
        return None
    selector, _, secret = plain.partition("-")
    row = ledger.conn.execute("SELECT unit, salt, hash FROM portal_codes WHERE selector = ?", (selector,)).fetchone()
    if row is None:
        _hash(secret, b"\0" * 16)  # as slow as a known selector: the answer's time says nothing
        return None
    unit, salt, stored = row
    return (unit, selector) if hmac.compare_digest(_hash(secret, salt), stored) else None


def unit_of_selector(ledger: Ledger, selector: str) -> str | None:
    """The unit whose live code has this selector (None once the code was renewed)."""
    row = ledger.conn.execute("SELECT unit FROM portal_codes WHERE selector = ?", (selector,)).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------------------------------ reviewers


def add_user(ledger: Ledger, name: str, password: str) -> None:
    """A reviewer account; JixiaoError for a taken or odd name, or a short password."""
    if not (0 < len(name) <= 40) or any(c.isspace() for c in name):
        raise JixiaoError(MSG_BAD_USER.format(name=name))
    if len(password) < PASSWORD_MIN_CHARS:
        raise JixiaoError(MSG_SHORT_PASSWORD.format(n=PASSWORD_MIN_CHARS))
    salt = os.urandom(16)
    with ledger.transaction() as conn:
        if conn.execute("SELECT 1 FROM portal_users WHERE name = ?", (name,)).fetchone():
            raise JixiaoError(MSG_USER_EXISTS.format(name=name))
        conn.execute(
            "INSERT INTO portal_users (name, salt, hash, created_at) VALUES (?, ?, ?, ?)",
            (name, salt, _hash(password, salt), now_text()),
        )


def verify_user(ledger: Ledger, name: str, password: str) -> bool:
    row = ledger.conn.execute("SELECT salt, hash FROM portal_users WHERE name = ?", (name,)).fetchone()
    if row is None:
        _hash(password, b"\0" * 16)  # same time as a known name
        return False
    return hmac.compare_digest(_hash(password, row[0]), row[1])


def user_exists(ledger: Ledger, name: str) -> bool:
    return ledger.conn.execute("SELECT 1 FROM portal_users WHERE name = ?", (name,)).fetchone() is not None


# ------------------------------------------------------------------------------------------ submissions


@dataclass(frozen=True, slots=True)
class PortalSubmission:
    id: int
    unit: str
    check_id: str
    inbox_rel: str
    sha256: str
    client_name: str
    submitted_at: str


def record_submission(ledger: Ledger, item: PortalSubmission) -> None:
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO portal_submissions (unit, check_id, inbox_rel, sha256, client_name, submitted_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (item.unit, item.check_id, item.inbox_rel, item.sha256, item.client_name, item.submitted_at),
        )


def submitted_check(ledger: Ledger, check_id: str) -> PortalSubmission | None:
    """The submission made from this self-check, if it was submitted."""
    row = ledger.conn.execute(f"SELECT {_COLS} FROM portal_submissions WHERE check_id = ?", (check_id,)).fetchone()
    return PortalSubmission(*row) if row else None


def submissions_of(ledger: Ledger, unit: str) -> list[PortalSubmission]:
    """A unit's portal submissions, newest first."""
    rows = ledger.conn.execute(f"SELECT {_COLS} FROM portal_submissions WHERE unit = ? ORDER BY id DESC", (unit,))
    return [PortalSubmission(*row) for row in rows]


def submission(ledger: Ledger, sid: int) -> PortalSubmission | None:
    row = ledger.conn.execute(f"SELECT {_COLS} FROM portal_submissions WHERE id = ?", (sid,)).fetchone()
    return PortalSubmission(*row) if row else None


_COLS = "id, unit, check_id, inbox_rel, sha256, client_name, submitted_at"
