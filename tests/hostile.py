"""Builders of hostile and edge-case input files, made inside each test (tmp_path), plus worker functions.

Every builder writes one file and returns its path. Nothing here is downloaded or checked in: each
fixture is made from first principles (zipfile, struct, xlsxwriter) so its hostile property is exact.
Worker functions (`act`, `read_with_calamine`) are top level so a spawned worker process can import them.
"""

from __future__ import annotations

import io
import os
import random
import struct
import time
import zipfile
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
    with zipfile.ZipFile(plain) as zf:
        ct = zf.read("[Content_Types].xml").decode()
    ct = ct.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    rewrite_zip(plain, path, replace={"[Content_Types].xml": ct.encode()}, add={"xl/vbaProject.bin": b"\0" * 512})
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
