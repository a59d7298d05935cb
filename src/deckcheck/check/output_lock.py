"""Locked outputs: what a deck's blocks show on its slides, recorded when it is published, and
compared with what a later check shows.

One JSON file per deck, `.deckcheck/outputs/<the deck's path in the course>.json`, meant to be
committed: for each `show-output` block, in order, a digest of its code, its slide, the text
the slide shows (as lines) and, per figure, a 48-pixel-wide grayscale thumbnail (a row of hex
per line), so that a change reads as a diff. Text is compared number by number with a
relative tolerance (`output_tolerance`, a block option or deck setting; 1e-6 by default) and
exactly between the numbers (whitespace aside: a tensor's columns move with its widths);
figures by the largest difference of a thumbnail's pixels. An entry keeps the stand-in data
sets its output rests on: a run on other data (the real MNIST after a stand-in) is another
experiment, not compared with it.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.deck import Block, Deck
from deckcheck.read.project import course_root
from deckcheck.results import BlockResult, DeckResult, Failure
from deckcheck.text import shorten

LOCKS = Path(".deckcheck") / "outputs"
DEFAULT_TOLERANCE = 1e-6
SHOWN_LINES, SHOWN_WIDTH = 10, 100  # what a slide shows of a block's output (generated_copy)
THUMBNAIL_WIDTH = 48
FIGURE_THRESHOLD = 8  # of 255: a thumbnail pixel that moved more is a changed figure
DETAIL_LINES = 16
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")
CHANGED = "output changed"


@dataclass(frozen=True)
class OutputChange:
    """A shown output or figure that differs from the locked one."""

    line: int  # the block's fence line
    slide: int
    index: int  # the block's
    details: str  # the old and the new text, as a diff
    was: str = ""  # the first line that differs, before and now ("" for a figure)
    now: str = ""


def shown_output(result: BlockResult) -> str:
    """The printed text a slide shows under a `show-output` block."""
    return shorten(result.output.rstrip("\n"), SHOWN_LINES, width=SHOWN_WIDTH)


def _in_course(deck: Deck) -> str:
    try:
        return deck.path.absolute().relative_to(course_root(deck.path)).as_posix()
    except ValueError:
        return deck.path.name


def lock_file(deck: Deck) -> Path:
    return course_root(deck.path) / LOCKS / f"{_in_course(deck)}.json"


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:12]


def thumbnail(png: str) -> list[str]:
    """A figure (base64 PNG) as a small grayscale image: rows of two hex digits a pixel."""
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(png))).convert("L")
    height = max(1, round(THUMBNAIL_WIDTH * image.height / max(image.width, 1)))
    small = image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.BOX)
    pixels = small.tobytes()
    return [pixels[row * THUMBNAIL_WIDTH : (row + 1) * THUMBNAIL_WIDTH].hex() for row in range(height)]


def _entry(block: Block, result: BlockResult | None) -> dict:
    ran = result is not None and result.status == "passed"
    entry = {
        "slide": block.slide,
        "code": _digest(block.code),
        "output": shown_output(result).splitlines() if ran and result else None,
        "figures": [thumbnail(figure.png) for figure in result.figures] if ran and result else [],
    }
    if ran and result and result.standins:
        entry["standins"] = sorted(result.standins)
    return entry


def _same_data(entry: dict, result: BlockResult) -> bool:
    return entry.get("standins", []) == sorted(result.standins)


def locked_entries(deck: Deck) -> dict[int, dict]:
    """Block index → its locked entry, read once for the comparisons of one check."""
    return _matched(deck, read_lock(deck))


def other_data(deck: Deck, result: DeckResult, entries: dict[int, dict] | None = None) -> list[str]:
    """The stand-ins of locked entries that this run's data differs from (not compared)."""
    locked = locked_entries(deck) if entries is None else entries
    return [
        "stand-in " + ", ".join(locked[block.index]["standins"])
        if locked[block.index].get("standins")
        else "real data"
        for block in result.blocks
        if block.index in locked and block.status == "passed" and not _same_data(locked[block.index], block)
    ]


def _shown(deck: Deck) -> list[Block]:
    return [block for block in deck.blocks if block.options.show_output and not block.options.skip_execution]


def read_lock(deck: Deck) -> list[dict]:
    try:
        data = json.loads(lock_file(deck).read_text("utf-8"))
        return [entry for entry in data.get("blocks", []) if isinstance(entry, dict)]
    except (OSError, ValueError, AttributeError):
        return []


def _matched(deck: Deck, locked: list[dict]) -> dict[int, dict]:
    """Block index → its locked entry: by position when the deck shows as many blocks as the
    lock holds (the code may have changed: a seed), else by the code's digest."""
    shown = _shown(deck)
    if len(shown) == len(locked):
        return {block.index: entry for block, entry in zip(shown, locked, strict=True)}
    by_code: dict[object, dict] = {}
    for entry in locked:
        by_code.setdefault(entry.get("code"), entry)
    return {block.index: by_code[_digest(block.code)] for block in shown if _digest(block.code) in by_code}


def record(deck: Deck, result: DeckResult) -> Path | None:
    """Lock what the deck shows now (a block that did not run here keeps its locked entry);
    the file written, or None when it was already so."""
    old = _matched(deck, read_lock(deck))
    results = {block.index: block for block in result.blocks}
    entries = []
    for block in _shown(deck):
        entry = _entry(block, results.get(block.index))
        if entry["output"] is None and block.index in old:
            entry = {**old[block.index], "slide": block.slide, "code": entry["code"]}
        entries.append(entry)
    path = lock_file(deck)
    text = json.dumps({"deck": _in_course(deck), "blocks": entries}, indent=1) + "\n"
    try:
        if path.read_text("utf-8") == text:
            return None
    except OSError:
        pass
    if not entries and not path.exists():
        return None
    write_atomic(path, text)
    return path


def compare(deck: Deck, result: DeckResult, entries: dict[int, dict] | None = None) -> list[OutputChange]:
    """The shown outputs and figures that differ from the locked ones (none without a lock)."""
    locked = locked_entries(deck) if entries is None else entries
    changes = []
    for block_result in result.blocks:
        entry = locked.get(block_result.index)
        if entry is None or not isinstance(entry.get("output"), list) or block_result.status != "passed":
            continue
        if not _same_data(entry, block_result):
            continue
        block = deck.blocks[block_result.index]
        tolerance = block.options.output_tolerance or deck.settings.output_tolerance or DEFAULT_TOLERANCE
        change = _text_change(block, "\n".join(entry["output"]), shown_output(block_result), tolerance)
        figures = entry.get("figures")
        change = change or _figure_change(block, figures if isinstance(figures, list) else [], block_result)
        if change is not None:
            changes.append(change)
    return changes


def _text_change(block: Block, old: str, new: str, tolerance: float) -> OutputChange | None:
    if same_text(old, new, tolerance):
        return None
    diff = [
        f"{line[:1]} {line[1:]}"
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), "was", "now", n=1, lineterm="")
        if not line.startswith(("---", "+++", "@@"))
    ]
    if len(diff) > DETAIL_LINES:
        diff = [*diff[:DETAIL_LINES], f"… {len(diff) - DETAIL_LINES} more lines"]
    was = next((line[2:] for line in diff if line.startswith("- ")), "")
    now = next((line[2:] for line in diff if line.startswith("+ ")), "")
    return OutputChange(block.line, block.slide, block.index, "\n".join(diff), was.strip(), now.strip())


def same_text(old: str, new: str, tolerance: float) -> bool:
    """Equal but for numbers within the relative tolerance, and for whitespace."""
    old_numbers, new_numbers = NUMBER.findall(old), NUMBER.findall(new)
    if _skeleton(old) != _skeleton(new) or len(old_numbers) != len(new_numbers):
        return False
    return all(_close(a, b, tolerance) for a, b in zip(old_numbers, new_numbers, strict=True))


def _skeleton(text: str) -> str:
    return " ".join(NUMBER.sub("\0", text).split())


def _close(a: str, b: str, tolerance: float) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or abs(x - y) <= tolerance * max(abs(x), abs(y))


def _figure_change(block: Block, old: list, result: BlockResult) -> OutputChange | None:
    new = [thumbnail(figure.png) for figure in result.figures]
    if len(old) != len(new):
        details = f"- {len(old)} figure(s)\n+ {len(new)} figure(s)"
        counts = (f"{len(old)} figure(s)", f"{len(new)} figure(s)")
        return OutputChange(block.line, block.slide, block.index, details, *counts)
    for number, (was, now) in enumerate(zip(old, new, strict=True), 1):
        moved = _largest_difference(was, now)
        if moved > FIGURE_THRESHOLD:
            details = (
                f"figure {number} of {len(new)} changed: a pixel of its {THUMBNAIL_WIDTH}-pixel-wide "
                f"grayscale thumbnail moved by {moved} of 255 (more than {FIGURE_THRESHOLD})"
            )
            return OutputChange(block.line, block.slide, block.index, details, f"figure {number}", "")
    return None


def _largest_difference(old: list[str], new: list[str]) -> int:
    if len(old) != len(new) or any(len(a) != len(b) for a, b in zip(old, new, strict=True)):
        return 255
    try:
        pairs = [(bytes.fromhex(a), bytes.fromhex(b)) for a, b in zip(old, new, strict=True)]
    except (TypeError, ValueError):  # a lock edited by hand
        return 255
    return max((abs(x - y) for a, b in pairs for x, y in zip(a, b, strict=False)), default=0)


def judge(
    deck: Deck, result: DeckResult, locked: bool, entries: dict[int, dict] | None = None
) -> tuple[DeckResult, list[OutputChange]]:
    """Compare with the lock. `locked`: each change fails its block (`output changed`, the diff
    under it); otherwise the result is as it was and the changes are warnings to print."""
    changes = compare(deck, result, entries)
    if not locked or not changes:
        return result, changes
    by_block = {change.index: change for change in changes}
    blocks = tuple(
        replace(
            block,
            status="failed",
            failure=Failure(block.line, block.slide, CHANGED, details=by_block[block.index].details),
        )
        if block.index in by_block
        else block
        for block in result.blocks
    )
    return replace(result, blocks=blocks), changes
