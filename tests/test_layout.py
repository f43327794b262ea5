"""The package layout stays what issue #9 made it: stages as subpackages, no import cycle, the generator
outside the runtime path, no module grown past the size a reader takes in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipeline"
#: A module past this many lines gets split by responsibility (issue #9: "no module over ~600 lines").
MAX_MODULE_LINES = 600
#: Imported by a bureau's runs: `jixiao check`, `run`, `watch`, `summary`, `template` and the library.
RUNTIME = (
    "pipeline.cli",
    "pipeline.check",
    "pipeline.batch.engine",
    "pipeline.batch.workers",
    "pipeline.report.summary",
    "pipeline.report.template",
)


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package's `__init__.py` under the package's name."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules `name` imports anywhere in its text: top level, in functions, under
    TYPE_CHECKING. `from a import b` counts as importing `a.b` when that is a module, else `a`."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                anchor = here[: len(here) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import pipeline.x.y` of an attribute: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_the_import_graph_sees_function_level_and_relative_imports() -> None:
    graph = _graph()
    assert "pipeline.synth.corpus" in graph["pipeline.cli"]  # inside the `synth` command only
    assert "pipeline.report.annotate" in graph["pipeline.check"]  # inside a function
    assert "pipeline.rules.builtins" in graph["pipeline.rules.validate"]  # `from pipeline.rules import builtins`


def test_cycle_finder_reports_a_cycle_through_a_function_level_import() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_the_package_imports_itself_back() -> None:
    assert _cycle(_graph()) is None


def _package(module: str) -> str:
    """The stage subpackage a module belongs to (`pipeline.batch`), or the module itself when it is top-level."""
    parts = module.split(".")
    return ".".join(parts[:2])


STAGES = {
    "pipeline.batch",
    "pipeline.read",
    "pipeline.report",
    "pipeline.rules",
    "pipeline.store",
    "pipeline.synth",
    "pipeline.web",
}


def test_no_package_imports_one_that_imports_it_back() -> None:
    """Module cycles are not enough: `batch` importing `report` while `report` imports `batch` is a cycle of layers."""
    packages: dict[str, set[str]] = {stage: set() for stage in STAGES}
    for module, targets in _graph().items():
        if (here := _package(module)) in STAGES:
            packages[here].update(_package(t) for t in targets if _package(t) in STAGES - {here})
    assert _cycle(packages) is None


def test_the_store_layer_imports_neither_the_batch_run_nor_the_outputs() -> None:
    graph = _graph()
    store = {
        m: {t for t in targets if t.startswith(("pipeline.batch", "pipeline.report"))} for m, targets in graph.items()
    }
    assert {m: t for m, t in store.items() if m.startswith("pipeline.store") and t} == {}


def test_each_stage_is_a_subpackage_that_says_what_enters_and_what_leaves() -> None:
    stages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert stages == ["batch", "read", "report", "rules", "store", "synth", "web"]
    for stage in stages:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "In:" in doc and "Out:" in doc, stage


def test_the_runtime_never_loads_the_synthetic_data_generator() -> None:
    code = (
        f"import sys; import {', '.join(RUNTIME)}; print(sorted(m for m in sys.modules if m.startswith('pipeline.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = ast.literal_eval(done.stdout)
    assert "pipeline.cli" in loaded
    assert [m for m in loaded if m == "pipeline.synth" or m.startswith("pipeline.synth.")] == []


def test_import_pipeline_cli_alone_leaves_synth_out_of_sys_modules() -> None:
    code = "import sys, pipeline.cli; print(any(m.startswith('pipeline.synth') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_a_check_from_the_command_line_does_without_pandera_s_test_data_library() -> None:
    sample = ROOT / "sample_inputs" / "金沙县文化馆_2023.xlsx"
    code = (
        "import sys; from pipeline.cli import entry; sys.argv = ['jixiao', 'check', sys.argv[1], '--json'];"
        " code = entry(); print(file=sys.stderr); print(code, sorted(m for m in sys.modules"
        " if m.startswith(('hypothesis', 'pandera.pandas')) and sys.modules[m]), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True, cwd=ROOT)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(("0 ", "1 ")) and "pandera.pandas" in last  # it did validate, with pandera
    assert "hypothesis" not in last


def test_no_module_passes_the_size_a_reader_takes_in() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
