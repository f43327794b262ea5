"""The README's commands and examples stay true."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.check import check_files

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_the_two_setup_commands_and_the_makefile_has_them() -> None:
    assert "make demo" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_readme_json_example_is_what_check_returns() -> None:
    block = re.search(r"```json\n(.*?)```", README, re.S)
    assert block is not None
    (example,) = json.loads(block.group(1))
    (result,) = check_files([ROOT / example["file"]])
    real = result.to_dict()
    assert {k: real[k] for k in ("unit", "year", "status")} == {k: example[k] for k in ("unit", "year", "status")}
    assert example["findings"][0] in real["findings"]


def test_readme_cli_example_findings_are_real() -> None:
    (result,) = check_files([ROOT / "sample_inputs" / "岳阳市公共租赁房屋运营服务中心_2023.xlsx"])
    for finding in result.findings:
        assert finding.rule in README


def test_readme_edition_example_loads_and_reads_a_national_table(tmp_path: Path) -> None:
    import shutil

    from editions import Project, national_project, workbook

    from pipeline.forms import load_editions
    from pipeline.read.extract import extract
    from pipeline.read.grid import read_grid
    from pipeline.settings import SCHEMAS_DIR

    section = README.split("### Adding a form edition", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    for path in (schemas / "forms").glob("a3_*.toml"):
        path.unlink()  # only the README's edition reads the national table
    (schemas / "forms" / "a3_readme.toml").write_text(block.group(1), encoding="utf-8")
    editions = load_editions(schemas)
    path = workbook(tmp_path / "national.xlsx", {"Sheet1": [national_project(Project())]})
    sub = extract(read_grid(path), editions=[e for e in editions if e.edition == "a3_readme"])
    assert [p.edition for p in sub.projects] == ["a3_readme"]
    assert sub.projects[0].points["a3.total.exec"].value == 135.0


def test_readme_run_example_counts_are_what_the_samples_give() -> None:
    samples = sorted((ROOT / "sample_inputs").iterdir())
    results = {r.file.name: r for r in check_files(samples)}
    block = README[README.index("$ jixiao run inbox --out out") : README.index("输出位置")]
    rows = re.findall(r"│ (\S+\.xlsx?) +│ (\S+) +│ (\S+) +│ +(\d+) │ +(\d+) │", block)
    assert rows, "the README's run example lists the files that need attention"
    shown = [(name, unit, status, int(e), int(w)) for name, unit, status, e, w in rows]
    real = [
        (name, r.unit, {"errors": "有错误", "rejected": "退回"}[r.status], r.errors, r.warnings)
        for name, r in sorted(results.items())
        if r.status in ("errors", "rejected")
    ]
    assert sorted(shown) == sorted(real)
    [totals] = re.findall(r"│ +(\d+) │ +(\d+) │ +(\d+) │ +(\d+) │ +(\d+) │ +(\d+) │", block)
    statuses = [r.status for r in results.values()]
    assert [int(n) for n in totals] == [
        len(samples),
        *(statuses.count(s) for s in ("ok", "warnings", "errors", "rejected")),
        0,
    ]


def test_schema_comments_name_only_files_that_exist() -> None:
    named = []
    for toml in sorted((ROOT / "schemas").rglob("*.toml")):
        for line in toml.read_text(encoding="utf-8").splitlines():
            comment = line.partition("#")[2]
            for name in re.findall(r"[\w./*-]+\.(?:py|md|toml)\b", comment):
                found = any(ROOT.glob(name)) or ("/" not in name and any(toml.parent.glob(name)))
                named.append((toml.name, name, found))
    assert named and [(src, name) for src, name, found in named if not found] == []


def test_readme_and_docs_link_only_to_files_that_exist() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), (page.name, target)
    assert "docs/README.md" in README
