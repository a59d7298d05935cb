"""Run a deck's blocks in one Jupyter kernel, in file order, and say how each one went."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from .deck import Block, Deck
from .kernels import KernelError, KernelProcess
from .results import BlockResult, DeckResult, Failure, Frame
from .sanitize import clean

Progress = Callable[[Deck, BlockResult], None]
CRASH_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')
CELL_FILE = re.compile(r"^deckcheck-cell (\d+) (.+)$")
ON_LINE = re.compile(r"\bon line (\d+)")
MEMORY_MESSAGES = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")


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

    def __init__(self, options: RunOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress or (lambda deck, result: None)

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
            results = await session.run_blocks(self.progress)
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
        self.cells: dict[int, Block] = {}  # execution count → block
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

    async def run_blocks(self, progress: Progress) -> list[BlockResult]:
        results: list[BlockResult] = []
        stopped: BlockResult | None = None
        for block in self.deck.blocks:
            if stopped is not None:
                result = _skipped(block, f"not run: the block at line {stopped.line} failed")
            else:
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
        self._remember(block, cell)
        try:
            task.result()
        except DeadKernelError:
            return await self._died(block)
        error = _error_output(cell)
        if error is None or block.options.raises_exception:
            return None
        return await self._failure(block, error)

    async def _time_out(self, block: Block, task: asyncio.Future, limit: float) -> Failure:
        summary = f"timeout after {limit:g} s"
        await self.kernel.manager.interrupt_kernel()
        done, _ = await asyncio.wait({task}, timeout=self.options.interrupt_grace)
        line, frames = block.first_code_line, ()
        self._remember(block, self.notebook.cells[-1])
        if done and not task.cancelled() and task.exception() is None:
            details = await self._last_error()
            if details:
                frames = self._frames(details)
                line = _deepest_deck_line(frames) or line
        self.alive = False
        self.kernel.kill()
        await _settle(task, getattr(self.client, "task_poll_for_reply", None))
        return Failure(line, self.deck.slide_at(line), summary, frames)

    async def _died(self, block: Block) -> Failure:
        self.alive = False
        reason = self.kernel.exit_reason()
        line = self._crash_line(block) or block.first_code_line
        summary = f"kernel died ({reason})" if reason else "kernel died"
        if reason == "killed by SIGKILL" and self.options.memory_limit:
            summary += ": out of memory?"
        return Failure(line, self.deck.slide_at(line), summary)

    def _crash_line(self, running: Block) -> int | None:
        """The deck line faulthandler saw last when the kernel crashed, if it wrote one."""
        try:
            log = self.kernel.crash_log.read_text("utf-8", "replace")
        except OSError:
            return None
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
        return None

    def _remember(self, block: Block, cell: Any) -> None:
        """Map the cell's execution count to its block (tracebacks name cells by count)."""
        count = cell.get("execution_count")
        if count:
            self.cells[int(count)] = block

    async def _failure(self, block: Block, error: dict) -> Failure:
        summary = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}"
        details = await self._last_error()
        if not details:
            return Failure(block.first_code_line, block.slide, _one_line(summary))
        frames = self._frames(details)
        line = block.first_code_line
        syntax = details.get("syntax")
        if syntax and syntax.get("cell") in self.cells and syntax.get("line"):
            block_of_error = self.cells[syntax["cell"]]
            line = block_of_error.deck_line(int(syntax["line"]))
            message = _deck_lines_in(syntax.get("msg") or details["message"], block_of_error)
            summary = f"{details['type']}: {message}"
            frames = ()
        else:
            line = _deepest_deck_line(frames) or line
            summary = f"{details['type']}: {details['message']}"
        if self.options.memory_limit and _is_memory_error(details):
            limit = self.options.memory_limit / 2**30
            summary = f"memory limit exceeded ({limit:.1f} GB): {summary}"
        return Failure(line, self.deck.slide_at(line), _one_line(summary), frames)

    async def _last_error(self) -> dict | None:
        value = await self._evaluate("__import__('deckcheck.kernel', fromlist=['_']).last_error()")
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _frames(self, details: dict) -> tuple[Frame, ...]:
        """The deck's own frames plus the library frame that raised, innermost last."""
        raw = details.get("frames", [])
        first = next((i for i, frame in enumerate(raw) if frame.get("cell") in self.cells), None)
        if first is None:
            return ()
        frames: list[Frame] = []
        for frame in raw[first:]:
            block = self.cells.get(frame.get("cell"))
            if block is not None:
                line = block.deck_line(int(frame["line"] or 1))
                code = frame.get("code", "")
                frames.append(Frame(str(self.deck.path), line, frame["name"], code, self.deck.slide_at(line)))
        last = raw[-1]
        if last.get("cell") not in self.cells:
            frames.append(
                Frame(_short_path(last["file"]), int(last["line"] or 0), last["name"], last.get("code", ""))
            )
        return tuple(frames)

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


def _deck_lines_in(message: str, block: Block) -> str:
    """Python names lines of the cell ("... on line 2"); say the deck's line instead."""
    return ON_LINE.sub(lambda match: f"on line {block.deck_line(int(match.group(1)))}", message)


def _deepest_deck_line(frames: tuple[Frame, ...]) -> int | None:
    lines = [frame.line for frame in frames if frame.slide is not None]
    return lines[-1] if lines else None


def _is_memory_error(details: dict) -> bool:
    if "MemoryError" in details.get("bases", []):
        return True
    message = details.get("message", "")
    return any(text in message for text in MEMORY_MESSAGES)


def _one_line(text: str, width: int = 300) -> str:
    first = clean(text).strip().rstrip(":").splitlines()
    line = first[0].rstrip() if first else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _short_path(path: str) -> str:
    marker = "site-packages/"
    if marker in path:
        return path.split(marker, 1)[1]
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
