"""Run a deck's blocks in one Jupyter kernel, in file order, and say how each one went."""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from .deck import Block, Deck
from .failures import FailureReader
from .kernels import KernelError, KernelProcess
from .results import BlockResult, DeckResult, Failure
from .sanitize import clean

Progress = Callable[[Deck, BlockResult], None]
Starting = Callable[[Deck, Block], None]


@dataclass(frozen=True)
class RunOptions:
    timeout: float = 300.0  # seconds per block, unless the block says otherwise
    interrupt_grace: float = 3.0  # after an interrupt, how long before the kernel is killed
    memory_limit: int = 0  # bytes per kernel; 0 for none
    output_limit: int = 200_000  # characters of printed output kept per block
    env: dict[str, str] = field(default_factory=dict)  # the kernel's whole environment
    network: bool = False  # whether requires=["network"] blocks may run


class BoundedClient(NotebookClient):
    """nbclient, keeping at most `limit` characters of stream output per cell."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit
        self.kept: dict[int, int] = {}

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        if msg["msg_type"] == "stream":
            text = msg["content"].get("text", "")
            room = self.limit - self.kept.get(cell_index, 0)
            if room <= 0:
                return None
            msg["content"]["text"] = text[:room]
            self.kept[cell_index] = self.kept.get(cell_index, 0) + min(len(text), room)
        return super().output(outs, msg, display_id, cell_index)


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
        results: list[BlockResult] = []
        standins: tuple[str, ...] = ()
        if not deck.runnable:
            results = [_skipped(block, "not run: the deck is invalid") for block in deck.blocks]
        elif any(_wants_kernel(block) for block in deck.blocks):
            results, standins = await self._run_in_kernel(deck)
        else:
            results = [_skipped(block, "skip-execution") for block in deck.blocks]
        return DeckResult(
            path=str(deck.path),
            blocks=tuple(results),
            problems=deck.problems,
            standins=standins,
            duration=time.monotonic() - started,
        )

    async def _run_in_kernel(self, deck: Deck) -> tuple[list[BlockResult], tuple[str, ...]]:
        kernel = KernelProcess(deck.folder.resolve(), self._env())
        session = _Session(deck, kernel, self.options)
        try:
            await kernel.start()
            await session.connect()
            results = await session.run_blocks(self.progress, self.starting)
            standins = await session.standins_used() if session.alive else ()
        except KernelError as error:
            kernel.kill()
            await session.close()
            return _no_kernel(deck, error, kernel), ()
        except BaseException:  # interrupted: nothing of the kernel may outlive this
            kernel.kill()
            await session.close()
            raise
        await kernel.shutdown(session.ask_to_exit)
        await session.close()
        return results, standins

    def _env(self) -> dict[str, str]:
        from . import kernel as kernel_side

        env = dict(self.options.env)
        if self.options.memory_limit:
            env[kernel_side.MEMORY_LIMIT] = str(self.options.memory_limit)
        env[kernel_side.OUTPUT_LIMIT] = str(self.options.output_limit)
        return env


def _no_kernel(deck: Deck, error: Exception, kernel: KernelProcess) -> list[BlockResult]:
    first = deck.blocks[0]
    tail = " ".join(list(kernel.stderr_tail)[-3:])
    failure = Failure(first.first_code_line, first.slide, f"{error}{': ' + tail if tail else ''}")
    return [_failed(first, failure)] + [_skipped(block, "not run: no kernel") for block in deck.blocks[1:]]


def _wants_kernel(block: Block) -> bool:
    return not block.options.skip_execution


def _skipped(block: Block, reason: str) -> BlockResult:
    return BlockResult(block.index, block.line, block.slide, "skipped", reason=reason)


def _failed(block: Block, failure: Failure, **extra: Any) -> BlockResult:
    return BlockResult(block.index, block.line, block.slide, "failed", failure=failure, **extra)


class _Session:
    """One deck in one live kernel."""

    def __init__(self, deck: Deck, kernel: KernelProcess, options: RunOptions) -> None:
        self.deck = deck
        self.kernel = kernel
        self.options = options
        self.notebook = nbformat.v4.new_notebook()
        self.client = BoundedClient(
            self.notebook,
            km=kernel.manager,
            limit=options.output_limit + 10_000,  # room for the kernel's "not kept" notice
            timeout=None,
            allow_errors=True,
            record_timing=False,
            startup_timeout=60,
        )
        self.reader = FailureReader(deck, options.memory_limit)
        self.alive = True
        self.resources: dict[str, bool] = {}

    async def connect(self) -> None:
        try:
            await self.client.async_start_new_kernel_client()
        except Exception as error:
            raise KernelError(f"the kernel did not start: {error}") from None

    def ask_to_exit(self) -> None:
        """Ask the kernel to run its exit handlers and leave; it sends no reply."""
        if self.client.kc is not None and self.alive:
            self.client.kc.execute(
                "__import__('deckcheck.kernel', fromlist=['_']).exit_now()", silent=True, store_history=False
            )

    async def close(self) -> None:
        """Stop nbclient's pollers for this kernel, then its channels."""
        await _settle(*_tasks_of(self.client))
        kc = self.client.kc
        if kc is not None:
            kc.stop_channels()
            self.client.kc = None

    async def run_blocks(self, progress: Progress, starting: Starting) -> list[BlockResult]:
        results: list[BlockResult] = []
        stopped: BlockResult | None = None
        for block in self.deck.blocks:
            if stopped is not None:
                result = _skipped(block, f"not run: the block at line {stopped.line} failed")
            else:
                starting(self.deck, block)
                result = await self._run_block(block)
                if result.status == "failed":
                    stopped = result
            results.append(result)
            progress(self.deck, result)
        return results

    async def _run_block(self, block: Block) -> BlockResult:
        if block.options.skip_execution:
            return _skipped(block, "skip-execution")
        missing = await self._missing_resources(block)
        if missing:
            return _skipped(block, f"requires {', '.join(missing)}, not available here")
        started = time.monotonic()
        cell = nbformat.v4.new_code_cell(block.code)
        self.notebook.cells.append(cell)
        index = len(self.notebook.cells) - 1
        failure = await self._execute(block, cell, index)
        output, figures = _outputs(cell, keep_figures=block.options.show_output)
        duration = time.monotonic() - started
        if failure is None and block.options.raises_exception and not _error_output(cell):
            failure = Failure(
                block.first_code_line, block.slide, "expected an exception: the block raised none"
            )
        if failure is not None:
            return _failed(block, failure, output=output, figures=figures, duration=duration)
        return BlockResult(
            block.index, block.line, block.slide, "passed", output=output, figures=figures, duration=duration
        )

    async def _execute(self, block: Block, cell: Any, index: int) -> Failure | None:
        limit = block.options.timeout or self.options.timeout
        task = asyncio.ensure_future(self.client.async_execute_cell(cell, index))
        task.add_done_callback(_collect)  # an interrupted run never awaits it again
        done, _ = await asyncio.wait({task}, timeout=limit)
        if not done:
            return await self._time_out(block, task, limit)
        self.reader.remember(cell.get("execution_count"), block)
        try:
            task.result()
        except DeadKernelError:
            return await self._died(block)
        error = _error_output(cell)
        if error is None or block.options.raises_exception:
            return None
        return self.reader.error(block, error, await self._last_error())

    async def _time_out(self, block: Block, task: asyncio.Future, limit: float) -> Failure:
        await self.kernel.manager.interrupt_kernel()
        done, _ = await asyncio.wait({task}, timeout=self.options.interrupt_grace)
        self.reader.remember(self.notebook.cells[-1].get("execution_count"), block)
        interrupted = done and not task.cancelled() and task.exception() is None
        details = await self._last_error() if interrupted else None
        self.alive = False
        self.kernel.kill()
        await _settle(task, getattr(self.client, "task_poll_for_reply", None))
        return self.reader.timeout(block, limit, details)

    async def _died(self, block: Block) -> Failure:
        self.alive = False
        try:
            log = self.kernel.crash_log.read_text("utf-8", "replace")
        except OSError:
            log = ""
        return self.reader.crash(block, self.kernel.exit_reason(), log)

    async def _last_error(self) -> dict | None:
        value = await self._evaluate("__import__('deckcheck.kernel', fromlist=['_']).last_error()")
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    async def _evaluate(self, expression: str, timeout: float = 10) -> str | None:
        """An expression's text/plain value, evaluated quietly in the kernel."""
        kc = self.client.kc
        if kc is None or not self.alive:
            return None
        try:
            reply = await asyncio.wait_for(
                kc.execute_interactive(
                    "", silent=True, store_history=False, user_expressions={"v": expression},
                    allow_stdin=False, timeout=timeout, output_hook=lambda msg: None,
                ),
                timeout + 1,
            )  # fmt: skip
        except (TimeoutError, asyncio.TimeoutError, RuntimeError):
            return None
        value = reply.get("content", {}).get("user_expressions", {}).get("v", {})
        if value.get("status") != "ok":
            return None
        try:
            return str(ast.literal_eval(value.get("data", {}).get("text/plain", "")))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None

    async def _missing_resources(self, block: Block) -> list[str]:
        missing = []
        for resource in block.options.requires:
            if resource not in self.resources:
                self.resources[resource] = await self._has_resource(resource)
            if not self.resources[resource]:
                missing.append(resource)
        return missing

    async def _has_resource(self, resource: str) -> bool:
        if resource == "network":
            return self.options.network
        probes = {
            "cuda": "__import__('torch').cuda.is_available()",
            "mps": "__import__('torch').backends.mps.is_available()",
        }
        return await self._evaluate(f"str({probes[resource]})") == "True"

    async def standins_used(self) -> tuple[str, ...]:
        value = await self._evaluate("__import__('deckcheck.kernel', fromlist=['_']).standins_used()")
        try:
            return tuple(json.loads(value)) if value else ()
        except ValueError:
            return ()


def _tasks_of(client: NotebookClient) -> list[asyncio.Task]:
    """nbclient's own polling tasks for this client, which it leaves running when a cell is cut short."""
    found = []
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        if frame is not None and frame.f_locals.get("self") is client and task is not asyncio.current_task():
            found.append(task)
    return found


def _collect(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


async def _settle(*tasks: asyncio.Future | None) -> None:
    """Cancel nbclient's tasks for a cell that will never finish, and collect their outcome."""
    pending = [task for task in tasks if task is not None and not task.done()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)


def _error_output(cell: Any) -> dict | None:
    return next((out for out in cell.get("outputs", []) if out.get("output_type") == "error"), None)


def _outputs(cell: Any, keep_figures: bool) -> tuple[str, tuple[str, ...]]:
    text: list[str] = []
    figures: list[str] = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" in data:
                if keep_figures:
                    figures.append(str(data["image/png"]).replace("\n", ""))
            elif "text/plain" in data:
                text.append(str(data["text/plain"]) + "\n")
    return clean("".join(text)), tuple(figures)
