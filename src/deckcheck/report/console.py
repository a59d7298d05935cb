"""Printing a check as it goes: a progress display on a terminal, plain lines otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from deckcheck.check.selection import STOPPED
from deckcheck.check.timeline import timeline_text
from deckcheck.deck import Block, Deck
from deckcheck.report import lines as report
from deckcheck.report.progress import LiveStatus, color_wanted, is_terminal, paint
from deckcheck.results import BlockResult, DeckResult


class Console:
    """Prints a check as it goes (and, for a build, its stages). It is the run's RunProgress
    (check/deck_runner.py): on a terminal a live status shows each running deck's block."""

    def __init__(
        self,
        decks: Sequence[Deck],
        out: TextIO | None = None,
        err: TextIO | None = None,
        timeline: bool = False,
        color: str = "auto",
        durations: int | None = None,
        live: bool | None = None,
    ) -> None:
        """`color`: --color (auto, yes, no); `durations`: --durations N (0: every block);
        `live`: the live status (default: when `out` is a terminal)."""
        self.out = out or sys.stdout
        self.show_timeline = timeline
        self.err = err or sys.stderr
        self.decks = decks
        self.color = color_wanted(color, self.out)
        self.durations = durations
        self.running: dict[str, Block] = {}  # deck path → the block its kernel is running
        self.partial: dict[str, list[BlockResult]] = {}  # blocks done in decks still running
        self.finished: list[DeckResult] = []
        self.stopped = ""  # why -x or --maxfail stopped the run, once it has
        wanted = is_terminal(self.out) if live is None else live
        self.live: LiveStatus | None = LiveStatus(self.out, self.color, decks) if wanted else None

    def say(self, text: str, style: str | None = None) -> None:
        if self.live is not None:
            self.live.print(text, style)
        else:
            print(paint(text, style, self.color), file=self.out, flush=True)

    def deck_started(self, deck: Deck) -> None:
        if self.live is not None:
            self.live.deck_started(deck)

    def block_started(self, deck: Deck, block: Block) -> None:
        self.running[str(deck.path)] = block
        if self.live is not None:
            self.live.block_started(deck, block)

    def block_done(self, deck: Deck, result: BlockResult) -> None:
        self.running.pop(str(deck.path), None)
        self.partial.setdefault(str(deck.path), []).append(result)
        if self.live is not None:
            self.live.block_done(deck, result)

    def deck_finished(self, deck: Deck, result: DeckResult) -> None:
        if self.live is not None:
            self.live.deck_finished(deck)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """A build stage: a live row with its elapsed time, or one plain line as it starts."""
        if self.live is None:
            self.say(f"build: {name}")
            yield
            return
        self.live.stage_started(name)
        try:
            yield
        finally:
            self.live.stage_finished(name)

    def deck_done(self, deck: Deck, result: DeckResult) -> None:
        self.finished.append(result)
        self.partial.pop(str(deck.path), None)
        if self.live is not None:
            self.live.deck_finished(deck)
            self.live.deck_reported()
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
        stopped = any(block.reason.startswith(STOPPED) for block in result.blocks)
        status = "red" if not result.ok else "yellow" if stopped else "green"
        self.say(report.deck_line(result, stopped), status)
        if self.show_timeline and result.timeline:
            self.say(f"  timeline: {timeline_text(result.timeline)}")

    def _stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def finish(self, results: Sequence[DeckResult]) -> None:
        """The closing lines: stand-in data, invalid decks, why the run stopped (-x,
        --maxfail), the slowest blocks (--durations), then the counts."""
        self._stop_live()
        warning = report.standin_warning(results)
        if warning:
            print(warning, file=self.err, flush=True)
        invalid = [r.path for r in results if any(p.fatal for p in r.problems)]
        if invalid:
            self.say(f"invalid, not run: {', '.join(invalid)}")
        if self.stopped:
            left = sum(1 for r in results for b in r.blocks if b.reason.startswith(STOPPED))
            self.say(f"{self.stopped}: {left} block{'s' if left != 1 else ''} not run", "yellow")
        if self.durations is not None:
            for line in durations_lines(results, self.durations):
                self.say(line)
        closing = report.closing_line(results)
        self.say(closing, "red" if not all(r.ok for r in results) else "green")

    def interrupted(self, name: str) -> None:
        """Say which blocks the interrupt stopped, then count what had finished."""
        self._stop_live()
        for path, block in sorted(self.running.items()):
            self.say(f"{report.location(path, block.first_code_line, block.slide)} interrupted ({name})")
        print(f"deckcheck: interrupted ({name}); kernels stopped, nothing cached for unfinished decks",
              file=self.err, flush=True)  # fmt: skip
        unfinished = [DeckResult(path, tuple(blocks)) for path, blocks in self.partial.items()]
        self.say(report.closing_line([*self.finished, *unfinished]))


def durations_lines(results: Sequence[DeckResult], count: int) -> list[str]:
    """pytest's --durations: the `count` slowest blocks that ran now (0: all), slowest first,
    each `SECONDS s  PATH:LINE: slide N` (LINE: the block's fence)."""
    timed = [(block.duration, r.path, block) for r in results if not r.cached for block in r.blocks]
    timed = [item for item in timed if item[2].status != "skipped"]
    timed.sort(key=lambda item: -item[0])
    shown = timed[:count] if count > 0 else timed
    cached = sum(1 for r in results if r.cached)
    title = f"slowest {count} blocks" if count > 0 else "slowest blocks"
    note = f" ({cached} cached deck{'s' if cached != 1 else ''} not timed)" if cached else ""
    lines = [f"{title}{note}:"]
    lines += [f"{seconds:8.2f} s  {path}:{block.line}: slide {block.slide}" for seconds, path, block in shown]
    return lines
