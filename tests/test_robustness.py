"""Whatever a unit does to a valid workbook, the checker returns a status and never raises."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import RejectedFile
from pipeline.model import Grid, Result, SheetGrid
from pipeline.read.extract import extract
from pipeline.read.grid import read_grid
from pipeline.rules.validate import validate

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
BASES = [
    read_grid(SAMPLES / name)
    for name in ("岳阳市公共租赁房屋运营服务中心_2023.xlsx", "翠屏区疾病预防控制中心_2023.xlsx")
]

cell_values = st.one_of(
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(
        ["", "/", "无", "-", "=SUM(A1:A3)", "1,2,3", "１２.５%", "≥", "%", "万元", "2024.13.45", "总分", "三级指标"]
    ),
)


@st.composite
def mutated_grids(draw: st.DrawFn) -> Grid:
    grid = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        sheet = draw(st.sampled_from(grid.sheets))
        action = draw(st.sampled_from(["value", "value", "value", "insert_row", "delete_row", "rename", "drop"]))
        if action == "value" and sheet.rows:
            r = draw(st.integers(min_value=0, max_value=len(sheet.rows) - 1))
            if sheet.rows[r]:
                c = draw(st.integers(min_value=0, max_value=len(sheet.rows[r]) - 1))
                sheet.rows[r][c] = draw(cell_values)
        elif action == "insert_row":
            r = draw(st.integers(min_value=0, max_value=len(sheet.rows)))
            sheet.rows.insert(r, [draw(cell_values) for _ in range(sheet.n_cols)])
        elif action == "delete_row" and sheet.rows:
            del sheet.rows[draw(st.integers(min_value=0, max_value=len(sheet.rows) - 1))]
        elif action == "rename":
            sheet.name = draw(st.text(min_size=1, max_size=10))
        elif action == "drop" and len(grid.sheets) > 1:
            grid.sheets.remove(sheet)
        grid.sheets = [SheetGrid(s.name, s.rows, s.merged) for s in grid.sheets]  # merges may now be stale
    return grid


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_grids())
def test_mutated_workbooks_always_get_a_status(grid: Grid) -> None:
    try:
        submission = extract(grid)
    except RejectedFile as exc:
        assert exc.reason and not exc.reason.isascii()
        return
    (findings,) = validate([submission])
    result = Result(grid.path, findings, submission)
    assert result.status in {"ok", "warnings", "errors"}
    for f in findings:
        assert f.level in {"error", "warning"} and f.message and f.rule
