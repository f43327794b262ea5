"""The wheel is what a bureau installs (issue #21): built from this checkout, installed with the pinned runtime
versions into a fresh venv outside it, and run from a folder outside the checkout on copies of sample_inputs/.
Nothing here can reach the source tree: no PYTHONPATH, the commands run in another folder, and the first test
checks where `pipeline` and its schemas/ were found. One venv for the module (~1 min, most of it pip)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import pipeline
from pipeline.check import check_files

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_inputs"


class Installed:
    """A venv holding only the built wheel and its pinned dependencies, and a work folder beside it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.venv = base / "venv"
        self.work = base / "work"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.env["PYTHONNOUSERSITE"] = "1"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    inst = Installed(tmp_path_factory.mktemp("wheel"))
    dist = inst.base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist)]
    build.append(str(ROOT))  # the build backend (hatchling) comes from the dev pins: no download here
    subprocess.run(build, cwd=inst.base, env=inst.env, check=True, capture_output=True, timeout=600)
    [wheel] = dist.glob("jixiao-*.whl")
    venv.create(inst.venv, with_pip=True)
    inst.work.mkdir()
    pins = str(ROOT / "requirements" / "runtime.txt")
    done = inst.run("python", "-m", "pip", "install", "-q", "-c", pins, str(wheel))
    assert done.returncode == 0, done.stderr
    return inst


def test_the_installed_package_and_its_schemas_are_the_wheels(installed: Installed) -> None:
    code = "import pipeline, pipeline.settings as s; print(pipeline.__file__); print(s.SCHEMAS_DIR)"
    done = installed.run("python", "-c", code)
    assert done.returncode == 0, done.stderr
    module, schemas = (Path(line) for line in done.stdout.splitlines())
    assert module.is_relative_to(installed.venv) and not module.is_relative_to(ROOT)
    assert schemas == module.parent / "schemas"
    assert sorted(p.name for p in (schemas / "profiles").glob("*.toml")) == sorted(
        p.name for p in (ROOT / "schemas" / "profiles").glob("*.toml")
    )
    assert (module.parent / "py.typed").is_file()


def test_version_is_the_packages(installed: Installed) -> None:
    done = installed.run("jixiao", "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"jixiao {pipeline.__version__}")


def test_check_from_the_wheel_finds_what_the_checkout_finds(installed: Installed) -> None:
    files = installed.work / "check"
    shutil.copytree(SAMPLES, files)
    own = shutil.copyfile(ROOT / "schemas" / "profiles" / "example_40_40.toml", installed.work / "本局口径.toml")
    done = installed.run("jixiao", "check", "check", "--json", "--profile", "本局口径.toml")  # a bureau's own file
    assert done.returncode == 1, done.stderr  # the samples hold errors, none refused
    shown = {(r["file"].split("/")[-1], r["status"], len(r["findings"])) for r in json.loads(done.stdout)}
    here = check_files(sorted(files.iterdir()), profile=str(own))
    assert shown == {(r.file.name, r.status, len(r.findings)) for r in here}


def test_run_from_the_wheel_files_every_sample(installed: Installed) -> None:
    inbox, out = installed.work / "inbox", installed.work / "out"
    shutil.copytree(SAMPLES, inbox)
    done = installed.run("jixiao", "run", "inbox", "--out", "out")
    assert done.returncode == 1, done.stderr
    assert list(inbox.iterdir()) == []
    assert sorted(p.name for p in (out / "processed").iterdir()) == sorted(p.name for p in SAMPLES.iterdir())
    assert (out / "汇总_2023.xlsx").is_file()
    with sqlite3.connect(out / "ledger.sqlite3") as db:
        statuses = sorted(status for (status,) in db.execute("SELECT status FROM submissions"))
    assert statuses == ["errors"] * 2 + ["ok"] * 5
