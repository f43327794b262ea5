"""The portal in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by selenium,
against a real uvicorn server with the inbox watched as `jixiao serve` does.

A unit self-checks the reference workbook, reads A1.SUM.PUBLIC at F18, downloads the annotated workbook and
submits with its code; a reviewer logs in and sets 退回修改 with a 备注; the unit's page shows it.
Skipped, saying so, when Chromium or its driver is not installed (`.ci/run` installs them).
With JIXIAO_SCREENSHOTS=<folder> the screenshots of the self-check page and of 总览 are saved there
(the README's are taken so: `JIXIAO_SCREENSHOTS=docs/img make test`).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import uvicorn

from pipeline.web.app import build_app, make_portal  # the rule engine imported here, not first in a server thread
from pipeline.web.serve import Watcher
from tests.web_helpers import OTHER, PASSWORD, REFERENCE, REVIEWER, UNIT, Season, make_season

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="浏览器测试已跳过：未安装 Chromium（apt-get install chromium chromium-driver；.ci/run 会自动安装）",
)
WAIT_S = 60.0  # a bound on waiting for the page or the watch loop, not a measure of speed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: Callable[[], Any], why: str) -> Any:
    """Poll `what` until it is truthy. An element read while the page is being replaced (a form's POST and
    redirect) is stale or not there yet: that is "not yet", not a failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            value = what()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {why}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Season]]:
    """A real server over a season whose inbox is watched; its base URL."""
    season = make_season(tmp_path)
    shutil.copy(OTHER, season.inbox / OTHER.name)  # e-mailed files still work alongside the portal
    watcher = Watcher(season.inbox, season.out, workers=0, settle_s=0, interval_s=0.2).start()
    port = _free_port()
    config = uvicorn.Config(build_app(make_portal(season.out, season.inbox, workers=1)), port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until(lambda: server.started, "the server to start")
    try:
        yield f"http://127.0.0.1:{port}", season
    finally:
        server.should_exit = True
        thread.join(30)
        watcher.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("JIXIAO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert driver.save_screenshot(str(path))
    return path


def test_a_unit_checks_submits_and_sees_the_reviewers_decision(
    served: tuple[str, Season], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, season = served
    find, finds = browser.find_element, browser.find_elements

    # 自查: upload the reference workbook, read A1.SUM.PUBLIC at F18
    browser.get(base + "/")
    find(By.ID, "workbook").send_keys(str(REFERENCE))
    find(By.ID, "check").click()
    _until(lambda: finds(By.ID, "findings"), "the findings table")
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in finds(By.CSS_SELECTOR, "#findings tbody tr")
    ]
    assert any(row[1] == "A1.SUM.PUBLIC" and row[3].startswith("F18") and row[0] == "错误" for row in rows), rows
    assert "有错误" in find(By.ID, "verdict").text
    _screenshot(browser, "portal-selfcheck.png", tmp_path)

    # the annotated workbook, downloaded by the browser
    find(By.ID, "download").click()
    done = _until(lambda: [p for p in browser.downloads.glob("*.xlsx")], "the download")
    book = openpyxl.load_workbook(done[0])
    assert done[0].name == REFERENCE.stem + "_审核结果.xlsx"
    assert any("A1.SUM.PUBLIC" in str(v) for row in book["审核结果"].iter_rows(values_only=True) for v in row)

    # 上报 with the unit's code
    find(By.ID, "code").send_keys(season.codes[UNIT])
    find(By.ID, "submit").click()
    _until(lambda: "上报记录" in browser.title, "the unit's page")
    assert "已上报，等待审核" in find(By.ID, "submissions").text or "有错误" in find(By.ID, "submissions").text

    def checked_by_the_watch_loop() -> bool:
        browser.get(base + "/unit/")
        return "有错误" in find(By.ID, "submissions").text

    _until(checked_by_the_watch_loop, "the watch loop to check the submission")

    # 审核: log in, set 退回修改 with a 备注
    _log_out(browser)
    browser.get(base + "/login/review")
    find(By.ID, "name").send_keys(REVIEWER)
    find(By.ID, "password").send_keys(PASSWORD)
    find(By.ID, "login").click()
    _until(lambda: finds(By.ID, "overview"), "总览")
    _until(lambda: _overview_has_both(browser, base), "both units in 总览")
    _screenshot(browser, "portal-review.png", tmp_path)
    find(By.LINK_TEXT, UNIT).click()
    form = next(
        f
        for f in finds(By.CSS_SELECTOR, "form.finding")
        if f.find_element(By.NAME, "rule").get_attribute("value") == "A1.SUM.PUBLIC"
    )
    Select(form.find_element(By.NAME, "decision")).select_by_visible_text("退回修改")
    form.find_element(By.NAME, "note").send_keys("公用经费合计与明细相差0.03万元，请核对后重报")
    form.find_element(By.TAG_NAME, "button").click()
    _until(lambda: "退回修改" in find(By.TAG_NAME, "main").text, "the decision saved")

    # the unit's page shows it
    _log_out(browser)
    browser.get(base + "/login/unit")
    find(By.ID, "code").send_keys(season.codes[UNIT])
    find(By.CSS_SELECTOR, "main form button").click()
    listing = _until(lambda: finds(By.ID, "submissions"), "the unit's page")[0].text
    assert "退回修改" in listing and "公用经费合计与明细相差0.03万元" in listing
    find(By.LINK_TEXT, "详情").click()
    assert "退回修改" in find(By.ID, "status").text
    assert "公用经费合计与明细相差0.03万元，请核对后重报" in find(By.ID, "findings").text


def _log_out(browser: Any) -> None:
    """退出, and wait for the page it leads to (else the next page may load before the session is cleared)."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, "form.inline button").click()
    _until(lambda: "自查" in browser.title and not browser.find_elements(By.CSS_SELECTOR, "form.inline"), "退出")


def _overview_has_both(browser: Any, base: str) -> bool:
    from selenium.webdriver.common.by import By

    browser.get(base + "/review/")
    text = browser.find_element(By.ID, "overview").text
    return UNIT in text and "松涛区水利工程管理站" in text
