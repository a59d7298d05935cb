"""Which blocks a run checks: pytest's `-k EXPR` over deck paths and slide titles, `--lf`
(the blocks that failed last time, recorded in the cache), and where `-x` / `--maxfail N`
stop the whole run (RunStop).

A deck's blocks share one namespace, so a selected block needs the blocks before it: a deck
with a selected block runs from its first block up to its last selected one, and reports the
selected blocks and any earlier block that failed (a selected one may fail because of it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.deck import Block, Deck
from deckcheck.results import DeckResult

LAST_FAILED = "lastfailed.json"  # in the cache folder
WHOLE_DECK = -1  # in the record: the deck itself had a problem (an invalid deck, a missing image)
TOKEN = re.compile(r"(\()|(\))|([\w:+\-.\[\]\\/]+)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

STOPPED = "not run: the run stopped"  # how a block that -x or --maxfail kept from running is skipped

Matcher = Callable[[Callable[[str], bool]], bool]


class ExpressionError(ValueError):
    """A `-k` expression that does not parse: where and why, as pytest says it."""


def parse_keywords(text: str) -> Matcher:
    """pytest's `-k` grammar: `or` of `and` of `not`, parentheses, names; a name matches
    when it is a substring of one of the item's names, ignoring case."""
    tokens: list[tuple[int, str]] = []
    position = 0
    while position < len(text.rstrip()):
        position += len(text[position:]) - len(text[position:].lstrip())
        found = TOKEN.match(text, position)
        if not found:
            raise ExpressionError(f"at column {position + 1}: unexpected character {text[position]!r}")
        tokens.append((position + 1, found.group(found.lastindex or 0)))
        position = found.end()
    if not tokens:
        return lambda matches: True
    parser = _Parser(tokens, len(text) + 1)
    matcher = parser.expression()
    if parser.index < len(tokens):
        parser.fail("end of input")
    return matcher


class _Parser:
    def __init__(self, tokens: list[tuple[int, str]], end: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.end = end

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def fail(self, expected: str) -> None:
        column, got = self.tokens[self.index] if self.index < len(self.tokens) else (self.end, "")
        raise ExpressionError(f"at column {column}: expected {expected}; got {got or 'end of input'}")

    def expression(self) -> Matcher:
        return self._joined("or", self.conjunction, any)

    def conjunction(self) -> Matcher:
        return self._joined("and", self.negation, all)

    def _joined(self, word: str, part: Callable[[], Matcher], combine: Callable[..., bool]) -> Matcher:
        """`part (word part)*`: one matcher, or the parts combined (any for or, all for and)."""
        parts = [part()]
        while self.peek() == word:
            self.index += 1
            parts.append(part())
        return parts[0] if len(parts) == 1 else lambda m: combine(p(m) for p in parts)

    def negation(self) -> Matcher:
        token = self.peek()
        if token == "not":
            self.index += 1
            inner = self.negation()
            return lambda m: not inner(m)
        if token == "(":
            self.index += 1
            inner = self.expression()
            if self.peek() != ")":
                self.fail("right parenthesis")
            self.index += 1
            return inner
        if token is None or token in ("and", "or", ")"):
            self.fail("not, left parenthesis or a name")
        self.index += 1
        name = str(token).lower()
        return lambda m: m(name)


def slide_title(deck: Deck, number: int) -> str:
    """The slide's first heading, outside code fences and the front matter; "" if none."""
    if not 1 <= number <= len(deck.slides):
        return ""
    bounds = deck.slides[number - 1]
    lines = deck.lines
    fence = ""
    for line_number in range(max(bounds.start_line, deck.front_matter_end + 1), bounds.end_line + 1):
        line = lines[line_number - 1] if line_number <= len(lines) else ""
        opening = FENCE.match(line)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)
        elif not fence and (heading := HEADING.match(line)):
            return heading.group(1)
    return ""


def block_matches(matcher: Matcher, deck: Deck, block: Block) -> bool:
    names = (str(deck.path).lower(), slide_title(deck, block.slide).lower())
    return matcher(lambda name: any(name in candidate for candidate in names))


@dataclass(frozen=True)
class Selection:
    """The decks to check and, for a deck checked in part, its selected blocks (by index)."""

    decks: list[Deck]
    blocks: dict[str, frozenset[int]] = field(default_factory=dict)  # deck path → indices; absent: all
    blocks_selected: int = 0
    blocks_total: int = 0

    @property
    def partial(self) -> bool:
        return self.blocks_selected < self.blocks_total


def select(
    decks: Sequence[Deck], keywords: Matcher | None = None, failed: LastFailed | None = None
) -> Selection:
    """The decks and blocks that `-k` (`keywords`) and `--lf` (`failed`) leave; with neither,
    or when no deck here failed last time, everything (as pytest does)."""
    earlier = failed.failures(decks) if failed is not None else {}
    kept: list[Deck] = []
    chosen: dict[str, frozenset[int]] = {}
    for deck in decks:
        path = str(deck.path)
        indices = {block.index for block in deck.blocks}
        if earlier:
            indices = _failed_blocks(deck, earlier.get(path, set()))
        if keywords is not None:
            indices = {i for i in indices if block_matches(keywords, deck, deck.blocks[i])}
        if not deck.blocks:  # nothing to run, maybe something to report (a missing image)
            wanted = (not earlier or path in earlier) and (keywords is None or _deck_matches(keywords, deck))
            kept += [deck] if wanted else []
        elif indices:
            kept.append(deck)
            if len(indices) < len(deck.blocks):
                chosen[path] = frozenset(indices)
    selected = sum(len(chosen.get(str(deck.path), deck.blocks)) for deck in kept)
    return Selection(kept, chosen, selected, sum(len(deck.blocks) for deck in decks))


def _deck_matches(keywords: Matcher, deck: Deck) -> bool:
    return keywords(lambda name: name in str(deck.path).lower())


def _failed_blocks(deck: Deck, failed: set[int]) -> set[int]:
    if WHOLE_DECK in failed:
        return {block.index for block in deck.blocks}
    return {index for index in failed if 0 <= index < len(deck.blocks)}


def reported(result: DeckResult, selected: frozenset[int] | None) -> DeckResult:
    """A deck's result as a selection reports it: its selected blocks, and earlier ones that failed."""
    if selected is None:
        return result
    last = max(selected)
    blocks = tuple(
        block
        for block in result.blocks
        if block.index in selected or (block.index < last and block.status == "failed")
    )
    return replace(result, blocks=blocks)


class LastFailed:
    """What failed in the last run of each deck, for `--lf`: deck (absolute path) → the indices
    of its blocks that failed (WHOLE_DECK: the deck had a problem). A block that did not run
    this time keeps its state, as in pytest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text("utf-8"))
            self.record = {str(k): sorted({int(i) for i in v}) for k, v in loaded.items() if v}
        except (OSError, ValueError, TypeError, AttributeError):
            self.record = {}

    def failures(self, decks: Iterable[Deck]) -> dict[str, set[int]]:
        """deck path (as named) → what of it failed last time, for the decks that had a failure."""
        found = {str(deck.path): set(self.record.get(str(deck.path.absolute()), ())) for deck in decks}
        return {path: failed for path, failed in found.items() if failed}

    def update(self, decks: Sequence[Deck], results: Sequence[DeckResult]) -> None:
        for deck, result in zip(decks, results, strict=True):
            key = str(deck.path.absolute())
            ran = {b.index for b in result.blocks if not b.reason.startswith("not run")}
            failed = {b.index for b in result.blocks if b.status == "failed"}
            now = (set(self.record.get(key, ())) - ran - {WHOLE_DECK}) | failed
            if result.problems:
                now.add(WHOLE_DECK)
            self.record[key] = sorted(now)
        self.record = {key: value for key, value in self.record.items() if value}

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.record, indent=1, sort_keys=True))


class RunStop:
    """pytest's `-x` and `--maxfail N` over a whole run: after `maxfail` failures (a failed
    block, or a deck with a problem) no block starts, in any deck; 0 never stops."""

    def __init__(self, maxfail: int = 0) -> None:
        self.maxfail = maxfail
        self.failures = 0
        self.why = ""  # once stopped: "the run stopped ..."

    def count(self, deck: Deck, line: int) -> None:
        self.failures += 1
        if self.maxfail and self.failures >= self.maxfail and not self.why:
            if self.maxfail == 1:
                self.why = f"the run stopped at the failure at {deck.path}:{line} (--exitfirst)"
            else:
                self.why = f"the run stopped after {self.failures} failures (--maxfail {self.maxfail})"

    @property
    def reason(self) -> str:
        """Why a block is not run, once the run has stopped; "" before."""
        return f"not run: {self.why}" if self.why else ""  # starts with STOPPED
