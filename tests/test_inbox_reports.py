"""Issue #19 acceptance 1: 自评报告 and bundles in the bureau's inbox, over two runs.

An inbox of sample workbooks, their .docx reports (one contradicting its table), a .zip holding a workbook
and its report, a report whose workbook comes in the next run and a workbook whose (contradicting) report
comes in the next run. No report is refused; the contradictions are in 问题清单 and in the unit's annotated
workbook (both read back); the late pairs join.
"""

from __future__ import annotations

import csv
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rich.console import Console

from pipeline.batch import workers
from pipeline.batch.outcomes import RunReport
from pipeline.cli import main, render_run
from pipeline.report.summary_reports import NOTE_NO_REPORT
from pipeline.synth.reports import draft, facts_of, write_docx
from tests.test_batch import SAMPLES, age, files, rows, run
from tests.test_summary import table

YUEYANG = "岳阳市公共租赁房屋运营服务中心"
SONGTAO = "松涛区水利工程管理站"
BAIYUN = "白云区市场监督服务中心"
JINSHA = "金沙县文化馆"
QINGSHAN = "青山县农业技术推广中心"


def workbook(unit: str) -> Path:
    return SAMPLES / f"{unit}_2023.xlsx"


def report(path: Path, unit: str, *, fault: str | None = None) -> Path:
    """A .docx report repeating the unit's tables (`synth.reports`); `fault="total"` changes 基本支出."""
    facts = facts_of(workbook(unit))
    assert facts is not None
    write_docx(path, draft(facts, random.Random(7), fault).paragraphs)
    return age(path)


def sheet(out: Path, name: str, summary: str = "汇总_2023.xlsx") -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(out / summary)
    _, data = table(book[name])
    return [{k: c.value for k, c in row.items()} for row in data]


def result_messages(path: Path) -> list[str]:
    """Every text of an annotated workbook's 审核结果 sheet."""
    ws = openpyxl.load_workbook(path)["审核结果"]
    return [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, RunReport, RunReport]:
    root = tmp_path_factory.mktemp("season")
    inbox, out = root / "inbox", root / "out"
    inbox.mkdir()
    for unit in (YUEYANG, SONGTAO, QINGSHAN):
        age(Path(shutil.copyfile(workbook(unit), inbox / workbook(unit).name)))
    report(inbox / f"{YUEYANG}_自评报告.docx", YUEYANG)
    report(inbox / "松涛区报告.docx", SONGTAO, fault="total")  # named by its text: 松涛区水利工程管理站整体支出…
    report(inbox / f"{JINSHA}_自评报告.docx", JINSHA)  # its workbook comes next run
    parts = root / "parts"
    parts.mkdir()
    with zipfile.ZipFile(inbox / "材料.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(workbook(BAIYUN), f"白云区/{workbook(BAIYUN).name}")
        zf.write(report(parts / "r.docx", BAIYUN), "白云区/自评报告.docx")
    age(inbox / "材料.zip")
    first = run(inbox, out)
    shutil.copyfile(out / "汇总_2023.xlsx", out / "first_2023.xlsx")  # what the bureau saw after the first run

    age(Path(shutil.copyfile(workbook(JINSHA), inbox / workbook(JINSHA).name)))
    report(inbox / f"{QINGSHAN}_自评报告.docx", QINGSHAN, fault="total")  # its workbook came last run
    second = run(inbox, out)
    return inbox, out, first, second  # type: ignore[return-value]


def test_no_report_is_refused_and_a_lone_one_waits(season: tuple[Path, Path, RunReport, RunReport]) -> None:
    inbox, out, first, second = season
    assert [o.original for o in first.outcomes + second.outcomes if o.status == "rejected"] == []
    kinds = {(o.original, o.kind, o.status) for o in first.outcomes if o.kind != "workbook"}
    assert kinds == {
        ("材料.zip", "bundle", "ok"),
        ("材料.zip › 白云区/自评报告.docx", "report", "ok"),
        (f"{JINSHA}_自评报告.docx", "report", "ok"),
        (f"{YUEYANG}_自评报告.docx", "report", "ok"),
        ("松涛区报告.docx", "report", "ok"),
    }
    assert first.counts()["report"] == 4 and first.units == 4  # reports and the bundle are not units
    assert first.waiting_reports == [f"{JINSHA}_自评报告.docx"]
    assert second.waiting_reports == []
    assert files(inbox) == []
    assert "材料.zip" in files(out / "processed") and files(out / "refused") == []


def test_the_pairs_join_in_the_same_run_and_a_later_one(season: tuple[Path, Path, RunReport, RunReport]) -> None:
    _, out, first, second = season
    assert set(first.paired) == {
        ("材料.zip › 白云区/自评报告.docx", f"材料.zip › 白云区/{BAIYUN}_2023.xlsx"),
        (f"{YUEYANG}_自评报告.docx", f"{YUEYANG}_2023.xlsx"),
        ("松涛区报告.docx", f"{SONGTAO}_2023.xlsx"),
    }
    assert set(second.paired) == {
        (f"{JINSHA}_自评报告.docx", f"{JINSHA}_2023.xlsx"),  # the report came first
        (f"{QINGSHAN}_自评报告.docx", f"{QINGSHAN}_2023.xlsx"),  # the workbook came first
    }
    statuses = {o.original: (o.status, o.warnings) for o in first.outcomes}
    assert statuses[f"{SONGTAO}_2023.xlsx"] == ("warnings", 2)  # the run's own counts include the report's findings
    ledger = rows(
        out,
        "SELECT s.original_path, r.unit, w.original_path FROM reports r JOIN submissions s"
        " ON s.id = r.submission_id JOIN submissions w ON w.id = r.workbook_id ORDER BY s.id",
    )
    assert len(ledger) == 5 and all(unit and unit in wb for _, unit, wb in ledger)


def test_the_contradiction_is_in_the_findings_list_and_the_annotated_workbook(
    season: tuple[Path, Path, RunReport, RunReport],
) -> None:
    _, out, _, _ = season
    listed = [(r["预算单位"], r["规则编号"], r["工作表"]) for r in sheet(out, "问题清单") if r["规则编号"]]
    for unit in (SONGTAO, QINGSHAN):
        assert (unit, "RPT.FIGURE", "自评报告") in listed
    assert not [r for r in listed if r[1].startswith("RPT.") and r[0] in (YUEYANG, JINSHA, BAIYUN)]
    # the unit's annotated workbook says it too — 青山's rewritten when its report came a run later
    for unit in (SONGTAO, QINGSHAN):
        [output] = rows(out, f"SELECT output_path FROM submissions WHERE unit = '{unit}' AND kind = 'workbook'")
        texts = result_messages(out / output[0])
        assert any("自评报告第" in t and "基本支出" in t for t in texts), texts


def test_overview_says_who_sent_a_report_and_history_names_bundle_members(
    season: tuple[Path, Path, RunReport, RunReport],
) -> None:
    _, out, _, _ = season
    overview = {r["预算单位"]: r["自评报告"] for r in sheet(out, "总览") if r["序号"]}
    assert overview[YUEYANG] == overview[BAIYUN] == overview[JINSHA] == "已交"
    assert overview[SONGTAO].startswith("有不一致 ") and overview[QINGSHAN].startswith("有不一致 ")
    history = {r["原文件"]: (r["审核状态"], r["汇总采用"], r["错误数"]) for r in sheet(out, "提交历史") if r["序号"]}
    assert history[f"材料.zip › 白云区/{BAIYUN}_2023.xlsx"][1] == "采用（该单位最新提交）"
    assert history[f"材料.zip › 白云区/{BAIYUN}_2023.xlsx"][2] > 0  # its own errors; a report row shows none
    assert history["材料.zip › 白云区/自评报告.docx"] == ("自评报告", "自评报告，已与该单位工作簿一并审核", None)


def test_a_returned_annotated_workbook_keeps_one_result_suffix(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(workbook(YUEYANG), inbox / f"{YUEYANG}_2023_审核结果.xlsx")))
    report_ = run(inbox, out)
    [outcome] = report_.outcomes  # type: ignore[attr-defined]
    assert outcome.output.name == f"{YUEYANG}_2023_审核结果.xlsx"


def test_a_profile_requiring_reports_lists_units_without_one_in_missing(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for unit in (YUEYANG, SONGTAO):
        age(Path(shutil.copyfile(workbook(unit), inbox / workbook(unit).name)))
    report(inbox / f"{YUEYANG}_自评报告.docx", YUEYANG)
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(
            [["单位名称", "主管部门"], [YUEYANG, "住建局"], [SONGTAO, "水利局"], ["青山县水务局", "县政府"]]
        )
    default = Path(__file__).resolve().parent.parent / "schemas" / "profiles" / "default.toml"
    profile = tmp_path / "要报告.toml"
    profile.write_text(default.read_text(encoding="utf-8").replace("[params]", "[params]\nreport_required = 1"))
    argv = ["run", str(inbox), "--out", str(out), "--workers", "0", "--roster", str(roster), "--profile", str(profile)]
    assert main(argv) == 1

    missing = [(r["单位名称"], r["备注"]) for r in sheet(out, "未提交") if r["序号"]]
    assert missing == [("青山县水务局", None), (SONGTAO, NOTE_NO_REPORT)]
    listed = {(r["预算单位"], r["规则编号"]) for r in sheet(out, "问题清单") if r["规则编号"]}
    assert (SONGTAO, "RPT.MISSING") in listed and (YUEYANG, "RPT.MISSING") not in listed  # checked with its report
    assert main(["summary", "--out", str(out)]) in (0, 1)  # a rebuild keeps the profile's choice
    assert [r["单位名称"] for r in sheet(out, "未提交") if r["序号"]] == ["青山县水务局", SONGTAO]


def test_the_run_says_what_became_of_reports_and_an_early_stop_is_not_an_empty_inbox(
    season: tuple[Path, Path, RunReport, RunReport], tmp_path: Path
) -> None:
    _, _, first, _ = season
    console = Console(record=True, width=200)
    render_run(console, first)
    text = console.export_text()
    assert "自评报告：本次收到 4 份，已与工作簿一并审核 3 份。" in text
    assert f"待配对的自评报告 1 份（尚未收到同名单位的工作簿）：{JINSHA}_自评报告.docx" in text

    stopped = RunReport(inbox=tmp_path, out=tmp_path, interrupted=True)  # Ctrl-C before any file was done
    console = Console(record=True, width=200)
    render_run(console, stopped)
    text = console.export_text()
    assert "收件箱中没有新文件" not in text and "已按要求停止" in text


def test_a_waiting_report_is_listed_in_the_history_until_paired(
    season: tuple[Path, Path, RunReport, RunReport],
) -> None:
    _, out, _, _ = season
    before = {
        r["原文件"]: (r["预算单位"], r["审核状态"], r["汇总采用"])
        for r in sheet(out, "提交历史", "first_2023.xlsx")
        if r["序号"]
    }
    after = {r["原文件"]: (r["预算单位"], r["汇总采用"]) for r in sheet(out, "提交历史") if r["序号"]}
    assert before[f"{JINSHA}_自评报告.docx"] == (None, "自评报告", "自评报告，待配对（尚未收到同名单位的工作簿）")
    assert after[f"{JINSHA}_自评报告.docx"] == (JINSHA, "自评报告，已与该单位工作簿一并审核")


def test_a_report_whose_reader_dies_is_kept_and_said_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(workbook(SONGTAO), inbox / workbook(SONGTAO).name)))
    report(inbox / f"{SONGTAO}_自评报告.docx", SONGTAO)

    def dies(path: Path) -> None:
        raise MemoryError  # as a worker killed by its memory cap or a hung .doc conversion

    monkeypatch.setattr(workers, "read_report", dies)
    result = run(inbox, out)
    assert {(o.kind, o.status) for o in result.outcomes} == {("workbook", "warnings"), ("report", "ok")}  # type: ignore[attr-defined]
    [(rule, message)] = rows(out, "SELECT rule, message FROM findings WHERE rule LIKE 'RPT.%'")
    assert rule == "RPT.UNREADABLE" and "报告文件未能读取" in message and f"{SONGTAO}_自评报告.docx" in message
