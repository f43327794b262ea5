"""Shared set-up of the portal tests (HTTP and browser): a season's OUT with a roster, codes and a reviewer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.store.ledger import LEDGER_NAME, Ledger
from pipeline.store.portal import add_user, issue_codes
from pipeline.store.roster import load_roster

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
REFERENCE = SAMPLES / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"  # A1.SUM.PUBLIC at F18 (公用经费 64.73)
OTHER = SAMPLES / "松涛区水利工程管理站_2023.xlsx"
UNIT = "岳阳市公共租赁房屋运营服务中心"
OTHER_UNIT = "松涛区水利工程管理站"
MISSING_UNIT = "临湖县未交单位"
REVIEWER, PASSWORD = "zhangsan", "correct horse 42"
ROSTER = (
    "单位名称,单位编码,主管部门,联系人,联系电话\n"
    f"{UNIT},101,岳阳市住房和城乡建设局,李四,0730-1234567\n"
    f"{OTHER_UNIT},102,松涛区水利局,王五,0730-7654321\n"
    f"{MISSING_UNIT},103,临湖县文旅局,赵六,0730-1111111\n"
)


@dataclass
class Season:
    out: Path
    inbox: Path
    codes: dict[str, str]


def make_season(root: Path) -> Season:
    out, inbox = root / "out", root / "inbox"
    out.mkdir()
    inbox.mkdir()
    (out / "名单.csv").write_text(ROSTER, encoding="utf-8")
    with Ledger(out / LEDGER_NAME) as ledger:
        issued = issue_codes(ledger, load_roster(out / "名单.csv"), out)
        add_user(ledger, REVIEWER, PASSWORD)
    return Season(out, inbox, {entry.name: code for entry, code in issued.issued})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)
