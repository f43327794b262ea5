"""What a reviewer's decisions make of a unit's submission, and where the ledger keeps it.

The 审核意见 typed into 问题清单 act on the unit (issue #19):

    退回修改 on any finding, or 不认可 on a finding the unit explained   → returned  退回修改
    认可 on every error, every warning accepted or explained             → accepted  通过（审核认可）
    认可 on every error, warnings still open                              → warnings  有提示

A submission no decision changes keeps the status its check gave it. The result is kept per submission in the
`reviews` table (migration 5) whenever a 汇总 or an export is built, so 提交历史 can say what happened to a
version after a newer one replaced it, and with it the path of the unit's clean final copy (定稿/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.store.ledger import Ledger, now_text

RETURNED, ACCEPTED, WARNINGS = "returned", "accepted", "warnings"
RETURNED_ZH = "退回修改"
ACCEPTED_ZH = "通过（审核认可）"
REVIEW_ZH = {RETURNED: RETURNED_ZH, ACCEPTED: ACCEPTED_ZH, WARNINGS: "有提示"}


@dataclass(frozen=True, slots=True)
class Decided:
    """One finding of a submission as the review sees it."""

    level: str  # error | warning
    decision: str  # 认可 | 不认可 | 退回修改 | ""
    explained: bool  # the unit wrote a 单位说明 for it


def review_of(findings: Iterable[Decided]) -> str | None:
    """The review status the decisions give a submission; None when they change nothing."""
    items = list(findings)
    if any(f.decision == "退回修改" or (f.decision == "不认可" and f.explained) for f in items):
        return RETURNED
    accepted = [f for f in items if f.decision == "认可"]
    if not accepted:
        return None
    open_ = [f for f in items if f.decision != "认可" and (f.level == "error" or not f.explained)]
    if any(f.level == "error" for f in open_):
        return None  # an error still stands: 有错误
    return WARNINGS if open_ else ACCEPTED


def recorded(ledger: Ledger, ids: Iterable[int] | None = None) -> dict[int, tuple[str, str | None]]:
    """submission id → (review status, 定稿 path) as last recorded, for `ids` (None: every submission)."""
    wanted = set(ids) if ids is not None else None
    rows = ledger.conn.execute("SELECT submission_id, status, final_path FROM reviews")
    return {sid: (status, final) for sid, status, final in rows if wanted is None or sid in wanted}


def record(ledger: Ledger, reviews: Mapping[int, tuple[str, str | None]]) -> int:
    """Keep each submission's (review status, 定稿 path); returns how many rows changed."""
    before = recorded(ledger, reviews)
    changed = {sid: value for sid, value in reviews.items() if before.get(sid, ("", None)) != value}
    if not changed:
        return 0
    stamp = now_text()
    with ledger.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO reviews (submission_id, status, final_path, updated_at) VALUES (?, ?, ?, ?)",
            [(sid, status, final, stamp) for sid, (status, final) in changed.items()],
        )
    return len(changed)
