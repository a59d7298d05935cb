"""Inline values: `` `{python} expr` `` or `` `{python} expr:spec` `` in a deck's prose or speaker
notes (Quarto's inline syntax, with a format spec as in an f-string). Each is evaluated in the
deck's kernel where it stands: after the blocks above it, before the blocks below.

Found in the deck's text outside code (fences, indented code, the front matter), so the same
syntax inside a fence that shows it stays as written.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence

from deckcheck.deck import Block, Deck, InlineExpr, Problem, source_lines_with_ends
from deckcheck.results import InlineValue

INLINE = re.compile(r"(?<!`)`\{python\}[ \t]+(?P<body>[^`\r\n]*?)[ \t]*`(?!`)")
COMMENT = re.compile(r"<!--[\s\S]*?(?:-->|\Z)")
MAX_COLONS = 8  # a format spec's colon is among a body's last few


def split_spec(body: str) -> tuple[str, str]:
    """The expression and its format spec: `acc:.1%` → ("acc", ".1%"); `x[1:2]` is all expression.
    A body that is no expression either way is kept whole (the kernel reports its SyntaxError)."""
    if _compiles(body):
        return body.strip(), ""
    colons = [i for i, char in enumerate(body) if char == ":"]
    for index in reversed(colons[-MAX_COLONS:]):
        if _compiles(body[:index]):
            return body[:index].strip(), body[index + 1 :]
    return body.strip(), ""


def _compiles(text: str) -> bool:
    if not text.strip():
        return False
    try:
        compile(text.strip(), "<inline value>", "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def find_inline(
    text: str, code_lines: Iterable[int], slide_at: Callable[[int], int], blocks: Sequence[Block]
) -> tuple[InlineExpr, ...]:
    """Every inline value of a deck's text; `code_lines`: 0-based lines that are code, not prose."""
    if "{python}" not in text:
        return ()
    lines = source_lines_with_ends(text)
    skipped = set(code_lines)
    kept = [line[len(line.rstrip("\r\n")) :] if i in skipped else line for i, line in enumerate(lines)]
    prose = "".join(kept)
    starts = [0]
    for line in kept:
        starts.append(starts[-1] + len(line))
    comments = [(match.start(), match.end()) for match in COMMENT.finditer(prose)]
    block_lines = [block.line for block in blocks]
    found = []
    for match in INLINE.finditer(prose):
        index = bisect.bisect_right(starts, match.start()) - 1
        expr, spec = split_spec(match["body"])
        found.append(
            InlineExpr(
                line=index + 1,
                slide=slide_at(index + 1),
                column=match.start() - starts[index],
                source=match.group(0),
                expr=expr,
                spec=spec,
                note=any(start <= match.start() < end for start, end in comments),
                before=bisect.bisect_right(block_lines, index + 1),
            )
        )
    return tuple(found)


def value_problems(deck: Deck, values: Sequence[InlineValue]) -> tuple[Problem, ...]:
    """An inline value whose evaluation failed: a problem at its line and slide."""
    return tuple(
        Problem(expr.line, expr.slide, f"{value.error} (in the inline value {expr.source})", fatal=False)
        for expr, value in zip(deck.inline, values, strict=False)
        if value.error
    )
