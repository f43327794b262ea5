"""The portal over HTTP (Starlette's TestClient): every route, and every rule of "safe by construction"."""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from starlette.testclient import TestClient

from pipeline.batch.engine import run_inbox
from pipeline.check import check_files
from pipeline.cli import main
from pipeline.errors import JixiaoError
from pipeline.store.decisions import decisions_for
from pipeline.store.ledger import LEDGER_NAME, Ledger
from pipeline.web.app import Portal, build_app, make_portal
from pipeline.web.checker import Checker
from pipeline.web.checks import CHECKS_DIR
from pipeline.web.serve import Watcher
from tests.web_helpers import (
    MISSING_UNIT,
    OTHER,
    OTHER_UNIT,
    PASSWORD,
    REFERENCE,
    REVIEWER,
    UNIT,
    Season,
    csrf_of,
    make_season,
)


@pytest.fixture
def season(tmp_path: Path) -> Season:
    return make_season(tmp_path)


@pytest.fixture
def portal(season: Season) -> Portal:
    return make_portal(season.out, season.inbox, workers=0)


@pytest.fixture
def client(portal: Portal) -> Iterator[TestClient]:
    with TestClient(build_app(portal, sweep_s=3600), follow_redirects=False) as c:
        yield c


def upload(client: TestClient, path: Path, *, name: str | None = None, csrf: str | None = "auto") -> object:
    token = csrf_of(client.get("/").text) if csrf == "auto" else csrf
    data = {} if token is None else {"csrf": token}
    files = {"workbook": (name or path.name, path.read_bytes(), "application/octet-stream")}
    return client.post("/check", data=data, files=files)


def checked(client: TestClient, path: Path = REFERENCE) -> str:
    """Self-check `path`; the result page's address."""
    response = upload(client, path)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def login_review(client: TestClient, password: str = PASSWORD) -> object:
    token = csrf_of(client.get("/login/review").text)
    return client.post("/login/review", data={"csrf": token, "name": REVIEWER, "password": password})


def submitted(client: TestClient, season: Season, unit: str = UNIT, path: Path = REFERENCE) -> object:
    """Self-check and submit `path` with `unit`'s code; the submit response."""
    page = checked(client, path)
    token = csrf_of(client.get(page).text)
    return client.post(f"{page}/submit", data={"csrf": token, "code": season.codes[unit]})


def process(season: Season) -> None:
    """What the watch loop does at its next pass."""
    run_inbox(season.inbox, season.out, workers=0, settle_s=0, wait_s=0)


# ------------------------------------------------------------------------------------- 自查


def test_home_page_is_chinese_with_a_strict_policy_and_a_safe_session_cookie(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "绩效自评表自查" in response.text and 'name="csrf"' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy and "unsafe-inline" not in policy
    assert "<script" not in response.text and "http" not in response.text.split("<body>")[1].replace("/static/", "")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/static/portal.css").status_code == 200


def test_a_self_check_lists_the_findings_and_offers_the_annotated_workbook(client: TestClient, season: Season) -> None:
    page = client.get(checked(client))
    assert page.status_code == 200
    html = page.text
    for header in ("级别", "规则", "工作表", "单元格", "问题说明", "期望值", "实际值"):
        assert f"<th>{header}</th>" in html
    assert "A1.SUM.PUBLIC" in html and "F18" in html and "有错误" in html
    download = client.get(page.url.path + "/download")
    assert download.status_code == 200
    assert "filename*=utf-8''" in download.headers["content-disposition"].lower()
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    rows = [[str(v) for v in row if v is not None] for row in book["审核结果"].iter_rows(values_only=True)]
    assert any("A1.SUM.PUBLIC" in row for row in rows)
    with Ledger(season.out / LEDGER_NAME) as ledger:
        assert ledger.entries() == []  # a self-check records nothing


def test_the_api_answers_one_element_of_check_json(client: TestClient) -> None:
    response = client.post("/api/check", files={"file": (REFERENCE.name, REFERENCE.read_bytes())})
    assert response.status_code == 200
    expected = check_files([REFERENCE])[0].to_dict()
    expected["file"] = REFERENCE.name
    assert response.json() == json.loads(json.dumps(expected, ensure_ascii=False))
    bad = client.post("/api/check", files={"other": ("x.txt", b"hello")})
    assert bad.status_code == 400 and "工作簿" in bad.json()["error"]


def test_a_file_that_is_no_workbook_is_refused_with_a_reason(client: TestClient) -> None:
    page = client.get(checked_bytes(client, b"not a workbook at all", "表.xlsx"))
    assert "退回" in page.text and "FILE." in page.text


def checked_bytes(client: TestClient, content: bytes, name: str) -> str:
    token = csrf_of(client.get("/").text)
    response = client.post("/check", data={"csrf": token}, files={"workbook": (name, content)})
    assert response.status_code == 303
    return response.headers["location"]


def test_a_form_without_its_csrf_token_gets_403(client: TestClient, season: Season) -> None:
    client.get("/")
    response = upload(client, REFERENCE, csrf=None)
    assert response.status_code == 403 and "表单已过期" in response.text
    assert upload(client, REFERENCE, csrf="forged").status_code == 403
    assert not any((season.out / CHECKS_DIR).iterdir())  # the uploads were not kept
    assert client.post("/login/review", data={"name": REVIEWER, "password": PASSWORD}).status_code == 403
    assert client.post("/login/unit", data={"code": season.codes[UNIT]}).status_code == 403
    assert client.post("/logout").status_code == 403
    page = checked(client)
    assert client.post(f"{page}/submit", data={"code": season.codes[UNIT]}).status_code == 403
    assert list(season.inbox.rglob("*.xlsx")) == []


def test_an_oversized_upload_gets_the_chinese_413(season: Season) -> None:
    portal = Portal(season.out, season.inbox, Checker(workers=0), upload_limit=20_000)
    with TestClient(build_app(portal), follow_redirects=False) as client:
        token = csrf_of(client.get("/").text)
        big = os.urandom(50_000)
        declared = client.post("/check", data={"csrf": token}, files={"workbook": ("big.xlsx", big)})
        assert declared.status_code == 413 and "上传的文件过大" in declared.text and "MB" in declared.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams
            yield b'--b\r\nContent-Disposition: form-data; name="workbook"; filename="big.xlsx"\r\n\r\n'
            for _ in range(10):
                yield big[:5_000]

        streamed = client.post("/check", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert streamed.status_code == 413 and "上传的文件过大" in streamed.text
        assert (
            client.post(
                "/api/check", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
            ).status_code
            == 413
        )


def test_a_client_path_lands_only_where_jixiao_puts_it(client: TestClient, season: Season, tmp_path: Path) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    page = client.get(upload(client, REFERENCE, name="../../x.xlsx").headers["location"])
    assert "x.xlsx" in page.text and "../" not in page.text
    new = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.relative_to(tmp_path) not in before)
    assert new and all(p.parts[:2] == ("out", CHECKS_DIR) for p in new)
    assert list(tmp_path.rglob("x.xlsx")) == []
    assert not (tmp_path.parent / "x.xlsx").exists() and not (tmp_path.parent.parent / "x.xlsx").exists()
    for folder in (season.out / CHECKS_DIR).iterdir():
        assert sorted(p.name for p in folder.iterdir()) in (["result.json", "工作簿.xlsx"],)


def test_unknown_checks_are_404(client: TestClient) -> None:
    assert client.get("/check/nope").status_code == 404
    missing = client.get("/check/" + "A" * 24)
    assert missing.status_code == 404 and "页面不存在" in missing.text
    assert client.get("/check/" + "A" * 24 + "/download").status_code == 404


def test_old_self_checks_are_deleted(client: TestClient, portal: Portal, season: Season) -> None:
    page = checked(client)
    folder = season.out / CHECKS_DIR / page.rsplit("/", 1)[1]
    assert portal.checks.sweep() == 0
    old = time.time() - 2 * portal.checks.keep_s
    os.utime(folder, (old, old))
    assert portal.checks.sweep() == 1
    assert client.get(page).status_code == 404


# ------------------------------------------------------------------------------------- 上报


def test_a_unit_submits_with_its_code_and_sees_its_status(client: TestClient, season: Season) -> None:
    response = submitted(client, season)
    assert response.status_code == 303 and response.headers["location"] == "/unit/"
    arrived = list(season.inbox.rglob("*.xlsx"))
    assert [p.relative_to(season.inbox).parts[:2] for p in arrived] == [("网上报送", UNIT)]
    waiting = client.get("/unit/")
    assert "已上报，等待审核" in waiting.text and REFERENCE.name in waiting.text
    process(season)
    listing = client.get("/unit/")
    assert "有错误" in listing.text
    with Ledger(season.out / LEDGER_NAME) as ledger:
        [entry] = ledger.entries()
    assert entry.unit == UNIT and entry.status == "errors" and entry.state == "filed"
    assert (season.out / "汇总_2023.xlsx").is_file()
    detail = client.get("/unit/submissions/1")
    assert detail.status_code == 200 and "A1.SUM.PUBLIC" in detail.text


def test_the_same_check_is_submitted_once(client: TestClient, season: Season) -> None:
    page = checked(client)
    token = csrf_of(client.get(page).text)
    for _ in range(2):
        assert client.post(f"{page}/submit", data={"csrf": token, "code": season.codes[UNIT]}).status_code == 303
    assert len(list(season.inbox.rglob("*.xlsx"))) == 1
    assert "已于" in client.get(page).text


def test_a_code_submits_only_its_own_units_workbook(client: TestClient, season: Season) -> None:
    response = submitted(client, season, unit=OTHER_UNIT)
    assert response.status_code == 400 and "不一致" in response.text
    assert list(season.inbox.rglob("*.xlsx")) == []
    page = checked(client)
    wrong = client.post(f"{page}/submit", data={"csrf": csrf_of(client.get(page).text), "code": "AAAA-BBBB-CCCC-DDDD"})
    assert wrong.status_code == 403 and "提交码不正确" in wrong.text


def test_another_units_code_sees_404_for_a_submission_not_its_own(season: Season, portal: Portal) -> None:
    app = build_app(portal)
    with TestClient(app, follow_redirects=False) as mine, TestClient(app, follow_redirects=False) as theirs:
        assert submitted(mine, season).status_code == 303
        process(season)
        assert mine.get("/unit/submissions/1").status_code == 200
        token = csrf_of(theirs.get("/login/unit").text)
        assert theirs.post("/login/unit", data={"csrf": token, "code": season.codes[OTHER_UNIT]}).status_code == 303
        assert theirs.get("/unit/submissions/1").status_code == 404
        assert theirs.get("/unit/submissions/999").status_code == 404
        listing = theirs.get("/unit/").text
        assert UNIT not in listing and REFERENCE.name not in listing and "还没有上报过文件" in listing
        assert theirs.get("/review/").status_code == 303  # a unit is no reviewer


def test_a_renewed_code_ends_the_sessions_of_the_old_one(client: TestClient, season: Season) -> None:
    token = csrf_of(client.get("/login/unit").text)
    client.post("/login/unit", data={"csrf": token, "code": season.codes[UNIT].lower().replace("-", " ")})
    assert client.get("/unit/").status_code == 200
    assert main(["codes", "--out", str(season.out), "--renew", UNIT]) == 0
    assert client.get("/unit/").headers["location"] == "/login/unit"


def test_unit_pages_need_a_code(client: TestClient) -> None:
    assert client.get("/unit/").headers["location"] == "/login/unit"
    assert client.get("/unit/submissions/1").headers["location"] == "/login/unit"
    assert "提交码" in client.get("/login/unit").text


# ------------------------------------------------------------------------------------- 审核


def test_a_units_own_code_does_not_reset_an_addresss_failures(season: Season) -> None:
    from pipeline.web.security import Throttle

    throttle = Throttle(attempts=5, per_address=3, window_s=60)
    for guess in ("AAAA", "BBBB", "CCCC"):
        throttle.failed(["addr:x", f"name:{guess}"])
    throttle.succeeded(["addr:x", "name:DDDD"])
    assert throttle.blocked_for(["addr:x", "name:EEEE"]) > 0
    assert throttle.blocked_for(["addr:y", "name:AAAA"]) == 0


def test_review_pages_need_a_login_and_logins_are_throttled(client: TestClient) -> None:
    for path in ("/review/", "/review/missing", "/review/units/1", "/review/files/summary/2023"):
        assert client.get(path).headers["location"] == "/login/review"
    for _ in range(5):
        assert login_review(client, "wrong password").status_code == 403
    blocked = login_review(client)  # the right password, but too many tries before it
    assert blocked.status_code == 429 and "次数过多" in blocked.text


def test_a_reviewer_filters_decides_and_the_unit_sees_it(client: TestClient, season: Season, portal: Portal) -> None:
    assert submitted(client, season).status_code == 303
    process(season)
    assert login_review(client).headers["location"] == "/review/"
    overview = client.get("/review/").text
    assert UNIT in overview and "岳阳市住房和城乡建设局" in overview and "下载汇总表" in overview
    assert UNIT in client.get("/review/", params={"status": "有错误", "inconsistent": "1"}).text
    assert UNIT not in client.get("/review/", params={"status": "通过"}).text
    assert UNIT not in client.get("/review/", params={"department": "松涛区水利局"}).text
    unit_page = client.get("/review/units/1")
    assert unit_page.status_code == 200 and "A1.SUM.PUBLIC" in unit_page.text
    found = re.search(
        r'name="rule" value="A1.SUM.PUBLIC">\s*<input type="hidden" name="cell" value="([^"]+)"', unit_page.text
    )
    assert found and found.group(1).endswith("!F18")
    decision = {"rule": "A1.SUM.PUBLIC", "cell": found.group(1), "decision": "退回修改", "note": "公用经费合计请核对"}
    assert client.post("/review/units/1/decide", data=decision).status_code == 403  # no CSRF token
    token = csrf_of(unit_page.text)
    assert client.post("/review/units/1/decide", data={**decision, "csrf": token}).status_code == 303
    with Ledger(season.out / LEDGER_NAME) as ledger:
        assert decisions_for(ledger, 2023)[(UNIT, "A1.SUM.PUBLIC", decision["cell"])] == (
            "退回修改",
            "公用经费合计请核对",
        )
    assert "退回修改" in client.get("/review/", params={"status": "退回修改"}).text
    summary = client.get("/review/files/summary/2023")
    assert summary.status_code == 200 and openpyxl.load_workbook(io.BytesIO(summary.content))["总览"]
    result = client.get("/review/files/results/1")
    assert result.status_code == 200 and "审核结果" in openpyxl.load_workbook(io.BytesIO(result.content)).sheetnames
    assert client.get("/review/files/results/99").status_code == 404
    missing = client.get("/review/missing").text
    assert MISSING_UNIT in missing and OTHER_UNIT in missing and UNIT not in missing.split("<tbody>")[1]
    client.post("/logout", data={"csrf": token})
    token = csrf_of(client.get("/login/unit").text)
    client.post("/login/unit", data={"csrf": token, "code": season.codes[UNIT]})
    assert "退回修改" in client.get("/unit/").text
    detail = client.get("/unit/submissions/1").text
    assert "退回修改" in detail and "公用经费合计请核对" in detail


def test_a_decision_must_name_a_finding_of_that_file(client: TestClient, season: Season) -> None:
    assert submitted(client, season).status_code == 303
    process(season)
    login_review(client)
    token = csrf_of(client.get("/review/units/1").text)
    odd = {"csrf": token, "rule": "A1.SUM.PUBLIC", "cell": "附件1!Z99", "decision": "认可", "note": ""}
    assert client.post("/review/units/1/decide", data=odd).status_code == 404
    assert client.get("/review/units/42").status_code == 404


# ------------------------------------------------------------------------------------- commands, lock, workers


def test_codes_are_stored_only_as_hashes_and_written_once(season: Season) -> None:
    files = list(season.out.glob("提交码_*.csv"))
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
    text = files[0].read_text(encoding="utf-8-sig")
    assert all(code in text for code in season.codes.values())
    raw = (season.out / LEDGER_NAME).read_bytes()
    assert not any(code.encode() in raw or code.split("-", 1)[1].encode() in raw for code in season.codes.values())
    assert main(["codes", "--out", str(season.out)]) == 0  # every unit has one: no new file
    assert len(list(season.out.glob("提交码_*.csv"))) == 1


def test_codes_without_a_roster_and_users_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["codes", "--out", str(tmp_path)]) == 2
    assert "名单" in capsys.readouterr().err
    answers = iter(["s3cret-pass", "s3cret-pass", "short", "short"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", "lisi", "--out", str(tmp_path)]) == 0
    assert main(["users", "add", "wangwu", "--out", str(tmp_path)]) == 2
    assert "至少" in capsys.readouterr().err


def test_the_portal_holds_outs_lock_like_watch(season: Season) -> None:
    watcher = Watcher(season.inbox, season.out, workers=0, settle_s=0, interval_s=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while not (season.out / LEDGER_NAME).is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        with pytest.raises(JixiaoError, match="另一个审核任务正在使用输出目录"):
            run_inbox(season.inbox, season.out, workers=0)
        with pytest.raises(JixiaoError, match="另一个审核任务正在使用输出目录"):
            Watcher(season.inbox, season.out, workers=0).start()
    finally:
        watcher.close()
    assert watcher.error is None


def test_uploads_are_read_in_isolated_worker_processes(season: Season) -> None:
    portal = make_portal(season.out, season.inbox, workers=1)
    with TestClient(build_app(portal), follow_redirects=False) as client:
        page = client.get(checked(client)).text
        assert "A1.SUM.PUBLIC" in page
        other = client.get(checked(client, OTHER)).text
        assert OTHER_UNIT in other


def test_a_report_uploaded_with_its_workbook_is_checked_and_submitted_with_it(
    client: TestClient, season: Season, tmp_path: Path
) -> None:
    from tests.test_statements import REPORT, write_docx

    report = write_docx(tmp_path / "报告.docx", [p.replace("项目支出736.36万元", "项目支出763.36万元") for p in REPORT])
    token = csrf_of(client.get("/").text)
    files = {
        "workbook": (REFERENCE.name, REFERENCE.read_bytes()),
        "report": ("自评报告.docx", report.read_bytes()),
    }
    page = client.get(client.post("/check", data={"csrf": token}, files=files).headers["location"])
    assert "RPT.FIGURE" in page.text and "自评报告.docx" in page.text and "RPT.ORPHAN" not in page.text
    submit = client.post(f"{page.url.path}/submit", data={"csrf": csrf_of(page.text), "code": season.codes[UNIT]})
    assert submit.status_code == 303
    arrived = sorted(p.name for p in season.inbox.rglob("*") if p.is_file())
    assert len(arrived) == 2 and arrived[1].endswith(f"{UNIT}_自评报告.docx") and arrived[0].endswith(f"{UNIT}.xlsx")
    process(season)  # the batch pairs the report with its workbook, as when both are e-mailed
    assert "RPT.FIGURE" in client.get("/unit/submissions/1").text
    files["report"] = ("报告.txt", b"plain text")
    refused = client.post("/check", data={"csrf": token}, files=files)
    assert refused.status_code == 400 and "自评报告须为 .docx 或 .pdf 文件" in refused.text


def test_a_reader_pool_that_cannot_start_fails_checks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoWorkers:  # what flow.Pool does when map_isolated cannot start a worker
        def __init__(self, *args: object) -> None:
            pass

        def submit(self, task: object) -> None:
            pass

        def get(self, timeout: float) -> None:
            raise RuntimeError("reader worker processes cannot start")

        def close(self) -> None:
            pass

    monkeypatch.setattr("pipeline.web.checker.Pool", NoWorkers)
    with Checker(workers=1) as checker:
        with pytest.raises(RuntimeError, match="读取进程无法启动"):
            checker.check(REFERENCE)
        with pytest.raises(RuntimeError, match="读取进程无法启动"):
            checker.check(REFERENCE)


def test_the_readme_portal_commands_parse_and_its_limits_are_the_settings() -> None:
    from pipeline import settings
    from pipeline.cli import build_parser

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The portal", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#")[0].split()[1:] for line in section.splitlines() if line.startswith("jixiao ")]
    assert [c[0] for c in commands] == ["run", "codes", "users", "serve"]
    for argv in commands:
        build_parser().parse_args(argv)
    assert f"over {settings.PORTAL_UPLOAD_MAX_BYTES // 1024 // 1024} MB" in section
    assert (settings.LOGIN_ATTEMPTS, settings.LOGIN_ATTEMPTS_PER_ADDRESS) == (5, 20)
    assert "five failed logins" in section and "twenty from one address" in section
    assert f"within {settings.LOGIN_WINDOW_S // 60} minutes" in section
    assert "docs/img/portal-selfcheck.png" in section and "docs/img/portal-review.png" in section


def test_a_self_check_pulls_in_no_units_figures_from_the_ledger(client: TestClient, season: Season) -> None:
    from tests.test_last_year import _last_year

    last = _last_year(season.inbox / "去年_松涛区.xlsx")  # the unit's 2022 workbook, in the ledger
    process(season)
    answer = client.post("/api/check", files={"file": (OTHER.name, OTHER.read_bytes())}).json()
    assert answer["unit"] == OTHER_UNIT
    assert "A1.PREV.ACTUAL" not in json.dumps(answer) and last.name not in json.dumps(answer, ensure_ascii=False)
    assert submitted(client, season, unit=OTHER_UNIT, path=OTHER).status_code == 303
    process(season)  # submitted: the batch compares it with the unit's own last year, shown to that unit only
    [sid] = re.findall(r'href="/unit/submissions/(\d+)"', client.get("/unit/").text)
    assert "A1.PREV.ACTUAL" in client.get(f"/unit/submissions/{sid}").text


def test_a_decision_typed_into_the_summary_shows_in_the_page(client: TestClient, season: Season) -> None:
    assert submitted(client, season).status_code == 303
    process(season)
    path = season.out / "汇总_2023.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["问题清单"]
    header = next(r for r in sheet.iter_rows() if any(c.value == "规则编号" for c in r))
    at = {c.value: c.column - 1 for c in header}
    row = next(r for r in sheet.iter_rows(min_row=header[0].row + 1) if r[at["规则编号"]].value == "A1.SUM.PUBLIC")
    row[at["审核意见"]].value, row[at["备注"]].value = "不认可", "请附明细"
    book.save(path)
    os.utime(path, (time.time() + 5, time.time() + 5))  # saved after the ledger's state: the workbook is newer
    login_review(client)
    page = client.get("/review/units/1").text
    assert "<option selected>不认可</option>" in page and 'value="请附明细"' in page


def test_serve_on_a_busy_out_or_without_an_inbox_says_so(season: Season, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.store.files import OutputLock

    with OutputLock(season.out):
        assert main(["serve", "--inbox", str(season.inbox), "--out", str(season.out), "--workers", "0"]) == 2
    said = capsys.readouterr()
    assert "另一个审核任务正在使用输出目录" in said.err and "门户已启动" not in said.out
    assert main(["serve", "--inbox", str(season.inbox / "nope"), "--out", str(season.out), "--workers", "0"]) == 2
    assert "收件箱目录不存在" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "codes", "users", "users add"])
def test_the_portal_commands_help_lines_up(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_help import help_columns, help_text

    text = help_text(command, capsys)
    assert "用法：" in text and len(help_columns(text)) <= 1
