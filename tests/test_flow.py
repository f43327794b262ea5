"""The stages of a run in flight at once (`batch/flow.py`): the next chunk is read while this one is
validated, every chunk is validated in one call, and every file still ends up processed exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline import settings
from pipeline.batch import engine, flow
from tests.test_batch import N_SAMPLES, assert_consistent, copy_samples, run, sha


@pytest.mark.parametrize("workers", [0, 2])
def test_chunks_are_read_ahead_validated_once_each_and_committed_in_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inputs = {p.name: sha(p) for p in copy_samples(inbox)}
    monkeypatch.setattr(settings, "BATCH_CHUNK_FILES", 2)
    monkeypatch.setattr(settings, "RECEIVE_GROUP_FILES", 3)
    monkeypatch.setattr(settings, "COMMIT_GROUP_FILES", 3)
    events: list[tuple[str, Any]] = []
    submit = flow.Pool.submit if workers else flow.InlinePool.submit
    validate, commit = engine._Engine.validate, engine._Engine.commit_group

    def record_submit(self: Any, task: tuple[str, Any], **kw: Any) -> None:
        events.append((task[0], task[1][0]))
        submit(self, task, **kw)

    def record_validate(self: Any, entries: list[Any], loaded: Any, *earlier: Any) -> Any:
        events.append(("validate", [e.id for e in entries]))
        return validate(self, entries, loaded, *earlier)

    def record_commit(self: Any, done: Any, report: Any) -> None:
        events.append(("commit", len(done)))
        commit(self, done, report)

    monkeypatch.setattr(flow.Pool if workers else flow.InlinePool, "submit", record_submit)
    monkeypatch.setattr(engine._Engine, "validate", record_validate)
    monkeypatch.setattr(engine._Engine, "commit_group", record_commit)
    report = run(inbox, out, workers=workers)

    assert len(report.outcomes) == N_SAMPLES  # type: ignore[attr-defined]
    assert_consistent(inbox, out, inputs)
    calls = [ids for kind, ids in events if kind == "validate"]
    assert sorted(i for ids in calls for i in ids) == list(range(1, N_SAMPLES + 1))  # each file validated once
    assert all(len(ids) <= 2 for ids in calls) and len(calls) == (N_SAMPLES + 1) // 2
    first = events.index(("validate", calls[0]))
    assert any(kind == "load" and i not in calls[0] for kind, i in events[:first]), "next chunk read ahead"
    assert all(0 < n <= 3 for kind, n in events if kind == "commit")
    assert sum(n for kind, n in events if kind == "commit") == N_SAMPLES
