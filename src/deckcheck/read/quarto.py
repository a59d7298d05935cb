"""Quarto reveal.js decks: ```{python} cells whose leading `#|` lines are options.

Slides as reveal.js numbers them in Quarto: a title slide when the front matter has a `title`,
then a new slide at each heading of `slide-level` or above (2 unless the front matter's
`format.revealjs.slide-level` says otherwise) and at each `---`. Plain ```python fences are
shown, never run; `{{< ... >}}` shortcodes are prose, left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from markdown_it.token import Token

from deckcheck.deck import BlockOptions
from deckcheck.read.dialects import QUARTO_CELL, Cell, Layout

QUARTO_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")


def is_quarto_cell(info: str) -> bool:
    return QUARTO_CELL.match(info.strip()) is not None


def quarto_options(code: str) -> dict[str, str]:
    """The `#| key: value` lines at the top of a Quarto cell."""
    options = {}
    for line in code.splitlines():
        found = QUARTO_OPTION.match(line.strip())
        if found is None:
            break
        options[found.group(1)] = found.group(2).strip("'\"")
    return options


def quarto_block_options(code: str) -> BlockOptions:
    """A Quarto cell's `#|` options, as deckcheck's: `eval: false` is shown, never run;
    `include: false` hidden; `echo: false` shows the output without the code; `error: true`
    lets the cell raise; `fig-alt` is the figures' alt text; `tags: [parameters]` holds the
    deck's knobs. Other keys are Quarto's business."""
    found = quarto_options(code)
    tags: list[str] = []
    if found.get("eval") == "false":
        tags.append("skip-execution")
    if found.get("include") == "false":
        tags.append("remove-cell")
    elif found.get("echo") == "false":
        tags += ["remove-cell", "show-output"]
    if "parameters" in found.get("tags", "").strip("[]").replace(",", " ").split():
        tags.append("parameters")  # Quarto's papermill convention, `#| tags: [parameters]`
    return BlockOptions(
        tags=tuple(tags), alt=found.get("fig-alt") or None, errors_allowed=found.get("error") == "true"
    )


def slide_level(front_matter: Mapping[str, object]) -> int:
    formats = front_matter.get("format")
    revealjs = formats.get("revealjs") if isinstance(formats, dict) else None
    level = revealjs.get("slide-level") if isinstance(revealjs, dict) else None
    return level if isinstance(level, int) and 1 <= level <= 6 else 2


def quarto_layout(tokens: list[Token], front_matter: Mapping[str, object]) -> Layout:
    starts = heading_starts(tokens, slide_level(front_matter), "title" in front_matter)
    cells = tuple(
        Cell(
            line=token.map[0] + 1,
            end_line=token.map[1],
            code=token.content,
            info=token.info,
            options=quarto_block_options(token.content),
        )
        for token in tokens
        if token.type == "fence" and token.map and is_quarto_cell(token.info)
    )
    return Layout(tuple((line, str(number)) for number, line in enumerate(starts, 1)), cells)


def heading_starts(tokens: list[Token], level: int, title: bool) -> list[int]:
    """Where reveal.js starts a slide: after the title slide, at each `---`, and at each heading
    of `level` or above that is not already the first thing on its slide."""
    tags = {f"h{number}" for number in range(1, level + 1)}
    starts = [1]
    content = False  # something visible since the last slide break
    for token in tokens:
        span = token.map or [0, 1]
        if token.type == "heading_open" and token.tag in tags and content:
            starts.append(span[0] + 1)
            content = False
        if token.type == "front_matter" and title:
            starts.append(span[1] + 1)
        elif token.type == "hr" and token.level == 0:
            starts.append(span[1] + 1)
            content = False
        elif not token.hidden and token.type != "front_matter" and not token.type.endswith("_close"):
            content = True
    return starts
