"""Inside the kernel: which cells changed files, and which threads are the deck's own.

A resumed kernel (checkpoints.py) sees the files as the last run left them, so only a deck
whose later blocks changed none may resume; and a fork copies only the thread that forks.
Imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
from typing import Any

_kernel_threads: set[int] = set()  # the kernel's own threads, seen before the first cell ran
_writing_cells: set[int] = set()  # execution counts of the cells that changed files
_wrote_now = [False]
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
KERNEL_PACKAGES = ("zmq", "ipykernel", "tornado", "IPython", "jupyter_client", "traitlets", "asyncio",
                   "concurrent", "debugpy", "deckcheck")  # fmt: skip
CHANGED = {
    "os.remove": (0, 1), "os.rmdir": (0, 1), "os.mkdir": (0, 2), "os.rename": (0, 2),
    "os.replace": (0, 2), "os.symlink": (1, 2), "os.link": (1, 3), "shutil.rmtree": (0, 1),
    "os.truncate": (0, None),
}  # fmt: skip


def before_cell(*_: object) -> None:
    """Before each cell: what changes files from now on is the cell's doing; and the first
    time, every thread alive is the kernel's own."""
    _wrote_now[0] = False
    if not _kernel_threads:
        _kernel_threads.update(thread.ident or 0 for thread in threading.enumerate())


def watch_writes() -> None:
    """Note which cells change files (scratch files in the temporary folder aside, unless the
    deck itself lives there): a resumed kernel sees the files as the last run left them, so only
    a deck whose later blocks changed none may resume."""
    scratch = os.path.realpath(tempfile.gettempdir()) + os.sep
    home = os.path.realpath(os.getcwd()) + os.sep  # the deck's folder

    def counts(path: str) -> bool:
        real = os.path.realpath(path)
        return real.startswith(home) or not real.startswith(scratch)

    def audit(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITE_FLAGS)
        elif event in CHANGED:
            at, fd_at = CHANGED[event]
            dir_fd = args[fd_at] if fd_at is not None and len(args) > fd_at else None
            path, writes = _resolved(args[at], dir_fd), True
        else:
            return
        if writes and not isinstance(path, int):
            with contextlib.suppress(Exception):
                if counts(os.fsdecode(path)):
                    _wrote_now[0] = True

    sys.addaudithook(audit)


def _resolved(path: Any, dir_fd: Any) -> Any:
    """A path relative to a directory's file descriptor (shutil.rmtree removes that way)."""
    if isinstance(dir_fd, int) and isinstance(path, str | bytes) and not os.path.isabs(os.fsdecode(path)):
        with contextlib.suppress(OSError):
            return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), os.fsdecode(path))
    return path


def credit_writes(result: Any) -> None:
    """After a cell: whether it changed files belongs to its execution count."""
    if _wrote_now[0]:
        _writing_cells.add(int(getattr(result, "execution_count", 0) or 0))
    _wrote_now[0] = False


def writing_cells() -> str:
    return json.dumps(sorted(_writing_cells))


def _decks_thread(thread: threading.Thread) -> bool:
    """A thread the deck's code started: not one of the kernel's, and not one its machinery
    starts on demand (pyzmq's garbage collector for large messages, ...)."""
    if thread.ident in _kernel_threads or not thread.is_alive():
        return False
    target = getattr(thread, "_target", None)
    module = getattr(target, "__module__", None) or type(thread).__module__ or ""
    return not module.startswith(KERNEL_PACKAGES)


def deck_threads() -> list[str]:
    """The names of the threads that the deck's code started and that still run."""
    return [thread.name for thread in threading.enumerate() if _decks_thread(thread)]


def forget_kernel_threads() -> None:
    """A resumed kernel has threads of its own: seen again before its first cell."""
    _kernel_threads.clear()
