"""A markdown-it-py parser that splits a deck into slides exactly as Marp does.

Marp (marp-core on Marpit) parses with markdown-it's CommonMark preset plus tables and
strikethrough, HTML enabled, and a few block rules of its own. Those rules change which
lines are rulers, so they are ported here from the pinned marp-cli's sources:
markdown-it-front-matter 0.2.4, Marpit's comment and style rules, marp-core's `$$` block.
"""

from __future__ import annotations

import re
from typing import Literal

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

COMMENT = re.compile(r"<!--+\s*([\s\S]*?)\s*--+>")
COMMENT_OPENING = re.compile(r"^<!--")
COMMENT_CLOSING = re.compile(r"-->")
STYLE_OPENING = re.compile(r"^<style(?=(\s|>|$))", re.IGNORECASE)
STYLE_CLOSING = re.compile(r"</style>", re.IGNORECASE)

# Marpit's built-in directives and those marp-core and marp-cli add: the keys that
# Marp's "loose YAML" quotes before parsing a comment or the front matter.
DIRECTIVE_KEYS = (
    "headingDivider", "style", "theme", "lang", "backgroundColor", "backgroundImage",
    "backgroundPosition", "backgroundRepeat", "backgroundSize", "class", "color", "footer",
    "header", "paginate", "math", "size", "author", "description", "image", "keywords",
    "title", "url", "transition",
)  # fmt: skip
YAML_SPECIAL = "[\"'{|>~&*"


def _js_trim(text: str) -> str:
    return text.strip(" \t\n\r\f\v\u00a0\ufeff\u2028\u2029")


def _front_matter(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it-front-matter 0.2.4, quirks included (an unclosed block runs to the end)."""
    src = state.src
    if start_line != 0 or not src.startswith("-"):
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    maximum = state.eMarks[start_line]
    pos = start + 1
    while pos <= maximum and pos < len(src) and src[pos] == "-":
        pos += 1
    marker_count = pos - start
    if marker_count < 3:
        return False
    if silent:
        return True

    next_line = start_line
    auto_closed = False
    while True:
        next_line += 1
        if next_line >= end_line:
            break
        if src[start:maximum] == "...":
            break
        start = state.bMarks[next_line] + state.tShift[next_line]
        maximum = state.eMarks[next_line]
        if start < maximum and state.sCount[next_line] < state.blkIndent:
            break
        if start >= len(src) or src[start] != "-":
            continue
        if state.sCount[next_line] - state.blkIndent >= 4:
            continue
        pos = start + 1
        while pos <= maximum and pos < len(src) and src[pos] == "-":
            pos += 1
        if pos - start < marker_count:
            continue
        pos = state.skipSpaces(pos)
        if pos < maximum:
            continue
        auto_closed = True
        break

    old_parent, old_line_max = state.parentType, state.lineMax
    state.parentType = "container"
    state.lineMax = next_line
    token = state.push("front_matter", "", 0)
    token.hidden = True
    token.block = True
    end = next_line + (1 if auto_closed else 0)
    token.map = [start_line, end]
    token.meta = {"closed": auto_closed}
    state.parentType, state.lineMax = old_parent, old_line_max
    state.line = end
    return True


def _until_closing(state: StateBlock, start_line: int, end_line: int, closing: re.Pattern) -> int:
    """The line after a Marpit comment or style element that opens at start_line."""
    first = state.src[state.bMarks[start_line] + state.tShift[start_line] : state.eMarks[start_line]]
    next_line = start_line + 1
    if closing.search(first):
        return next_line
    while next_line < end_line:
        if state.sCount[next_line] < state.blkIndent:
            break
        line = state.src[state.bMarks[next_line] + state.tShift[next_line] : state.eMarks[next_line]]
        next_line += 1
        if closing.search(line):
            break
    return next_line


def _block_element(kind: str, opening: re.Pattern, closing: re.Pattern):
    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        pos = state.bMarks[start_line] + state.tShift[start_line]
        if pos >= len(state.src) or state.src[pos] != "<":
            return False
        if not opening.search(state.src[pos : state.eMarks[start_line]]):
            return False
        if silent:
            return True
        next_line = _until_closing(state, start_line, end_line, closing)
        state.line = next_line
        token = state.push(kind, "", 0)
        token.map = [start_line, next_line]
        token.markup = state.getLines(start_line, next_line, state.blkIndent, True)
        token.hidden = True
        match = COMMENT.search(token.markup)
        token.content = _js_trim(match.group(1)) if match and kind == "marpit_comment" else ""
        return True

    return rule


def _inline_comment(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if pos + 2 >= state.posMax or src[pos] != "<" or src[pos + 1] != "!":
        return False
    match = COMMENT.search(src, pos)
    if not match:
        return False
    if not silent:
        token = state.push("marpit_comment", "", 0)
        token.hidden = True
        token.markup = match.group(0)
        token.content = _js_trim(match.group(1))
    state.pos += len(match.group(0))  # Marpit advances by the match's length, not to its end
    return True


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """marp-core's `$$` block: a ruler inside it is no ruler."""
    src = state.src
    begin = state.bMarks[start_line] + state.tShift[start_line]
    end = state.eMarks[start_line]
    if begin + 2 > end or src[begin : begin + 2] != "$$":
        return False
    if silent:
        return True
    closed = _js_trim(src[begin + 2 : end])[-2:] == "$$"
    line = start_line
    while not closed:
        line += 1
        if line >= end_line:
            break
        begin = state.bMarks[line] + state.tShift[line]
        end = state.eMarks[line]
        if begin < end and state.tShift[line] < state.blkIndent:
            break
        if _js_trim(src[begin:end])[-2:] == "$$":
            closed = True
    state.line = line + 1
    token = state.push("marp_math_block", "math", 0)
    token.block = True
    token.map = [start_line, state.line]
    token.markup = "$$"
    return True


def marp_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True})
    md.enable(["table", "strikethrough"])
    md.block.ruler.before(
        "html_block",
        "marpit_comment",
        _block_element("marpit_comment", COMMENT_OPENING, COMMENT_CLOSING),
    )
    md.block.ruler.before(
        "html_block",
        "marpit_style_parse",
        _block_element("marpit_style", STYLE_OPENING, STYLE_CLOSING),
    )
    md.block.ruler.before(
        "table",
        "front_matter",
        _front_matter,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.block.ruler.after(
        "blockquote",
        "marp_math_block",
        _math_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.inline.ruler.before("html_inline", "marpit_inline_comment", _inline_comment)
    return md


def _loose(text: str) -> str:
    """Marpit's loose YAML: quote the plain value of a known directive."""
    keys = "|".join(
        pattern
        for key in DIRECTIVE_KEYS
        for pattern in (f"_?{re.escape(key)}", f'"_?{re.escape(key)}"', f"'_?{re.escape(key)}'")
    )
    matcher = re.compile(rf"^((?:{keys})\s*:)(.+)$")

    def quote(match: re.Match) -> str:
        prop, value = match.group(1), match.group(2)
        trimmed = _js_trim(value)
        if not trimmed or trimmed[0] in YAML_SPECIAL:
            return match.group(0)
        spaces = value[: len(value) - len(value.lstrip())]
        return prop + spaces + '"' + trimmed.replace('"', '\\"') + '"'

    lines = re.split(r"\r?\n", text)
    return _js_trim("".join(matcher.sub(quote, line) + "\n" for line in lines))


def directive_yaml(text: str) -> object:
    """A comment or front matter as Marp reads it: loose YAML, every scalar a string."""
    try:
        parsed = yaml.load(_loose(text), Loader=yaml.BaseLoader)
    except yaml.YAMLError:
        return None
    except RecursionError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _parse_int(value: object) -> int | None:
    """JavaScript's parseInt(value, 10)."""
    match = re.match(r"\s*([+-]?\d+)", value if isinstance(value, str) else "")
    return int(match.group(1)) if match else None


def heading_divider(value: object) -> list[int] | Literal[False] | None:
    """Marpit's headingDivider directive: levels to split at, False to stop, None to ignore."""
    if isinstance(value, list):
        levels = {_parse_int(item) for item in value if not isinstance(item, list | dict)}
        return [level for level in range(1, 7) if level in levels]
    if value == "false":
        return False
    level = _parse_int(value)
    if level is not None and 1 <= level <= 6:
        return list(range(1, level + 1))
    return None


def directive_comments(tokens: list[Token]) -> list[Token]:
    """Every Marpit comment, block or inline, in source order."""
    found = []
    for token in tokens:
        if token.type == "marpit_comment":
            found.append(token)
        elif token.type == "inline" and token.children:
            found.extend(child for child in token.children if child.type == "marpit_comment")
    return found


def heading_levels(front_matter: str | None, tokens: list[Token]) -> list[int]:
    """The headingDivider in force: the last valid one, front matter first, then comments."""
    target: list[int] | Literal[False] = False
    sources = [front_matter] if front_matter is not None else []
    sources += [comment.content for comment in directive_comments(tokens)]
    for text in sources:
        parsed = directive_yaml(text)
        if isinstance(parsed, dict) and "headingDivider" in parsed:
            converted = heading_divider(parsed["headingDivider"])
            if converted is not None:
                target = converted
    return target or []


def insert_heading_rulers(tokens: list[Token], levels: list[int]) -> list[Token]:
    """Marpit's heading divider: a hidden ruler before each splitting heading."""
    if not levels:
        return tokens
    tags = {f"h{level}" for level in levels}
    result: list[Token] = []
    seen_visible = False
    for token in tokens:
        if token.type == "heading_open" and token.tag in tags and seen_visible:
            ruler = Token("hr", "", 0)
            ruler.hidden = True
            ruler.map = token.map
            ruler.meta = {"heading_divider": True}
            result.append(ruler)
        result.append(token)
        seen_visible = seen_visible or not token.hidden
    return result
