"""The grid's scans of the package: the cheap pre-filters of the beyond-the-grid guard and of the formula scan
let through all that the exact checks would find, a refused reference is refused wherever it stands, and only a
part that cannot hold a DTD is parsed without defusedxml."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from defusedxml import ElementTree as DefusedElementTree
from defusedxml import EntitiesForbidden
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import RejectedFile
from pipeline.read.grid import (
    _SUSPECT,
    _beyond_grid,
    _holds_formula,
    _parse_part,
    _without_dtd,
    read_grid,
    ref_values,
)
from tests import mutate as m

_REF_CHARS = st.sampled_from("ABCXYZabcxyz0123456789$: \t")


@given(
    st.text(_REF_CHARS, max_size=300),
    st.sampled_from(['<c r="', '<row r="', '<mergeCell ref="', '<c\n\tr="', "<c r='", '<c r = "', "<row r= '"]),
)
def test_every_value_the_exact_check_refuses_passes_the_prefilter(value: str, attribute: str) -> None:
    text = f"{attribute}{value}{attribute[-1]}/>".encode()
    exact = [_beyond_grid(v) for v in ref_values(text)]
    if any(exact):
        assert any(rx.search(text) for rx in _SUSPECT)


@pytest.mark.parametrize(
    ("text", "looked_at"),
    [
        ('<c r="A1"/>', False),
        ('<c r="ZZ999999"/>', False),
        ('<row r="12">', False),
        ('<mergeCell ref="A1:C3"/>', False),
        ('<dimension ref="B2"/>', False),
        ('<c r="XFD1048576"/>', True),
        ('<dimension ref="A1:XFD1048576"/>', True),
        ('<c r="$A$1"/>', True),
    ],
)
def test_plain_references_skip_the_exact_check_and_the_largest_pass_it(text: str, looked_at: bool) -> None:
    data = text.encode()
    assert any(rx.search(data) for rx in _SUSPECT) == looked_at
    assert not any(_beyond_grid(v) for v in ref_values(data))


@given(st.binary(max_size=40), st.binary(max_size=40))
def test_the_formula_prefilter_sees_what_the_byte_scan_sees(before: bytes, after: bytes) -> None:
    for tag in (b"<f>", b"<f ", b":f>", b":f ", b"<f/", b"f>", b""):
        chunk = before + tag + after
        expected = b"<f>" in chunk or b"<f " in chunk or b":f>" in chunk or b":f " in chunk
        assert _holds_formula(chunk) == expected


@pytest.mark.parametrize(
    ("old", "new", "ref"),
    [
        (r'<dimension ref="[^"]*"', '<dimension ref="A1:XFE3"', "XFE3"),
        (r'<row r="3"', '<row r="1048577"', "1048577"),
        (r'<c r="A3"', '<c r="$A$99999999"', "$A$99999999"),
        (r'<c r="A3"', "<c r='ZZZZZZ3'", "ZZZZZZ3"),  # quoted with ': calamine reads it all the same, and aborts
        (r'<c r="A3"', '<c r = "XFE3"', "XFE3"),
    ],
)
def test_a_reference_beyond_the_grid_is_refused_in_any_attribute(tmp_path: Path, old: str, new: str, ref: str) -> None:
    src = m.edit_part(m.REFERENCE, tmp_path / "ref.xlsx", "xl/worksheets/sheet1.xml", m.sub_once(old, new))
    with pytest.raises(RejectedFile) as caught:
        read_grid(src)
    assert caught.value.code == "corrupt"
    assert f"单元格地址 {ref} 超出" in caught.value.reason


_DECLARED = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BOMB = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>'


@pytest.mark.parametrize(
    ("data", "plain"),
    [
        (_DECLARED + b'<workbook xmlns="urn:x"><definedName name="jx.a">S!$A$1</definedName></workbook>', True),
        (b"<Properties/>", True),
        (b"\xef\xbb\xbf" + _DECLARED + b"<r/>", True),
        (_DECLARED + _BOMB, False),
        (_DECLARED + b"<r><![CDATA[x]]></r>", False),
        ('<?xml version="1.0" encoding="UTF-16"?><r/>'.encode("utf-16"), False),
        (b'<?xml version="1.0" encoding="cp037"?><r/>', False),
        (b"<?xml version='1.0'?><r/>", False),
    ],
)
def test_only_parts_that_cannot_hold_a_dtd_skip_defusedxml(data: bytes, plain: bool) -> None:
    assert _without_dtd(data) == plain


def test_a_part_with_a_dtd_is_refused_and_a_plain_one_parses_as_defusedxml_parses_it() -> None:
    with pytest.raises(EntitiesForbidden):
        _parse_part(_DECLARED + _BOMB)
    plain = _DECLARED + b'<w xmlns="urn:x"><n a="1">S!$A$1</n><n a="&amp;">&#20013;</n></w>'
    assert ElementTree.tostring(_parse_part(plain)) == ElementTree.tostring(DefusedElementTree.fromstring(plain))
