"""Alt text: what Marp keeps of it, which alt texts say nothing, and where the build says so."""

from __future__ import annotations

from pathlib import Path

from deckcheck.publish.accessibility import alt_text_findings
from deckcheck.read.alt_text import marp_alt, says_nothing
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult, Figure


def test_marp_keywords_leave_the_alt_text_as_marp_renders_it() -> None:
    assert marp_alt("w:300 A line rising to the right") == "A line rising to the right"
    assert marp_alt("width:20em sepia grayscale:1 50%") == ""
    assert marp_alt("bg right:40% contain A photo") == "A photo"
    assert marp_alt("w:abc left") == "w:abc left"  # not sizes, and not a background


def test_empty_generic_and_file_name_alt_texts_say_nothing() -> None:
    for alt in ("", "  ", "Figure", "image", "graph.png", "graph", "figure 2 drawn by the code on slide 3"):
        assert says_nothing(alt, "../images/graph.png"), alt
    assert not says_nothing("The graph autograd records", "../images/graph.png")


def test_images_and_figures_without_alt_text_are_found_at_their_lines(tmp_path: Path) -> None:
    text = (
        "# Images\n\n![w:200](a.png)\n\n![w:200 A described image](b.png)\n\n"
        '<img src="c.png">\n\n<img src="d.png" alt="image">\n\n![bg](e.png)\n\n'
        '```python tags=["show-output"]\nplot()\n```\n\n```python tags=["show-output"] alt="A curve"\nplot()\n```\n'
    )
    deck = parse_text(tmp_path / "d.md", text)
    undescribed = Figure("", "figure 1 drawn by the code on slide 1")
    blocks = tuple(
        BlockResult(block.index, block.line, 1, "passed", figures=(figure,))
        for block, figure in zip(deck.blocks, (undescribed, Figure("", "A curve")), strict=True)
    )
    found = alt_text_findings(deck, DeckResult(str(deck.path), blocks))
    assert [(f.line, f.summary) for f in found] == [
        (3, "image without alt text: a.png"),
        (7, "image without alt text: c.png"),
        (9, "image without alt text: d.png"),
        (13, "figure without alt text"),
    ]
    assert found[0].detail == "say what it shows: ![w:200 what it shows](a.png)"
