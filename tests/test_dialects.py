"""Decks in other dialects: run at their own slide numbers, or an error, never "ok" for nothing.

The Quarto fixture's slide numbers follow Quarto's reveal.js documentation (checked by hand:
Quarto does not install offline): a title slide from the front matter's `title`, a new slide
at each `#` and `##` heading and at each `---`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, deckcheck

from deckcheck.check.cache import deck_key
from deckcheck.read.parser import parse_text, read_deck

DIALECTS = FIXTURES / "dialects"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    shutil.copytree(DIALECTS, tmp_path / "decks")
    return tmp_path / "decks"


def test_a_quarto_deck_runs_its_cells_at_quarto_slide_numbers(course: Path) -> None:
    deck = read_deck(course / "tensors.qmd")
    assert [(block.line, block.slide) for block in deck.blocks] == [(8, 2), (24, 4), (29, 4), (38, 6)]
    assert deck.blocks[1].options.skip_execution and deck.blocks[2].options.errors_allowed
    run = deckcheck("check", "tensors.qmd", cwd=course, cache=course / "cache")
    assert run.lines[0] == "tensors.qmd:41: slide 6: ZeroDivisionError: division by zero", run.stdout
    assert run.last_line == "2 passed, 1 failed, 1 skipped"


def test_a_markdown_file_with_format_revealjs_is_read_as_quarto(course: Path) -> None:
    (course / "tensors.md").write_text((course / "tensors.qmd").read_text())
    deck = read_deck(course / "tensors.md")
    assert [(block.line, block.slide) for block in deck.blocks] == [(8, 2), (24, 4), (29, 4), (38, 6)]


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("quarto-in-md.md", 3, "```{python} is a Quarto cell, and this deck is read as marp: set `deckcheck: {dialect: quarto}`"),
        ("myst.md", 11, "```{code-cell} ipython3 is a MyST code cell, and this deck is read as marp: deckcheck does not read it yet"),
        ("slidev.md", 7, "```python {all|1|2} is a Slidev block (its {…} attributes), and this deck is read as marp: deckcheck does not read it yet"),
    ],
)  # fmt: skip
def test_a_deck_whose_python_fences_are_not_read_is_an_error_never_ok(
    course: Path, name: str, line: int, message: str
) -> None:
    run = deckcheck("check", name, cwd=course, cache=course / "cache")
    assert run.returncode == 1
    assert run.lines[0] == f"{name}:{line}: slide 1: {message}", run.stdout


def test_the_dialect_setting_chooses_quarto(course: Path) -> None:
    text = "---\ndeckcheck:\n  dialect: quarto\n---\n\n## One\n\n```{python}\n1 / 0\n```\n"
    (course / "chosen.md").write_text(text)
    run = deckcheck("check", "chosen.md", cwd=course, cache=course / "cache")
    assert run.lines[0] == "chosen.md:9: slide 1: ZeroDivisionError: division by zero", run.stdout


def test_two_decks_without_blocks_never_share_a_result(tmp_path: Path) -> None:
    one = parse_text(tmp_path / "a.md", "# A\n\nWords.\n")
    other = parse_text(tmp_path / "b.md", "# B\n\nOther words.\n")
    same_text_elsewhere = parse_text(tmp_path / "c.md", "# A\n\nWords.\n")
    keys = {deck_key(deck, {}, {}) for deck in (one, other, same_text_elsewhere)}
    assert len(keys) == 3
