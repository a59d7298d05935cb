"""pytest collects decks as files and their Python blocks as items: `pytest slides/`.

Registered through the `pytest11` entry point. In a folder only decks are collected: Marp
decks (front matter `marp: true`) and .md files under the `paths` of [tool.deckcheck], never
a README (discover.is_deck); a file named on the command line is taken as a deck, as pytest
does with a .py file. A deck's items share one kernel, in file order: a DeckSession started
by the first item that runs and closed when pytest leaves the deck (DeckFile.teardown). An
item whose earlier blocks were deselected (`-k`, `-m`) runs them first, unreported, since it
may need what they define. A failing item's report is the command's own: `PATH:LINE: slide
N: SUMMARY`, the excerpt, the trimmed traceback. Blocks that require a resource carry it as
a marker: `pytest slides -m cuda` runs only the blocks that need CUDA. With pytest-xdist,
use `--dist loadfile` so that a deck stays on one worker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from deckcheck.deck import Block, Deck, Problem
from deckcheck.read.discover import SUFFIXES, is_deck
from deckcheck.read.fences import KNOWN_RESOURCES
from deckcheck.report import lines as report
from deckcheck.results import BlockResult, Failure

PYTEST_VARIABLES = ("PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")  # ipykernel behaves otherwise under them


class BlockFailed(Exception):
    """A block failed; its report is the command's."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


RUNNING = pytest.StashKey[set["DeckRun"]]()  # the decks whose kernels are up


def pytest_configure(config: pytest.Config) -> None:
    for resource in KNOWN_RESOURCES:
        config.addinivalue_line("markers", f"{resource}: a deck block that requires {resource}")
    config.stash[RUNNING] = set()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, partial(_terminate, config.stash[RUNNING]))


def _terminate(running: set[DeckRun], signum: int, frame: object) -> None:
    """SIGTERM: end every deck's kernel and what it started, as the command does, then go."""
    for run in list(running):
        run.kill()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DeckFile | None:
    named = parent.session.isinitpath(file_path)  # named on the command line: a deck, as pytest does
    if file_path.suffix in SUFFIXES and (named or is_deck(file_path)):
        return DeckFile.from_parent(parent, path=file_path)
    return None


def _shown(path: Path) -> Path:
    """The deck's path as the command shows it: relative to the current folder when inside it."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path


class DeckFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from deckcheck.check.syntax import syntax_failures
        from deckcheck.read.parser import read_deck

        self.deck = read_deck(_shown(self.path))
        self.run: DeckRun | None = None
        fatal = [problem for problem in self.deck.problems if problem.fatal]
        if fatal:
            yield ProblemItem.from_parent(self, name="deck", problems=fatal)
            return
        syntax = syntax_failures(self.deck)
        for block in self.deck.blocks:
            item = BlockItem.from_parent(
                self, name=f"slide{block.slide}-line{block.line}", block=block, syntax=syntax.get(block.index)
            )
            for resource in dict.fromkeys((*self.deck.settings.requires, *block.options.requires)):
                item.add_marker(resource)
            yield item

    def deck_run(self) -> DeckRun:
        if self.run is None:
            self.run = DeckRun(self.deck)
            self.config.stash[RUNNING].add(self.run)
        return self.run

    def teardown(self) -> None:
        if self.run is not None:
            self.config.stash[RUNNING].discard(self.run)
            self.run.close()
            self.run = None


class ProblemItem(pytest.Item):
    """A deck that cannot run (bad front matter, a missing image): one failing item."""

    def __init__(self, *, problems: list[Problem], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        deck: Deck = self.parent.deck  # type: ignore[union-attr]
        raise BlockFailed("\n".join(report.problem_line(str(deck.path), p) for p in self.problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, BlockFailed):
            return excinfo.value.text
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.problems[0].line - 1, f"slide {self.problems[0].slide}"


class BlockItem(pytest.Item):
    """One Python block of a deck."""

    def __init__(self, *, block: Block, syntax: Failure | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block
        self.syntax = syntax

    def runtest(self) -> None:
        parent: DeckFile = self.parent  # type: ignore[assignment]
        result = parent.deck_run().run_through(self.block, self.syntax)
        if result.status == "skipped":
            raise pytest.skip.Exception(result.reason, _use_item_location=True)
        if result.status == "failed":
            raise BlockFailed(report.failure_report(parent.deck, result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, BlockFailed):
            return excinfo.value.text
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.block.line - 1, f"slide {self.block.slide}, line {self.block.line}"


class DeckRun:
    """One deck's kernel across its items, on an event loop of its own."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self.loop = asyncio.new_event_loop()
        self.session: Any = None
        self.done = 0  # blocks run (or passed over) so far, in file order
        self.policy: Any = None  # the deck's run policy (check/policy.py), once a block has run

    def run_through(self, block: Block, syntax: Failure | None) -> BlockResult:
        """Run the blocks before this one that have not run (deselected ones), then this one."""
        from deckcheck.check.syntax import syntax_failures

        if self.done < block.index:
            failures = syntax_failures(self.deck)
            for earlier in self.deck.blocks[self.done : block.index]:
                self._run(earlier, failures.get(earlier.index))
        return self._run(block, syntax)

    def _run(self, block: Block, syntax: Failure | None) -> BlockResult:
        from deckcheck.check.policy import DeckPolicy
        from deckcheck.check.session import failed, skipped

        self.done = max(self.done, block.index + 1)
        self.policy = self.policy or DeckPolicy()  # pytest's own -x stops the run
        if syntax is not None:
            result = failed(block, syntax)
        elif block.options.skip_execution:
            return skipped(block, "skip-execution")
        elif self.session is None and not self.policy.stopped and (failure := self._start(block)) is not None:
            result = failed(block, failure)  # the kernel or the setup: reported once, by this block
        elif self.policy.stopped:
            return skipped(block, self.policy.stopped)
        else:
            result = self.loop.run_until_complete(self.session.run(block))
        return self.policy.judge(result, self.session is None or self.session.alive)

    def _start(self, block: Block) -> Failure | None:
        return self.loop.run_until_complete(self._start_session(block))

    async def _start_session(self, block: Block) -> Failure | None:
        """Start the kernel and run the deck's setup; the failure that stops the deck, if any."""
        from deckcheck.check import policy
        from deckcheck.check.session import DeckSession
        from deckcheck.errors import KernelError
        from deckcheck.kernel.env import default_memory_limit
        from deckcheck.read.project import cache_root

        settings = self.deck.settings
        if not settings.execute:
            self.policy.stopped = policy.NOT_EXECUTED
            return None
        options = policy.run_options(
            [self.deck],
            cache_root(self.deck.folder),
            1,
            memory_limit=default_memory_limit(1),
            without=PYTEST_VARIABLES,
        )
        session = DeckSession(self.deck, options)
        try:
            await session.start()
        except KernelError as error:
            self.policy.stopped = policy.NO_KERNEL
            return Failure(block.first_code_line, block.slide, str(error))
        self.session = session
        wrong = await session.setup()
        if wrong is None:
            return None
        self.policy.stopped = policy.after_setup_failed(settings)
        problem = policy.setup_problem(settings, wrong)
        return Failure(problem.line, problem.slide, problem.summary)

    def kill(self) -> None:
        """End the kernel and every process it started, at once (from a signal handler)."""
        if self.session is not None:
            self.session.kernel.kill()

    def close(self) -> None:
        try:
            if self.session is not None:
                self.loop.run_until_complete(self.session.close())
        finally:
            self.session = None
            self.loop.close()
