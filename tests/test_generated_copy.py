"""The generated copy that Marp renders: hidden blocks gone, outputs and figures present."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from deckcheck.publish.generated_copy import RenderError, generated_copy
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult, Figure

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake figure").decode()


def result_for(deck, **outputs) -> DeckResult:
    blocks = []
    for block in deck.blocks:
        output, figures = outputs.get(f"b{block.index}", ("", ()))
        blocks.append(
            BlockResult(block.index, block.line, block.slide, "passed", output=output, figures=figures)
        )
    return DeckResult(str(deck.path), tuple(blocks))


def test_remove_cell_blocks_vanish_and_options_are_stripped(tmp_path: Path) -> None:
    text = (
        '# A\n\n```python tags=["remove-cell"]\nsecret = 1\n```\n\n'
        '```python tags=["skip-execution"] timeout=5\nshown = 2\n```\n\n---\n\n## B\n'
    )
    deck = parse_text(tmp_path / "d.md", text)
    copy = generated_copy(deck, result_for(deck), "d")
    assert "secret" not in copy.markdown
    assert "```python\nshown = 2\n```" in copy.markdown
    assert "tags=" not in copy.markdown and "timeout=" not in copy.markdown
    assert copy.slides == 2


def test_show_output_adds_text_and_figures_under_the_code(tmp_path: Path) -> None:
    text = '# A\n\n```python tags=["show-output"]\nprint("hi")\n```\n\nAfter.\n'
    deck = parse_text(tmp_path / "d.md", text)
    copy = generated_copy(deck, result_for(deck, b0=("hi\n" * 30, (Figure(PNG, "the loss [falling]"),))), "d")
    lines = copy.markdown.splitlines()
    closing = lines.index("```", 3)
    assert lines[closing + 2] == "```output"
    assert lines[closing + 3 : closing + 5] == ["hi", "hi"]
    assert "… 20 more lines" in copy.markdown  # trimmed to fit the slide
    figure = next(asset for asset in copy.assets if asset.name.endswith("-figure.png"))
    assert (
        f'<p class="figures"><img class="figure" src="{figure.name}" alt="the loss [falling]"></p>'
        in copy.markdown
    )
    assert figure.data.startswith(b"\x89PNG")
    assert copy.markdown.rstrip().endswith("After.")


def test_output_inside_a_list_item_stays_in_the_item(tmp_path: Path) -> None:
    text = '- step\n\n  ```python tags=["show-output"]\n  print(1)\n  ```\n'
    deck = parse_text(tmp_path / "d.md", text)
    copy = generated_copy(deck, result_for(deck, b0=("1\n", ())), "d")
    assert "  ```output\n  1\n  ```" in copy.markdown


def test_images_are_renamed_into_content_addressed_assets(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "graph.png").write_bytes(b"graph bytes")
    deck = parse_text(tmp_path / "d.md", "# A\n\n![w:300](images/graph.png)\n")
    copy = generated_copy(deck, result_for(deck), "d")
    (asset,) = copy.assets
    assert asset.name.startswith("assets/") and asset.name.endswith("-graph.png")
    assert f"![w:300]({asset.name})" in copy.markdown
    assert asset.data == b"graph bytes"


def test_a_copy_that_would_change_the_slides_is_refused(tmp_path: Path) -> None:
    # With a heading divider, a hidden first block decides whether the heading opens slide 2.
    text = '---\nheadingDivider: 1\n---\n\n```python tags=["remove-cell"]\nx = 1\n```\n\n# Title\n'
    deck = parse_text(tmp_path / "d.md", text)
    assert len(deck.slides) == 2
    with pytest.raises(RenderError, match="1 slides instead of 2"):
        generated_copy(deck, result_for(deck), "d")


def test_a_hidden_block_that_shows_output_leaves_only_its_output(tmp_path: Path) -> None:
    text = '# A\n\n```python tags=["remove-cell", "show-output"]\nprint("plotted")\n```\n\nAfter.\n'
    deck = parse_text(tmp_path / "d.md", text)
    copy = generated_copy(deck, result_for(deck, b0=("plotted\n", (Figure(PNG, "a curve"),))), "d")
    assert 'print("plotted")' not in copy.markdown
    assert "```output\nplotted\n```" in copy.markdown
    assert 'alt="a curve"' in copy.markdown
    assert copy.slides == 1


def test_a_settings_comment_is_not_left_to_become_a_speaker_note(tmp_path: Path) -> None:
    text = "<!--\ndeckcheck:\n  setup: import os\n-->\n\n# A\n\n<!-- a real note -->\n"
    deck = parse_text(tmp_path / "d.md", text)
    copy = generated_copy(deck, result_for(deck), "d")
    assert "deckcheck" not in copy.markdown and "setup" not in copy.markdown
    assert "<!-- a real note -->" in copy.markdown and copy.slides == 1
