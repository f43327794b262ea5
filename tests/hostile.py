"""Builders of hostile and edge-case input files, made inside each test (tmp_path), plus worker functions.

Every builder writes one file and returns its path. Nothing here is downloaded or checked in: each
fixture is made from first principles (zipfile, struct, xlsxwriter) so its hostile property is exact.
Worker functions (`act`, `read_with_calamine`) are top level so a spawned worker process can import them.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# ------------------------------------------------------------------------------------ valid inputs


def write_xlsx(path: Path, rows: list[list[object]] | None = None) -> Path:
    """A minimal valid .xlsx (one sheet) written by xlsxwriter."""
    import xlsxwriter

    rows = rows if rows is not None else [["2023年度预算单位整体支出绩效评价基础数据表"], ["编制数", 40, 35]]
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("附件1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    wb.close()
    return path


def rewrite_zip(
    src: Path,
    dst: Path,
    *,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Copy a zip, replacing, adding or dropping members (deflated)."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, zin.read(info))
            zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def write_xlsm(path: Path) -> Path:
    """An .xlsm: an xlsx with a (dummy) VBA project and the macro-enabled content type."""
    plain = write_xlsx(path.with_name(path.stem + "_plain.xlsx"))
    as_xlsm(plain, path)
    plain.unlink()
    return path


_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def write_ods(path: Path, *, encrypted: bool = False) -> Path:
    """A minimal hand-built .ods (OpenDocument spreadsheet), readable by python-calamine."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="' + _ODS_MIMETYPE.decode() + '"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        + ('<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>' if encrypted else "")
        + "</manifest:file-entry></manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="附件1"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>编制数</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="40"><text:p>40</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", _ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)  # first and stored
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


# ---------------------------------------------------------------------- compound files (OLE2 / CFB)

_END, _FREE, _FATSECT, _DIFSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFC, 0xFFFFFFFF


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding `streams` at the root (small ones in the mini stream)."""
    ss, cutoff = 512, 4096

    def n_sectors(n: int, size: int = ss) -> int:
        return -(-n // size)

    mini, minifat, entries = b"", [], []  # entries: (name, start, size)
    big: list[tuple[str, bytes]] = []
    for name, data in streams.items():
        if len(data) >= cutoff:
            big.append((name, data))
            continue
        n = n_sectors(len(data), 64)
        start = len(mini) // 64
        minifat += [start + k + 1 for k in range(n - 1)] + [_END] * (n > 0)
        mini += data.ljust(n * 64, b"\0")
        entries.append((name, start if n else _END, len(data)))
    n_dir = n_sectors((len(streams) + 1) * 128)
    n_minifat = n_sectors(len(minifat) * 4)
    n_mini = n_sectors(len(mini))
    n_big = [n_sectors(len(d)) for _, d in big]
    body = n_dir + n_minifat + n_mini + sum(n_big)
    n_fat = n_difat = 1
    while n_fat * (ss // 4) < n_fat + n_difat + body:  # FAT ids past the header's 109 go in DIFAT sectors
        n_fat += 1
    n_difat = n_sectors(max(n_fat - 109, 0), ss // 4 - 1)
    while n_fat * (ss // 4) < n_fat + n_difat + body:
        n_fat += 1
        n_difat = n_sectors(max(n_fat - 109, 0), ss // 4 - 1)
    fat: list[int] = [_FATSECT] * n_fat + [_DIFSECT] * n_difat

    def chain(n: int) -> int:
        if n == 0:
            return _END
        start = len(fat)
        fat.extend([start + k + 1 for k in range(n - 1)] + [_END])
        return start

    # Big streams first and the directory last, as Excel lays them out: in a large file, reading
    # the directory then needs FAT sectors listed in the DIFAT.
    for (name, data), n in zip(big, n_big, strict=True):
        entries.append((name, chain(n), len(data)))
    minifat_start, mini_start, dir_start = chain(n_minifat), chain(n_mini), chain(n_dir)
    assert len(fat) <= n_fat * (ss // 4)
    fat += [_FREE] * (n_fat * (ss // 4) - len(fat))

    def dir_entry(name: str, kind: int, start: int, size: int, right: int = _NOSTREAM, child: int = _NOSTREAM) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(raw) if name else 0, kind, 1, _NOSTREAM, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    # Siblings sorted as MS-CFB compares names (length, then upper case), chained as right children.
    order = sorted(range(len(entries)), key=lambda i: (len(entries[i][0]), entries[i][0].upper()))
    directory = [
        dir_entry("Root Entry", 5, mini_start if mini else _END, len(mini), child=order[0] + 1 if order else _NOSTREAM)
    ]
    right_of = {order[k]: order[k + 1] + 1 for k in range(len(order) - 1)}
    for i, (name, start, size) in enumerate(entries):
        directory.append(dir_entry(name, 2, start, size, right=right_of.get(i, _NOSTREAM)))
    dir_raw = b"".join(directory)
    dir_raw += dir_entry("", 0, 0, 0) * ((n_dir * ss - len(dir_raw)) // 128)

    fat_ids = list(range(n_fat))
    difat = fat_ids[:109] + [_FREE] * (109 - min(n_fat, 109))
    difat_sectors = []
    for k in range(n_difat):
        ids = fat_ids[109 + k * 127 : 109 + (k + 1) * 127]
        nxt = n_fat + k + 1 if k + 1 < n_difat else _END
        difat_sectors.append(struct.pack("<128I", *(ids + [_FREE] * (127 - len(ids)) + [nxt])))
    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack(
            "<9I", 0, n_fat, dir_start, 0, cutoff, minifat_start, n_minifat, n_fat if n_difat else _END, n_difat
        )
        + struct.pack("<109I", *difat)
    )
    minifat += [_FREE] * (-len(minifat) % (ss // 4))
    sectors = [struct.pack(f"<{len(fat)}I", *fat), *difat_sectors, *(d for _, d in big)]
    sectors += [struct.pack(f"<{len(minifat)}I", *minifat), mini, dir_raw]
    return header + b"".join(s.ljust(n_sectors(len(s)) * ss, b"\0") for s in sectors)


def write_cfb(path: Path, streams: dict[str, bytes]) -> Path:
    path.write_bytes(cfb_bytes(streams))
    return path


def _rec(rtype: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def biff8_workbook(*, cells: int = 2, filepass: bool = False) -> bytes:
    """A minimal BIFF8 Workbook stream: one sheet "附件1" with a label and `cells - 1` numbers."""
    bof_globals = _rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0006))
    bof_sheet = _rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x0006))
    # FILEPASS, RC4 CryptoAPI header shape; the bytes are never decrypted.
    globals_ = bof_globals + (_rec(0x002F, struct.pack("<HHH", 1, 2, 2) + b"\0" * 48) if filepass else b"")
    globals_ += _rec(0x0042, struct.pack("<H", 1200))  # CODEPAGE: UTF-16
    name = "附件1".encode("utf-16-le")
    sheet_offset = len(globals_) + (4 + 8 + len(name)) + 4  # the sheet starts after BOUNDSHEET8 and EOF
    globals_ += _rec(0x0085, struct.pack("<IBBBB", sheet_offset, 0, 0, len("附件1"), 1) + name)
    globals_ += _rec(0x000A)
    assert len(globals_) == sheet_offset
    label = "编制数".encode("utf-16-le")
    sheet = bof_sheet + _rec(0x0200, struct.pack("<IIHHH", 0, cells, 0, 2, 0))
    sheet += _rec(0x0204, struct.pack("<HHHHB", 0, 0, 0, len("编制数"), 1) + label)
    for r in range(1, cells):
        sheet += _rec(0x0203, struct.pack("<HHHd", r, 1, 0, float(r)))
    return globals_ + sheet + _rec(0x000A)


def write_xls(path: Path, *, cells: int = 2, filepass: bool = False) -> Path:
    """A genuine (minimal) BIFF8 .xls: a compound file with a Workbook stream."""
    return write_cfb(path, {"Workbook": biff8_workbook(cells=cells, filepass=filepass)})


def write_encrypted_xlsx(path: Path, tmp: Path) -> Path:
    """A real password-protected .xlsx (ECMA-376 agile encryption) made by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp / "plain_for_encryption.xlsx")
    with plain.open("rb") as src, path.open("wb") as out:
        OOXMLFile(src).encrypt("jixiao", out)
    return path


# ------------------------------------------------------------------------------------- zip attacks


def write_ratio_bomb(path: Path, *, megabytes: int = 32) -> Path:
    """An xlsx-shaped zip whose sheet is `megabytes` MB of zeros deflated (ratio ≈ 1000)."""
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(megabytes):
                part.write(chunk)
    return path


def write_many_entries(path: Path, n: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(n):
            zf.writestr(f"xl/media/{i}.bin", b"")
    return path


def patch_sizes(
    path: Path, name: str, *, central: tuple[int, int] | None = None, local: tuple[int, int] | None = None
) -> Path:
    """Overwrite the (compressed, uncompressed) sizes a zip declares for `name`, in place."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(name)
    if local is not None:
        struct.pack_into("<II", data, info.header_offset + 18, *local)
    if central is not None:
        pos = data.rfind(b"PK\x05\x06")
        (pos,) = struct.unpack_from("<I", data, pos + 16)  # start of the central directory
        while data[pos : pos + 4] == b"PK\x01\x02":
            n_name, n_extra, n_comment = struct.unpack_from("<HHH", data, pos + 28)
            if data[pos + 46 : pos + 46 + n_name].decode() == name:
                struct.pack_into("<II", data, pos + 20, *central)
            pos += 46 + n_name + n_extra + n_comment
    path.write_bytes(bytes(data))
    return path


XXE_WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>
<sheet name="&xxe;" sheetId="1" r:id="rId1"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets></workbook>"""

BILLION_LAUGHS_SST = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol4;</t></si></sst>"""


def with_part(src: Path, dst: Path, name: str, data: bytes) -> Path:
    """A copy of the xlsx `src` whose part `name` is `data` (added if missing)."""
    with zipfile.ZipFile(src) as zf:
        present = name in zf.namelist()
    return rewrite_zip(src, dst, replace={name: data}) if present else rewrite_zip(src, dst, add={name: data})


# ----------------------------------------------------------------------------- not a workbook at all


def write_docx(path: Path) -> Path:
    """A minimal .docx (Word) package."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body/></w:document>')
    return path


def write_pptx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/presentation.xml", "<p:presentation xmlns:p='urn:p'/>")
    return path


HTML_TABLE = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
    '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>\n'
    "<body><table><tr><td>编制数</td><td>40</td></tr></table></body></html>\n"
)

CSV_TEXT = (
    "项目,2022年决算数,2023年预算数,2023年决算数\n编制数,40,35,\n实际在职人数,35,35,\n公用经费,78.77,68.4,64.73\n"
)

XML_SPREADSHEET_2003 = (
    '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
    'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
    '<Worksheet ss:Name="附件1"><Table><Row><Cell><Data ss:Type="String">编制数</Data></Cell></Row></Table>'
    "</Worksheet></Workbook>\n"
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def random_bytes(n: int, seed: int = 20230528) -> bytes:
    return random.Random(seed).randbytes(n)


# -------------------------------------------------------------------------------- worker functions


def act(item: str) -> str:
    """Behave as `item` says: "ok:X" returns X; others abort, exit, exhaust memory, hang or raise."""
    from pipeline.errors import RejectedFile

    kind, _, arg = item.partition(":")
    if kind == "ok":
        return arg
    if kind == "abort":
        os.abort()
    if kind == "exit":
        os._exit(1)
    if kind == "alloc":  # far past any cap a test sets: MemoryError under RLIMIT_AS
        blob = bytearray(8 * 1024**3)
        return str(len(blob))
    if kind == "sleep":
        time.sleep(float(arg or 600))
        return "woke"
    if kind == "reject":
        raise RejectedFile("文件不是模板", code="not_template")
    if kind == "raise":
        raise KeyError(arg)
    if kind == "memoryerror":
        raise MemoryError
    if kind == "unpicklable":
        return lambda: None  # type: ignore[return-value]  # the result cannot travel back
    if kind == "pid":
        return str(os.getpid())
    if kind == "abort-once":  # kills its worker the first time only (the marker file says it has run)
        marker = Path(arg)
        if not marker.exists():
            marker.touch()
            os.abort()
        return "survived"
    raise AssertionError(f"unknown action {item!r}")


def read_with_calamine(path: Path) -> list[str]:
    """Sheet names of a workbook read fully by python-calamine, format detected from content.

    `CalamineWorkbook.from_path` picks the format by extension (an .xls renamed .xlsx fails with
    "Could not find EOCD"); `from_filelike` detects it from the bytes, as sniff() does.
    """
    from python_calamine import CalamineWorkbook

    with path.open("rb") as fh:
        workbook = CalamineWorkbook.from_filelike(fh)
        try:
            for name in workbook.sheet_names:
                workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return list(workbook.sheet_names)
        finally:
            workbook.close()


class Unloadable:
    """A callable that cannot be unpickled in a worker process: a pool for it can never start."""

    def __call__(self, item: str) -> str:
        return item

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse_to_load, ()


def _refuse_to_load() -> None:
    raise ImportError("this callable cannot be loaded in a worker")


def far_corners_xlsx(path: Path) -> Path:
    """A tiny xlsx with a title and one cell at XFD1048576: calamine allocates the whole 17-billion-cell
    range, its allocation fails (under any memory cap, and without one) and it aborts its process."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    ws.write(0, 0, "2023年度预算单位整体支出绩效评价基础数据表")
    ws.write(1_048_575, 16_383, 1)
    wb.close()
    return path


def big_string_xlsx(path: Path, megabytes: int) -> Path:
    """A valid xlsx whose one cell holds a `megabytes` MB string (honest sizes: a reader must allocate it)."""
    src = write_xlsx(path.with_name(path.stem + "_src.xlsx"))
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    )
    chunk = b"A" * (1 << 20)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, zin.read(info))
                continue
            with zout.open(info.filename, "w") as part:
                part.write(head)
                for _ in range(megabytes):
                    part.write(chunk)
                part.write(b"</t></is></c></row></sheetData></worksheet>")
    src.unlink()
    return path


# ------------------------------------------------------------------------- more zip and sheet attacks


def truncated_xlsx(path: Path) -> Path:
    """The first half of a valid xlsx: the zip directory at the end is gone."""
    full = write_xlsx(path.with_name(path.stem + "_full.xlsx"))
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def declared_size_bomb(path: Path, megabytes: int = 300) -> Path:
    """Small on disk, but both zip headers declare a `megabytes` MB sheet."""
    write_xlsx(path)
    with zipfile.ZipFile(path) as zf:
        csize = zf.getinfo("xl/worksheets/sheet1.xml").compress_size
    size = megabytes * 1024 * 1024
    return patch_sizes(path, "xl/worksheets/sheet1.xml", central=(csize, size), local=(csize, size))


def headers_disagree(path: Path) -> Path:
    """The central directory says the sheet inflates to 100 bytes; its local header keeps the truth."""
    write_xlsx(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    return patch_sizes(path, info.filename, central=(info.compress_size, 100))


def consistent_lie(path: Path, megabytes: int = 8) -> Path:
    """Both headers agree the sheet inflates to 64 KB; it inflates to `megabytes` MB, past what sniff reads."""
    big_string_xlsx(path, megabytes)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    lie = (info.compress_size, 64 * 1024)
    return patch_sizes(path, info.filename, central=lie, local=lie)


def with_xml_attack(path: Path, part: str, data: bytes) -> Path:
    """A valid xlsx whose `part` is `data` (an XXE or entity-expansion document)."""
    src = write_xlsx(path.with_name(path.stem + "_src.xlsx"))
    with_part(src, path, part, data)
    src.unlink()
    return path


def tall_sheet_xlsx(path: Path, rows: int) -> Path:
    """A genuine form title over `rows` rows: a legitimately huge sheet, past the row limit."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    ws.write(0, 0, "2023年度预算单位整体支出绩效评价基础数据表")
    for r in range(1, rows):
        ws.write_number(r, 0, r)
    wb.close()
    return path


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that costs nothing to make (a hole)."""
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def random_table_xlsx(path: Path, *, seed: int = 7, rows: int = 40, cols: int = 8) -> Path:
    """A real workbook holding a random table of text and numbers: an Excel file, but no template."""
    rng = random.Random(seed)
    words = ["合计", "项目", "金额", "备注", "一月", "二月", "张三", "李四", "采购", "差旅", "=1+1", "http://x"]
    table: list[list[object]] = [[f"列{c + 1}" for c in range(cols)]]
    for _ in range(rows):
        table.append(
            [rng.choice(words) if rng.random() < 0.4 else round(rng.uniform(-1e6, 1e6), 2) for _ in range(cols)]
        )
    return write_xlsx(path, table)


def as_xlsm(src: Path, path: Path) -> Path:
    """A copy of the xlsx `src` made macro-enabled: the macro content type and a (dummy) VBA project."""
    with zipfile.ZipFile(src) as zf:
        ct = zf.read("[Content_Types].xml").decode()
    ct = ct.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    return rewrite_zip(src, path, replace={"[Content_Types].xml": ct.encode()}, add={"xl/vbaProject.bin": b"\0" * 512})


# --------------------------------------------------------------------------- hostile submissions

#: Text a unit might type that a spreadsheet would run or follow if an output wrote it carelessly.
INJECTED_UNIT = '=HYPERLINK("http://x","y")'
INJECTED_TEXTS = {
    "a1.frugality": "+1",
    "a1.preparer": "-1+2",
    "a1.signer": "@SUM(A1)",
    "a2.goal.expected": "=1+1",
    "a2.goal.actual": "http://evil.example/完成情况",
}
INJECTED = (INJECTED_UNIT, *INJECTED_TEXTS.values())


def write_submission(path: Path, *, unit: str, values: dict[str, object] | None = None) -> Path:
    """The clean sample unit's 2023 figures under another unit name, with one warning (联系电话 left blank)
    so that it gets an annotated workbook, whose name and content the tests inspect."""
    from tests.builders import CLEAN_UNIT, sample_filling, write

    filling, layout = sample_filling(CLEAN_UNIT)
    filling.values.update({"a1.unit_name": unit, "a2.unit_name": unit, "a1.phone": None, **(values or {})})
    return write(path, filling, layout)


def formula_injection_xlsx(path: Path) -> Path:
    """A valid submission whose unit name and text cells hold formula- and link-like strings (as text)."""
    return write_submission(path, unit=INJECTED_UNIT, values=dict(INJECTED_TEXTS))


def uncached_formula_xlsx(path: Path) -> Path:
    """A valid submission whose 公用经费 total is a formula that was never calculated (no cached value)."""
    from tests.builders import edit_workbook, sheet_with_title

    def formula(wb: object) -> None:
        ws, _ = sheet_with_title(wb, "基础数据表")  # type: ignore[arg-type]
        ws["F18"] = "=F19+F20+F21"  # openpyxl writes formulas without a cached value

    return edit_workbook(write_submission(path, unit="未计算公式测试单位"), formula)


# ------------------------------------------------------------------------------- one hostile inbox


@dataclass(frozen=True)
class Case:
    """One file of the hostile inbox: how to make it, and what jixiao must say about it."""

    name: str  # file name in the inbox
    what: str  # the hostile property (for the note)
    build: Callable[[Path], Path]  # writes the file at the given path (scratch files beside it)
    code: str | None  # refusal code, or None: read and checked
    expect: str  # text the refusal reason contains, or the status of a checked file


def hostile_cases() -> list[Case]:
    """Every hostile fixture of issue #5, plus valid submissions (samples and hostile-but-valid ones)."""
    from pipeline import settings
    from pipeline.read import sniff
    from pipeline.read.isolate import MSG_CRASH

    samples = Path(__file__).resolve().parent.parent / "sample_inputs"

    def sample(name: str) -> Callable[[Path], Path]:
        return lambda p: Path(shutil.copyfile(samples / name, p))

    def data(raw: bytes) -> Callable[[Path], Path]:
        def build(p: Path) -> Path:
            p.write_bytes(raw)
            return p

        return build

    def encrypted(p: Path) -> Path:
        scratch = p.with_name(p.stem + "_scratch")
        scratch.mkdir()
        write_encrypted_xlsx(p, scratch)
        shutil.rmtree(scratch)
        return p

    def xlsm(p: Path) -> Path:
        src = Path(shutil.copyfile(samples / "青山县农业技术推广中心_2023.xlsx", p.with_suffix(".src.xlsx")))
        as_xlsm(src, p)
        src.unlink()
        return p

    return [
        Case("zero.xlsx", "零字节文件", data(b""), "empty", sniff.MSG_EMPTY),
        Case("random.xlsx", "随机字节", data(random_bytes(8192)), "unknown", sniff.MSG_UNKNOWN),
        Case("truncated.xlsx", "截断的 zip", truncated_xlsx, "corrupt", sniff.MSG_CORRUPT),
        Case("encrypted.xlsx", "加密的 .xlsx（msoffcrypto）", encrypted, "encrypted", sniff.MSG_ENCRYPTED),
        Case(
            "encrypted.xls",
            "加密的 .xls（FILEPASS）",
            lambda p: write_xls(p, filepass=True),
            "encrypted",
            sniff.MSG_ENCRYPTED,
        ),
        Case(
            "bomb_declared.xlsx", "压缩炸弹：声明 300 MB", declared_size_bomb, "zip_bomb", "解压后 300 MB，上限 200 MB"
        ),
        Case(
            "bomb_ratio.xlsx",
            "压缩炸弹：压缩比约 1000",
            lambda p: write_ratio_bomb(p, megabytes=4),
            "zip_bomb",
            "压缩比",
        ),
        Case(
            "bomb_entries.xlsx",
            f"压缩炸弹：{settings.MAX_ZIP_ENTRIES + 1} 个条目",
            lambda p: write_many_entries(p, settings.MAX_ZIP_ENTRIES + 1),
            "zip_bomb",
            "条目",
        ),
        Case(
            "lying_headers.xlsx",
            "zip 头部不一致（本地头与中央目录）",
            headers_disagree,
            "corrupt",
            sniff.MSG_LYING_SIZES,
        ),
        Case(
            "lying_consistent.xlsx",
            "zip 头部一致地撒谎（声明 64 KB，实为 8 MB）",
            consistent_lie,
            "corrupt",
            "压缩包内记录的文件大小前后不一致",
        ),
        Case(
            "xxe.xlsx",
            "XML 外部实体（file:///etc/passwd）",
            lambda p: with_xml_attack(p, "xl/workbook.xml", XXE_WORKBOOK),
            "xml_attack",
            sniff.MSG_XML_ATTACK,
        ),
        Case(
            "billion_laughs.xlsx",
            "XML 实体膨胀（billion laughs）",
            lambda p: with_xml_attack(p, "xl/sharedStrings.xml", BILLION_LAUGHS_SST),
            "xml_attack",
            sniff.MSG_XML_ATTACK,
        ),
        Case("报告.xlsx", "Word 文档改名为 .xlsx", write_docx, "wrong_type", sniff.MSG_DOCX),
        Case(
            "退回..\\..\\..\\Windows\\System32\\calc.exe",
            "文件名含 ..\\ 的 PDF（退回文件表中的链接会指向输出目录之外）",
            data(PDF_BYTES),
            "wrong_type",
            "PDF",
        ),
        Case("网页.xls", "HTML 另存为 .xls", data(HTML_TABLE.encode()), "html", sniff.MSG_HTML),
        Case("导出.xls", "CSV 另存为 .xls", data(CSV_TEXT.encode("gbk")), "csv", sniff.MSG_CSV),
        Case("random_table.xlsx", "随机表格（不是模板）", random_table_xlsx, "wrong_template", "不是绩效自评表"),
        Case(
            "tall_sheet.xlsx",
            f"超大工作表（{2 * settings.MAX_SHEET_ROWS} 行）",
            lambda p: tall_sheet_xlsx(p, 2 * settings.MAX_SHEET_ROWS),
            "oversized",
            "过大",
        ),
        Case(
            "huge_file.xlsx",
            "超大文件（51 MB）",
            lambda p: sparse_file(p, settings.MAX_FILE_BYTES + 1024 * 1024),
            "oversized",
            "文件过大",
        ),
        Case(
            "far_corners.xlsx",
            "calamine 分配失败即 abort（A1 与 XFD1048576）",
            far_corners_xlsx,
            "worker_crash",
            MSG_CRASH,
        ),
        Case(
            "formula_injection.xlsx",
            "公式注入文本（=HYPERLINK、+1、-1+2、@SUM、链接）",
            formula_injection_xlsx,
            None,
            "warnings",
        ),
        Case(
            "CON.xlsx",
            "Windows 保留名：文件名与单位名均为 CON",
            lambda p: write_submission(p, unit="CON"),
            None,
            "warnings",
        ),
        Case(
            "上报..\\..\\..\\etc\\passwd.xlsx",
            "路径穿越：文件名含 ..\\，单位名为 ../../etc/passwd",
            lambda p: write_submission(p, unit="../../etc/passwd"),
            None,
            "warnings",
        ),
        Case("单" * 80 + ".xlsx", "超长文件名（245 字节）", sample("松涛区水利工程管理站_2023.xlsx"), None, "ok"),
        Case("uncached_formula.xlsx", "公式没有缓存值", uncached_formula_xlsx, None, "errors"),
        Case("宏.xlsm", ".xlsm（含 VBA 工程，只读取值）", xlsm, None, "ok"),
        Case("金沙县文化馆_2023.xlsx", "正常提交", sample("金沙县文化馆_2023.xlsx"), None, "ok"),
        Case(
            "白云区市场监督服务中心_2023.xlsx",
            "正常提交（有错误）",
            sample("白云区市场监督服务中心_2023.xlsx"),
            None,
            "errors",
        ),
        Case("临湖县图书馆_2023.xls", "正常提交（.xls）", sample("临湖县图书馆_2023.xls"), None, "ok"),
    ]


def build_inbox(inbox: Path, scratch: Path, cases: list[Case] | None = None) -> list[Case]:
    """Make every case in `scratch`, then move it into `inbox` back-dated (complete for the settle rule)."""
    cases = hostile_cases() if cases is None else cases
    inbox.mkdir(parents=True, exist_ok=True)
    past = time.time() - 3600
    for i, case in enumerate(cases):
        folder = scratch / f"{i:02d}"
        folder.mkdir(parents=True)
        made = case.build(folder / case.name)
        os.utime(made, (past, past))
        os.replace(made, inbox / case.name)
    return cases
