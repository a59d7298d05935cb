"""Slidev decks: slides split as @slidev/parser splits them, ```python blocks with Slidev's
attributes ignored, ````md magic-move blocks read as the code they end on.

A line starting `---` ends a slide (outside code fences and HTML comments); when the next line
is not blank, the lines up to the next `---` are that slide's front matter, so `---`, YAML,
`---` is one separator. Slides are numbered 1, 2, ... in file order (a slide with `hide: true`
is counted too, as the parser counts it). In a fence's info string, Slidev's `{1|3-4}`,
`{lines:true}` and `[file.py]` are ignored; what follows may be deckcheck's own `key=value`
options, and anything else there is ignored with one warning per deck. Components and
`<v-click>` are HTML to deckcheck: the fences between them are read as any other.

A magic-move block animates from one code step to the next and stays on the last one: the last
```python step is the block that runs, the earlier ones (intermediate states that the
animation replaces) are shown and skipped.
"""

from __future__ import annotations

import re

from markdown_it.token import Token

from deckcheck.deck import BlockOptions
from deckcheck.read.dialects import Cell, Layout
from deckcheck.read.fences import OptionError, is_block, parse_options

ATTRIBUTES = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
LEADING_BACKTICKS = re.compile(r"^\s*`+")
INNER_FENCE = re.compile(r"^(\s*)(`{3,})\s*(.*)$")


def slide_starts(lines: list[str]) -> list[int]:
    """The 0-based line where each slide starts, as @slidev/parser's parse() finds them."""
    starts: list[int] = []
    start, index, in_comment = 0, 0, False

    def cut(end: int) -> None:
        nonlocal start
        if start != end:
            starts.append(start)
        start = end + 1

    while index < len(lines):
        raw = lines[index]
        line = raw.rstrip()
        if in_comment:
            in_comment = _in_comment(raw, True)
        elif line.startswith("---"):
            cut(index)
            following = lines[index + 1] if index + 1 < len(lines) else None
            if line[3:4] != "-" and following is not None and following.strip():
                start = index
                index += 1
                while index < len(lines) and lines[index].rstrip() != "---":
                    index += 1
        elif line.lstrip().startswith("```"):
            level = LEADING_BACKTICKS.match(line)
            close = index + 1
            while close < len(lines) and not lines[close].startswith(level.group(0) if level else "```"):
                close += 1
            if close != len(lines):
                index = close
        else:
            in_comment = _in_comment(raw, False)
        index += 1
    if start <= len(lines) - 1:
        cut(len(lines))
    return starts


def _in_comment(line: str, inside: bool) -> bool:
    cursor = 0
    while cursor < len(line):
        if inside:
            end = line.find("-->", cursor)
            if end < 0:
                return True
            inside, cursor = False, end + 3
        else:
            begin = line.find("<!--", cursor)
            if begin < 0:
                return False
            end = line.find("-->", begin + 4)
            if end < 0:
                return True
            cursor = end + 3
    return inside


def slidev_layout(tokens: list[Token], lines: list[str]) -> Layout:
    starts = tuple((start + 1, str(number)) for number, start in enumerate(slide_starts(lines), 1))
    cells: list[Cell] = []
    ignored: tuple[int, str] | None = None
    for token in tokens:
        if token.type != "fence" or not token.map:
            continue
        if token.info.strip().startswith("md magic-move"):
            cells += _magic_move(token)
        elif is_block(token.info.split("{")[0].split("[")[0], token.content):
            cell, unknown = _block(token)
            cells.append(cell)
            ignored = ignored or unknown
    return Layout(starts or ((1, "1"),), tuple(cells), ignored)


def _block(token: Token) -> tuple[Cell, tuple[int, str] | None]:
    line = (token.map or [0])[0] + 1
    words = ATTRIBUTES.sub(" ", token.info).split(maxsplit=1)
    rest = words[1] if len(words) > 1 else ""
    try:
        options = parse_options(f"python {rest}")
        unknown = None
    except OptionError:
        options, unknown = BlockOptions(), (line, f"attributes {rest.strip()!r}")
    cell = Cell(
        line=line, end_line=(token.map or [0, 1])[1], code=token.content, info=token.info, options=options
    )
    return cell, unknown


def _magic_move(token: Token) -> list[Cell]:
    """The ```python steps inside a magic-move block; all but the last are skipped."""
    first = (token.map or [0])[0] + 2  # the 1-based line of the content's first line
    content = token.content.split("\n")
    steps: list[Cell] = []
    index = 0
    while index < len(content):
        found = INNER_FENCE.match(content[index])
        if not found:
            index += 1
            continue
        close = next(
            (n for n in range(index + 1, len(content)) if content[n].strip().startswith(found.group(2))),
            len(content),
        )
        info = found.group(3)
        code = "\n".join(content[index + 1 : close]) + "\n"
        if is_block(ATTRIBUTES.sub(" ", info), code):
            steps.append(Cell(line=first + index, end_line=first + close, code=code, info=info))
        index = close + 1
    skipped = BlockOptions(tags=("skip-execution",))
    return [Cell(c.line, c.end_line, c.code, c.info, skipped) for c in steps[:-1]] + steps[-1:]
