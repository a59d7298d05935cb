"""Every reach into nbclient's, IPython's and CPython's private internals, in one place.

What it relies on, checked with nbclient 0.10–0.11, ipykernel 6.29–7.4, IPython 8–9 and
CPython 3.10–3.13 (a change there shows up in tests/test_execution.py and test_failures.py):
- nbclient's NotebookClient.output(outs, msg, display_id, cell_index) is called once per
  output message: overriding it bounds what a cell keeps;
- NotebookClient.async_execute_cell starts polling tasks whose coroutines hold the client
  as `self`; a cell cut short (timeout, dead kernel) leaves them running;
- IPython's CachingCompiler keeps `_filename_map`: cell file name → execution count;
- `atexit._run_exitfuncs()` runs the exit handlers without tearing the interpreter down;
- jupyter_client's managers and clients set `_created_context` when they made their own
  zmq context (theirs to destroy);
- NotebookClient.kc may be set to a started, ready kernel client (as nbclient's own
  start_new_kernel_client does).

The kernel side imports this module too: nothing heavy at import time.
"""

from __future__ import annotations

import asyncio
from typing import Any


def bounded_client_class() -> type:
    """nbclient's NotebookClient, keeping at most `limit` characters of stream output per cell."""
    from nbclient import NotebookClient

    class BoundedClient(NotebookClient):
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

    return BoundedClient


def use_client(client: Any, kc: Any) -> None:
    """Have nbclient run cells through a kernel client that deckcheck started and readied."""
    client.kc = kc


def client_tasks(client: object) -> list[asyncio.Task]:
    """nbclient's own polling tasks for this client, which it leaves running when a cell is cut short."""
    found = []
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        if frame is not None and frame.f_locals.get("self") is client and task is not asyncio.current_task():
            found.append(task)
    return found


def poll_for_reply_task(client: object) -> asyncio.Future | None:
    return getattr(client, "task_poll_for_reply", None)


def cell_numbers(shell: Any) -> dict[str, int]:
    """IPython's map from a cell's file name to its execution count."""
    return shell.compile._filename_map


def run_exit_handlers() -> None:
    import atexit

    atexit._run_exitfuncs()


def release_zmq(owner: Any) -> None:
    """Destroy the zmq context a kernel manager or client created for itself, its sockets
    closed at once: left to the garbage collector, Context.__del__ waits forever for a message
    to a kernel that is gone (jupyter_client's `_created_context` says whose it is)."""
    context = getattr(owner, "context", None) if getattr(owner, "_created_context", False) else None
    if context is not None and not context.closed:
        context.destroy(linger=0)
