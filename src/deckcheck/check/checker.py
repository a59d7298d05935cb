"""Check decks: read them, reuse cached results, run the rest in parallel kernels."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from deckcheck import env_names
from deckcheck.check import data_fetch, runtime
from deckcheck.check.cache import TIMINGS, ResultCache, Timings, deck_key
from deckcheck.check.quick import quickened
from deckcheck.check.selection import STOPPED, reported
from deckcheck.deck import Deck
from deckcheck.kernel import scratch
from deckcheck.kernel.data_cache import standins
from deckcheck.kernel.env import kernel_env
from deckcheck.read.parser import read_deck
from deckcheck.read.project import cache_root
from deckcheck.results import DeckResult

if TYPE_CHECKING:
    from deckcheck.check.checkpoint_store import CheckpointStore
    from deckcheck.check.deck_runner import RunOptions, RunProgress, RunStop
    from deckcheck.check.environments import Environment
    from deckcheck.kernel.fork_server import Zygote


# With one job a core is free for the next deck's kernel to start on; with more, that pays for
# the memory of one more kernel only when decks are short (seconds, or blocks when not timed).
SHORT_DECK = 5.0


@dataclass(frozen=True)
class CheckOptions:
    use_cache: bool = True
    jobs: int = 0  # 0: one per core
    timeout: float | None = None  # per block, from the command line; None: the deck's or 300 s
    memory_limit: int = 0
    exitfirst: bool = False  # stop each deck at its first failure
    maxfail: int = 0  # stop the whole run after this many failures (-x: 1); 0 never
    selected: dict[str, frozenset[int]] = field(default_factory=dict)  # deck → its blocks to check (-k, --lf)
    filterwarnings: tuple[str, ...] = ()  # -W filters, pytest's syntax
    environment: Environment | None = None  # a matrix environment to run the kernels in
    keep_failures: bool = False  # cache failed results too (the matrix: pinned environments)
    timings_file: str = TIMINGS  # where in the cache this run records its durations (a shard: its own)
    quick: bool = False  # set the decks' quick values after their parameters blocks (check/quick.py)

    @property
    def job_count(self) -> int:
        return self.jobs if self.jobs > 0 else os.cpu_count() or 1


DeckDone = Callable[[Deck, DeckResult], None]


class Checker:
    """Checks a list of decks; results come back in the decks' order."""

    def __init__(
        self,
        options: CheckOptions,
        on_deck: DeckDone | None = None,
        progress: RunProgress | None = None,
        keep_fork_server: bool = False,
        checkpoints: CheckpointStore | None = None,
    ) -> None:
        self.options = options
        self.keep_fork_server = keep_fork_server  # for checks that follow (serve): close() ends it
        self.server: Zygote | None = None
        self.checkpoints = checkpoints  # serve: resume decks from the block that changed
        self.on_deck = on_deck or (lambda deck, result: None)
        self.progress = progress  # the blocks as they start and end (a live display)
        self.stop: RunStop | None = None  # this check's -x / --maxfail, once it runs decks
        self.cache_problem = ""  # why the cache could not be written, if it could not

    def read(self, paths: Sequence[Path]) -> list[Deck]:
        return [read_deck(path) for path in paths]

    async def check(self, decks: Sequence[Deck], reuse: bool = True) -> list[DeckResult]:
        """Check the decks; `reuse=False` runs them even when a cached result would do."""
        scratch.sweep()  # what a killed run left in the temporary folder
        if self.options.quick:
            decks = [quickened(deck) for deck in decks]
        self.cache_dir = cache_root(*(deck.folder for deck in decks))
        self.cache = ResultCache(self.cache_dir / "results")
        environment = self.options.environment
        fingerprint = environment.fingerprint() if environment else runtime.runtime_fingerprint()
        data_fetch.provide(decks, self.cache_dir)
        data = standins(self.cache_dir)
        keys = [deck_key(deck, fingerprint, data, self.options.filterwarnings) for deck in decks]
        cached = [
            self._reported(deck, self.cache.get(key, deck, self.options.keep_failures))
            if self.options.use_cache and reuse
            else None
            for deck, key in zip(decks, keys, strict=True)
        ]
        results: list[DeckResult | None] = list(cached)
        done = [asyncio.get_running_loop().create_future() for _ in decks]
        for index, result in enumerate(cached):
            if result is not None:
                done[index].set_result(result)
        pending = [i for i, result in enumerate(cached) if result is None]
        runner_task = asyncio.ensure_future(self._run(decks, pending, keys, done)) if pending else None
        try:
            for index, deck in enumerate(decks):
                result = await _first_of(done[index], runner_task)
                results[index] = result
                self.on_deck(deck, result)
            if runner_task is not None:
                await runner_task
        finally:
            if runner_task is not None and not runner_task.done():
                runner_task.cancel()
                await asyncio.gather(runner_task, return_exceptions=True)
        return [result for result in results if result is not None]

    async def _run(
        self, decks: Sequence[Deck], pending: list[int], keys: list[str], done: list[asyncio.Future]
    ) -> None:
        jobs = min(self.options.job_count, len(pending))
        # A kernel whose OpenMP pool has run cannot be forked safely: with checkpoints (serve),
        # every kernel computes on one thread, resumed or not, so their results agree.
        threads = os.cpu_count() or 1 if self.checkpoints else jobs
        env = kernel_env(threads, self.cache_dir)  # the fork server's: as run_options makes the kernels'
        python = self.options.environment.python if self.options.environment else ""
        server = self.server if self.server is not None and self.server.running else None
        starting = None
        if server is None:  # it imports torch for seconds: meanwhile, this process imports the runner
            starting = asyncio.ensure_future(
                _fork_server([decks[i] for i in pending], env, python or sys.executable)
            )
            await asyncio.sleep(0)  # let it reach its thread (and so start the process) before the import
        try:
            from deckcheck.check.policy import run_options
        except BaseException:
            if starting is not None:
                starting.cancel()
            raise
        options = run_options(
            [decks[i] for i in pending],
            self.cache_dir,
            threads,
            memory_limit=self.options.memory_limit,
            timeout=self.options.timeout,
            exitfirst=self.options.exitfirst,
            filterwarnings=self.options.filterwarnings,
            python=python,
        )
        server = server or (await starting if starting is not None else None)
        outcome = "failed"
        try:
            await self._run_decks(decks, pending, keys, done, options, jobs, server)
            outcome = "done"
        except asyncio.CancelledError:
            outcome = "cancelled"  # serve cancels a check when a save makes it stale
            raise
        finally:
            if server is not None and self.keep_fork_server and outcome != "failed":
                self.server = server  # its forks were killed; the next check forks it again
            elif server is not None:
                server.close(now=outcome != "done")
                self.server = None

    def _reported(self, deck: Deck, result: DeckResult | None) -> DeckResult | None:
        """The result as this run's selection (-k, --lf) reports it."""
        return None if result is None else reported(result, self.options.selected.get(str(deck.path)))

    def _keep(self, write: Callable[[], None]) -> None:
        """Write to the cache; a failure (a full disk, a read-only folder) costs only the cache."""
        try:
            write()
        except OSError as error:
            self.cache_problem = self.cache_problem or (
                f"cannot write the result cache in {self.cache_dir}: {error.strerror or error}"
            )

    def close(self) -> None:
        """End the fork server kept for later checks, if any."""
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _run_decks(
        self,
        decks: Sequence[Deck],
        pending: list[int],
        keys: list[str],
        done: list[asyncio.Future],
        options: RunOptions,
        jobs: int,
        server: Zygote | None,
    ) -> None:
        from deckcheck.check.deck_runner import DeckRunner, RunStop
        from deckcheck.kernel.launch import Forked, Fresh

        self.stop = RunStop(self.options.maxfail)
        runner = DeckRunner(
            options,
            progress=self.progress,
            checkpoints=self.checkpoints,
            launch=Forked(server) if server is not None else Fresh(),
            stop=self.stop,
        )
        environment = self.options.environment
        versions = environment.versions() if environment else runtime.versions()
        timings = Timings(self.cache_dir / TIMINGS, self.cache_dir / self.options.timings_file)
        order = deque(sorted(pending, key=lambda i: -timings.estimate(decks[i])))  # longest first

        async def worker() -> None:
            while order:
                index = order.popleft()
                if order and (jobs == 1 or timings.estimate(decks[index]) < SHORT_DECK):
                    runner.prestart(decks[order[0]])  # its kernel starts while this deck runs
                selected = self.options.selected.get(str(decks[index].path))
                try:
                    ran = await runner.run(decks[index], max(selected) if selected else None)
                except Exception as error:  # surfaces in check(), which awaits this deck
                    done[index].set_exception(error)
                    continue
                result = _with_versions(ran, versions)
                stopped = any(b.reason.startswith(STOPPED) for b in ran.blocks)
                whole = selected is None and not stopped  # the cache and the timings want whole runs
                if self.options.use_cache and decks[index].runnable and whole:
                    self._keep(partial(self.cache.put, keys[index], result, self.options.keep_failures))
                if whole:
                    timings.record(decks[index], result.duration)
                done[index].set_result(reported(result, selected))

        workers = [asyncio.ensure_future(worker()) for _ in range(jobs)]
        finished = False
        try:
            await asyncio.gather(*workers)
            self._keep(timings.save)
            finished = True
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await runner.drain(kill=not finished)


async def _fork_server(decks: Sequence[Deck], env: dict[str, str], python: str) -> Zygote | None:
    """A zygote that kernels fork from (on Linux, unless DECKCHECK_FORK=0): it imports what the
    decks import and warms it up once, and each kernel, forked from it, starts warm. `python`
    is the kernels' interpreter (a matrix environment's)."""
    from deckcheck.kernel import fork_server

    if os.environ.get(env_names.FORK) == "0" or sys.platform != "linux":
        return None
    codes = [deck.settings.setup for deck in decks]
    codes += [block.code for deck in decks for block in deck.blocks if not block.options.skip_execution]
    server = fork_server.Zygote(fork_server.wanted_preloads(codes), env, python)
    try:
        started = await asyncio.to_thread(server.start)
    except Exception:  # no fork server, then: kernels start the usual way
        server.close(now=True)
        return None
    except BaseException:  # interrupted while it imports
        server.close(now=True)
        raise
    return server if started else None


async def _first_of(result: asyncio.Future, runner: asyncio.Future | None) -> DeckResult:
    """A deck's result; if the runner fails before it comes, the runner's error."""
    if runner is not None and not result.done():
        await asyncio.wait({result, runner}, return_when=asyncio.FIRST_COMPLETED)
        if not result.done():
            runner.result()  # raises the runner's error
            raise RuntimeError("the runner stopped before every deck was checked")
    return result.result()


def _with_versions(result: DeckResult, versions: dict[str, str]) -> DeckResult:
    return replace(result, versions=versions)
