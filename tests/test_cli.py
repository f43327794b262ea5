"""The command line as a new user meets it (issue #10): Chinese throughout, user errors exit 2 without a
traceback, --version, folders for check, profiles by name or path, templates for a profile."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from pipeline.cli import main
from pipeline.synth.corpus import ANSWER_KEY

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_inputs"
PROFILE_40 = ROOT / "schemas" / "profiles" / "example_40_40.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --help, --version and its errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", "", text)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["template", "--year", "1850", "--out", "{tmp}"], "错误：年度 1850 不在 2000–2100 之间"),
        (["template", "--out", "{tmp}/file"], "错误：--out 须为文件夹，{tmp}/file 是一个文件"),
        (["run", "{tmp}", "--out", "{tmp}/out", "--workers", "-1"], "参数 --workers：须为不小于 0 的整数"),
        (["check", "--workers", "x", "{tmp}/file"], "参数 --workers：须为不小于 0 的整数，收到 'x'"),
        (["check", "{tmp}/nothing.xlsx"], "错误：找不到文件或文件夹：{tmp}/nothing.xlsx"),
        (["check", "{tmp}/empty"], "错误：文件夹中没有 Excel 工作簿（.xlsx/.xlsm/.xls/.ods）：{tmp}/empty"),
        (["check", "{tmp}/file", "--profile", "nowhere"], "错误：未找到审核口径 'nowhere'"),
        (["check", "{tmp}/file", "--profile", "{tmp}/no.toml"], "错误：找不到审核口径文件：{tmp}/no.toml"),
        (["watch", "{tmp}/nowhere", "--out", "{tmp}/out"], "错误：收件箱目录不存在：{tmp}/nowhere"),
        (["summary", "--out", "{tmp}"], "中没有审核账本（ledger.sqlite3），请先运行 jixiao run"),
        ([], "jixiao：错误：缺少必需的参数：命令"),
        (["check"], "jixiao check：错误：缺少必需的参数：文件"),
        (["chek"], "jixiao：错误：参数 命令 的值 'chek' 无效，可选："),
        (["check", "{tmp}/file", "--bogus"], "jixiao：错误：无法识别的参数：--bogus"),
    ],
)
def test_a_user_error_is_said_in_chinese_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2
    assert expected.format(tmp=tmp_path) in one_line(err)
    assert "Traceback" not in err + out and "error:" not in err and "usage:" not in err
    assert "正在监视" not in out


def test_help_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "run", "--help")
    assert code == 0
    assert out.startswith("用法：jixiao run")
    assert "选项:" in out and "显示本帮助并退出" in out
    assert not re.search(r"\b(usage|options|positional arguments|show this help)\b", out)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, "jixiao 0.1.0")


def test_check_takes_a_folder_and_skips_what_is_not_a_submission(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder / "sub")
    (folder / "~$lock.xlsx").write_bytes(b"x")
    (folder / ".hidden.xlsx").write_bytes(b"x")
    (folder / "readme.txt").write_text("x")
    (folder / "old_审核结果.xlsx").write_bytes(b"x")
    code, out, _ = run(capsys, "check", str(folder), "--json")
    assert code == 1
    assert sorted(Path(r["file"]).name for r in json.loads(out)) == sorted(p.name for p in SAMPLES.iterdir())


def test_a_profile_by_path_is_the_profile_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = shutil.copyfile(PROFILE_40, tmp_path / "我们的口径.toml")
    sample = str(SAMPLES / "青山县农业技术推广中心_2023.xlsx")
    by_name = run(capsys, "check", sample, "--json", "--profile", "example_40_40")
    by_path = run(capsys, "check", sample, "--json", "--profile", str(mine))
    default = run(capsys, "check", sample, "--json")
    assert by_path == by_name != default


def test_a_batch_run_takes_a_profile_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(SAMPLES / "青山县农业技术推广中心_2023.xlsx", inbox / "u.xlsx")
    mine = shutil.copyfile(PROFILE_40, tmp_path / "mine.toml")
    code, out, err = run(
        capsys, "run", str(inbox), "--out", str(tmp_path / "out"), "--workers", "0", "--profile", str(mine)
    )
    assert code == 1, err  # the sample was filled for 50/30: under 40/40 its weights are errors
    assert "有错误" in out


def test_template_for_a_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "template", "--year", "2024", "--out", str(tmp_path), "--profile", str(PROFILE_40))
    assert code == 0
    ws = openpyxl.load_workbook(tmp_path / "绩效自评模板_2024.xlsx")["附件2 整体支出自评表"]
    labels = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "指标(" in c.value}
    assert {"产出指标(40分)", "效益指标(40分)"} <= labels


def test_synth_keeps_its_answer_key_out_of_the_inbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "units"
    assert run(capsys, "synth", "--units", "2", "--out", str(folder), "--workers", "0")[0] == 0
    assert (folder / ANSWER_KEY).is_file()
    code, _, err = run(capsys, "run", str(folder), "--out", str(tmp_path / "out"), "--workers", "0")
    assert code in (0, 1), err
    assert [p.name for p in (tmp_path / "out" / "refused").iterdir()] == []
    assert len(list((tmp_path / "out" / "processed").iterdir())) == 2
    assert (folder / ANSWER_KEY).is_file()  # left where it was
