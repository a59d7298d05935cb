"""How a deck's kernel is launched: one strategy per way, chosen by the caller, never read from
a module global.

- Fresh: a new interpreter runs `python -m deckcheck.in_kernel` (jupyter_client's own launch);
- Forked: the fork server forks a warm copy of itself into the kernel (kernel/fork_server.py);
- Resumed: a checkpoint of an earlier kernel of the deck forks into the kernel, keeping the
  deck's state (in_kernel/checkpoints.py; serve).

jupyter_client starts every kernel through a provisioner; ForkedProvisioner (registered as
`deckcheck-forked`) reads the strategy from the kernel manager that created it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from jupyter_client import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from deckcheck import env_names
from deckcheck.errors import KernelError

if TYPE_CHECKING:
    from deckcheck.kernel.fork_server import Zygote

IN_KERNEL = "deckcheck.in_kernel"  # the module that `python -m` runs as the kernel
RESUME_WAIT_S = 10.0
ExitStatus = Callable[[int], "int | None"]


@dataclass(frozen=True)
class Fresh:
    """A new interpreter."""


@dataclass(frozen=True)
class Forked:
    """A fork of the fork server, which has imported what the decks import."""

    server: Zygote


@dataclass(frozen=True)
class Resumed:
    """A fork of a checkpoint, asked through its FIFO."""

    fifo: str


Launch = Fresh | Forked | Resumed
FRESH = Fresh()


class DeckKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, carrying the way its kernel is to be launched."""

    def __init__(self, launch: Launch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.launch = launch


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel as its manager's strategy says."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        launch = getattr(self.parent, "launch", FRESH)
        if isinstance(launch, Fresh) or (isinstance(launch, Forked) and not launch.server.running):
            return await super().launch_kernel(cmd, **kwargs)
        argv = cmd[cmd.index(IN_KERNEL) + 1 :]
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())
        if isinstance(launch, Resumed):
            pid, status = await resume(launch.fifo, argv, env)
        else:
            env[env_names.MEMORY_SHARED] = str(launch.server.preloaded_bytes)
            pid = launch.server.fork(argv, str(kwargs.get("cwd") or os.getcwd()), env)
            status = launch.server.exit_status
        from deckcheck.kernel.fork_server import ForkedProcess

        self.process = ForkedProcess(pid, status)  # type: ignore[assignment]  # Popen's interface
        self.pid = pid
        self.pgid = pid
        self.cwd = kwargs.get("cwd", Path.cwd())
        return self.connection_info


async def resume(fifo: str, argv: list[str], env: dict[str, str]) -> tuple[int, ExitStatus]:
    """Ask a checkpoint to become a kernel on the connection in `argv`; (pid, its exit status)."""
    pid_file = os.path.join(os.path.dirname(fifo), f"resume-{uuid.uuid4().hex}.pid")  # gone with its store
    request = json.dumps({"argv": argv, "env": env, "pid_file": pid_file}) + "\n"
    try:
        handle = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        raise KernelError(f"the checkpoint is gone: {error.strerror or error}") from None
    try:
        os.write(handle, request.encode())
    finally:
        os.close(handle)
    deadline = time.monotonic() + RESUME_WAIT_S
    while not os.path.exists(pid_file):
        if time.monotonic() > deadline:
            raise KernelError("the checkpoint did not answer")
        await asyncio.sleep(0.005)
    pid = int(Path(pid_file).read_text())

    def exit_status(pid: int) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int(Path(pid_file + ".exit").read_text())
        try:
            return None if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else -9
        except psutil.Error:
            return -9

    return pid, exit_status
