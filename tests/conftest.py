"""Session fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.synth.samples import build_samples

    out = tmp_path_factory.mktemp("samples")
    build_samples(out)
    return out
