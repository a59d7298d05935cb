"""Printing a check as it goes: a progress display on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from deckcheck.check.timeline import timeline_text
from deckcheck.deck import Block, Deck
from deckcheck.report import lines as report
from deckcheck.results import BlockResult, DeckResult


class Console:
    def __init__(
        self,
        decks: Sequence[Deck],
        out: TextIO | None = None,
        err: TextIO | None = None,
        timeline: bool = False,
    ) -> None:
        self.out = out or sys.stdout
        self.show_timeline = timeline
        self.err = err or sys.stderr
        self.decks = decks
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.running: dict[str, Block] = {}  # deck path → the block its kernel is running
        self.partial: dict[str, list[BlockResult]] = {}  # blocks done in decks still running
        self.finished: list[DeckResult] = []
        if self.out.isatty():
            self._start_progress()

    def _start_progress(self) -> None:
        from rich.console import Console as RichConsole
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=RichConsole(file=self.out, highlight=False, soft_wrap=True),
            transient=True,
        )
        for deck in self.decks:
            self.tasks[str(deck.path)] = self.progress.add_task(
                str(deck.path), total=max(1, len(deck.blocks))
            )
        self.progress.start()

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.out, flush=True)

    def block_started(self, deck: Deck, block: Block) -> None:
        self.running[str(deck.path)] = block

    def block_done(self, deck: Deck, result: BlockResult) -> None:
        self.running.pop(str(deck.path), None)
        self.partial.setdefault(str(deck.path), []).append(result)
        if self.progress is not None:
            self.progress.advance(self.tasks[str(deck.path)])

    def deck_done(self, deck: Deck, result: DeckResult) -> None:
        self.finished.append(result)
        self.partial.pop(str(deck.path), None)
        if self.progress is not None:
            self.progress.update(
                self.tasks[str(deck.path)], completed=max(1, len(deck.blocks)), visible=False
            )
        path = str(deck.path)
        for problem in sorted(result.problems, key=lambda p: p.line):
            self.say(report.problem_line(path, problem))
        for block in result.blocks:
            if block.status == "failed":
                self.say(report.failure_report(deck, block))
            elif block.status == "skipped" and block.reason.startswith("requires"):
                self.say(report.skip_line(path, block))
            for warning in block.warnings:
                self.say(report.warning_report(path, warning))
        self.say(report.deck_line(result))
        if self.show_timeline and result.timeline:
            self.say(f"  timeline: {timeline_text(result.timeline)}")

    def finish(self, results: Sequence[DeckResult]) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        warning = report.standin_warning(results)
        if warning:
            print(warning, file=self.err, flush=True)
        invalid = [r.path for r in results if any(p.fatal for p in r.problems)]
        if invalid:
            self.say(f"invalid, not run: {', '.join(invalid)}")
        self.say(report.closing_line(results))

    def interrupted(self, name: str) -> None:
        """Say which blocks the interrupt stopped, then count what had finished."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        for path, block in sorted(self.running.items()):
            self.say(f"{report.location(path, block.first_code_line, block.slide)} interrupted ({name})")
        print(f"deckcheck: interrupted ({name}); kernels stopped, nothing cached for unfinished decks",
              file=self.err, flush=True)  # fmt: skip
        unfinished = [DeckResult(path, tuple(blocks)) for path, blocks in self.partial.items()]
        self.say(report.closing_line([*self.finished, *unfinished]))
