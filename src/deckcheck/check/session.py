"""A deck in one live kernel, block by block: the public way to drive a deck's kernel.

    async with DeckSession(deck, RunOptions()) as session:
        for block in deck.blocks:
            result = await session.run(block)

Every decision about what a block's run means lives here: skipped on purpose or for a
missing resource, passed, failed at which line (an exception, `raises-exception` that raised
nothing, a timeout, a dead kernel). DeckRunner, `serve` and the pytest plugin all use it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from deckcheck import env_names
from deckcheck.check.checkpoint_store import Checkpoint
from deckcheck.check.failures import FailureReader, one_line
from deckcheck.check.quick import quick_code
from deckcheck.check.timeline import Timeline
from deckcheck.deck import Block, Deck, InlineExpr
from deckcheck.errors import KernelError
from deckcheck.in_kernel import (
    checkpoints,
    deck_warnings,
    doctest_sessions,
    inline_values,
    queries,
    standins,
    writes,
)
from deckcheck.kernel.calls import call_code
from deckcheck.kernel.client import CellRun, KernelClient, error_output
from deckcheck.kernel.launch import FRESH, Launch, Resumed
from deckcheck.kernel.process import KernelProcess
from deckcheck.read.alt_text import fallback_alt
from deckcheck.results import BlockResult, DeckWarning, Failure, Figure, InlineValue
from deckcheck.text import clean

__all__ = ["DeckSession", "KernelError", "RunOptions"]

DEFAULT_TIMEOUT = 300.0  # seconds per block when nothing else says
RESOURCE_PROBES = {
    "cuda": "__import__('torch').cuda.is_available()",
    "mps": "__import__('torch').backends.mps.is_available()",
}


@dataclass(frozen=True)
class RunOptions:
    timeout: float | None = None  # seconds per block (the command line's); a block's timeout= wins
    exitfirst: bool = False  # stop a deck at its first failure (-x)
    interrupt_grace: float = 3.0  # after an interrupt, how long before the kernel is killed
    memory_limit: int = 0  # bytes per kernel; 0 for none
    output_limit: int = 200_000  # characters of printed output kept per block
    env: dict[str, str] = field(default_factory=dict)  # the kernel's whole environment
    network: bool = False  # whether requires=["network"] blocks may run
    filterwarnings: tuple[str, ...] = ()  # the command line's -W filters (pytest's syntax)
    python: str = ""  # the kernel's interpreter (a matrix environment's); "" for this one


class DeckSession:
    """One deck's kernel: start() it, run() its blocks in order, close() it (or use `async with`).

    After close() nothing of the kernel is left: not the process, not its children."""

    def __init__(
        self, deck: Deck, options: RunOptions, launch: Launch = FRESH, resume: Checkpoint | None = None
    ) -> None:
        """`launch`: how the kernel starts; `resume`: from a checkpoint of an earlier kernel of
        this deck instead (serve)."""
        self.deck = deck
        self.options = options
        self.resumed = resume
        self.kernel = KernelProcess(
            deck.folder.resolve(),
            _kernel_env(options),
            options.python or sys.executable,
            Resumed(resume.fifo) if resume is not None else launch,
        )
        self.client = KernelClient(self.kernel, options.output_limit, options.interrupt_grace)
        self.reader = FailureReader(deck, options.memory_limit)
        self.resources: dict[str, bool] = {}
        self.timeline = Timeline()
        self.refused = ""  # why a checkpoint was first refused (serve resumes no later than that)

    @property
    def alive(self) -> bool:
        return self.client.alive

    async def start(self) -> None:
        """Start the kernel and connect to it; raises KernelError (the reason in one line)."""
        try:
            with self.timeline.phase("start"):
                await self.kernel.start()
            with self.timeline.phase("connect"):
                await self.client.connect()
        except BaseException:
            await self.close(kill=True)
            raise

    def time_limit(self, block: Block) -> float:
        """The block's own timeout=, else the command line's, else the deck's, else 300 s."""
        return block.options.timeout or self.options.timeout or self.deck.settings.timeout or DEFAULT_TIMEOUT

    async def setup(self) -> str | None:
        """Run the deck's setup code; None when it worked, else what went wrong, in one line."""
        code = self.deck.settings.setup
        if not code.strip():
            return None
        with self.timeline.phase("setup"):
            run = await self.client.run_cell(code, self.options.timeout or DEFAULT_TIMEOUT)
        if run.state != "done":
            return "timed out" if run.state == "timeout" else f"kernel died ({self.kernel.exit_reason()})"
        error = error_output(run.outputs)
        return (
            None if error is None else one_line(f"{error.get('ename', 'Error')}: {error.get('evalue', '')}")
        )

    async def run(self, block: Block) -> BlockResult:
        """Run one block in the kernel's shared namespace and say how it went."""
        if block.options.skip_execution:
            return skipped(block, "skip-execution")
        if not self.alive:
            return skipped(block, "not run: the kernel is gone")
        needed = dict.fromkeys((*self.deck.settings.requires, *block.options.requires))
        missing = [resource for resource in needed if not await self._has(resource)]
        if missing:
            return skipped(block, f"requires {', '.join(missing)}, not available here")
        started = time.monotonic()
        limit = self.time_limit(block)
        code = block.code
        if block.session:
            code = call_code(doctest_sessions.run, block.code, str(self.deck.path))
        bad_filter = await self.client.call(deck_warnings.begin, self.warning_filters(block))
        if bad_filter:
            return failed(block, Failure(block.first_code_line, block.slide, bad_filter))
        with self.timeline.phase("blocks"):
            run = await self.client.run_cell(code, limit)
        self.reader.remember(run.execution_count, block)
        output, figures = _outputs(run.outputs, block)
        failure = self._failure(block, run, limit)
        examples: tuple[str, ...] = ()
        if failure is None and block.session and run.state == "done":
            session = await self.client.call(doctest_sessions.last_result) or {}
            failure = self._session_failure(block, session.get("problems"))
            examples = tuple(str(got) for got in session.get("outputs", ()))
        warned = await self._warnings(block) if run.state == "done" else ()
        if block.options.parameters and self.deck.settings.quick_run and self.alive:
            await self.client.run_cell(quick_code(self.deck), limit)  # papermill's injected cell
        ran = BlockResult(
            block.index,
            block.line,
            block.slide,
            "passed",
            output=output,
            examples=examples,
            figures=figures,
            duration=time.monotonic() - started,
            warnings=warned,
        )
        return ran if failure is None else replace(ran, status="failed", failure=failure)

    async def inline_values(self, exprs: list[InlineExpr]) -> list[InlineValue]:
        """Evaluate inline values in the namespace as it is now; not evaluated (text None) when
        the kernel is gone or does not answer."""
        if not exprs:
            return []
        limit = self.options.timeout or self.deck.settings.timeout or DEFAULT_TIMEOUT
        items = [[expr.expr, expr.spec] for expr in exprs]
        with self.timeline.phase("blocks"):
            value = await self.client.evaluate(call_code(inline_values.evaluate, items), timeout=limit)
        try:
            answers = json.loads(value) if value else []
        except ValueError:
            answers = []
        if not isinstance(answers, list) or len(answers) != len(exprs):
            return [InlineValue(expr.expr, expr.spec) for expr in exprs]
        return [
            InlineValue(expr.expr, expr.spec, answer.get("text"), str(answer.get("error", "")))
            for expr, answer in zip(exprs, answers, strict=True)
        ]

    def warning_filters(self, block: Block) -> list[tuple[str, bool]]:
        """The deck's filters, then the command line's, then the block's: later ones win, as in
        pytest (ini, -W, marks); the command line's are literal text, the others patterns."""
        return [
            *((text, False) for text in self.deck.settings.filterwarnings),
            *((text, True) for text in self.options.filterwarnings),
            *((text, False) for text in block.options.filterwarnings),
        ]

    async def _warnings(self, block: Block) -> tuple[DeckWarning, ...]:
        kept = await self.client.call(deck_warnings.collected)
        found = [self.reader.warning(block, raw) for raw in kept] if isinstance(kept, list) else []
        return tuple(warning for warning in found if warning is not None)

    def _failure(self, block: Block, run: CellRun, limit: float) -> Failure | None:
        if run.state == "timeout":
            return self.reader.timeout(block, limit, run.error)
        if run.state == "died":
            return self.reader.crash(block, self.kernel.exit_reason(), self._crash_log())
        error = error_output(run.outputs)
        if block.options.raises_exception:
            expected = "expected an exception: the block raised none"
            return Failure(block.first_code_line, block.slide, expected) if error is None else None
        if error is None or block.options.errors_allowed:
            return None
        return self.reader.error(block, error, run.error)

    def _session_failure(self, block: Block, problems: object) -> Failure | None:
        """The first example of a session that went wrong, at its `>>> ` line."""
        if not isinstance(problems, list) or not problems:
            return None
        first = problems[0]
        line = block.deck_line(int(first.get("line", 0)) + 1)
        more = len(problems) - 1
        tail = (
            f"\n(and {more} more example{'s' if more > 1 else ''} of this session went wrong)" if more else ""
        )
        if first.get("kind") == "differs":
            details = (
                f"Expected:\n{_indent(first.get('want', ''))}\nGot:\n{_indent(first.get('got', ''))}{tail}"
            )
            return Failure(line, block.slide, "output differs", details=details)
        summary = one_line(f"{first.get('type', 'Error')}: {first.get('message', '')}")
        details = f"Expected:\n{_indent(first.get('want', ''))}{tail}" if first.get("want") else tail.strip()
        return Failure(line, block.slide, summary, details=details)

    def _crash_log(self) -> str:
        try:
            return self.kernel.crash_log.read_text("utf-8", "replace")
        except OSError:
            return ""

    async def _has(self, resource: str) -> bool:
        if resource not in self.resources:
            if resource == "network":
                self.resources[resource] = self.options.network
            else:
                found = await self.client.evaluate(f"str({RESOURCE_PROBES[resource]})")
                self.resources[resource] = found == "True"
        return self.resources[resource]

    async def standins_opened(self) -> dict[int, set[str]]:
        """Block index → the stand-in data sets whose files the block's code opened so far."""
        with self.timeline.phase("collect"):
            used = await self.client.call(standins.standins_used) if self.alive else None
        opened: dict[int, set[str]] = {}
        for name, cells in (used or {}).items() if isinstance(used, dict) else ():
            for cell in cells:
                block = self.reader.cells.get(int(cell))
                if block is not None:
                    opened.setdefault(block.index, set()).add(str(name))
        return opened

    async def checkpoint(self, folder: Path, after: Block) -> Checkpoint | None:
        """Fork a checkpoint of the kernel as it is now (after the block `after`); None if
        refused (the first refusal's reason is kept in `refused`)."""
        if not self.alive:
            return None
        value = await self.client.evaluate(call_code(checkpoints.take, str(folder), os.getpid()), timeout=30)
        answer = json.loads(value) if value else {}
        if "pid" in answer:
            return Checkpoint(int(answer["pid"]), str(answer["fifo"]))
        if answer.get("refused") and not self.refused:
            self.refused = (
                f"no checkpoint after block {after.index + 1} (line {after.line}): {answer['refused']}"
            )
        return None

    async def writing_blocks(self) -> set[int]:
        """The blocks whose code changed files (outside the temporary folder)."""
        counts = await self.client.call(writes.writing_cells) if self.alive else None
        return {self.reader.cells[c].index for c in counts or () if c in self.reader.cells}

    def cells(self) -> dict[int, int]:
        """The kernel's execution count → block index, for every block it ran."""
        return {count: block.index for count, block in self.reader.cells.items()}

    def remember_cells(self, cells: dict[int, int]) -> None:
        """A resumed kernel carries on the execution counts of the kernel it was taken from."""
        for count, index in cells.items():
            self.reader.remember(count, self.deck.blocks[index])

    async def device(self) -> str:
        """What the deck's torch computes on ("CPU", "CUDA", "MPS"), "" if it has no torch."""
        with self.timeline.phase("collect"):
            return await self.client.call(queries.device) or "" if self.alive else ""

    async def close(self, kill: bool = False) -> None:
        """Let the kernel leave (its exit handlers run), or `kill` it; then remove what is left."""
        with self.timeline.phase("teardown"):
            try:
                if kill or not self.alive:
                    self.kernel.kill()
                else:
                    await self.kernel.shutdown(self.client.ask_to_exit)
            except BaseException:  # cancelled while it waited for the kernel to leave
                self.kernel.kill()
                raise
            finally:
                await self.client.close()

    async def __aenter__(self) -> DeckSession:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close(kill=kind is not None)


def _indent(text: str) -> str:
    lines = text.rstrip("\n").splitlines() or ["(nothing)"]
    return "\n".join(f"    {line}" for line in lines)


def _kernel_env(options: RunOptions) -> dict[str, str]:
    env = dict(options.env)
    if options.memory_limit:
        env[env_names.MEMORY_LIMIT] = str(options.memory_limit)
    env[env_names.OUTPUT_LIMIT] = str(options.output_limit)
    return env


def skipped(block: Block, reason: str) -> BlockResult:
    return BlockResult(block.index, block.line, block.slide, "skipped", reason=reason)


def failed(block: Block, failure: Failure, **extra: Any) -> BlockResult:
    return BlockResult(block.index, block.line, block.slide, "failed", failure=failure, **extra)


def _outputs(outputs: tuple[dict, ...], block: Block) -> tuple[str, tuple[Figure, ...]]:
    text: list[str] = []
    figures: list[Figure] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" in data:  # kept for every block: the slide shows them, the notebook keeps them
                figures.append(_figure(data, out.get("metadata", {}), block, len(figures)))
            elif "text/plain" in data:
                text.append(str(data["text/plain"]) + "\n")
        elif kind == "error" and block.options.raises_exception:
            text.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n")  # the error is the point
    return clean("".join(text)), tuple(figures)


def _figure(data: dict, metadata: dict, block: Block, number: int) -> Figure:
    """The figure's alt text: the block's alt= option, else the figure's own labels."""
    own = metadata.get("image/png", {}).get("alt") or metadata.get("alt")
    alt = block.options.alt or str(own or fallback_alt(number + 1, block.slide))
    return Figure(str(data["image/png"]).replace("\n", ""), alt)
