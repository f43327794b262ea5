"""sniff(): the real format of a submitted file, or a RejectedFile with a stable code and a Chinese reason."""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import settings as limits
from pipeline.errors import RejectedFile
from pipeline.read import sniff as sniff_module
from pipeline.read.sniff import FORMATS, sniff
from tests import hostile as h


def rejected(path: Path) -> RejectedFile:
    with pytest.raises(RejectedFile) as info:
        sniff(path)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.reason), info.value.reason
    return info.value


# ------------------------------------------------------------------------------ genuine workbooks

VALID: dict[str, tuple[Callable[[Path], Path], str]] = {
    "xlsx": (lambda d: h.write_xlsx(d / "a.xlsx"), "xlsx"),
    "xlsm": (lambda d: h.write_xlsm(d / "a.xlsm"), "xlsm"),
    "ods": (lambda d: h.write_ods(d / "a.ods"), "ods"),
    "xls, Workbook stream in the mini stream": (lambda d: h.write_xls(d / "small.xls"), "xls"),
    "xls, Workbook stream in regular sectors": (lambda d: h.write_xls(d / "big.xls", cells=400), "xls"),
    "xls saved as .xlsx": (lambda d: h.write_xls(d / "renamed.xlsx"), "xls"),
    "xlsx saved as .xls": (lambda d: h.write_xlsx(d / "renamed.xls"), "xlsx"),
    "xls, Excel 5.0 Book stream": (lambda d: h.write_cfb(d / "b5.xls", {"Book": h.biff8_workbook()}), "xls"),
}


@pytest.mark.parametrize("case", VALID)
def test_genuine_workbooks_are_recognised_by_their_bytes(tmp_path: Path, case: str) -> None:
    build, fmt = VALID[case]
    assert sniff(build(tmp_path)) == fmt


@pytest.mark.parametrize("case", [c for c in VALID if "Book stream" not in c])
def test_genuine_fixtures_are_readable_by_the_real_reader(tmp_path: Path, case: str) -> None:
    # Proves the hand-built fixtures are real workbooks, not just shapes sniff() happens to accept.
    assert h.read_with_calamine(VALID[case][0](tmp_path)) == ["附件1"]


def test_a_dtd_free_prolog_with_comments_and_instructions_is_fine(tmp_path: Path) -> None:
    xlsx = h.write_xlsx(tmp_path / "a.xlsx")
    with zipfile.ZipFile(xlsx) as zf:
        workbook = zf.read("xl/workbook.xml")
    prolog = b'<?xml version="1.0"?>\n<!-- made by hand -->\n<?mso-application progid="Excel.Sheet"?>\n'
    body = workbook.split(b"?>", 1)[1]
    assert sniff(h.with_part(xlsx, tmp_path / "b.xlsx", "xl/workbook.xml", prolog + body)) == "xlsx"


class _CountingFile:
    """A read-only file that counts the bytes read through it."""

    def __init__(self, raw: BinaryIO, counter: list[int]) -> None:
        self.raw, self.counter = raw, counter

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.counter.append(len(data))
        return data

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def test_sniff_reads_only_a_small_part_of_a_large_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    rows = [[f"第{r}行", rng.random(), "".join(rng.choices("预算决算绩效目标指标", k=40))] for r in range(6000)]
    xlsx = h.write_xlsx(tmp_path / "big.xlsx", rows=rows)
    read: list[int] = []
    original = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: _CountingFile(original(self, *a, **k), read))
    assert sniff(xlsx) == "xlsx"
    assert xlsx.stat().st_size > 300_000
    assert sum(read) < 40_000


# ------------------------------------------------------------------------------ refused files


def _consistent_lie(d: Path) -> Path:
    # Both headers claim the sheet inflates to 100 bytes; it really inflates to far more.
    path = h.write_xlsx(d / "liar.xlsx")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    lie = (info.compress_size, 100)
    return h.patch_sizes(path, info.filename, central=lie, local=lie)


def _xlsx_with(name: str, data: bytes) -> Callable[[Path], Path]:
    return lambda d: h.with_xml_attack(d / "attack.xlsx", name, data)


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        path = d / name
        path.write_bytes(text.encode(encoding))
        return path

    return build


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        path = d / name
        path.write_bytes(data)
        return path

    return build


def _zip(name: str, members: dict[str, bytes]) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        with zipfile.ZipFile(d / name, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in members.items():
                zf.writestr(member, data)
        return d / name

    return build


_LONG_COMMENT = b'<?xml version="1.0"?>\n<!--' + b" " * 3000 + b"-->\n"

REFUSED: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # name: (builder, code, text the reason must contain)
    "zero bytes": (_bytes("empty.xlsx", b""), "empty", sniff_module.MSG_EMPTY),
    "random bytes": (_bytes("random.xlsx", h.random_bytes(8192)), "unknown", sniff_module.MSG_UNKNOWN),
    "truncated xlsx": (lambda d: h.truncated_xlsx(d / "truncated.xlsx"), "corrupt", sniff_module.MSG_CORRUPT),
    "encrypted xlsx (msoffcrypto)": (
        lambda d: h.write_encrypted_xlsx(d / "enc.xlsx", d),
        "encrypted",
        sniff_module.MSG_ENCRYPTED,
    ),
    "encrypted package, hand-built compound file": (
        lambda d: h.write_cfb(d / "enc.xlsx", {"EncryptionInfo": b"\4\0\4\0" * 100, "EncryptedPackage": b"x" * 5000}),
        "encrypted",
        sniff_module.MSG_ENCRYPTED,
    ),
    "xls with FILEPASS (mini stream)": (
        lambda d: h.write_xls(d / "fp.xls", filepass=True),
        "encrypted",
        sniff_module.MSG_ENCRYPTED,
    ),
    "xls with FILEPASS (regular sectors)": (
        lambda d: h.write_xls(d / "fp.xls", cells=400, filepass=True),
        "encrypted",
        sniff_module.MSG_ENCRYPTED,
    ),
    "zip bomb by declared size": (
        lambda d: h.declared_size_bomb(d / "declared.xlsx"),
        "zip_bomb",
        "解压后 300 MB，上限 200 MB",
    ),
    "zip bomb by ratio": (lambda d: h.write_ratio_bomb(d / "ratio.xlsx"), "zip_bomb", "压缩比"),
    "zip bomb by entry count": (
        lambda d: h.write_many_entries(d / "many.xlsx", limits.MAX_ZIP_ENTRIES + 1),
        "zip_bomb",
        "条目",
    ),
    "local and central headers disagree": (
        lambda d: h.headers_disagree(d / "liar.xlsx"),
        "corrupt",
        sniff_module.MSG_LYING_SIZES,
    ),
    "headers agree on a lie the prefix read exposes": (_consistent_lie, "corrupt", sniff_module.MSG_LYING_SIZES),
    "external entity in workbook.xml": (
        _xlsx_with("xl/workbook.xml", h.XXE_WORKBOOK),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "billion laughs in sharedStrings.xml": (
        _xlsx_with("xl/sharedStrings.xml", h.BILLION_LAUGHS_SST),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "DTD in [Content_Types].xml": (
        _xlsx_with("[Content_Types].xml", b'<?xml version="1.0"?><!DOCTYPE Types SYSTEM "http://x/t.dtd"><Types/>'),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "DTD in docProps/core.xml": (
        _xlsx_with("docProps/core.xml", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "DTD in a worksheet, encoded as UTF-16": (
        _xlsx_with("xl/worksheets/sheet1.xml", h.XXE_WORKBOOK.replace(b"UTF-8", b"UTF-16").decode().encode("utf-16")),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "prolog padded past the prefix read": (
        _xlsx_with("xl/workbook.xml", _LONG_COMMENT + b"<workbook/>"),
        "xml_attack",
        sniff_module.MSG_XML_ATTACK,
    ),
    "docx renamed .xlsx": (lambda d: h.write_docx(d / "report.xlsx"), "wrong_type", sniff_module.MSG_DOCX),
    "pptx renamed .xlsx": (lambda d: h.write_pptx(d / "slides.xlsx"), "wrong_type", sniff_module.MSG_PPT),
    "doc renamed .xls": (
        lambda d: h.write_cfb(d / "report.xls", {"WordDocument": b"\xec\xa5" + b"\0" * 600}),
        "wrong_type",
        sniff_module.MSG_DOC,
    ),
    "other compound file": (
        lambda d: h.write_cfb(d / "thing.xls", {"Contents": b"\0" * 100}),
        "unknown",
        "不是 Excel 工作簿",
    ),
    "broken compound file": (
        _bytes("broken.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 100),
        "corrupt",
        "已损坏",
    ),
    "odt renamed .ods": (
        _zip("text.ods", {"mimetype": b"application/vnd.oasis.opendocument.text"}),
        "wrong_type",
        "OpenDocument 文本文档",
    ),
    "encrypted ods": (lambda d: h.write_ods(d / "enc.ods", encrypted=True), "encrypted", sniff_module.MSG_ENCRYPTED),
    "xlsb": (
        _zip("a.xlsb", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0"}),
        "unsupported",
        ".xlsb",
    ),
    "zip holding workbooks": (
        _zip("batch.xlsx", {"单位A.xlsx": b"PK", "单位B.xls": b"\xd0\xcf"}),
        "wrong_type",
        "内含 2 个 Excel 文件",
    ),
    "zip without a workbook": (
        _zip("other.xlsx", {"readme.txt": b"hello"}),
        "wrong_type",
        sniff_module.MSG_NO_WORKBOOK,
    ),
    "empty zip": (_bytes("empty_zip.xlsx", b"PK\x05\x06" + b"\0" * 18), "wrong_type", sniff_module.MSG_NO_WORKBOOK),
    "HTML table saved as .xls": (_text("table.xls", h.HTML_TABLE), "html", sniff_module.MSG_HTML),
    "HTML with BOM, blank lines and doctype, GBK": (
        _text("page.xls", "\ufeff\r\n  <!DOCTYPE html>\n" + h.HTML_TABLE, "gb18030"),
        "html",
        sniff_module.MSG_HTML,
    ),
    "bare <TABLE> saved as .xls": (
        _text("bare.xls", "<TABLE border=1><TR><TD>编制数</TD></TR></TABLE>"),
        "html",
        "HTML",
    ),
    "HTML in UTF-16": (_text("u16.xls", "\ufeff" + h.HTML_TABLE, "utf-16-le"), "html", sniff_module.MSG_HTML),
    "single-file web page (.mht)": (
        _text("page.xls", "MIME-Version: 1.0\r\nContent-Type: multipart/related\r\n"),
        "html",
        sniff_module.MSG_HTML,
    ),
    "CSV saved as .xls, GBK": (_text("data.xls", h.CSV_TEXT, "gbk"), "csv", sniff_module.MSG_CSV),
    "CSV saved as .xlsx, UTF-8 with BOM": (_text("data.xlsx", "\ufeff" + h.CSV_TEXT), "csv", sniff_module.MSG_CSV),
    "TSV saved as .xls": (_text("data.xls", h.CSV_TEXT.replace(",", "\t")), "csv", sniff_module.MSG_CSV),
    "plain text": (_text("notes.xls", "这是一段说明文字。\n没有分隔符。\n"), "unknown", sniff_module.MSG_UNKNOWN),
    "Excel 2003 XML spreadsheet": (_text("x2003.xls", h.XML_SPREADSHEET_2003), "unsupported", "Excel 2003 XML"),
    "PDF": (_bytes("scan.xlsx", h.PDF_BYTES), "wrong_type", "PDF"),
    "PNG": (_bytes("photo.xls", b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "wrong_type", "图片"),
    "BIFF4 worksheet": (
        _bytes("old.xls", b"\x09\x04\x06\x00\x00\x00\x10\x00" + b"\0" * 64),
        "legacy",
        "Excel 2.x–4.0",
    ),
    "Lotus 1-2-3": (_bytes("old.wk1", b"\x00\x00\x02\x00\x06\x04" + b"\0" * 64), "legacy", "Lotus"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_hostile_and_wrong_files_are_refused_with_a_code_and_a_reason(tmp_path: Path, case: str) -> None:
    build, code, text = REFUSED[case]
    exc = rejected(build(tmp_path))
    assert (exc.code, text in exc.reason) == (code, True), exc.reason


def test_oversized_file_names_both_sizes(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as fh:  # sparse: costs nothing to make
        fh.truncate(limits.MAX_FILE_BYTES + 5 * 1024 * 1024)
    exc = rejected(path)
    assert (exc.code, exc.reason) == ("oversized", "文件过大（55 MB，上限 50 MB）")


def test_missing_file(tmp_path: Path) -> None:
    exc = rejected(tmp_path / "不存在.xlsx")
    assert (exc.code, exc.reason) == ("missing", "文件不存在：不存在.xlsx")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.xlsx").mkdir()
    exc = rejected(tmp_path / "folder.xlsx")
    assert exc.code == "unreadable" and "文件夹" in exc.reason


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = h.write_xlsx(tmp_path / "a.xlsx")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)  # chmod does not stop root, who runs CI
    exc = rejected(path)
    assert (exc.code, exc.reason) == ("unreadable", "无法读取文件（没有读取权限）")


def test_the_zip_guard_runs_before_anything_is_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = h.write_ratio_bomb(tmp_path / "ratio.xlsx")
    monkeypatch.setattr(sniff_module, "_part_prefix", lambda *a, **k: pytest.fail("read a member"))
    assert rejected(bomb).code == "zip_bomb"


def test_ratio_is_not_judged_on_small_parts(tmp_path: Path) -> None:
    # 512 KB of one repeated tag compresses > 200× yet is harmless: below ZIP_RATIO_MIN_BYTES.
    repetitive = b'<?xml version="1.0"?><worksheet>' + b"<row/>" * 90_000 + b"</worksheet>"
    path = h.with_part(
        h.write_xlsx(tmp_path / "src.xlsx"), tmp_path / "rep.xlsx", "xl/worksheets/sheet1.xml", repetitive
    )
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > limits.MAX_ZIP_RATIO
    assert sniff(path) == "xlsx"


def test_a_consistent_lie_beyond_the_prefix_is_left_to_the_capped_reader(tmp_path: Path) -> None:
    # Declared 64 KB, really 8 MB: sniff cannot see it without inflating; the readers stop at the declared size.
    path = h.big_string_xlsx(tmp_path / "liar.xlsx", megabytes=8)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    lie = (info.compress_size, 64 * 1024)
    h.patch_sizes(path, info.filename, central=lie, local=lie)
    assert sniff(path) == "xlsx"
    import python_calamine

    with pytest.raises(python_calamine.CalamineError, match="larger than its declared"):
        h.read_with_calamine(path)
    with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile):
        zf.read(info.filename)


def test_hand_built_compound_files_list_like_olefile(tmp_path: Path) -> None:
    # Cross-check of the test writer (and so of sniff's parser) against an independent reader.
    olefile = pytest.importorskip("olefile")
    streams = {"Workbook": h.biff8_workbook(cells=400), "\x05SummaryInformation": b"s" * 200, "Ctls": b"c" * 70}
    path = h.write_cfb(tmp_path / "three.xls", streams)
    with olefile.OleFileIO(str(path)) as ole:
        assert sorted(ole.listdir()) == sorted([[n] for n in streams])
        assert {n: ole.openstream(n).read() for n in streams} == streams
    assert sniff(path) == "xls"


def test_a_large_xls_whose_directory_needs_the_difat(tmp_path: Path) -> None:
    # 8 MB: more than the 109 FAT sectors the header lists; the directory sits after the data.
    olefile = pytest.importorskip("olefile")
    path = h.write_cfb(tmp_path / "large.xls", {"Workbook": h.biff8_workbook() + b"\0" * (8 * 1024 * 1024)})
    assert struct.unpack_from("<I", path.read_bytes(), 0x48)[0] > 0  # DIFAT sectors in use
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.listdir() == [["Workbook"]]
    assert sniff(path) == "xls"


def test_a_compound_file_whose_directory_chain_loops_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(h.cfb_bytes({"Workbook": h.biff8_workbook(cells=400)}))
    (dir_start,) = struct.unpack_from("<I", data, 0x30)
    struct.pack_into("<I", data, 512 + 4 * dir_start, dir_start)  # FAT (sector 0): the sector follows itself
    path = tmp_path / "loop.xls"
    path.write_bytes(bytes(data))
    assert rejected(path).code == "corrupt"


# ------------------------------------------------------------------------------ properties

_TMP_FILE = "sniff_property_input.bin"


def _outcome(path: Path) -> str:
    try:
        fmt = sniff(path)
    except RejectedFile as exc:
        assert exc.code and any("\u4e00" <= ch <= "\u9fff" for ch in exc.reason)
        return exc.code
    assert fmt in FORMATS
    return fmt


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sniff_props") / _TMP_FILE


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    d = tmp_path_factory.mktemp("sniff_seeds")
    return [h.write_xlsx(d / "a.xlsx").read_bytes(), h.write_xls(d / "a.xls", cells=400).read_bytes()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", bytes.fromhex("d0cf11e0a1b11ae1")]), body=st.binary(max_size=2048))
def test_any_bytes_give_a_format_or_a_rejection(scratch: Path, prefix: bytes, body: bytes) -> None:
    scratch.write_bytes(prefix + body)
    _outcome(scratch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_workbooks_give_a_format_or_a_rejection(scratch: Path, seeds: list[bytes], data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    scratch.write_bytes(bytes(raw[:cut]))
    _outcome(scratch)


def test_header_offsets_used_by_the_parser() -> None:
    # The compound-file header fields sniff reads, at the offsets MS-CFB gives them.
    header = h.cfb_bytes({"Workbook": b"x"})[:512]
    assert struct.unpack_from("<H", header, 0x1E) == (9,)  # sector shift
    assert struct.unpack_from("<I", header, 0x38) == (4096,)  # mini stream cutoff
