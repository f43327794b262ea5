"""End to end: the reference submission and the CLI as a user sees it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import check_files
from pipeline.cli import main
from pipeline.read.isolate import MSG_CRASH
from tests import hostile as h
from tests.builders import REFERENCE_UNIT, sample_filling, write

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
REFERENCE = SAMPLES / f"{REFERENCE_UNIT}_2023.xlsx"


def test_reference_has_exactly_one_error_on_the_public_funds_cell() -> None:
    (result,) = check_files([REFERENCE])
    errors = [(f.rule, f.sheet, f.cells[0], f.expected, f.actual) for f in result.findings if f.level == "error"]
    assert errors == [("A1.SUM.PUBLIC", "附件1 基础数据表", "F18", "64.70", "64.73")]
    warnings = {f.rule for f in result.findings if f.level == "warning"}
    assert "A2.REQ.GOALS" in warnings  # 年度总体目标 not filled
    assert result.status == "errors" and result.unit == REFERENCE_UNIT and result.year == 2023


def test_reference_saved_with_corrected_total_has_no_error(tmp_path: Path) -> None:
    filling, layout = sample_filling(REFERENCE_UNIT)
    filling.values["a1.public.actual"] = 64.70
    (result,) = check_files([write(tmp_path / "fixed.xlsx", filling, layout)])
    assert [f.rule for f in result.findings if f.level == "error"] == []
    assert result.status == "warnings"


def test_reference_edited_in_excel_with_corrected_total_has_no_error(tmp_path: Path) -> None:
    fixed = tmp_path / "excel.xlsx"
    wb = openpyxl.load_workbook(REFERENCE)
    wb["附件1 基础数据表"]["F18"] = 64.70
    wb.save(fixed)
    (result,) = check_files([fixed])
    assert result.errors == 0


def test_check_exits_1_on_errors_and_writes_the_annotated_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(REFERENCE), "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "A1.SUM.PUBLIC" in out and "有错误" in out and "64.73" in out
    assert (tmp_path / f"{REFERENCE.stem}_审核结果.xlsx").is_file()


def test_check_exits_0_without_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = SAMPLES / "青山县农业技术推广中心_2023.xlsx"
    assert main(["check", str(clean), "--out", str(tmp_path)]) == 0
    assert "通过" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # no findings, no annotated workbook


def test_check_exits_2_when_a_file_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "空文件.xlsx"
    empty.write_bytes(b"")
    assert main(["check", str(empty), str(REFERENCE)]) == 2
    out = capsys.readouterr().out
    assert "退回" in out and "文件为空" in out and "A1.SUM.PUBLIC" in out


def test_json_output_is_the_library_result(capsys: pytest.CaptureFixture[str]) -> None:
    files = [REFERENCE, SAMPLES / "白云区市场监督服务中心_2023.xlsx"]
    assert main(["check", *map(str, files), "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == [r.to_dict() for r in check_files(files)]
    first = printed[0]
    assert set(first) == {"file", "unit", "year", "status", "findings"}
    assert set(first["findings"][0]) == {"rule", "level", "sheet", "cells", "message", "expected", "actual"}


def test_rejected_file_json_has_one_chinese_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "随便.xlsx"
    junk.write_bytes(b"\x00\x01 not a workbook at all" * 20)
    assert main(["check", str(junk), "--json"]) == 2
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["status"] == "rejected" and len(entry["findings"]) == 1
    assert not entry["findings"][0]["message"].isascii()


def test_check_files_in_a_worker_refuses_a_file_that_kills_the_reader(tmp_path: Path) -> None:
    killer = h.far_corners_xlsx(tmp_path / "巨型表.xlsx")
    results = check_files([killer, REFERENCE], workers=1)
    assert [r.file for r in results] == [killer, REFERENCE]  # in the order given
    assert results[0].rejected
    assert [(f.rule, f.message) for f in results[0].findings] == [("FILE.WORKER_CRASH", MSG_CRASH)]
    assert results[1].status == "errors" and "A1.SUM.PUBLIC" in [f.rule for f in results[1].findings]


def _no_core_dump() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def test_jixiao_check_survives_a_file_that_kills_the_reader(tmp_path: Path) -> None:
    killer = h.far_corners_xlsx(tmp_path / "巨型表.xlsx")

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, check=False, cwd=tmp_path, preexec_fn=_no_core_dump
        )

    # The reader alone, in a process of its own: it aborts (SIGABRT), which no try/except can catch.
    script = "import sys, python_calamine as c; c.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('附件1')"
    read = python("-c", script, str(killer))
    assert read.returncode < 0, read.stderr
    done = python("-m", "pipeline", "check", str(killer), str(REFERENCE), "--json")  # isolated by default
    assert done.returncode == 2, done.stderr  # "a file could not be read", not killed by the reader's abort
    killed, reference = json.loads(done.stdout)
    assert (killed["status"], killed["findings"][0]["message"]) == ("rejected", MSG_CRASH)
    assert reference["status"] == "errors"


def test_template_command_writes_the_year(tmp_path: Path) -> None:
    assert main(["template", "--year", "2025", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.xlsx")
    wb = openpyxl.load_workbook(path)
    titles = [ws.cell(2, 1).value for ws in wb.worksheets]
    assert any("2025年度" in str(t) for t in titles)


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "绩效自评审核" in done.stdout
