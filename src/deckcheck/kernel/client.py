"""Talking to one live kernel through nbclient: run a cell within a time limit, ask it things.

No policy here: what a timeout or a dead kernel means for a block is the session's business.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty
from typing import Any, Literal, ParamSpec

import nbformat
from nbclient.exceptions import DeadKernelError

from deckcheck.errors import KernelError
from deckcheck.in_kernel import boot, queries
from deckcheck.jupyter_internals import (
    bounded_client_class,
    client_tasks,
    poll_for_reply_task,
    release_zmq,
    use_client,
)
from deckcheck.kernel.calls import call_code
from deckcheck.kernel.process import KernelProcess

P = ParamSpec("P")


@dataclass(frozen=True)
class CellRun:
    """How running one cell ended, and what it left."""

    state: Literal["done", "timeout", "died"]
    outputs: tuple[dict, ...]
    execution_count: int | None
    error: dict | None = None  # in_kernel.last_error(): the exception with its frames, if asked


class KernelClient:
    def __init__(self, kernel: KernelProcess, output_limit: int, interrupt_grace: float = 3.0) -> None:
        self.kernel = kernel
        self.interrupt_grace = interrupt_grace
        self.notebook = nbformat.v4.new_notebook()
        self.client = bounded_client_class()(
            self.notebook,
            km=kernel.manager,
            limit=output_limit + 10_000,  # room for the kernel's "not kept" notice
            timeout=None,
            allow_errors=True,
            record_timing=False,
            startup_timeout=60,
        )
        self.alive = True

    async def connect(self, timeout: float = 60) -> None:
        """Connect to the started kernel and wait until it answers on both channels.

        jupyter_client's wait_for_ready ends by waiting for 0.2 s of silence on IOPub; here one
        IOPub message after a kernel_info reply is proof enough that IOPub is connected, and
        what else that request published is ignored (nbclient keeps only a cell's own messages)."""
        try:
            kc = self.kernel.manager.client()
            kc.start_channels()
            await _ready(kc, self.kernel.manager, timeout)
        except Exception as error:
            raise KernelError(f"the kernel did not start: {error}") from None
        kc.allow_stdin = False
        use_client(self.client, kc)

    async def run_cell(self, code: str, limit: float) -> CellRun:
        """Run code as the next cell; past `limit` seconds interrupt it, then kill the kernel."""
        cell = nbformat.v4.new_code_cell(code)
        self.notebook.cells.append(cell)
        task = asyncio.ensure_future(self.client.async_execute_cell(cell, len(self.notebook.cells) - 1))
        task.add_done_callback(_collect)  # an interrupted run never awaits it again
        done, _ = await asyncio.wait({task}, timeout=limit)
        if not done:
            return await self._time_out(cell, task)
        try:
            task.result()
        except DeadKernelError:
            self.alive = False
            return CellRun("died", tuple(cell.get("outputs", [])), cell.get("execution_count"))
        error = await self.last_error() if _error_output(cell) else None
        return CellRun("done", tuple(cell.get("outputs", [])), cell.get("execution_count"), error)

    async def _time_out(self, cell: Any, task: asyncio.Future) -> CellRun:
        """Interrupt the cell, as Jupyter's stop button does: the kernel and its namespace live
        on. Only a kernel that does not answer the interrupt within the grace time is killed."""
        await self.kernel.manager.interrupt_kernel()
        done, _ = await asyncio.wait({task}, timeout=self.interrupt_grace)
        outputs, count = tuple(cell.get("outputs", [])), cell.get("execution_count")
        if done and not task.cancelled() and task.exception() is None:
            return CellRun("timeout", outputs, count, await self.last_error())
        self.alive = False
        self.kernel.kill()
        await _settle(task, poll_for_reply_task(self.client))
        return CellRun("timeout", outputs, count)

    async def last_error(self) -> dict | None:
        parsed = await self.call(queries.last_error)
        return parsed if isinstance(parsed, dict) else None

    async def call(self, function: Callable[P, str], *args: P.args, **kwargs: P.kwargs) -> Any:
        """The JSON that `function(*args)` returns in the kernel, parsed (args: literals); None if none."""
        value = await self.evaluate(call_code(function, *args, **kwargs))
        try:
            return json.loads(value) if value else None
        except ValueError:
            return None

    async def evaluate(self, expression: str, timeout: float = 10) -> str | None:
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

    def ask_to_exit(self) -> None:
        """Ask the kernel to run its exit handlers and leave; it sends no reply."""
        if self.client.kc is not None and self.alive:
            self.client.kc.execute(call_code(boot.exit_now), silent=True, store_history=False)

    async def close(self) -> None:
        """Stop nbclient's pollers for this kernel, then its channels."""
        await _settle(*client_tasks(self.client))
        kc = self.client.kc
        if kc is not None:
            kc.stop_channels()
            release_zmq(kc)
            self.client.kc = None


async def _ready(kc: Any, manager: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    sent: set[str] = set()  # every request counts: a kernel that starts late answers them all, in order
    while True:
        sent.add(kc.kernel_info())
        with contextlib.suppress(Empty):
            reply = await kc.shell_channel.get_msg(timeout=0.5)
            if reply["parent_header"].get("msg_id") in sent:
                with contextlib.suppress(Empty):
                    await kc.iopub_channel.get_msg(timeout=0.02)
                    return
        if not await manager.is_alive():
            raise RuntimeError("the kernel died before it answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kernel did not answer within {timeout:g} s")


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
    return error_output(cell.get("outputs", []))


def error_output(outputs: Any) -> dict | None:
    return next((out for out in outputs if out.get("output_type") == "error"), None)
