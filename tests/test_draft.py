"""`jixiao edition draft`: a workbook of a layout jixiao does not ship → an edition's TOML → saved under a
profile → the next check reads the layout as that edition, with the same points."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from variants import jiangsu, whole_unit

from pipeline.check import check_files, load_submission
from pipeline.cli import main
from pipeline.errors import DefinitionError
from pipeline.forms import load_profile
from pipeline.model import Submission
from pipeline.read.draft import draft_editions
from pipeline.settings import SCHEMAS_DIR

REAL = Path(__file__).parent / "data" / "real"
SOURCES = (("财政拨款", 100.0, 105.0, 95.0), ("专项债券资金", 20.0, 20.0, 17.5))


def save_under_profile(tmp_path: Path, text: str, name: str = "江苏项目表") -> Path:
    """What a bureau does with a draft: a .toml beside its profile, listed in the profile's `editions`."""
    (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    profile = (SCHEMAS_DIR / "profiles" / "default.toml").read_text(encoding="utf-8")
    profile = profile.replace('name = "default"', 'name = "江苏某区"', 1)
    path = tmp_path / "江苏某区.toml"
    path.write_text(f'editions = ["{name}.toml"]\n' + profile, encoding="utf-8")
    return path


def filled(sub: Submission) -> tuple[dict[str, object], list[dict[str, object]]]:
    [data] = sub.projects
    points = {k: (p.value, p.cells) for k, p in data.points.items() if p.filled}
    return points, [{k: (p.value, p.cells) for k, p in ind.cells.items()} for ind in data.indicators]


def test_a_draft_lists_what_it_found_and_marks_what_it_cannot_tell(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "江苏.xlsx", extra=("佐证材料", "见附件"), sources=SOURCES)
    [draft] = draft_editions(path)
    assert (draft.sheet, draft.cell, draft.title) == ("自评表", "A1", "XX区XX局2023年度项目支出绩效自评表")
    edition = tomllib.loads(draft.text)
    assert (edition["id"], edition["title"]) == ("a3", ["XX区XX局项目支出绩效自评表"])
    [fields, table, goal, grid] = edition["sections"]
    assert [row[0]["key"] for row in fields["rows"]] == ["project_name", "implementer", "department"]
    assert [(c["key"], c["header"]) for c in table["columns"]][:3] == [
        ("initial", "年初预算数"),
        ("budget", "全年预算数"),
        ("exec", "全年执行数"),
    ]
    assert [(r["key"], r["label"]) for r in table["rows"]] == [
        ("total", "资金总额"),
        ("fiscal", "财政拨款"),
        ("other", "专项债券资金"),
    ]
    assert (goal["kind"], [row[0]["key"] for row in goal["rows"]]) == ("fields", ["goal.expected", "goal.actual"])
    assert [h["key"] for h in grid["headers"]] == [
        "level1", "level2", "name", "target", "weight", "actual", "score", "reason",
    ]  # fmt: skip
    lines = draft.text.splitlines()
    assert '  # { key = "?", header = "佐证材料" },  # ?' in lines  # a header no vocabulary knows
    assert any("专项债券资金" in line and line.endswith("# ? 未知的资金来源，计入其他资金") for line in lines)


def test_a_whole_unit_draft_marks_the_rows_it_has_no_key_for(tmp_path: Path) -> None:
    [draft] = draft_editions(whole_unit(tmp_path / "整体.xlsx"))
    edition = tomllib.loads(draft.text)
    assert (edition["id"], edition.get("own")) == ("a2", None)  # every key it uses is 附件2's
    lines = draft.text.splitlines()
    assert (
        '  # { key = "?", label = "基本支出" },  # ?' in lines
        and '  # { key = "?", label = "项目支出" },  # ?' in lines
    )


def test_draft_save_read_gives_the_same_points_as_that_edition(tmp_path: Path) -> None:
    path = jiangsu(tmp_path / "江苏.xlsx", sources=SOURCES)
    generic = load_submission(path)
    assert generic.projects[0].edition == "generic"  # no shipped edition reads this layout
    [draft] = draft_editions(path)
    profile = load_profile(str(save_under_profile(tmp_path, draft.text)))
    saved = load_submission(path, profile=profile)
    assert (saved.projects[0].edition, saved.projects[0].missing) == ("江苏项目表", [])
    assert filled(saved) == filled(generic)
    assert filled(saved)[0]["a3.other.exec"] == (17.5, ("D7",))  # the unknown source counted as 其他资金
    found = [(f.rule, f.cells) for f in check_files([path], profile=profile)[0].findings]
    assert found == [(f.rule, f.cells) for f in check_files([path])[0].findings]


def test_the_saved_edition_reads_the_next_workbook_of_that_layout(tmp_path: Path) -> None:
    [draft] = draft_editions(jiangsu(tmp_path / "第一家.xlsx"))
    profile = load_profile(str(save_under_profile(tmp_path, draft.text)))
    other = jiangsu(
        tmp_path / "第二家.xlsx", headers=("一级", "二级", "三级", "指标值", "权重", "实际完成值", "得分", "偏差原因")
    )
    assert [d.edition for d in load_submission(other, profile=profile).projects] == ["江苏项目表"]


def test_the_command_prints_the_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = jiangsu(tmp_path / "江苏.xlsx")
    assert main(["edition", "draft", str(path)]) == 0
    assert capsys.readouterr().out == draft_editions(path)[0].text + "\n"


def test_the_command_says_why_a_workbook_gives_no_draft(capsys: pytest.CaptureFixture[str]) -> None:
    [report] = REAL.glob("real07*.xlsx")
    assert main(["edition", "draft", str(report)]) == 2
    assert "没有可据以生成表样的自评表" in capsys.readouterr().err


def test_a_profile_naming_a_missing_edition_says_which(tmp_path: Path) -> None:
    path = save_under_profile(tmp_path, "", name="不存在")
    (tmp_path / "不存在.toml").unlink()
    with pytest.raises(DefinitionError, match=r"不存在\.toml"):
        load_submission(jiangsu(tmp_path / "x.xlsx"), profile=load_profile(str(path)))
