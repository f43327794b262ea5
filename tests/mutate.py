"""One-edit mutations of the sample workbooks, for the regression tests of issue #10 and the fuzz test.

Each function copies a sample to `dst` with one change, the way the fuzzing found each crash: a part of
the zip rewritten, a header field patched, a byte changed. Nothing here is committed as a binary.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
REFERENCE = SAMPLES / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"  # has findings on 附件1
CLEAN = SAMPLES / "青山县农业技术推广中心_2023.xlsx"
XLS = SAMPLES / "临湖县图书馆_2023.xls"


def sample_paths() -> list[Path]:
    return sorted(SAMPLES.iterdir())


def edit_part(src: Path, dst: Path, part: str, change: Callable[[str], str]) -> Path:
    """Copy the zip `src` to `dst` with the text of member `part` changed by `change` (order kept)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info.filename, data)
    return dst


def sub_once(pattern: str, repl: str) -> Callable[[str], str]:
    """A text change that must apply: `re.sub` of the first match, failing when nothing matches."""

    def change(text: str) -> str:
        new, n = re.subn(pattern, repl, text, count=1)
        assert n == 1, f"no match for {pattern!r}"
        return new

    return change


def huge_merge(src: Path, dst: Path) -> Path:
    """Row 1: a merged range over the whole sheet added to the first sheet."""
    return edit_part(
        src, dst, "xl/worksheets/sheet1.xml", sub_once(r"(<mergeCells[^>]*>)", r'\1<mergeCell ref="A1:XFD1048576"/>')
    )


def duplicate_sheet_name(src: Path, dst: Path) -> Path:
    """Row 2: the second sheet renamed to the first's name."""

    def change(text: str) -> str:
        names = re.findall(r'<sheet name="([^"]*)"', text)
        return text.replace(f'<sheet name="{names[1]}"', f'<sheet name="{names[0]}"', 1)

    return edit_part(src, dst, "xl/workbook.xml", change)


def nan_and_formula(src: Path, dst: Path) -> Path:
    """Row 3: one formula cell, and one numeric cell whose value is the text `nan`."""

    def change(text: str) -> str:
        text = sub_once(r"<v>([0-9.]+)</v>", r"<f>1+1</f><v>\1</v>")(text)
        return sub_once(r'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?>)<v>[0-9.]+</v>', r"\1<v>nan</v>")(text)

    return edit_part(src, dst, "xl/worksheets/sheet1.xml", change)


def flip_byte(src: Path, dst: Path, offset: int, value: int) -> Path:
    """Row 4: one byte of a file set to `value`."""
    data = bytearray(src.read_bytes())
    data[offset] = value
    dst.write_bytes(bytes(data))
    return dst


def version_needed(src: Path, dst: Path, version: int = 148) -> Path:
    """Row 5: "version needed to extract" of the first central-directory entry set to `version`."""
    data = bytearray(src.read_bytes())
    at = data.find(b"PK\x01\x02")
    assert at >= 0
    struct.pack_into("<H", data, at + 6, version)
    dst.write_bytes(bytes(data))
    return dst


def huge_duration(src: Path, dst: Path) -> Path:
    """Row 6: 1e308 in a cell formatted as a duration ([h]:mm:ss)."""

    def styles(text: str) -> str:
        text = sub_once(r"(<numFmts[^>]*>)", r'\1<numFmt numFmtId="190" formatCode="[h]:mm:ss"/>')(text)
        text = sub_once(r'(<cellXfs count=")([0-9]+)(">)', r"\g<1>__COUNT__\3")(text)
        return text

    with zipfile.ZipFile(src) as zin:
        style_text = zin.read("xl/styles.xml").decode()
    n_xfs = int(re.search(r'<cellXfs count="([0-9]+)"', style_text).group(1))  # type: ignore[union-attr]

    def with_xf(text: str) -> str:
        text = styles(text).replace("__COUNT__", str(n_xfs + 1))
        return text.replace(
            "</cellXfs>", '<xf numFmtId="190" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>', 1
        )

    tmp = dst.with_name(dst.name + ".step")
    edit_part(src, tmp, "xl/styles.xml", with_xf)
    edit_part(
        tmp,
        dst,
        "xl/worksheets/sheet1.xml",
        sub_once(r'<c r="([A-Z]+[0-9]+)"(?: s="[0-9]+")?><v>[0-9.]+</v>', rf'<c r="\1" s="{n_xfs}"><v>1e308</v>'),
    )
    tmp.unlink()
    return dst


def bad_reference(src: Path, dst: Path) -> Path:
    """Row 7: one cell reference set to ZZZZZZ1."""
    return edit_part(src, dst, "xl/worksheets/sheet1.xml", sub_once(r'<c r="[A-Z]+[0-9]+"', '<c r="ZZZZZZ1"'))
