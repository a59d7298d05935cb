"""reveal.js Markdown decks: a line `---` starts the next slide, a line `--` the next slide of a
vertical stack (the separators of reveal.js's documentation, `data-separator="^\\n---\\n$"`
and `data-separator-vertical="^\\n--\\n$"` without their blank lines).

As reveal.js's Markdown plugin, the separators are found in the raw text, before Markdown is
read (a front matter, which reveal-md strips first, aside). Slides are numbered as reveal.js
shows them: `h` for a slide alone, `h.v` for each slide of a vertical stack (`slide 3.2`).
Blocks are ```python fences; reveal.js's `[1|3-4]` line highlights and `{...}` attributes are
ignored, deckcheck's own `key=value` options read, anything else ignored with one warning.
"""

from __future__ import annotations

from markdown_it.token import Token

from deckcheck.deck import BlockOptions
from deckcheck.read.dialects import Cell, Layout
from deckcheck.read.fences import OptionError, is_block, parse_options
from deckcheck.read.notebooks import rise_labels
from deckcheck.read.slidev import ATTRIBUTES

SEPARATORS = {"---": "slide", "--": "subslide"}


def revealjs_layout(tokens: list[Token], lines: list[str]) -> Layout:
    after = tokens[0].map[1] if tokens and tokens[0].type == "front_matter" and tokens[0].map else 0
    kinds = [(1, "slide")] + [
        (number + 2, SEPARATORS[line])
        for number, line in enumerate(lines[after:], after)
        if line in SEPARATORS and number > 0
    ]
    cells: list[Cell] = []
    ignored: tuple[int, str] | None = None
    for token in tokens:
        if token.type == "fence" and token.map and is_block(ATTRIBUTES.sub(" ", token.info), token.content):
            line = token.map[0] + 1
            words = ATTRIBUTES.sub(" ", token.info).split(maxsplit=1)
            rest = words[1] if len(words) > 1 else ""
            try:
                options = parse_options(f"python {rest}")
            except OptionError:
                options = BlockOptions()
                ignored = ignored or (line, f"attributes {rest.strip()!r}")
            cells.append(Cell(line, token.map[1], token.content, token.info, options))
    return Layout(rise_labels(kinds), tuple(cells), ignored)
