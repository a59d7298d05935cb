"""The lectures' notebooks: exported by `deckcheck build`, they run alone with the same outputs.

Run as Jupyter's "Run all" runs them (Jupyter, JupyterLab, VS Code and Colab ignore cell tags):
every cell, `skip-execution` ones too. A cell the check did not run (a CUDA cell on a CPU) has no
stored output to compare; every other cell must print what it printed in the check.

Minutes of training on two cores, so not part of `make test`: `make notebooks` runs it. The
fixture decks' notebooks are rerun the same way in test_build.py, in every `make test`."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from helpers import ROOT, deckcheck, env_for, notebook_differences

LECTURES = sorted((ROOT / "slides").glob("*.md"))
pytestmark = pytest.mark.lectures


def test_every_lecture_notebook_runs_all_cells_with_the_outputs_it_was_published_with(
    tmp_path: Path,
) -> None:
    data = str(ROOT / ".cache" / "torch")
    site = tmp_path / "site"
    run = deckcheck(
        "build", "slides", "--site", str(site), "--formats", "ipynb",
        cwd=ROOT, cache=tmp_path / "cache", timeout=900, TORCH_HOME=data,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    env = env_for(tmp_path / "cache", uuid.uuid4().hex, TORCH_HOME=data)
    for deck in LECTURES:
        assert notebook_differences(site / f"{deck.stem}.ipynb", deck.parent, env) == []
