"""Run a whole deck: one DeckSession, its blocks in file order, one DeckResult."""

from __future__ import annotations

import time
from collections.abc import Callable

from .deck import Block, Deck
from .kernel_process import KernelError
from .results import BlockResult, DeckResult, Failure
from .session import DeckSession, RunOptions, failed, skipped

__all__ = ["DeckRunner", "RunOptions"]

Progress = Callable[[Deck, BlockResult], None]
Starting = Callable[[Deck, Block], None]


class DeckRunner:
    """Executes one deck at a time; every kernel it starts is gone when run() returns."""

    def __init__(
        self, options: RunOptions, progress: Progress | None = None, starting: Starting | None = None
    ) -> None:
        self.options = options
        self.progress = progress or (lambda deck, result: None)
        self.starting = starting or (lambda deck, block: None)

    async def run(self, deck: Deck) -> DeckResult:
        started = time.monotonic()
        standins: tuple[str, ...] = ()
        if not deck.runnable:
            results = [skipped(block, "not run: the deck is invalid") for block in deck.blocks]
        elif any(not block.options.skip_execution for block in deck.blocks):
            results, standins = await self._run_in_kernel(deck)
        else:
            results = [skipped(block, "skip-execution") for block in deck.blocks]
        return DeckResult(
            path=str(deck.path),
            blocks=tuple(results),
            problems=deck.problems,
            standins=standins,
            duration=time.monotonic() - started,
        )

    async def _run_in_kernel(self, deck: Deck) -> tuple[list[BlockResult], tuple[str, ...]]:
        session = DeckSession(deck, self.options)
        try:
            await session.start()
        except KernelError as error:
            return _no_kernel(deck, error, session), ()
        try:
            results = await self._run_blocks(session)
            standins = await session.standins_used()
        except BaseException:  # interrupted: nothing of the kernel may outlive this
            await session.close(kill=True)
            raise
        await session.close()
        return results, standins

    async def _run_blocks(self, session: DeckSession) -> list[BlockResult]:
        deck = session.deck
        results: list[BlockResult] = []
        stopped: BlockResult | None = None
        for block in deck.blocks:
            if stopped is not None:
                result = skipped(block, f"not run: the block at line {stopped.line} failed")
            else:
                self.starting(deck, block)
                result = await session.run(block)
                if result.status == "failed":
                    stopped = result
            results.append(result)
            self.progress(deck, result)
        return results


def _no_kernel(deck: Deck, error: Exception, session: DeckSession) -> list[BlockResult]:
    first = deck.blocks[0]
    tail = " ".join(list(session.kernel.stderr_tail)[-3:])
    failure = Failure(first.first_code_line, first.slide, f"{error}{': ' + tail if tail else ''}")
    return [failed(first, failure)] + [skipped(block, "not run: no kernel") for block in deck.blocks[1:]]
