"""What went wrong in a block, told in the deck's own lines and slides.

The kernel names code by cell (execution count) and cell line; a FailureReader knows which
block each cell was and turns the kernel's error details, a timeout or a crash log into a
Failure: the deck line of the failing statement, its slide, a one-line summary, and the
traceback trimmed to the deck's frames plus the library frame that raised.
"""

from __future__ import annotations

import re
from pathlib import Path

from deckcheck.deck import Block, Deck
from deckcheck.in_kernel import deck_warnings
from deckcheck.in_kernel.doctest_sessions import examples
from deckcheck.results import DeckWarning, Failure, Frame
from deckcheck.text import clean

CRASH_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')
CELL_FILE = re.compile(r"^deckcheck-cell (\d+) (.+)$")
RUNNING = re.compile(r"^deckcheck-running (\d+) (.+)$")
ON_LINE = re.compile(r"\bon line (\d+)")
MESSAGE_LINES = 40  # of an error's message, shown: a whole traceback printed into one is cut here
TIMEOUT = "timeout after"  # a block's time limit ran out: "timeout after 5 s"
MEMORY_MESSAGES = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")
# where `error` raises a warning: the standard library, and the kernel side that collects them
WARNING_MACHINERY = ("/warnings.py", "/" + deck_warnings.__name__.replace(".", "/") + ".py")


class FailureReader:
    def __init__(self, deck: Deck, memory_limit: int = 0) -> None:
        self.deck = deck
        self.memory_limit = memory_limit
        self.cells: dict[int, Block] = {}  # execution count → block

    def remember(self, count: int | None, block: Block) -> None:
        if count:
            self.cells[int(count)] = block

    def _failure(self, line: int, summary: str, frames: tuple[Frame, ...] = ()) -> Failure:
        slide = self.deck.slide_at(line)
        return Failure(line, slide, one_line(summary), frames, more=lines_after_the_first(summary))

    def error(self, block: Block, reported: dict, details: dict | None) -> Failure:
        """An exception: `reported` is the notebook's error output, `details` what the kernel's
        last_error() said (frames with their cells), when it could be asked."""
        if not details:
            summary = f"{reported.get('ename', 'Error')}: {reported.get('evalue', '')}"
            return self._failure(block.first_code_line, summary)
        syntax = details.get("syntax")
        frames: tuple[Frame, ...]
        if syntax and syntax.get("cell") in self.cells and syntax.get("line"):
            where = self.cells[syntax["cell"]]
            message = deck_lines_in(syntax.get("msg") or details["message"], where)
            summary = f"{details['type']}: {message}"
            line, frames = where.deck_line(int(syntax["line"])), ()
        else:
            frames = self.frames(details)
            line = deepest_deck_line(frames) or block.first_code_line
            summary = f"{details['type']}: {details['message']}"
        if self.memory_limit and is_memory_error(details):
            summary = f"memory limit exceeded ({self.memory_limit / 2**30:.1f} GB): {summary}"
        return self._failure(line, summary, frames)

    def timeout(self, block: Block, limit: float, details: dict | None) -> Failure:
        """Past its limit: at the statement the interrupt found it in, when it could be read."""
        frames = self.frames(details) if details else ()
        line = deepest_deck_line(frames) or block.first_code_line
        return self._failure(line, f"{TIMEOUT} {limit:g} s", frames)

    def crash(self, block: Block, reason: str, crash_log: str) -> Failure:
        summary = f"kernel died ({reason})" if reason else "kernel died"
        return self._failure(self.crash_line(block, crash_log) or block.first_code_line, summary)

    def crash_line(self, running: Block, log: str) -> int | None:
        """Where the kernel died: the deck line faulthandler saw last when it crashed, else the
        top-level statement that was running (os._exit and SIGKILL leave no traceback)."""
        files: dict[str, Block] = {}
        last_file = None
        for line in log.splitlines():
            match = CELL_FILE.match(line)
            if match and match.group(1) != "None":
                last_file = match.group(2)
                block = self.cells.get(int(match.group(1)))
                if block is not None:
                    files[last_file] = block
        if last_file is not None:
            files[last_file] = running  # the cell compiled last is the one that was running
        for match in CRASH_FRAME.finditer(log.split("Fatal Python error", 1)[-1]):
            block = files.get(match.group(1))
            if block is not None:
                return block.deck_line(int(match.group(2)))
        statements = [match for line in log.splitlines() if (match := RUNNING.match(line))]
        if statements and statements[-1].group(2) in files:
            return files[statements[-1].group(2)].deck_line(int(statements[-1].group(1)))
        return None

    def warning(self, block: Block, raw: dict) -> DeckWarning | None:
        """A warning the kernel kept (in_kernel/deck_warnings.py), at its deck line: in a cell, or in an
        example of the doctest session that `block` is."""
        if raw.get("example") is not None:
            found = examples(block.code) if block.session else []
            number = int(raw["example"])
            if number >= len(found):
                return None
            line = block.deck_line(found[number].lineno + int(raw["line"]))
        elif raw.get("cell") in self.cells:
            line = self.cells[raw["cell"]].deck_line(int(raw["line"]))
        else:
            return None
        where = short_path(raw["location"]) if raw.get("location") else ""
        message = one_line(str(raw["message"]))
        return DeckWarning(
            line, self.deck.slide_at(line), raw["category"], message, where, int(raw.get("count", 1))
        )

    def frames(self, details: dict) -> tuple[Frame, ...]:
        """The deck's own frames plus the library frame that raised, innermost last."""
        raw = [f for f in details.get("frames", []) if not str(f.get("file")).endswith(WARNING_MACHINERY)]
        first = next((i for i, frame in enumerate(raw) if frame.get("cell") in self.cells), None)
        if first is None:
            return ()
        frames: list[Frame] = []
        for frame in raw[first:]:
            block = self.cells.get(frame.get("cell"))
            if block is not None:
                line = block.deck_line(int(frame["line"] or 1))
                slide = self.deck.slide_at(line)
                frames.append(Frame(str(self.deck.path), line, frame["name"], frame.get("code", ""), slide))
        last = raw[-1]
        if last.get("cell") not in self.cells:
            path = short_path(last["file"])
            frames.append(Frame(path, int(last["line"] or 0), last["name"], last.get("code", "")))
        return tuple(frames)


def deck_lines_in(message: str, block: Block) -> str:
    """Python names lines of the cell ("... on line 2"); say the deck's line instead."""
    return ON_LINE.sub(lambda match: f"on line {block.deck_line(int(match.group(1)))}", message)


def deepest_deck_line(frames: tuple[Frame, ...]) -> int | None:
    lines = [frame.line for frame in frames if frame.slide is not None]
    return lines[-1] if lines else None


def is_memory_error(details: dict) -> bool:
    if "MemoryError" in details.get("bases", []):
        return True
    message = details.get("message", "")
    return any(text in message for text in MEMORY_MESSAGES)


def one_line(text: str, width: int = 300) -> str:
    first = clean(text).strip().rstrip(":").splitlines()
    line = first[0].rstrip() if first else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def lines_after_the_first(text: str, most: int = MESSAGE_LINES) -> str:
    """A message's lines after its first, at most `most` lines in all counting the first."""
    lines = clean(text).strip().splitlines()[1:]
    kept = [line.rstrip() for line in lines[: most - 1]]
    if len(lines) > len(kept):
        kept.append(f"({len(lines) - len(kept)} more lines)")
    return "\n".join(kept)


def short_path(path: str) -> str:
    marker = "site-packages/"
    if marker in path:
        return path.split(marker, 1)[1]
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
