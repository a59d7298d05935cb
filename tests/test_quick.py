"""Quick checks (papermill's convention): a block tagged `parameters` runs as written, then the
deck's `quick` values are set after it, with `check --quick` and in serve; never in build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import deckcheck

DECK = """---
marp: true
deckcheck:
  quick: {epochs: 1, label: "quick"}
---

# Training

```python tags=["parameters"]
epochs = 20
label = "full"
```

---

## The loop

```python
seen = [epoch for epoch in range(epochs)]
assert epochs == 1, f"{label}: {epochs} epochs"
```
"""


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    (tmp_path / "deck.md").write_text(DECK)
    return tmp_path


def test_the_quick_values_are_set_after_the_parameters_block(deck: Path) -> None:
    quick = deckcheck("check", "--quick", "deck.md", cwd=deck, cache=deck / "cache")
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert re.fullmatch(r"deck\.md: ok: 2 passed, 0 failed, 0 skipped \([0-9.]+ s, quick\)", quick.lines[-2])
    assert quick.last_line == "2 passed, 0 failed, 0 skipped"
    again = deckcheck("check", "--quick", "deck.md", cwd=deck, cache=deck / "cache")
    assert "deck.md: ok: 2 passed, 0 failed, 0 skipped (cached, quick)" in again.lines
    # the full check is not the quick one's cached result: the deck runs as written, and fails
    full = deckcheck("check", "deck.md", cwd=deck, cache=deck / "cache")
    assert full.returncode == 1
    assert full.lines[0] == "deck.md:20: slide 2: AssertionError: full: 20 epochs"
    assert "quick" not in full.lines[-2]


def test_a_quick_name_the_parameters_block_does_not_assign_is_a_problem(deck: Path) -> None:
    (deck / "deck.md").write_text(DECK.replace("{epochs: 1,", "{epoch: 1,"))
    run = deckcheck("check", "--quick", "deck.md", cwd=deck, cache=deck / "cache")
    assert run.returncode == 1
    assert run.lines[0] == (
        "deck.md:9: slide 1: quick value 'epoch' is not assigned in the parameters block (it assigns: epochs, label)"
    )
    assert run.last_line == "0 passed, 0 failed, 2 skipped"


def test_quick_values_from_the_project_and_wrong_ones(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.deckcheck]\nquick = {epochs = 1, label = "quick"}\n')
    (tmp_path / "deck.md").write_text(
        DECK.replace('  quick: {epochs: 1, label: "quick"}\n', "  timeout: 60\n")
    )
    run = deckcheck("check", "--quick", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 0, run.stdout
    (tmp_path / "deck.md").write_text(DECK.replace('{epochs: 1, label: "quick"}', "[1]"))
    wrong = deckcheck("check", "--quick", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert wrong.returncode == 1
    assert wrong.lines[0] == (
        "deck.md:4: slide 1: deckcheck setting quick must be a mapping of parameter names to values, "
        "like {epochs: 1}, not [1]"
    )


def test_build_has_no_quick_flag(deck: Path) -> None:
    run = deckcheck("build", "--quick", "deck.md", cwd=deck, cache=deck / "cache")
    assert run.returncode == 2 and "unrecognized arguments: --quick" in run.stderr
