"""The grid's scans of the package: the cheap pre-filter of the beyond-the-grid guard lets through every
reference the exact check would refuse, and a refused reference is refused wherever it stands."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import RejectedFile
from pipeline.read.grid import _REF_ATTR, _SUSPECT, _beyond_grid, read_grid
from tests import mutate as m

_REF_CHARS = st.sampled_from("ABCXYZabcxyz0123456789$: \t")


@given(st.text(_REF_CHARS, max_size=300))
def test_every_value_the_exact_check_refuses_passes_the_prefilter(value: str) -> None:
    text = f'<c r="{value}"/>'.encode()
    exact = [_beyond_grid(m.group(2).decode()) for m in _REF_ATTR.finditer(text)]
    if any(exact):
        assert _SUSPECT.search(text)


@pytest.mark.parametrize(
    ("old", "new", "ref"),
    [
        (r'<dimension ref="[^"]*"', '<dimension ref="A1:XFE3"', "XFE3"),
        (r'<row r="3"', '<row r="1048577"', "1048577"),
        (r'<c r="A3"', '<c r="$A$99999999"', "$A$99999999"),
    ],
)
def test_a_reference_beyond_the_grid_is_refused_in_any_attribute(tmp_path: Path, old: str, new: str, ref: str) -> None:
    src = m.edit_part(m.REFERENCE, tmp_path / "ref.xlsx", "xl/worksheets/sheet1.xml", m.sub_once(old, new))
    with pytest.raises(RejectedFile) as caught:
        read_grid(src)
    assert caught.value.code == "corrupt"
    assert f"单元格地址 {ref} 超出" in caught.value.reason
