"""Run a whole deck: its syntax checked first, then one DeckSession, its blocks in file order,
under the deck's run policy (policy.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Protocol

from deckcheck.check.checkpoint_store import Checkpoint, CheckpointStore, ResumePlan
from deckcheck.check.policy import (
    INVALID,
    NO_KERNEL,
    NOT_EXECUTED,
    DeckPolicy,
    after_setup_failed,
    setup_problem,
)
from deckcheck.check.selection import RunStop
from deckcheck.check.session import DeckSession, RunOptions, failed, skipped
from deckcheck.check.standin_flow import spread
from deckcheck.check.syntax import syntax_failures
from deckcheck.deck import Block, Deck, Problem
from deckcheck.errors import KernelError
from deckcheck.kernel.launch import FRESH, Launch
from deckcheck.read.inline_values import value_problems
from deckcheck.results import BlockResult, DeckResult, Failure, InlineValue

__all__ = ["DeckRunner", "RunOptions", "RunProgress", "RunStop"]


class RunProgress(Protocol):
    """What a live display learns from the runner while decks run."""

    def deck_started(self, deck: Deck) -> None: ...

    def block_started(self, deck: Deck, block: Block) -> None: ...

    def block_done(self, deck: Deck, result: BlockResult) -> None: ...

    def deck_finished(self, deck: Deck, result: DeckResult) -> None: ...


class Quiet:
    """A RunProgress that shows nothing."""

    def deck_started(self, deck: Deck) -> None:
        pass

    def block_started(self, deck: Deck, block: Block) -> None:
        pass

    def block_done(self, deck: Deck, result: BlockResult) -> None:
        pass

    def deck_finished(self, deck: Deck, result: DeckResult) -> None:
        pass


class DeckRunner:
    """Executes one deck at a time. A finished deck's kernel is shut down in the background
    (its exit handlers run while the next deck starts); every kernel it started is gone when
    drain() returns."""

    def __init__(
        self,
        options: RunOptions,
        progress: RunProgress | None = None,
        checkpoints: CheckpointStore | None = None,
        launch: Launch = FRESH,
        stop: RunStop | None = None,
    ) -> None:
        """`checkpoints`: keep the kernel's state after each block, and resume from it (serve);
        `launch`: how a deck's kernel starts when it does not resume (a fork of the fork server);
        `stop`: the run's -x / --maxfail, shared by every deck of the run."""
        self.options = options
        self.launch = launch
        self.progress: RunProgress = progress or Quiet()
        self.stop = stop or RunStop()
        self.checkpoints = checkpoints
        self.closing: set[asyncio.Task] = set()
        self.prestarted: dict[str, asyncio.Task] = {}  # deck path → its kernel, starting early

    async def run(self, deck: Deck, upto: int | None = None) -> DeckResult:
        """Run the deck (`upto`: its blocks up to that index only; the later ones are left out)."""
        started = time.monotonic()
        self.progress.deck_started(deck)
        outcome = _Outcome()
        problems = deck.problems
        if self.stop.reason:
            results = self._skip_all(deck, self.stop.reason)
        elif not deck.runnable:
            results = self._skip_all(deck, INVALID)
        elif not deck.settings.execute:
            results = self._skip_all(deck, NOT_EXECUTED)
        else:
            results, outcome, setup = await self._run(deck, syntax_failures(deck), upto)
            problems += setup
        values = outcome.values or tuple(InlineValue(expr.expr, expr.spec) for expr in deck.inline)
        problems += value_problems(deck, values)
        if problems and not self.stop.reason:
            self.stop.count(deck, min(problem.line for problem in problems))
        carried = spread(deck, outcome.opened)
        result = DeckResult(
            path=str(deck.path),
            blocks=tuple(replace(result, standins=carried.get(result.index, ())) for result in results),
            problems=problems,
            standins=tuple(sorted({name for names in outcome.opened.values() for name in names})),
            duration=time.monotonic() - started,
            device=outcome.device,
            timeline=outcome.timeline,
            resumed_from=outcome.resumed_from,
            no_resume=outcome.no_resume,
            values=values,
            quick=deck.settings.quick_run,
        )
        self.progress.deck_finished(deck, result)
        return result

    def _skip_all(self, deck: Deck, reason: str) -> list[BlockResult]:
        results = [skipped(block, reason) for block in deck.blocks]
        for result in results:
            self.progress.block_done(deck, result)
        return results

    async def _run(
        self, deck: Deck, syntax: dict[int, Failure], upto: int | None = None
    ) -> tuple[list[BlockResult], _Outcome, tuple[Problem, ...]]:
        end = len(deck.blocks) if upto is None else upto + 1
        runnable = [b for b in deck.blocks[:end] if not b.options.skip_execution and b.index not in syntax]
        if not runnable and not deck.inline:
            return await self._run_blocks(deck, None, syntax, end=end), _Outcome(), ()
        stops = self.options.exitfirst or self.stop.maxfail
        plan = self.checkpoints.plan(deck) if self.checkpoints and not stops else None
        session = await self._start(deck, plan)
        if isinstance(session, list):
            for result in session:
                self.progress.block_done(deck, result)
                if result.failure is not None:
                    self.stop.count(deck, result.failure.line)
            return session, _Outcome(), ()
        if session.resumed is None:
            plan = None  # the checkpoint could not resume: a full run
        taken: dict[int, Checkpoint] = {}  # this run's checkpoints, until the store has them
        values: list[InlineValue] = list(plan.values) if plan is not None else []
        try:
            problem = await self._setup(session) if plan is None else None
            if problem is not None:
                results = self._skip_all(deck, after_setup_failed(deck.settings))
                await session.close()
                return results, _Outcome(), (problem,)
            if plan is not None:
                session.remember_cells(plan.cells)
            results = await self._run_blocks(deck, session, syntax, plan, taken, values, end)
            opened, device = await session.standins_opened(), await session.device()
            if self.checkpoints is not None:
                writers = await session.writing_blocks()
                self.checkpoints.record(deck, results, session.cells(), writers, taken, plan, values)
                taken = {}
        except BaseException:  # interrupted: nothing of the kernel may outlive this
            if self.checkpoints is not None:
                self.checkpoints.discard(taken.values())
            await session.close(kill=True)
            raise
        self._close_later(session)
        resumed = plan.start + 1 if plan is not None else 0
        timeline = session.timeline.items()
        return results, _Outcome(opened, device, timeline, resumed, session.refused, tuple(values)), ()

    def prestart(self, deck: Deck) -> None:
        """Start the kernel of the deck that runs next, so that it is ready when its turn comes
        (kernel start-up then overlaps the running deck's blocks)."""
        wanted = deck.runnable and deck.settings.execute and self.checkpoints is None and not self.stop.reason
        if wanted and str(deck.path) not in self.prestarted:
            session = DeckSession(deck, self.options, self.launch)
            task = asyncio.ensure_future(session.start())
            task.add_done_callback(_collect)
            self.prestarted[str(deck.path)] = asyncio.ensure_future(_started(session, task))

    async def _start(self, deck: Deck, plan: ResumePlan | None) -> DeckSession | list[BlockResult]:
        """A started session (resumed from the plan's checkpoint when it can be), or, when no
        kernel starts, the results that say so."""
        early = self.prestarted.pop(str(deck.path), None)
        if early is not None:
            session, error = await early
            return _no_kernel(deck, error, session) if error is not None else session
        if plan is not None:
            session = DeckSession(deck, self.options, resume=plan.checkpoint)
            try:
                await session.start()
                return session
            except KernelError:
                pass  # the checkpoint is gone: run the deck from the top
        session = DeckSession(deck, self.options, self.launch)
        try:
            await session.start()
        except KernelError as error:
            return _no_kernel(deck, error, session)
        return session

    def _close_later(self, session: DeckSession) -> None:
        task = asyncio.ensure_future(session.close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def drain(self, kill: bool = False) -> None:
        """Wait until every kernel this runner started is gone (`kill`: at once)."""
        for early in self.prestarted.values():  # started for a deck that never ran
            session, error = await early
            if error is None:
                self._close_later(session)
        self.prestarted.clear()
        if kill:
            for task in list(self.closing):
                task.cancel()
        await asyncio.gather(*self.closing, return_exceptions=True)

    async def _setup(self, session: DeckSession) -> Problem | None:
        error = await session.setup()
        return None if error is None else setup_problem(session.deck.settings, error)

    async def _run_blocks(
        self,
        deck: Deck,
        session: DeckSession | None,
        syntax: dict[int, Failure],
        plan: ResumePlan | None = None,
        taken: dict[int, Checkpoint] | None = None,
        values: list[InlineValue] | None = None,
        end: int | None = None,
    ) -> list[BlockResult]:
        """Run the deck's blocks before `end` (from the plan's start, with the results before it
        as they were); with a checkpoint store, keep the kernel's state after each block in `taken`;
        the inline values above each block, and after the last, are added to `values`."""
        results: list[BlockResult] = list(plan.results) if plan is not None else []
        policy = DeckPolicy(self.options.exitfirst, results)
        for result in results:
            self.progress.block_done(deck, result)
        for block in deck.blocks[len(results) : end]:
            await self._evaluate(deck, session, policy, block.index, values)
            if self.stop.reason or policy.stopped:  # the run's stop, when there is one, says more
                result = skipped(block, self.stop.reason or policy.stopped)
            elif block.index in syntax:
                result = failed(block, syntax[block.index])
            elif session is None:
                result = skipped(block, "skip-execution")
            else:
                self.progress.block_started(deck, block)
                result = await session.run(block)
            result = policy.judge(result, session is None or session.alive)
            if result.failure is not None and result.status == "failed":
                self.stop.count(deck, result.failure.line)
            results.append(result)
            self.progress.block_done(deck, result)
            if (
                self.checkpoints is not None
                and taken is not None
                and session is not None
                and not policy.stopped
            ):
                await self._keep(session, block.index, taken)
        last = len(deck.blocks) if end is None else min(end, len(deck.blocks))
        for before in range(last, len(deck.blocks) + 1):  # below a -k selection: not evaluated
            await self._evaluate(deck, session if last == len(deck.blocks) else None, policy, before, values)
        return results

    async def _evaluate(
        self,
        deck: Deck,
        session: DeckSession | None,
        policy: DeckPolicy,
        before: int,
        values: list[InlineValue] | None,
    ) -> None:
        """The inline values that stand above block `before` (below every block: len(blocks))."""
        exprs = [expr for expr in deck.inline if expr.before == before]
        if values is None or not exprs:
            return
        if session is None or policy.stopped or self.stop.reason or not session.alive:
            values.extend(InlineValue(expr.expr, expr.spec) for expr in exprs)
        else:
            values.extend(await session.inline_values(exprs))

    async def _keep(self, session: DeckSession, index: int, taken: dict[int, Checkpoint]) -> None:
        """A checkpoint of the kernel after block `index`, if it can be taken."""
        assert self.checkpoints is not None
        taking = asyncio.ensure_future(
            session.checkpoint(self.checkpoints.folder, session.deck.blocks[index])
        )
        try:
            checkpoint = await asyncio.shield(taking)
        except asyncio.CancelledError:  # a checkpoint forked but never recorded would outlive the run
            checkpoint = await taking
            if checkpoint is not None:
                taken[index] = checkpoint
            raise
        if checkpoint is not None:
            taken[index] = checkpoint


async def _started(session: DeckSession, start: asyncio.Future) -> tuple[DeckSession, KernelError | None]:
    """A prestarted session, once its start has finished: (session, why it could not start)."""
    try:
        await asyncio.shield(start)
    except KernelError as error:
        return session, error
    except asyncio.CancelledError:
        await session.close(kill=True)
        raise
    return session, None


def _collect(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class _Outcome:
    """What a deck's kernel knew at the end: which blocks opened stand-ins, the device."""

    opened: dict[int, set[str]] = field(default_factory=dict)
    device: str = ""
    timeline: tuple[tuple[str, float], ...] = ()
    resumed_from: int = 0
    no_resume: str = ""
    values: tuple[InlineValue, ...] = ()


def _no_kernel(deck: Deck, error: Exception, session: DeckSession) -> list[BlockResult]:
    first = deck.blocks[0]
    tail = " ".join(list(session.kernel.stderr_tail)[-3:])
    failure = Failure(first.first_code_line, first.slide, f"{error}{': ' + tail if tail else ''}")
    return [failed(first, failure)] + [skipped(block, NO_KERNEL) for block in deck.blocks[1:]]
