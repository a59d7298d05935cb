"""Inside the kernel: checkpoints of its state between blocks, for `deckcheck serve`.

A checkpoint is a copy of the kernel process (a fork) taken between two blocks. It runs no
kernel: it waits on a FIFO. Asked to resume, it forks once more, and that copy becomes a
fresh kernel on a new connection with everything of the moment the checkpoint was taken:
the deck's namespace (the same dict, so functions defined earlier see later assignments),
imported modules, tensors, random generators, working folder. The checkpoint itself stays,
ready for the next resume. It leaves when deckcheck asks (SIGTERM/SIGKILL) or when the
process that asked for it (the preview server) is gone.

Not taken (take() says why) while the deck's own Python threads run: a fork copies only the
thread that forks. Imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import select
import signal
import sys
import time
from typing import Any

from deckcheck import jupyter_internals
from deckcheck.in_kernel import writes

# A fork of a process that initialised CUDA (or asked its driver for the devices) cannot use it.
# Without a GPU nothing is lost, and the checkpoint is kept.
CUDA_LOST = "CUDA is initialised in this kernel, and a copy of it could not use CUDA: a full run instead"


def take(folder: str, watch_pid: int) -> str:
    """Fork a checkpoint of this kernel; JSON {"pid", "fifo"} or {"refused": why}."""
    own = writes.deck_threads()
    if own:
        return json.dumps({"refused": f"the deck's threads are running ({', '.join(own[:3])})"})
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        return json.dumps({"refused": CUDA_LOST})
    fifo = os.path.join(folder, f"checkpoint-{os.getpid()}-{time.monotonic_ns()}.fifo")
    os.mkfifo(fifo, 0o600)
    state = random.getstate()  # Python's random reseeds itself in a fork; the deck's must not
    reading, writing = os.pipe()
    middle = os.fork()
    if middle == 0:  # fork twice: the checkpoint is no child of the kernel, and outlives it
        os.close(reading)
        pid = os.fork()
        if pid == 0:
            os.close(writing)
            os.setsid()  # its own process group: ended with one killpg
            _wait(fifo, state, watch_pid)
        os.write(writing, f"{pid} {int(_in_bad_fork())}".encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        pid, bad_fork = (int(part) for part in (pipe.read().split() or [b"0", b"0"]))
    os.waitpid(middle, 0)
    if bad_fork and torch is not None and torch.cuda.device_count() > 0:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(fifo)
        return json.dumps({"refused": CUDA_LOST})
    return json.dumps({"pid": pid, "fifo": fifo})


def _in_bad_fork() -> bool:
    """In a fork: whether PyTorch says CUDA cannot be initialised here (the parent asked the driver)."""
    torch = sys.modules.get("torch")
    in_bad_fork = getattr(getattr(torch, "cuda", None), "_is_in_bad_fork", None)
    return bool(in_bad_fork and in_bad_fork())


def _wait(fifo: str, state: object, watch_pid: int) -> None:
    """The checkpoint: answer resume requests until told to go or the watcher is gone."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        handle = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # RDWR: no EOF when a writer leaves
        pending = b""
        kernels: dict[int, str] = {}  # resumed kernel → its pid file
        while _alive(watch_pid):
            _reap(kernels)
            ready, _, _ = select.select([handle], [], [], 0.2)
            if not ready:
                continue
            pending += os.read(handle, 65536)
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                kernels[_answer(request, state)] = request["pid_file"]
    finally:
        with contextlib.suppress(OSError):
            os.unlink(fifo)
        os._exit(0)


def _reap(kernels: dict[int, str]) -> None:
    """Collect resumed kernels that ended, and leave their exit status beside their pid file."""
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                return
            if pid in kernels:
                _write(kernels.pop(pid) + ".exit", str(os.waitstatus_to_exitcode(status)))


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answer(request: dict, state: object) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _resume(request, state)
        finally:
            os._exit(1)
    _write(request["pid_file"], str(pid))
    return pid


def _resume(request: dict, state: Any) -> None:
    """Become a kernel again, on the connection file in `argv`, keeping the deck's state."""
    os.setsid()
    os.environ.clear()
    os.environ.update(request["env"])
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the old streams talk to the old kernel
    asyncio.events._set_running_loop(None)  # the old kernel's loop, stopped mid-call in this copy
    asyncio.set_event_loop(asyncio.new_event_loop())
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelapp import IPKernelApp
    from IPython import get_ipython

    old = get_ipython()
    assert old is not None  # a checkpoint is a copy of a running kernel
    count, cells = old.execution_count, dict(jupyter_internals.cell_numbers(old))
    for singleton in (IPKernelApp, IPythonKernel, type(old)):
        singleton.clear_instance()
    app = IPKernelApp.instance()
    app.user_ns = old.user_ns
    app.initialize(request["argv"])
    shell: Any = app.shell
    shell.execution_count = count
    jupyter_internals.cell_numbers(shell).update(cells)
    from deckcheck.in_kernel import boot

    writes.forget_kernel_threads()
    boot.prepare(shell)

    def restore_random(*_: object) -> None:
        """Python's random as the deck left it, just before the deck's next code runs."""
        random.setstate(state)
        shell.events.unregister("pre_run_cell", restore_random)

    shell.events.register("pre_run_cell", restore_random)
    app.start()
    boot.exit_now()
