"""The lectures' notebooks: exported by `deckcheck build`, they run alone with the same outputs.

Run as Jupyter's "Run all" runs them (Jupyter, JupyterLab, VS Code and Colab ignore cell tags):
every cell, `skip-execution` ones too. A cell the check did not run (a CUDA cell on a CPU) has no
stored output to compare; every other cell must print what it printed in the check.

Minutes of training on two cores, so not part of `make test`: `make notebooks` runs it. The
fixture decks' notebooks are rerun the same way in test_build.py, in every `make test`."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT, STARTUP, _cell_outputs, deckcheck, env_for

from deckcheck.kernel.data_cache import standins

LECTURES = sorted((ROOT / "slides").glob("*.md"))
pytestmark = pytest.mark.lectures

RUN_ALL = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], 4)
NotebookClient(
    notebook, timeout=600, kernel_name="python3", skip_cells_with_tag="no cell has this tag",
    resources={"metadata": {"path": sys.argv[2]}},
).execute()
nbformat.write(notebook, sys.argv[3])
"""


def run_all_differences(notebook: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    """Run every cell of a notebook in a fresh kernel, tags ignored, and say where a cell the
    check ran printed something else; an empty list when none did."""
    executed = notebook.with_name(f"{notebook.stem}.run-all.ipynb")
    profile = notebook.parent / ".ipython-run-all"
    (profile / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
    (profile / "profile_default" / "startup" / "00-data-cache.py").write_text(STARTUP)
    env = {k: v for k, v in env.items() if k != "MPLBACKEND"}
    if env.get("TORCH_HOME"):
        env["DECKCHECK_STANDINS"] = json.dumps(standins(Path(env["TORCH_HOME"]).parent))
    done = subprocess.run(
        [sys.executable, "-c", RUN_ALL, str(notebook), str(cwd), str(executed)],
        env={**env, "IPYTHONDIR": str(profile)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        return [f"{notebook.name} did not run to the end: {done.stderr[-2000:]}"]
    stored = [cell for cell in nbformat.read(notebook, 4).cells if cell.cell_type == "code"]
    rerun = [cell for cell in nbformat.read(executed, 4).cells if cell.cell_type == "code"]
    differences = []
    for number, (before, after) in enumerate(zip(stored, rerun, strict=True), 1):
        checked = "skip-execution" not in before.metadata.get("tags", [])
        if checked and _cell_outputs(before) != _cell_outputs(after):
            differences.append(
                f"{notebook.name} cell {number}: {_cell_outputs(before)} != {_cell_outputs(after)}"
            )
    return differences


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
        assert run_all_differences(site / f"{deck.stem}.ipynb", deck.parent, env) == []
