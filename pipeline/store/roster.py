"""预算单位名单: who is expected to submit, with contacts; matched against the units that did.

A roster is an .xlsx or .csv with a header row holding 单位名称 and optionally 单位编码, 主管部门, 联系人,
联系电话 (any order, other columns ignored). `--roster FILE` copies it into OUT as `名单.xlsx` / `名单.csv`;
every summary rebuild reads the copy in OUT, so `jixiao summary` sees the same roster as the run.

A submitted name that is not on the roster but close to an entry (a typo, a 县/区 swapped, a word left
out) is flagged as near that entry, never silently taken for it: the bureau decides.
"""

from __future__ import annotations

import csv
import difflib
import shutil
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from pipeline.errors import JixiaoError

ROSTER_STEM = "名单"
COLUMNS = {"name": "单位名称", "code": "单位编码", "department": "主管部门", "contact": "联系人", "phone": "联系电话"}
NEAR_RATIO = 0.8  # difflib ratio above which two unit names are "nearly the same" (one or two characters)
_HEADER_SEARCH_ROWS = 10

MSG_NO_NAME_COLUMN = "名单 {name} 中没有“单位名称”列（请用 jixiao roster --template 生成的表格式）"
MSG_UNREADABLE = "无法读取名单 {name}：{cause}"


@dataclass(frozen=True, slots=True)
class RosterEntry:
    name: str
    code: str = ""
    department: str = ""
    contact: str = ""
    phone: str = ""


def roster_path(out: Path) -> Path | None:
    """The roster kept in OUT, if any."""
    for ext in (".xlsx", ".csv"):
        path = Path(out) / f"{ROSTER_STEM}{ext}"
        if path.is_file():
            return path
    return None


def install_roster(source: Path, out: Path) -> Path:
    """`--roster FILE`: check it reads, then keep a copy in OUT (replacing an older one)."""
    load_roster(source)
    ext = ".csv" if source.suffix.lower() == ".csv" else ".xlsx"
    Path(out).mkdir(parents=True, exist_ok=True)
    for old in (Path(out) / f"{ROSTER_STEM}.xlsx", Path(out) / f"{ROSTER_STEM}.csv"):
        if old.is_file() and old.resolve() != source.resolve():
            old.unlink()
    dest = Path(out) / f"{ROSTER_STEM}{ext}"
    if dest.resolve() != source.resolve():
        shutil.copyfile(source, dest)
    return dest


def _rows(path: Path) -> list[list[str]]:
    try:
        if path.suffix.lower() == ".csv":
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")  # saved by Excel on a Chinese Windows
            return [[c.strip() for c in row] for row in csv.reader(text.splitlines())]
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (OSError, UnicodeDecodeError, csv.Error, python_calamine.CalamineError, ValueError) as exc:
        raise JixiaoError(MSG_UNREADABLE.format(name=path.name, cause=exc)) from exc
    return [[_text(v) for v in row] for row in sheet]


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or phone number Excel stored as a number
    return "" if value is None else str(value).strip()


def load_roster(path: Path) -> list[RosterEntry]:
    rows = _rows(Path(path))
    head = next((i for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]) if COLUMNS["name"] in row), None)
    if head is None:
        raise JixiaoError(MSG_NO_NAME_COLUMN.format(name=Path(path).name))
    where = {key: rows[head].index(label) for key, label in COLUMNS.items() if label in rows[head]}
    entries: list[RosterEntry] = []
    for row in rows[head + 1 :]:
        values = {key: row[c] if c < len(row) else "" for key, c in where.items()}
        if values["name"]:
            entries.append(RosterEntry(**values))
    return entries


@dataclass(slots=True)
class RosterMatch:
    """How the submitted units meet the roster."""

    found: dict[str, RosterEntry]  # submitted name → its roster entry (same name)
    near: dict[str, RosterEntry]  # submitted name not on the roster → the entry it nearly matches
    missing: list[RosterEntry]  # roster entries nobody submitted for


def match_roster(roster: list[RosterEntry], submitted: list[str]) -> RosterMatch:
    by_name = {e.name: e for e in roster}
    found = {name: by_name[name] for name in submitted if name in by_name}
    near: dict[str, RosterEntry] = {}
    free = [e.name for e in roster if e.name not in found]
    for name in submitted:
        if name in found:
            continue
        close = difflib.get_close_matches(name, free, n=1, cutoff=NEAR_RATIO)
        if close:
            near[name] = by_name[close[0]]
    taken = {e.name for e in found.values()}
    return RosterMatch(found, near, [e for e in roster if e.name not in taken])


def write_roster_template(path: Path) -> Path:
    """`jixiao roster --template`: a blank 名单 with its header row."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("预算单位名单")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "pattern": 1, "border": 1, "font_name": "宋体"})
    text = wb.add_format({"num_format": "@", "font_name": "宋体"})
    for c, (label, width) in enumerate(zip(COLUMNS.values(), (36, 14, 28, 10, 16), strict=True)):
        ws.set_column(c, c, width, text)
        ws.write_string(0, c, label, head)
    ws.freeze_panes(1, 0)
    ws.write_comment(0, 0, "每行一个预算单位，名称须与报送工作簿中的预算单位名称一致；其余各列可不填。")
    wb.close()
    return path
