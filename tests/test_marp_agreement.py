"""Slide numbers agree with the pinned marp-cli's own rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
from marp_reference import MARKER, marker_slides, render_html, slides_of
from random_decks import random_decks

from deckcheck.read.parser import parse_text

FIXED = {
    "rulers": "# One\n\n---\n\n# Two\n\n***\n\n# Three\n\n___\n\n- - -\n\n* * *\n\n_ _ _\n",
    "setext": "Title\n---\n\n```python\nm1z = 1\n```\n\n---\n\n```python\nm2z = 2\n```\n",
    "fence_hides_ruler": "```python\nm1z = 1\n---\n```\n\n---\n\n```py\nm2z = 2\n```\n",
    "html_hides_ruler": "<div>\n---\n</div>\n\n```python\nm1z = 1\n```\n",
    "comment_hides_ruler": "<!--\n---\n-->\n\n```python\nm1z = 1\n```\n",
    "indented_code": "    ---\n\n```python\nm1z = 1\n```\n\n---\n\n```python\nm2z = 2\n```\n",
    "front_heading_divider": "---\nheadingDivider: 2\n---\n\n# A\n\n```python\nm1z = 1\n```\n\n"
    "## B\n\n```python\nm2z = 2\n```\n\n### C\n\n```python\nm3z = 3\n```\n",
    "comment_heading_divider": "# A\n\n```python\nm1z = 1\n```\n\n# B\n\n```python\nm2z = 2\n```\n\n"
    "<!-- headingDivider: 1 -->\n",
    "list_heading_divider": "<!-- headingDivider: [1, 3] -->\n\n# A\n\n## B\n\n```python\nm1z = 1\n```\n\n"
    "### C\n\n```python\nm2z = 2\n```\n",
    "unclosed_front_matter": "---\ntitle: x\n\n# A\n\n---\n\n```python\nm1z = 1\n```\n",
    "dots_front_matter": "---\nmarp: true\n...\n\n# A\n\n---\n\n```python\nm1z = 1\n```\n",
    "crlf": "# A\r\n\r\n---\r\n\r\n```python\r\nm1z = 1\r\n```\r\n",
    "math_hides_ruler": "$$\nx\n---\n$$\n\n```python\nm1z = 1\n```\n",
    "paragraph_then_comment": "Text\n<!-- headingDivider: 1 -->\n\n# A\n\n# B\n\n```python\nm1z = 1\n```\n",
    "heading_in_quote": "<!-- headingDivider: 1 -->\n\nText\n\n> # Quoted\n\n```python\nm1z = 1\n```\n",
    "ruler_in_quote_and_list": "> ---\n\n- ---\n\n- a\n\n  ---\n\n```python\nm1z = 1\n```\n",
    "empty": "",
    "only_front_matter": "---\nmarp: true\n---\n",
}

RANDOM_COUNT = 120


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    decks = {**{f"fixed_{name}": text for name, text in FIXED.items()}, **random_decks(2024, RANDOM_COUNT)}
    return decks, render_html(decks, tmp_path_factory.mktemp("marp"))


def _ours(text: str) -> tuple[int, dict[int, int]]:
    deck = parse_text(Path("deck.md"), text)
    markers = {int(m): block.slide for block in deck.blocks for m in MARKER.findall(block.code)}
    return len(deck.slides), markers


def _marps(html: str) -> tuple[int, dict[int, int]]:
    return len(slides_of(html)), marker_slides(html)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_decks_number_slides_as_marp_does(name: str, rendered) -> None:
    decks, html = rendered
    key = f"fixed_{name}"
    assert _ours(decks[key]) == _marps(html[key]), decks[key]


def test_random_decks_number_slides_as_marp_does(rendered) -> None:
    decks, html = rendered
    names = [name for name in decks if name.startswith("deck")]
    assert len(names) == RANDOM_COUNT
    disagreements = [name for name in names if _ours(decks[name]) != _marps(html[name])]
    assert disagreements == [], "\n\n".join(decks[name] for name in disagreements[:3])


def test_the_random_decks_exercise_every_kind_of_split(rendered) -> None:
    """The comparison above only means something if the decks really vary."""
    decks, html = rendered
    counts = [_marps(html[name])[0] for name in decks if name.startswith("deck")]
    assert max(counts) >= 6 and min(counts) == 1
    assert sum("headingDivider" in text for text in decks.values()) >= 20
    assert sum(bool(_marps(html[name])[1]) for name in decks) >= 60
