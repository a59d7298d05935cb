"""Starting and stopping one deck's kernel, and making sure nothing of it survives."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import psutil
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from deckcheck import env_names
from deckcheck.errors import KernelError
from deckcheck.jupyter_internals import release_zmq
from deckcheck.kernel import scratch
from deckcheck.kernel.launch import FRESH, IN_KERNEL, DeckKernelManager, Launch


class DeckcheckSpecs(KernelSpecManager):
    """One kernel spec: a Python (this one, or a matrix environment's) running deckcheck.in_kernel,
    launched by ForkedProvisioner as the kernel manager's Launch says."""

    python = sys.executable

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[self.python, "-m", IN_KERNEL, "-f", "{connection_file}"],
            language="python",
            display_name="deckcheck",
            metadata={"kernel_provisioner": {"provisioner_name": "deckcheck-forked", "config": {}}},
        )


class KernelProcess:
    """A kernel started for one deck, in the deck's folder, with bounded side channels."""

    def __init__(
        self, cwd: Path, env: dict[str, str], python: str = sys.executable, launch: Launch = FRESH
    ) -> None:
        self.cwd = cwd
        self.env = env
        self.launch = launch
        specs = DeckcheckSpecs()
        specs.python = python
        self.manager = DeckKernelManager(launch, kernel_name="deckcheck", kernel_spec_manager=specs)
        self.exit_wait = 5.0  # seconds the kernel gets to run its exit handlers
        self.stderr_tail: deque[str] = deque(maxlen=40)
        fd, crash_log = tempfile.mkstemp(prefix=scratch.prefix("kernel"), suffix=".log")
        os.close(fd)
        self.crash_log = Path(crash_log)

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        return getattr(provisioner, "pid", None) if provisioner else None

    async def start(self) -> None:
        env = {**self.env, env_names.CRASH_LOG: str(self.crash_log)}
        try:
            await self.manager.start_kernel(
                cwd=str(self.cwd),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
            )
        except Exception as error:  # a kernel that cannot start is a user-facing error
            raise KernelError(f"cannot start a kernel: {error}") from None
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None and process.stderr is not None:
            threading.Thread(target=self._drain, args=(process.stderr,), daemon=True).start()

    def _drain(self, stream) -> None:
        for raw in iter(lambda: stream.readline(4096), b""):
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def exit_reason(self) -> str:
        """How the kernel process ended, in a few words."""
        process = getattr(self.manager.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return ""
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        return f"exit status {code}"

    def _running(self) -> bool:
        """Whether the kernel process exists and has not been reaped (its pid is still its own)."""
        process = getattr(self.manager.provisioner, "process", None)
        return process is not None and process.poll() is None

    def descendants(self) -> list[psutil.Process]:
        pid = self.pid
        if not pid or not self._running():
            return []
        try:
            return psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            return []

    async def shutdown(self, ask_to_exit: Callable[[], object]) -> None:
        """Let the kernel exit by itself (so the deck's cleanup runs), then remove what is left."""
        children = self.descendants()
        with contextlib.suppress(Exception):
            ask_to_exit()
        process = getattr(self.manager.provisioner, "process", None)
        deadline = time.monotonic() + self.exit_wait
        while process is not None and process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.kill(children)

    def kill(self, known: list[psutil.Process] | None = None) -> None:
        """Kill the kernel and every process it started, synchronously; safe to call twice.

        psutil.Process objects refuse to act on a reused pid, so `known` may be stale."""
        targets = list(known or []) + self.descendants()
        pid = self.pid
        if pid and self._running():
            with contextlib.suppress(psutil.Error):
                targets.append(psutil.Process(pid))
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)  # the kernel leads its own process group
        for target in targets:
            with contextlib.suppress(psutil.Error):
                target.kill()
        _wait_gone(targets)
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(Exception):
                process.wait(timeout=1)
        with contextlib.suppress(Exception):
            self.manager.cleanup_connection_file()
        with contextlib.suppress(Exception):
            release_zmq(self.manager)
        self.crash_log.unlink(missing_ok=True)


def _wait_gone(targets: list[psutil.Process], timeout: float = 3.0) -> None:
    """Wait until killed processes are gone. A zombie is: a kernel that is not our child (a
    fork of the fork server or of a checkpoint) stays one until its parent reaps it, and
    waiting for it to vanish cost serve the whole timeout on every cancelled check."""
    deadline = time.monotonic() + timeout
    while targets and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(targets, timeout=0.05)
        targets = [target for target in alive if not _zombie(target)]


def _zombie(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True
