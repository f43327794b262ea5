"""上报: a checked upload enters the batch exactly as an inbox file does, and what became of it.

`submit(...)` writes the checked workbook (and the 自评报告 checked with it) into the inbox under names jixiao
makes — `网上报送/<单位>/<YYYYmmdd-HHMMSS>_<id>_<单位>.<ext>` — as hidden temporary files, fsynced and renamed
into place (the inbox never sees half a file), then records the submission in the ledger. The watch loop takes
them at its next pass: archived, checked, paired, recorded and in the 汇总 like files that came by e-mail; a
second submission of the same check is refused here, and the same bytes sent twice are a duplicate there.
`shown(...)` finds the ledger's row for a submission (its status, findings and the reviewer's decisions).
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import JixiaoError
from pipeline.model import cell_key
from pipeline.naming import safe_filename
from pipeline.store.decisions import decisions_for
from pipeline.store.files import cannot_write, fsync_dir, sha256_file
from pipeline.store.ledger import Entry, Ledger, StoredFinding, now_text
from pipeline.store.portal import PortalSubmission, record_submission, submitted_check

PORTAL_FOLDER = "网上报送"
MSG_REJECTED = "该文件无法读取为绩效自评表，不能上报；请按页面提示修改后重新自查"
MSG_OTHER_UNIT = "工作簿中的单位名称“{found}”与提交码对应的单位“{unit}”不一致，请核对后重新自查"
MSG_NO_UNIT = "工作簿中没有填写单位名称，请填写后重新自查"

_lock = threading.Lock()  # one submission at a time: a double click cannot write the file twice


@dataclass(frozen=True, slots=True)
class Shown:
    """A submission as its unit's page shows it."""

    item: PortalSubmission
    entry: Entry | None  # None: not yet taken from the inbox
    findings: list[tuple[StoredFinding, str, str]]  # (finding, 审核意见, 备注)

    @property
    def returned(self) -> bool:
        return any(decision == "退回修改" for _, decision, _ in self.findings)


def submit(
    ledger: Ledger,
    inbox: Path,
    *,
    unit: str,
    check_id: str,
    workbook: Path,
    client_name: str,
    found: dict[str, object],
    report: Path | None = None,
) -> PortalSubmission:
    """Put a self-checked workbook (`found`: its result, one element of `check --json`) and the 自评报告 checked
    with it into the inbox for `unit`; the batch pairs them by the unit's name, as reports e-mailed with their
    workbook. JixiaoError with a Chinese reason when it may not be submitted."""
    if found.get("status") == "rejected":
        raise JixiaoError(MSG_REJECTED)
    named = str(found.get("unit") or "").strip()
    if not named:
        raise JixiaoError(MSG_NO_UNIT)
    if named != unit:
        raise JixiaoError(MSG_OTHER_UNIT.format(found=named, unit=unit))
    with _lock:
        done = submitted_check(ledger, check_id)
        if done is not None:
            return done
        name = safe_filename(unit)
        base = f"{PORTAL_FOLDER}/{name}/{datetime.now():%Y%m%d-%H%M%S}_{secrets.token_hex(4)}_{name}"
        rel = f"{base}{workbook.suffix.lower()}"
        if report is not None:
            _write_into(inbox, f"{base}_自评报告{report.suffix.lower()}", report)
        _write_into(inbox, rel, workbook)
        item = PortalSubmission(0, unit, check_id, rel, sha256_file(workbook), client_name, now_text())
        record_submission(ledger, item)
        return submitted_check(ledger, check_id) or item


def _write_into(inbox: Path, rel: str, source: Path) -> None:
    """Copy `source` to inbox/rel: a hidden temporary file, fsynced, renamed into place, the folder fsynced."""
    dest = inbox / rel
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as src, tmp.open("xb") as out:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise cannot_write(f"收件箱 {inbox}", exc) from exc


def ledger_entry(ledger: Ledger, inbox: Path, item: PortalSubmission) -> Entry | None:
    """The ledger's row for a portal submission: the newest taken from its inbox path with its bytes."""
    rows = ledger.entries(
        where="original_path = ? AND inbox = ? AND sha256 = ?",
        params=(item.inbox_rel, str(inbox.resolve()), item.sha256),
    )
    return rows[-1] if rows else None


def shown(ledger: Ledger, inbox: Path, item: PortalSubmission) -> Shown:
    """A submission with its ledger row, findings and the decisions recorded on them."""
    entry = ledger_entry(ledger, inbox, item)
    if entry is None or entry.state == "received":
        return Shown(item, entry, [])
    source = ledger.entry(entry.duplicate_of) if entry.duplicate_of else entry
    decided = decisions_for(ledger, source.year)
    findings = [
        (f, *decided.get((item.unit, f.rule, cell_key(f.sheet, f.cells)), ("", "")))
        for f in ledger.findings([source.id])
    ]
    return Shown(item, entry, findings)
