"""Inline values: `{python} expr:spec` in prose and speaker notes, computed where they stand and
shown in every published format; an error is reported at its line and slide."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURES, ROOT, deckcheck
from pypdf import PdfReader
from test_checkpoints import Serving

from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.publish.marp import browser_path
from deckcheck.read.inline_values import split_spec
from deckcheck.read.parser import parse_text, read_deck

INLINE = FIXTURES / "inline"


def test_values_are_found_in_prose_and_notes_never_in_code() -> None:
    text = (
        "---\nmarp: true\n---\n\n# A\n\nReaches `{python} acc:.1%` and `{python} x[1:2]`.\n\n"
        "```python\nacc = 1\n```\n\n---\n\n<!-- say `{python} acc` -->\n\n"
        "```markdown\n`{python} shown_as_written`\n```\n\n    `{python} indented_code`\n\n"
        "``{python} a code span``\n"
    )
    found = parse_text(Path("deck.md"), text).inline
    assert [(e.line, e.slide, e.expr, e.spec, e.note, e.before) for e in found] == [
        (7, 1, "acc", ".1%", False, 0),
        (7, 1, "x[1:2]", "", False, 0),
        (15, 2, "acc", "", True, 1),
    ]
    assert text.splitlines()[6][found[0].column :].startswith("`{python} acc:.1%`")


@pytest.mark.parametrize(
    ("body", "split"),
    [
        ("acc:.1%", ("acc", ".1%")),
        ("losses[0]:.2f", ("losses[0]", ".2f")),
        ("x[1:2]", ("x[1:2]", "")),
        ("{'a': 1}['a']", ("{'a': 1}['a']", "")),
        ("d['a:b']:>8", ("d['a:b']", ">8")),
        ("1 +", ("1 +", "")),  # no expression: the kernel says why
    ],
)
def test_a_format_spec_follows_the_last_colon_outside_the_expression(body: str, split: tuple) -> None:
    assert split_spec(body) == split


def test_an_error_in_an_inline_value_is_reported_at_its_line_and_slide(tmp_path: Path) -> None:
    run = deckcheck("check", "tests/fixtures/inline/broken.md", cwd=ROOT, cache=tmp_path / "cache")
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        "tests/fixtures/inline/broken.md:16: slide 2: NameError: name 'accuracy' is not defined "
        "(in the inline value `{python} accuracy:.1%`)"
    ) in run.lines
    again = deckcheck("check", "tests/fixtures/inline/broken.md", cwd=ROOT, cache=tmp_path / "cache")
    assert again.returncode == 1 and run.lines[0] in again.lines  # never hidden by the cache


@pytest.mark.skipif(browser_path() is None, reason="needs Chromium (make installs it)")
def test_values_show_in_the_html_handout_and_notebook(tmp_path: Path) -> None:
    shutil.copytree(INLINE, tmp_path / "decks")
    (tmp_path / "decks" / "broken.md").unlink()
    site = tmp_path / "site"
    run = deckcheck(
        "build", str(tmp_path / "decks"), "--site", str(site), "--formats", "html,handout,ipynb",
        cwd=ROOT, cache=tmp_path / "cache", timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    (html,) = site.glob("*values.html")
    page = html.read_text()
    assert "The network reaches 98.9%; the loss falls from 2.30 to 0.24." in page
    assert "Now it is 0.5, over 2 epochs; shown as code: <code>{python} acc</code>." in page
    assert "Say it: 98.9% of the test set." in page  # the speaker note
    (handout,) = site.glob("*values-handout.pdf")
    text = " ".join("".join(p.extract_text() for p in PdfReader(handout).pages).split())
    assert "The network reaches 98.9%; the loss falls from 2.30 to 0.24." in text
    assert "Say it: 98.9% of the test set." in text and "Now it is 0.5" in text
    (notebook,) = site.glob("*values.ipynb")
    prose = "\n".join(c.source for c in nbformat.read(notebook, 4).cells if c.cell_type == "markdown")
    assert "The network reaches 98.9%; the loss falls from 2.30 to 0.24." in prose
    assert "{python}" not in prose.replace("``{python} acc``", "")


def test_an_edited_value_resumes_from_the_block_above_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DECKCHECK_CACHE", str(tmp_path / "cache"))
    deck = tmp_path / "deck.md"
    text = (
        "# One\n\n```python\nn = 1\n```\n\nSee `{python} n`.\n\n---\n\n```python\nn = 2\n```\n\n"
        "Then `{python} n * 10`.\n\n---\n\n```python\nn = 3\n```\n\nLast `{python} n`.\n"
    )
    deck.write_text(text)
    serving = Serving()
    try:
        first = serving.check(deck)
        assert [v.text for v in first.values] == ["1", "20", "3"]
        deck.write_text(text.replace("`{python} n * 10`", "`{python} n * 100`"))
        second = serving.check(deck)
        assert second.resumed_from == 3, second  # from the block below the value
        assert [v.text for v in second.values] == ["1", "200", "3"]
    finally:
        serving.close()


def test_quarto_decks_read_inline_values_the_same_way(tmp_path: Path, monkeypatch) -> None:
    deck = tmp_path / "deck.qmd"
    deck.write_text(
        '---\ntitle: "Q"\nformat: revealjs\n---\n\n## One\n\n```{python}\nacc = 0.98912\n```\n\n'
        "It reaches `{python} acc:.1%`; ```{python} shown``` is not one.\n\n## Two\n\n`{python} acc * 2:.2f`\n"
    )
    monkeypatch.setenv("DECKCHECK_CACHE", str(tmp_path / "cache"))
    (result,) = asyncio.run(Checker(CheckOptions(use_cache=False, jobs=1)).check([read_deck(deck)]))
    assert [value.text for value in result.values] == ["98.9%", "1.98"] and result.ok
    found = parse_text(deck, deck.read_text()).inline
    assert [(e.line, e.slide, e.expr, e.spec, e.before) for e in found] == [
        (12, 2, "acc", ".1%", 1),
        (16, 3, "acc * 2", ".2f", 1),
    ]
