"""Slide dialects: how a deck is split into slides and which fences are its Python blocks.

- marp (the default; the only dialect `build` publishes): marp_markdown.py;
- quarto (`.qmd`, or `format: revealjs` in the front matter): ```{python} cells whose `#|`
  lines are options; slides as reveal.js numbers them in Quarto: a title slide when the front
  matter has a `title`, then a new slide at each heading of `slide-level` or above (2 unless
  the front matter's `format.revealjs.slide-level` says otherwise) and at each `---`.

`deckcheck: {dialect: NAME}` in the deck's settings chooses one. A deck in one dialect whose
fences are another's blocks is an error naming the first such fence, never a quiet "ok"
having run nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from markdown_it.token import Token

DIALECTS = ("marp", "quarto")
QUARTO_CELL = re.compile(r"^\{(python|ipython3?)(?:[\s,}]|$)")
FOREIGN_CELLS = (  # a fence's info → the tool whose code cell it is, and the dialect that reads it
    (QUARTO_CELL, "a Quarto cell", "quarto"),
    (re.compile(r"^\{(code-cell|jupyter-execute)\}"), "a MyST code cell", ""),
    (re.compile(r"^(python|py|python3)\s*\{[^}]*\}"), "a Slidev block (its {…} attributes)", ""),
)
QUARTO_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")


def dialect_of(path: Path, front_matter: Mapping[str, object], chosen: str) -> str:
    """The deck's dialect: its settings' choice, else what its file name or front matter say."""
    if chosen:
        return chosen
    formats = front_matter.get("format")
    if path.suffix == ".qmd" or "revealjs" in (formats if isinstance(formats, dict) else [str(formats)]):
        return "quarto"
    return "marp"


def foreign_cell(info: str, dialect: str) -> str | None:
    """What a fence that this dialect does not run looks like, if it looks like Python code."""
    for pattern, what, reader in FOREIGN_CELLS:
        if pattern.match(info.strip()) and reader != dialect:
            where = f"set `deckcheck: {{dialect: {reader}}}`" if reader else "deckcheck does not read it yet"
            return f"```{info.strip()} is {what}, and this deck is read as {dialect}: {where}"
    return None


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


def quarto_slide_level(front_matter: Mapping[str, object]) -> int:
    formats = front_matter.get("format")
    revealjs = formats.get("revealjs") if isinstance(formats, dict) else None
    level = revealjs.get("slide-level") if isinstance(revealjs, dict) else None
    return level if isinstance(level, int) and 1 <= level <= 6 else 2


def quarto_rulers(tokens: list[Token], level: int, title: bool) -> list[Token]:
    """Hidden rulers where reveal.js starts a slide: after the title slide, and before each
    heading of `level` or above that is not already the first thing on its slide."""
    tags = {f"h{number}" for number in range(1, level + 1)}
    result: list[Token] = []
    content = False  # something visible since the last slide break
    for token in tokens:
        if token.type == "heading_open" and token.tag in tags and content:
            result.append(_ruler(token.map, heading=True))
            content = False
        result.append(token)
        if token.type == "front_matter" and title:
            result.append(_ruler(token.map, heading=False))
        elif token.type == "hr" and token.level == 0:
            content = False
        elif not token.hidden and token.type != "front_matter":
            content = True
    return result


def _ruler(span: list[int] | None, heading: bool) -> Token:
    ruler = Token("hr", "", 0)
    ruler.hidden = True
    ruler.map = span
    ruler.meta = {"heading_divider": heading}
    return ruler
