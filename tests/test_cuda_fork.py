"""CUDA must work in every kernel deckcheck starts, however it starts it.

A process that initialised CUDA (or only asked the driver how many devices there are) leaves
every fork of it in PyTorch's "bad fork" state, where CUDA cannot be initialised again. This
machine has no GPU, but the state is visible all the same: `torch.cuda._is_in_bad_fork()`, and
`.to("cuda")` failing with "Cannot re-initialize CUDA in forked subprocess" instead of saying
that there is no driver.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import deckcheck, env_for

pytest.importorskip("torch")

from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.checkpoint_store import CheckpointStore
from deckcheck.read.parser import read_deck

DECK = """---
marp: true
---

# CUDA after a fork

```python
import torch
x = torch.ones(2)
optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)])  # what the fork server warms up
```

---

```python
assert not torch.cuda._is_in_bad_fork(), "PyTorch's bad fork: CUDA cannot be initialised here"
try:
    x.to("cuda")
    said = "CUDA works"
except (RuntimeError, AssertionError) as error:
    said = str(error)
assert "re-initialize" not in said, said
print("edit 0")
```
"""


@pytest.fixture
def deck_file(tmp_path: Path) -> Path:
    (tmp_path / "deck.md").write_text(DECK)
    return tmp_path / "deck.md"


@pytest.mark.parametrize(
    ("args", "fork"),
    [((), "1"), (("--jobs", "1"), "1"), ((), "0")],
    ids=["forked-default-jobs", "forked-one-job", "no-fork-server"],
)
def test_a_kernel_can_use_cuda_however_the_command_starts_it(
    deck_file: Path, args: tuple[str, ...], fork: str
) -> None:
    run = deckcheck("check", "deck.md", "--no-cache", *args, cwd=deck_file.parent, cache=deck_file.parent / "c",
                    DECKCHECK_FORK=fork)  # fmt: skip
    assert run.last_line == "2 passed, 0 failed, 0 skipped", run.stdout


def test_a_kernel_can_use_cuda_under_the_pytest_plugin(deck_file: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "deck.md"],
        cwd=deck_file.parent,
        env=env_for(deck_file.parent / "c", "cuda"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "2 passed" in done.stdout, done.stdout + done.stderr


def serve_check(checker: Checker, path: Path):
    return asyncio.run(checker.check([read_deck(path)]))[0]


def test_a_kernel_resumed_from_a_checkpoint_can_use_cuda(deck_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("DECKCHECK_CACHE", str(deck_file.parent / "c"))
    store = CheckpointStore()
    checker = Checker(CheckOptions(use_cache=False, jobs=1), keep_fork_server=True, checkpoints=store)
    try:
        assert serve_check(checker, deck_file).ok
        deck_file.write_text(DECK.replace("edit 0", "edit 1"))
        resumed = serve_check(checker, deck_file)
        assert resumed.resumed_from == 2, "the deck did not resume from its second block"
        assert resumed.ok, resumed.blocks[-1].failure
    finally:
        checker.close()
        store.close()


def test_no_checkpoint_of_a_kernel_that_initialised_cuda(deck_file: Path, monkeypatch) -> None:
    """A fork of a kernel that initialised CUDA cannot use it: serve runs such a deck in full and
    says why. (No GPU here: the block says CUDA is initialised, as torch would after a `.to("cuda")`.)"""
    monkeypatch.setenv("DECKCHECK_CACHE", str(deck_file.parent / "c"))
    deck_file.write_text(
        DECK.replace("x = torch.ones(2)\n", "x = torch.ones(2)\ntorch.cuda.is_initialized = lambda: True\n")
    )
    store = CheckpointStore()
    checker = Checker(CheckOptions(use_cache=False, jobs=1), keep_fork_server=True, checkpoints=store)
    try:
        first = serve_check(checker, deck_file)
        assert first.ok and "CUDA is initialised" in first.no_resume, first.no_resume
        deck_file.write_text(deck_file.read_text().replace("edit 0", "edit 1"))
        again = serve_check(checker, deck_file)
        assert again.resumed_from == 0 and again.ok
    finally:
        checker.close()
        store.close()
