"""Re-running a deck from the edited block (serve's checkpoints): the results are exactly a
full run's, and anything a checkpoint cannot hold falls back to a full run."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.checkpoint_store import CheckpointStore
from deckcheck.read.parser import read_deck
from deckcheck.results import DeckResult

DECK = """# Checkpoints

```python
import random
import numpy as np
import torch
random.seed(1)
np.random.seed(1)
torch.manual_seed(1)
items = []
def everything():
    return list(items)
```

```python
items.append(random.random())
items.append(float(np.random.rand()))
with open("notes.txt", "w") as handle:
    handle.write("from block 2")
```

```python
items.append(float(torch.rand(1)))
```

```python
pass  # block 4
```

```python tags=["show-output"]
items.append("edit 0")
print(everything(), random.random(), float(np.random.rand()), float(torch.rand(1)), open("notes.txt").read())
```
"""


@pytest.fixture
def deck_file(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("DECKCHECK_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "deck.md").write_text(DECK)
    return folder / "deck.md"


class Serving:
    """A checker that keeps checkpoints, as `deckcheck serve` does."""

    def __init__(self) -> None:
        self.store = CheckpointStore()
        self.checker = Checker(
            CheckOptions(use_cache=False, jobs=1), keep_fork_server=True, checkpoints=self.store
        )

    def check(self, path: Path) -> DeckResult:
        return asyncio.run(self.checker.check([read_deck(path)]))[0]

    def close(self) -> None:
        self.checker.close()
        self.store.close()


@pytest.fixture
def serving():
    serving = Serving()
    yield serving
    serving.close()


def full_run(path: Path) -> DeckResult:
    return asyncio.run(Checker(CheckOptions(use_cache=False, jobs=1)).check([read_deck(path)]))[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_editing_the_last_block_twice_resumes_with_a_full_runs_results(deck_file: Path, serving) -> None:
    first = serving.check(deck_file)
    assert first.resumed_from == 0 and first.ok
    for number in (1, 2):
        edit(deck_file, f"edit {number - 1}", f"edit {number}")
        resumed = serving.check(deck_file)
        assert resumed.resumed_from == 5, "the deck was not resumed from its last block"
        expected = full_run(deck_file)
        assert resumed.blocks[-1].output == expected.blocks[-1].output  # random state, list, file
        assert (
            f"'edit {number}']" in resumed.blocks[-1].output and "'edit 0'" not in resumed.blocks[-1].output
        )


def test_a_later_block_that_changed_files_means_a_full_run(deck_file: Path, serving) -> None:
    edit(deck_file, "pass  # block 4", 'open("notes.txt", "a").write(" and block 4")')
    serving.check(deck_file)
    edit(deck_file, "float(torch.rand(1))", "float(torch.rand(1)) * 1")  # block 3, before the writer
    again = serving.check(deck_file)
    assert again.resumed_from == 0
    assert again.blocks[-1].output == full_run(deck_file).blocks[-1].output
    assert "from block 2 and block 4" in again.blocks[-1].output
    edit(deck_file, "edit 0", "edit 1")  # block 5, after the writer: files as block 4 left them
    assert serving.check(deck_file).resumed_from == 5


def test_an_earlier_change_or_a_lost_checkpoint_means_a_full_run(deck_file: Path, serving) -> None:
    serving.check(deck_file)
    edit(deck_file, "random.seed(1)", "random.seed(2)")
    assert serving.check(deck_file).resumed_from == 0
    history = serving.store.decks[str(deck_file)]
    os.killpg(history.checkpoints[3].pid, signal.SIGKILL)
    edit(deck_file, "edit 0", "edit 1")
    result = serving.check(deck_file)
    assert result.resumed_from == 0 and result.ok
    assert result.blocks[-1].output == full_run(deck_file).blocks[-1].output


def test_no_checkpoint_while_the_decks_own_thread_runs(deck_file: Path, serving) -> None:
    edit(
        deck_file,
        "pass  # block 4",
        "import threading\nstop = threading.Event()\nworker = threading.Thread(target=stop.wait, daemon=True)\nworker.start()",
    )
    serving.check(deck_file)
    assert sorted(serving.store.decks[str(deck_file)].checkpoints) == [0, 1, 2]
    edit(deck_file, "edit 0", "edit 1")
    assert serving.check(deck_file).resumed_from == 0


def test_failures_after_a_resume_name_deck_lines_in_earlier_blocks(deck_file: Path, serving) -> None:
    """A function from block 1 sees block 5's new global (one namespace), and its frame is told
    at its deck line though the kernel that ran block 1 was another process."""
    serving.check(deck_file)
    edit(deck_file, 'items.append("edit 0")', "items = 5\neverything()")
    result = serving.check(deck_file)
    assert result.resumed_from == 5
    failure = result.blocks[-1].failure
    assert failure is not None and failure.summary == "TypeError: 'int' object is not iterable"
    lines = deck_file.read_text().splitlines()
    call, inside = lines.index("everything()") + 1, lines.index("    return list(items)") + 1
    assert [frame.line for frame in failure.frames if frame.slide] == [call, inside]
    assert failure.line == inside
