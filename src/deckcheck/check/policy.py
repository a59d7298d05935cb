"""A deck's run policy, in one place for `check`, serve and the pytest plugin: how its kernels are
set up (run_options), and what one block's result means for the blocks after it (DeckPolicy).

A failing block does not stop the deck (pytest's default): later failures say which came
first, since they may follow from it. The deck stops at its first failure with -x, and when
its kernel is lost; a deck whose setup fails or whose kernel does not start runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from deckcheck.check import data_fetch
from deckcheck.check.failures import TIMEOUT
from deckcheck.check.session import RunOptions
from deckcheck.deck import Deck, DeckSettings, Problem
from deckcheck.kernel.env import kernel_env, network_allowed
from deckcheck.results import BlockResult

INVALID = "not run: the deck is invalid"
NOT_EXECUTED = "not run: execute is false in the deck's settings"
NO_KERNEL = "not run: no kernel"


def run_options(
    decks: Sequence[Deck],
    cache: Path,
    threads: int,
    *,
    memory_limit: int,
    timeout: float | None = None,
    exitfirst: bool = False,
    filterwarnings: tuple[str, ...] = (),
    python: str = "",
    without: Iterable[str] = (),
) -> RunOptions:
    """The options every kernel of these decks runs with: the contract's environment (`threads`
    computing threads each, the data cache under `cache`, less the variables `without`), and the
    network only where a block asks for it and the machine has it. The data sets the decks
    load are fetched first (a no-op where the cache has them)."""
    data_fetch.provide(decks, cache)
    env = kernel_env(threads, cache)
    for name in without:
        env.pop(name, None)
    needs_network = any("network" in block.options.requires for deck in decks for block in deck.blocks)
    return RunOptions(
        timeout=timeout,
        exitfirst=exitfirst,
        filterwarnings=filterwarnings,
        memory_limit=memory_limit,
        env=env,
        network=network_allowed() if needs_network else False,
        python=python,
    )


def setup_problem(settings: DeckSettings, error: str) -> Problem:
    """The deck's setup failed: a problem at its line (the deck's, or the project's settings)."""
    origin = f" (from {settings.setup_origin})" if settings.setup_origin else ""
    return Problem(settings.setup_line, 1, f"setup failed{origin}: {error}")


def after_setup_failed(settings: DeckSettings) -> str:
    return f"not run: the deck's setup failed (line {settings.setup_line})"


class DeckPolicy:
    """Follows a deck's blocks in file order: marks a failure that came after another, and says
    when the rest of the deck is not to run."""

    def __init__(self, exitfirst: bool = False, earlier: Iterable[BlockResult] = ()) -> None:
        """`earlier`: the results of blocks before the first one run now (a resumed deck)."""
        self.exitfirst = exitfirst
        failures = [r.failure.line for r in earlier if r.status == "failed" and r.failure is not None]
        self.first: int | None = failures[0] if failures else None  # the line of the deck's first failure
        self.stopped = ""  # why the rest of the deck is not run

    def judge(self, result: BlockResult, kernel_alive: bool) -> BlockResult:
        """The result as reported: a later failure names the first one."""
        failure = result.failure
        if result.status != "failed" or failure is None:
            return result
        if self.first is None:
            self.first = failure.line
        else:
            result = replace(result, failure=replace(failure, after=self.first))
        if self.exitfirst:
            self.stopped = f"not run: the block at line {result.line} failed (--exitfirst)"
        elif not kernel_alive and failure.summary.startswith(TIMEOUT):
            self.stopped = (
                f"not run: the kernel did not stop at its time limit (line {failure.line}) and was ended"
            )
        elif not kernel_alive:
            self.stopped = f"not run: the kernel was lost at line {failure.line}"
        return result
