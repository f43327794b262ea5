"""`jixiao ledger recover --out OUT`: rebuild a damaged or lost ledger from OUT's archive and its last 汇总.

Every file a run ever received has its copy in `OUT/archive/` (content-addressed, fsynced before its row was
committed), so the ledger can be made again: each archive copy, oldest first (its copy's modification time is
when it was received), becomes a `received` row under the name it was filed as (the file of those bytes in
`processed/` or `refused/`; further copies there become duplicates), and one run over an empty inbox reads,
validates and records them as after an interrupted run (`engine.recover`). That run's summary rebuild reads
back the 审核意见 and 备注 of the 汇总 workbooks still in OUT (`store.decisions.harvest`) before rewriting
them. Last, each row is given back its place in `processed/` or `refused/` and a note saying it was rebuilt.

The damaged ledger itself was already renamed aside (`store.ledger_health`) and is never deleted.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from pipeline.batch.engine import run_inbox
from pipeline.batch.inbox import PROCESSED_DIR, REFUSED_DIR
from pipeline.batch.outcomes import Listener, RunReport
from pipeline.errors import JixiaoError
from pipeline.store.files import OutputLock, sha256_file
from pipeline.store.ledger import LEDGER_NAME, Ledger, Received
from pipeline.store.ledger_health import LedgerDamaged, archived_files, set_aside

MSG_NOTHING = "输出目录 {out} 的归档（archive/）中没有文件，无从重建审核账本"
MSG_SOUND = "输出目录 {out} 的审核账本完好，无需重建（已有 {n} 条记录）"
NOTE_REBUILT = "审核账本由归档重建（jixiao ledger recover）"


def recover_ledger(
    out: Path, *, workers: int | None = None, profile: str = "default", listener: Listener | None = None
) -> RunReport:
    """Rebuild OUT's ledger (see the module docstring); the report of the run that re-read the archive.
    JixiaoError when the archive is empty or the ledger is sound and holds rows."""
    out = Path(out)
    path = out / LEDGER_NAME
    files = archived_files(out)
    if not files:
        raise JixiaoError(MSG_NOTHING.format(out=out))
    with tempfile.TemporaryDirectory(prefix="jixiao-recover-") as empty:
        with OutputLock(out):
            _refuse_sound(out)
            if path.exists():
                set_aside(path)  # an empty or unsound file: kept beside, never deleted
            places = _filed_copies(out)
            with Ledger(path, rebuild=True) as ledger:
                ledger.receive_many(_rows(out, files, places, Path(empty)))
        # The run takes OUT's lock itself; what it finds are `received` rows, as after an interrupted run.
        report = run_inbox(Path(empty), out, workers=workers, profile=profile, settle_s=0, wait_s=0, listener=listener)
    with OutputLock(out), Ledger(path) as ledger, ledger.transaction() as conn:
        for entry in ledger.entries():
            dest = places.get(entry.sha256, {}).get(entry.original_path)
            conn.execute("UPDATE submissions SET dest_path = ?, note = ? WHERE id = ?", (dest, NOTE_REBUILT, entry.id))
    return report


def _refuse_sound(out: Path) -> None:
    """A ledger that opens soundly and holds rows needs no rebuild (a damaged one raises LedgerDamaged)."""
    path = out / LEDGER_NAME
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with Ledger(path, rebuild=True) as ledger:
            n = len(ledger.entries())
    except LedgerDamaged:
        return  # set aside by the check; rebuilt below
    if n:
        raise JixiaoError(MSG_SOUND.format(out=out, n=n))


def _filed_copies(out: Path) -> dict[str, dict[str, str]]:
    """sha256 → {name as received: where it is under OUT} for every file in processed/ and refused/."""
    places: dict[str, dict[str, str]] = {}
    for folder in (PROCESSED_DIR, REFUSED_DIR):
        for path in sorted((out / folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                rel = PurePosixPath(*path.relative_to(out / folder).parts).as_posix()
                places.setdefault(sha256_file(path), {})[rel] = f"{folder}/{rel}"
    return places


def _rows(out: Path, files: list[Path], places: dict[str, dict[str, str]], inbox: Path) -> list[Received]:
    rows = []
    for path in files:
        st = path.stat()
        sha = path.stem
        names = list(places.get(sha, {})) or [path.name]
        when = datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds")
        archive_rel = path.relative_to(out).as_posix()
        rows += [Received(sha, name, inbox, st.st_size, st.st_mtime_ns, archive_rel, when) for name in names]
    return rows
