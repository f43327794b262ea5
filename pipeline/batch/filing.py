"""Filing: a checked row's inbox file moved to its destination in processed/ or refused/ (invariant I2).

`move_checked` decides and does the move for one row (`engine._Engine._file_many` records a group of them):
the file is moved only when it is still the one archived (same size, mtime and hash); a crash after the
move is recognised by the complete copy at the destination; a file changed or gone meanwhile is left, with a
note. A bundle's member has no inbox file: its bundle is what the inbox held, filed as a row of its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.batch.inbox import MSG_CANNOT_MOVE, OutDir, signature
from pipeline.errors import OutputError
from pipeline.store.files import fsync_dir, os_cause, sha256_file
from pipeline.store.ledger import Entry, Filed, Ledger

NOTE_GONE = "审核完成时原文件已不在收件箱中（已被移走或删除），其内容已存档"
NOTE_CHANGED = "审核期间收件箱中的文件被修改，未移动；修改后的文件将作为新的提交处理"


def move_checked(outdir: OutDir, ledger: Ledger, entry: Entry, unsynced: set[Path]) -> Filed:
    """Move one checked row's inbox file to its destination (I2); what `mark_filed` is to record. The
    folders of the rename are added to `unsynced`, to be fsynced before that record."""
    if entry.bundle_id is not None:
        return Filed(entry.id, True)  # a bundle's member: its bundle is what the inbox held
    assert entry.dest_path is not None
    src, dest = entry.source, outdir.path(entry.dest_path)
    # Size and mtime can stay the same while the bytes change (a copy that keeps the mtime, a tool
    # rewriting in place): only the hash says the inbox file is the one archived and checked.
    same = signature(src) == (entry.size, entry.mtime_ns) and sha256_or_none(src) == entry.sha256
    moved, note, dest_rel = False, None, entry.dest_path
    if dest.exists() and sha256_file(dest) == entry.sha256:
        moved = True  # a crash after the move (or mid cross-filesystem move): the copy there is complete
        if same:
            try:
                src.unlink()
                fsync_dir(src.parent)
            except OSError as exc:
                raise OutputError(MSG_CANNOT_MOVE.format(name=src.name, dest=dest.parent, cause=os_cause(exc))) from exc
    elif same:
        if dest.exists():  # someone put another file at our reserved name: take the next free one
            folder, _, rel = entry.dest_path.partition("/")
            dest_rel = outdir.free_name(folder, rel, ledger.dest_taken)
        outdir.move_out(src, dest_rel, unsynced=unsynced)
        moved = True
    else:
        note = NOTE_CHANGED if src.exists() else NOTE_GONE
    return Filed(entry.id, moved, note, dest_rel)


def as_filed(entry: Entry, move: Filed) -> Entry:
    """The row as `Ledger.mark_filed` leaves it (the outcome is announced before the group's commit)."""
    dest = (move.dest_path or entry.dest_path) if move.moved else None
    return dataclasses.replace(entry, state="filed", note=move.note, dest_path=dest)


def sha256_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None
