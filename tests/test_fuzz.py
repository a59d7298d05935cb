"""Property tests over garbage: the parser never raises, whatever it is fed.

300 examples each in `make test` (the "bounded" profile, see conftest.py); `make fuzz` runs
them with the "long" profile, 20,000 examples each.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from deckcheck.read.fences import OptionError, parse_options
from deckcheck.read.parser import parse_deck, parse_text

markdown_pieces = st.sampled_from(
    ["---", "***", "___", "- - -", "```python", "```", "~~~", "````py", "# H", "## H", "> ", "- ", "1. ",
     "<!--", "-->", "<div>", "</div>", "$$", "<style>", "headingDivider: 2", "<!-- headingDivider: [1, 2] -->",
     'tags=["show-output"]', "timeout=1", "![x](y.png)", "    ", "\t", "\r\n", "\x00", "\ufeff", "é", "...", ":"]
)  # fmt: skip
markdown = st.lists(st.one_of(markdown_pieces, st.text(max_size=20)), max_size=60).map(
    lambda parts: "\n".join(parts)
)


def _consistent(deck) -> None:
    assert deck.slides and [s.number for s in deck.slides] == list(range(1, len(deck.slides) + 1))
    lines = len(deck.lines)
    for block in deck.blocks:
        assert 1 <= block.slide <= len(deck.slides) and 1 <= block.line <= lines
    for problem in deck.problems:
        assert 1 <= problem.slide <= len(deck.slides) and problem.line >= 1


@given(markdown)
def test_any_markdown_like_text_parses(text: str) -> None:
    _consistent(parse_text(Path("deck.md"), text))


@given(st.binary(max_size=2000))
def test_any_bytes_parse(data: bytes) -> None:
    _consistent(parse_deck(Path("deck.md"), data))


@given(st.text(max_size=300))
def test_any_front_matter_parses(body: str) -> None:
    _consistent(parse_text(Path("deck.md"), f"---\n{body}\n---\n# A\n\n```python\nx = 1\n```\n"))


@given(st.text(max_size=120))
def test_any_fence_info_is_options_or_a_clear_error(info: str) -> None:
    try:
        parse_options(f"python {info}")
    except OptionError as error:
        assert str(error) and "\n" not in str(error)
