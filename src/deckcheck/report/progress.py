"""The live status on a terminal (rich): each running deck at its current block and slide,
each build stage, with elapsed times. Off a terminal nothing moves: the console prints lines.

Colour follows `--color`: `yes`, `no`, or `auto` (a terminal, unless NO_COLOR is set, as
https://no-color.org asks); without colour not one style escape is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from deckcheck.deck import Block, Deck
from deckcheck.results import BlockResult

if TYPE_CHECKING:
    from rich.progress import TaskID

COLORS = ("auto", "yes", "no")
SGR = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}


def is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty() and os.environ.get("TERM") != "dumb"
    except (ValueError, OSError):  # a closed or detached stream
        return False


def color_wanted(choice: str, out: TextIO) -> bool:
    """`--color`: yes, no, or auto (a terminal, and NO_COLOR unset or empty)."""
    if choice in ("yes", "no"):
        return choice == "yes"
    return not os.environ.get("NO_COLOR") and is_terminal(out)


def paint(text: str, style: str | None, color: bool) -> str:
    """The text in the style's colour, each line on its own (a log viewer colours line by line)."""
    if not (color and style in SGR):
        return text
    code = SGR[str(style)]
    return "\n".join(f"\x1b[{code}m{line}\x1b[0m" if line else line for line in text.split("\n"))


class LiveStatus:
    """A rich Progress: a row for the check as a whole, one per deck while it runs (its block,
    line and slide), one per build stage while it runs; all of it gone when stopped."""

    def __init__(self, out: TextIO, color: bool, decks: Sequence[Deck]) -> None:
        from rich.console import Console as RichConsole  # rich loads only for a terminal
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = RichConsole(
            file=out,
            force_terminal=True,
            color_system="standard" if color else None,
            highlight=False,
            soft_wrap=True,
            emoji=False,
        )
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.total = len(decks)
        self.reported = 0
        self.overall: TaskID | None = self.progress.add_task(
            self._overall(), total=max(1, self.total), count=f"0/{self.total}"
        )
        self.rows: dict[str, TaskID] = {}
        self.stages: dict[str, TaskID] = {}
        self.progress.start()

    def _overall(self) -> str:
        return f"check: {self.total} deck{'s' if self.total != 1 else ''}"

    def print(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self.progress.console.print(Text(text, style=style or ""), markup=False, highlight=False)

    def deck_started(self, deck: Deck) -> None:
        total = len(deck.blocks)
        self.rows[str(deck.path)] = self.progress.add_task(
            f"  {deck.path}: starting its kernel", total=max(1, total), count=f"0/{total}"
        )

    def block_started(self, deck: Deck, block: Block) -> None:
        row = self.rows.get(str(deck.path))
        if row is not None:
            where = f"block {block.index + 1}/{len(deck.blocks)}, line {block.line}, slide {block.slide}"
            self.progress.update(row, description=f"  {deck.path}: {where}")

    def block_done(self, deck: Deck, result: BlockResult) -> None:
        row = self.rows.get(str(deck.path))
        if row is not None:
            done = result.index + 1
            self.progress.update(row, completed=done, count=f"{done}/{len(deck.blocks)}")

    def deck_finished(self, deck: Deck) -> None:
        row = self.rows.pop(str(deck.path), None)
        if row is not None:
            self.progress.remove_task(row)

    def deck_reported(self) -> None:
        self.reported += 1
        if self.overall is not None:
            self.progress.update(self.overall, completed=self.reported, count=f"{self.reported}/{self.total}")
            if self.reported >= self.total:
                self.progress.remove_task(self.overall)
                self.overall = None

    def stage_started(self, name: str) -> None:
        self.stages[name] = self.progress.add_task(f"build: {name}", total=None, count="")

    def stage_finished(self, name: str) -> None:
        task = self.stages.pop(name, None)
        if task is not None:
            self.progress.remove_task(task)

    def stop(self) -> None:
        self.progress.stop()
