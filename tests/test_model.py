"""Data sent between processes: a submission read in a worker comes back to the parent exactly as read."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pipeline.check import load_submission
from pipeline.model import Point, Submission

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "sample_inputs").iterdir())


def _points(sub: Submission) -> list[Point]:
    forms = [*sub.forms.values(), *sub.projects]
    return [p for f in forms for p in (*f.points.values(), *(c for i in f.indicators for c in i.cells.values()))]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_a_submission_survives_pickling_whole(path: Path) -> None:
    sub = load_submission(path)
    back = pickle.loads(pickle.dumps(sub))
    assert back == sub
    pairs = list(zip(_points(sub), _points(back), strict=True))
    assert pairs and all(type(a.raw) is type(b.raw) and type(a.value) is type(b.value) for a, b in pairs)


def test_a_point_keeps_a_raw_value_that_only_equals_its_value() -> None:
    points = (Point(1.0, "表", ("B2",), 0, 1), Point(1.5, "表", ("B2",), 1, "1.50"), Point(None, "", (), absent=True))
    for point in points:
        back = pickle.loads(pickle.dumps(point))
        assert back == point and type(back.raw) is type(point.raw)
