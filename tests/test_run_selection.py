"""pytest's flags with pytest's meaning: -x and --maxfail stop the whole run, -k selects by
deck path and slide title, --lf reruns what failed last time, --durations lists the slowest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import Run, deckcheck

from deckcheck.check.selection import (
    STOPPED,
    ExpressionError,
    LastFailed,
    parse_keywords,
    reported,
    select,
    slide_title,
)
from deckcheck.publish.build import Builder, BuildOptions
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult, Failure

# Three slides: a block that passes, one that fails, one that passes.
ALPHA = """# Alpha

```python
x = 1
```

---

## Tensors

```python
assert x == 2, "x is not 2"
```

---

## Training

```python
y = x + 1
```
"""
BETA = "# Beta\n\n```python\nz = 3\n```\n\n---\n\n## Training loop\n\n```python\nw = z * 2\n```\n"
GAMMA = "# Gamma\n\n```python\nv = 0\n```\n\n```python\nassert v, 'gamma'\n```\n"
DELTA = "# Delta\n\n```python\nu = 1\n```\n"


def course(folder: Path, **decks: str) -> Path:
    for name, text in decks.items():
        (folder / f"{name}.md").write_text(text)
    return folder


def check(folder: Path, *args: str) -> Run:
    run = deckcheck("check", "--jobs", "1", *args, cwd=folder, cache=folder / ".cache")
    assert "Traceback (most recent call last)" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run


def problems(run: Run) -> list[str]:
    return [line for line in run.lines if re.match(r"^\S+\.md:\d+: slide \d+: ", line)]


def matches(expression: str, *names: str) -> bool:
    lowered = [name.lower() for name in names]
    return parse_keywords(expression)(lambda word: any(word in name for name in lowered))


def test_keyword_expressions_follow_pytest() -> None:
    assert matches("tensor", "slides/a.md", "Tensors and shapes")  # a substring, any case
    assert not matches("not tensor", "slides/a.md", "Tensors")
    assert matches("a.md and not (loop or cuda)", "slides/a.md", "Training")
    assert not matches("a.md and (loop or cuda)", "slides/a.md", "Training")
    assert matches("loop or tensor and nothing", "slides/a.md", "Training loop")  # and binds tighter
    assert matches("", "anything")
    for wrong, column in [("a and", 6), ("(a or b", 8), ("a b", 3), ("not", 4), ("a $ b", 3)]:
        with pytest.raises(ExpressionError, match=f"at column {column}:"):
            parse_keywords(wrong)


def test_slide_titles_are_the_first_heading_outside_code() -> None:
    deck = parse_text(Path("a.md"), "---\nmarp: true\n---\n\n```python\n# not a title\n```\n\n# Alpha\n")
    assert slide_title(deck, 1) == "Alpha"
    deck = parse_text(Path("a.md"), ALPHA)
    assert [slide_title(deck, n) for n in (1, 2, 3)] == ["Alpha", "Tensors", "Training"]


def test_a_selection_keeps_the_blocks_a_selected_one_needs_and_reports_the_selected() -> None:
    alpha, beta = parse_text(Path("alpha.md"), ALPHA), parse_text(Path("beta.md"), BETA)
    chosen = select([alpha, beta], parse_keywords("training and not loop"))
    assert [deck.path.name for deck in chosen.decks] == ["alpha.md"]
    assert chosen.blocks == {"alpha.md": frozenset({2})}
    assert (chosen.blocks_selected, chosen.blocks_total) == (1, 5)
    assert select([alpha, beta], parse_keywords("beta")).blocks == {}  # the whole deck: no entry
    results = (
        BlockResult(0, 3, 1, "passed"),
        BlockResult(1, 11, 2, "failed", failure=Failure(12, 2, "AssertionError: x is not 2")),
        BlockResult(2, 19, 3, "passed"),
    )
    shown = reported(DeckResult("alpha.md", results), frozenset({2}))
    assert [block.index for block in shown.blocks] == [1, 2]  # the failure it may follow from, and it


def test_exitfirst_stops_the_whole_run_and_the_rest_is_not_run(tmp_path: Path) -> None:
    folder = course(tmp_path, alpha=ALPHA, beta=BETA)  # alpha, with more blocks, runs first
    run = check(folder, "-x", "alpha.md", "beta.md")
    assert run.returncode == 1
    assert problems(run) == ["alpha.md:12: slide 2: AssertionError: x is not 2"]
    assert "beta.md: stopped: 0 passed, 0 failed, 2 skipped (0.0 s)" in run.lines
    assert run.lines[-2] == "the run stopped at the failure at alpha.md:12 (--exitfirst): 3 blocks not run"
    assert run.last_line == "1 passed, 1 failed, 3 skipped"
    again = check(folder, "alpha.md", "beta.md")  # nothing of the stopped run was cached as passed
    assert again.last_line == "4 passed, 1 failed, 0 skipped"


def test_maxfail_stops_after_that_many_failures(tmp_path: Path) -> None:
    folder = course(tmp_path, alpha=ALPHA, gamma=GAMMA, delta=DELTA)  # they run in this order
    run = check(folder, "--maxfail", "2", "alpha.md", "gamma.md", "delta.md")
    assert problems(run) == [
        "alpha.md:12: slide 2: AssertionError: x is not 2",  # the deck goes on: one failure so far
        "gamma.md:8: slide 1: AssertionError: gamma",
    ]
    assert "delta.md: stopped: 0 passed, 0 failed, 1 skipped (0.0 s)" in run.lines
    assert "the run stopped after 2 failures (--maxfail 2): 1 block not run" in run.lines
    assert run.last_line == "3 passed, 2 failed, 1 skipped", run.stdout


def test_a_stopped_deck_is_never_published(tmp_path: Path) -> None:
    (tmp_path / "beta.md").write_text(BETA)
    deck = parse_text(tmp_path / "beta.md", BETA)
    why = f"{STOPPED} at the failure at alpha.md:12 (--exitfirst)"
    result = DeckResult(
        str(deck.path), tuple(BlockResult(b.index, b.line, b.slide, "skipped", why) for b in deck.blocks)
    )
    builder = Builder(BuildOptions(site=tmp_path / "site", formats=("ipynb",), check_fit=False), print)
    outcome = builder.build([deck], [result])
    assert outcome.published == [] and outcome.withheld == [(str(deck.path), why)]


def test_k_selects_by_deck_path_and_slide_title(tmp_path: Path) -> None:
    folder = course(tmp_path, alpha=ALPHA, beta=BETA)
    run = check(folder, "-k", "training and not loop", "alpha.md", "beta.md")
    assert run.lines[0] == "-k 'training and not loop': 1 of 5 blocks, in 1 of 2 decks"
    assert problems(run) == ["alpha.md:12: slide 2: AssertionError: x is not 2"]  # the block it needs
    assert run.last_line == "1 passed, 1 failed, 0 skipped"
    assert check(folder, "-k", "beta", "alpha.md", "beta.md").last_line == "2 passed, 0 failed, 0 skipped"
    none = check(folder, "-k", "nothing", "alpha.md", "beta.md")
    assert none.returncode == 5 and none.last_line == "0 passed, 0 failed, 0 skipped"  # pytest's 5
    wrong = check(folder, "-k", "alpha and", "alpha.md")
    assert wrong.returncode == 2 and "at column 10: expected not, left parenthesis or a name" in wrong.stderr


def test_last_failed_reruns_what_failed_and_everything_when_nothing_did(tmp_path: Path) -> None:
    folder = course(tmp_path, alpha=ALPHA, beta=BETA)
    everything = check(folder, "--lf", "alpha.md", "beta.md")
    assert everything.lines[0] == "--lf: nothing failed last time: checking everything"
    assert everything.last_line == "4 passed, 1 failed, 0 skipped"
    failed = check(folder, "--lf", "alpha.md", "beta.md")
    assert failed.lines[0] == "--lf: 1 of 5 blocks, in 1 of 2 decks"
    assert failed.last_line == "0 passed, 1 failed, 0 skipped"
    (folder / "alpha.md").write_text(ALPHA.replace("x == 2", "x == 1"))
    fixed = check(folder, "--lf", "alpha.md", "beta.md")
    assert fixed.last_line == "1 passed, 0 failed, 0 skipped"
    record = LastFailed(folder / ".cache" / "lastfailed.json")
    assert record.record == {}
    after = check(folder, "--lf", "alpha.md", "beta.md")
    assert after.lines[0] == "--lf: nothing failed last time: checking everything"


def test_durations_lists_the_slowest_blocks_before_the_counts(tmp_path: Path) -> None:
    slow = "# Slow\n\n```python\nimport time\n```\n\n---\n\n# Sleep\n\n```python\ntime.sleep(0.5)\n```\n"
    folder = course(tmp_path, alpha=ALPHA, slow=slow)
    run = check(folder, "--durations", "2", "alpha.md", "slow.md")
    at = run.lines.index("slowest 2 blocks:")
    assert re.fullmatch(r" +0\.[5-9]\d s  slow\.md:11: slide 2", run.lines[at + 1]), run.stdout
    assert re.fullmatch(r" +\d+\.\d\d s  \S+\.md:\d+: slide \d", run.lines[at + 2])
    assert run.lines[at + 3] == run.last_line == "4 passed, 1 failed, 0 skipped"
    cached = check(folder, "--durations", "0", "slow.md")
    assert cached.lines[-2:] == ["slowest blocks (1 cached deck not timed):", "2 passed, 0 failed, 0 skipped"]
