"""Locked outputs: what a deck shows is recorded when it is published; a later check reports a
shown output or figure that changed (a warning; with --locked-outputs a failure)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, deckcheck

from deckcheck.check.output_lock import same_text
from deckcheck.publish.marp import browser_path

SEEDED = FIXTURES / "locked" / "seeded.md"


@pytest.mark.parametrize(
    ("old", "new", "tolerance", "same"),
    [
        ("loss 0.0218", "loss 0.0218", 1e-6, True),
        ("loss 0.0218", "loss 0.0231", 1e-6, False),
        ("loss 0.0218", "loss 0.0231", 0.1, True),
        ("tensor([0.1000, 0.2000])", "tensor([0.1000,  0.2000])", 1e-6, True),  # columns moved
        ("tensor([0.1000, 0.2000])", "tensor([0.1000, 0.2000, 0.3])", 1, False),  # one more number
        ("accuracy 0.5", "accuracy 5e-1", 1e-6, True),
        ("nan", "nan", 1e-6, True),
        ("epoch 1 done", "epoch 1 failed", 1, False),
    ],
)
def test_text_is_compared_number_by_number_within_a_relative_tolerance(old, new, tolerance, same) -> None:
    assert same_text(old, new, tolerance) is same


@pytest.fixture
def course(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "pyproject.toml").write_text("")
    shutil.copy(SEEDED, folder / "deck.md")
    return folder


def edit(deck: Path, *changes: tuple[str, str]) -> None:
    text = deck.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    deck.write_text(text)


@pytest.mark.skipif(browser_path() is None, reason="needs Chromium (make installs it)")
def test_a_changed_output_fails_with_locked_outputs_and_update_outputs_accepts_it(course: Path) -> None:
    cache = course.parent / "cache"
    built = deckcheck("build", "deck.md", "--site", "site", "--formats", "html", cwd=course, cache=cache)
    assert built.returncode == 0, built.stdout + built.stderr
    lock = course / ".deckcheck" / "outputs" / "deck.md.json"
    assert "outputs locked: .deckcheck/outputs/deck.md.json" in built.lines
    entries = json.loads(lock.read_text())["blocks"]
    assert [entry["output"] for entry in entries] == [["loss 0.1344"], ["0.123456"], []]
    assert len(entries[2]["figures"]) == 1 and lock.stat().st_size < 8000

    rerun = deckcheck("check", "deck.md", "--locked-outputs", "--no-cache", cwd=course, cache=cache)
    assert rerun.returncode == 0 and "output changed" not in rerun.stdout  # the figure drawn again, the same

    edit(
        course / "deck.md",
        ("random.seed(1)", "random.seed(2)"),  # another seed: another loss
        ("(1 + 0)", "(1 + 1e-5)"),  # below the block's output_tolerance=1e-3
        ("x + 0.0", "x + 0.3"),  # the curve moves
    )
    locked = deckcheck("check", "deck.md", "--locked-outputs", cwd=course, cache=cache)
    assert locked.returncode == 1, locked.stdout
    out = locked.stdout
    assert "deck.md:13: slide 1: output changed\n" in out
    assert "  - loss 0.1344\n  + loss 0.9560\n" in out
    assert "deck.md:21: slide 2:" not in out
    assert "deck.md:29: slide 3: output changed\n" in out and "figure 1 of 1 changed" in out
    assert locked.last_line == "2 passed, 2 failed, 0 skipped"

    warned = deckcheck("check", "deck.md", cwd=course, cache=cache)
    assert warned.returncode == 0
    assert "deck.md:13: slide 1: warning: output changed" in warned.lines

    matrix = deckcheck("matrix", "deck.md", "--with", "current", cwd=course, cache=cache)
    assert any(
        line.startswith("deck.md:13: slide 1: warning: output changed on current, torch ")
        and line.endswith(": prints loss 0.9560, was loss 0.1344")
        for line in matrix.lines
    ), matrix.stdout

    updated = deckcheck("check", "deck.md", "--update-outputs", cwd=course, cache=cache)
    assert updated.returncode == 0 and "outputs locked: .deckcheck/outputs/deck.md.json" in updated.lines
    after = deckcheck("check", "deck.md", "--locked-outputs", cwd=course, cache=cache)
    assert after.returncode == 0 and "output changed" not in after.stdout


def test_a_tolerance_outside_zero_to_one_is_an_error_at_its_line(tmp_path: Path) -> None:
    deck = tmp_path / "deck.md"
    deck.write_text('# A\n\n```python tags=["show-output"] output_tolerance=2\nprint(1)\n```\n')
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 1
    assert "deck.md:3: slide 1: block option output_tolerance must be a relative tolerance" in run.stdout


def test_an_output_locked_on_stand_in_data_is_compared_only_with_a_run_on_the_same_data(
    tmp_path: Path,
) -> None:
    from deckcheck.check.output_lock import compare, record
    from deckcheck.read.parser import parse_text
    from deckcheck.results import BlockResult, DeckResult

    (tmp_path / "pyproject.toml").write_text("")
    deck = parse_text(tmp_path / "d.md", '# A\n\n```python tags=["show-output"]\nprint(acc)\n```\n')

    def run(output: str, *standins: str) -> DeckResult:
        block = BlockResult(0, 3, 1, "passed", output=output, standins=standins)
        return DeckResult(str(deck.path), (block,), standins=standins)

    assert record(deck, run("accuracy 0.71\n", "MNIST")) is not None
    assert compare(deck, run("accuracy 0.99\n")) == []  # the real data: another experiment
    assert [c.was for c in compare(deck, run("accuracy 0.69\n", "MNIST"))] == ["accuracy 0.71"]
    record(deck, run("accuracy 0.99\n"))
    assert [c.now for c in compare(deck, run("accuracy 0.98\n"))] == ["accuracy 0.98"]
    assert compare(deck, run("accuracy 0.71\n", "MNIST")) == []
    from deckcheck.check.output_lock import other_data

    assert other_data(deck, run("accuracy 0.71\n", "MNIST")) == ["real data"]
