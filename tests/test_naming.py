"""Output names derived from submitted names are always safe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.naming import MAX_NAME_BYTES, safe_filename

RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


@given(st.text())
def test_any_text_becomes_a_safe_file_name(name: str) -> None:
    safe = safe_filename(name)
    assert safe and len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    assert not set(safe) & set('/\\:*?"<>|') and ".." not in safe
    assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in safe)
    assert safe.split(".")[0].lower() not in RESERVED
    assert not safe.startswith((".", " ")) and not safe.endswith((".", " "))


def test_typical_hostile_names() -> None:
    assert safe_filename("../../etc/passwd").endswith("etc_passwd") and "/" not in safe_filename("../../x")
    assert safe_filename("CON") == "_CON" and safe_filename("nul.xlsx") == "_nul.xlsx"
    assert safe_filename("岳阳市公共租赁房屋运营服务中心") == "岳阳市公共租赁房屋运营服务中心"
    assert safe_filename("..") == "未命名"
    assert len(safe_filename("单位" * 200).encode()) <= MAX_NAME_BYTES
