"""schemas/ files checked when they load (issue #21 point 2): unknown keys, values outside their set, unknown
rule ids and wrong types each stop loading with one Chinese line naming the file, the entry and the nearest
valid value — and a run given such a profile touches nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import DefinitionError
from pipeline.forms import load_editions, load_profile, load_shared
from pipeline.rules.catalogue import load_rules
from pipeline.rules.statements import load_ties
from pipeline.settings import SCHEMAS_DIR

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_inputs"

#: A bureau's profile with three slips: a misspelt level, a misspelt key and a misspelt rule id.
BAD_PROFILE = """\
name = "本局口径"
descripton = "产出50分"

[[categories]]
key = "output"
label = "产出指标"
weight = 50
subs = ["数量指标"]

[levels]
"A1.SUM.PUBLIC" = "warnin"
"A1.RATE.STAF" = "warning"
"""


def problems(exc: pytest.ExceptionInfo[DefinitionError]) -> list[str]:
    """The lines of a DefinitionError after its heading."""
    return [line.strip() for line in str(exc.value).splitlines()[1:]]


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_a_profile_with_three_slips_says_each_once(tmp_path: Path) -> None:
    path = tmp_path / "本局.toml"
    path.write_text(BAD_PROFILE, encoding="utf-8")
    with pytest.raises(DefinitionError) as exc:
        load_profile(str(path))
    assert str(path) in str(exc.value).splitlines()[0]
    assert problems(exc) == [
        f"{path}：[levels] 'A1.SUM.PUBLIC' = 'warnin' 应为 error、warning 之一，最接近的是 'warning'",
        f"{path}：未知的键 'descripton'，最接近的有效键是 'description'",
        f"{path}：[levels] 中的规则编号 'A1.RATE.STAF' 不存在，最接近的有效编号是 'A1.RATE.STAFF'",
    ]


def test_run_with_that_profile_exits_2_and_touches_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile, inbox, out = tmp_path / "本局.toml", tmp_path / "inbox", tmp_path / "out"
    profile.write_text(BAD_PROFILE, encoding="utf-8")
    shutil.copytree(SAMPLES, inbox)
    before = snapshot(inbox)
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称\n金沙县文化馆\n", encoding="utf-8")
    argv = ["run", str(inbox), "--out", str(out), "--workers", "0", "--profile", str(profile), "--roster", str(roster)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("  ")]
    assert [line.split("：", 1)[1].split(" ")[0] for line in lines] == ["[levels]", "未知的键", "[levels]"]
    assert "warnin" in lines[0] and "descripton" in lines[1] and "A1.RATE.STAF" in lines[2]
    assert snapshot(inbox) == before
    assert not out.exists()  # no ledger, no lock, no roster copy


def test_wrong_type_in_a_profile_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(BAD_PROFILE.replace("weight = 50", 'weight = "50"').replace("descripton", "description"), "utf-8")
    with pytest.raises(DefinitionError) as exc:
        load_profile(str(path))
    assert f"{path}：categories 第 1 项 weight 应为数字，而不是 '50'" in problems(exc)


def test_a_misspelt_parameter_names_the_nearest(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    edit(schemas / "profiles" / "default.toml", "score_slack = 0.2", "score_slak = 0.2")
    with pytest.raises(DefinitionError) as exc:
        load_profile("default", schemas)
    assert problems(exc) == [
        "default.toml：[params] 中的参数 'score_slak' 没有规则使用，最接近的有效参数是 'score_slack'"
    ]


def test_a_form_with_an_unknown_section_kind_and_key(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    edit(schemas / "forms" / "a3_national.toml", 'kind = "table"', 'kind = "tabel"')
    edit(schemas / "forms" / "a3_national.toml", 'side = "年度总体目标"', 'sied = "年度总体目标"')
    with pytest.raises(DefinitionError) as exc:
        load_editions(schemas)
    assert problems(exc) == [
        "a3_national.toml：sections 第 2 项 kind = 'tabel' 不是有效的类型，最接近的有效值是 'table'",
        "a3_national.toml：sections 第 3 项 中未知的键 'sied'，最接近的有效键是 'side'",
    ]


def test_a_field_with_an_unknown_type(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    edit(schemas / "forms" / "a1.toml", 'type = "int"', 'type = "integer"')
    with pytest.raises(DefinitionError) as exc:
        load_editions(schemas)
    [line] = problems(exc)
    assert line.startswith("a1.toml：sections 第") and "type = 'integer'" in line and "最接近的是 'int'" in line


def test_a_rule_with_a_bad_level_an_unknown_key_and_a_missing_part(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    path = schemas / "rules.toml"
    edit(path, 'level = "error"', 'level = "eror"')
    edit(path, 'op = "<="', 'opp = "<="')
    edit(path, "parts = [", "prts = [")
    with pytest.raises(DefinitionError) as exc:
        load_rules(load_profile(), path)
    lines = problems(exc)
    assert "rules.toml：规则 A1.REQ.UNIT 的 level = 'eror' 应为 error、warning 之一，最接近的是 'error'" in lines
    assert "rules.toml：规则 A1.PLAUS.OVERSTAFF 中未知的键 'opp'，最接近的有效键是 'op'" in lines
    assert any(line.startswith("rules.toml：规则 A1.SUM.") and "须写明 parts" in line for line in lines)


def test_repeated_rule_id(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    edit(schemas / "rules.toml", 'id = "A1.REQ.STAFF"', 'id = "A1.REQ.UNIT"')
    with pytest.raises(DefinitionError, match=r"规则 A1\.REQ\.UNIT：编号重复"):
        load_rules(load_profile(), schemas / "rules.toml")


def test_spellings_and_statements_are_checked_too(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    (schemas / "spellings.toml").write_text('grops = [["得分", "自评得分"]]\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"spellings\.toml：未知的键 'grops'，最接近的有效键是 'groups'"):
        load_shared(schemas)
    edit(schemas / "statements.toml", 'kind = "count"', 'kind = "cont"')
    with pytest.raises(DefinitionError, match=r"statements\.toml：figures 第 1 项 kind = 'cont'.*最接近的是 'count'"):
        load_ties(schemas)


def test_the_shipped_definitions_all_load() -> None:
    for name in ("default", "example_40_40"):
        assert load_rules(load_profile(name))
    assert len(load_editions()) == len(list((SCHEMAS_DIR / "forms").glob("*.toml")))
    assert load_ties() and load_shared().groups
