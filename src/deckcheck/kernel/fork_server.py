"""Kernels forked from one process that has already imported torch (a fork server).

Every deck's kernel would otherwise import torch and torchvision itself: seconds of start-up,
and hundreds of MB of private memory per kernel. The zygote imports the kernel machinery and
the heavy libraries the decks use once; each kernel is then a fork of it, sharing those pages
copy-on-write. The zygote forks only while it has a single thread (forking a process with
running threads is unsafe); otherwise, or when it cannot start, kernels start the usual way.

Protocol, one JSON object per line: the zygote prints {"ready": ...} once, then answers
{"fork": {"argv", "cwd", "env"}} with {"pid"} and {"status": pid} with {"exit"} (null while
the process runs). It leaves when its standard input closes.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from deckcheck import env_names
from deckcheck.read.imports import imported_names

PRELOADABLE = {  # what a block imports → what the zygote imports for it, in this order
    "numpy": "numpy",
    "torch": "torch",
    "torchvision": "torchvision",
    "sklearn": "sklearn.datasets",
    "matplotlib": "matplotlib.pyplot",
}


def wanted_preloads(codes: list[str]) -> list[str]:
    """The preloadable libraries that the blocks import, in dependency order."""
    imported = {name.split(".")[0] for code in codes for name in imported_names(code)}
    return [module for name, module in PRELOADABLE.items() if name in imported]


class ZygoteError(RuntimeError):
    pass


class Zygote:
    """The deckcheck side of the fork server: start it, ask it to fork, ask after its children."""

    def __init__(self, preload: list[str], env: dict[str, str], python: str = sys.executable) -> None:
        self.preload = preload
        self.env = env
        self.python = python  # the kernels' interpreter (a matrix environment's)
        self.process: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.launching = threading.Lock()  # start() runs in a thread: close() may come first
        self.closed = False
        self.usable = False
        self.preloaded_bytes = 0  # data the zygote's imports added: shared, so not the deck's

    def start(self, timeout: float = 120) -> bool:
        """Start the zygote and wait until it has imported everything; False if it cannot fork."""
        with self.launching:
            if self.closed:  # the run was interrupted before the zygote started: it never does
                return False
            self.process = subprocess.Popen(
                [self.python, "-m", "deckcheck.kernel.fork_server", *self.preload],
                env={**self.env, **dict.fromkeys(env_names.THREADS, "1")},  # no thread pools: it must fork
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
        ready = self._read(timeout) or {}
        self.usable = bool(ready.get("ready") and ready.get("single_threaded") and ready.get("cuda_safe"))
        self.preloaded_bytes = int(ready.get("preloaded_bytes") or 0)
        if not self.usable:
            self.close()
        return self.usable

    def _read(self, timeout: float) -> dict | None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            return None
        try:
            return json.loads(result[0])
        except ValueError:
            return None

    def _ask(self, request: dict) -> dict:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                raise ZygoteError("the fork server is gone")
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
            except OSError as error:
                raise ZygoteError(f"the fork server is gone: {error}") from None
            answer = self._read(30)
        if answer is None or "error" in answer:
            raise ZygoteError((answer or {}).get("error", "no answer from the fork server"))
        return answer

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None and self.usable

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        return int(self._ask({"fork": {"argv": argv, "cwd": cwd, "env": env}})["pid"])

    def exit_status(self, pid: int) -> int | None:
        """How a forked kernel ended (Popen's convention), or None while it runs."""
        try:
            return self._ask({"status": pid})["exit"]
        except ZygoteError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return -9
            except PermissionError:
                return None
            return None

    def close(self, now: bool = False) -> None:
        """Let the zygote leave (it does when its input closes); `now` kills it outright."""
        with self.launching:
            self.closed = True
            process, self.process = self.process, None
        if process is None:
            return
        if now:
            self._kill_children(process)
            process.kill()
        with contextlib.suppress(OSError):
            if process.stdin:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _kill_children(self, process: subprocess.Popen) -> None:
        """Kill every kernel the zygote forked that still runs: an interrupted run may have lost
        one's pid between the fork and its session (each is a session leader, so its group)."""
        forking = self.lock.acquire(timeout=5)  # no fork half-way while the children are listed
        try:
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(process.pid).children():
                    with contextlib.suppress(OSError):
                        os.killpg(child.pid, signal.SIGKILL)
        finally:
            if forking:
                self.lock.release()


class ForkedProcess:
    """A kernel that is not our child (forked by the zygote, or resumed from a checkpoint),
    with the part of Popen's interface jupyter_client uses; `exit_status` asks its parent."""

    def __init__(self, pid: int, exit_status: Callable[[int], int | None]) -> None:
        self.pid = pid
        self.exit_status = exit_status
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(9)

    def terminate(self) -> None:
        self.send_signal(15)


# The zygote process itself


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1 and threading.active_count() == 1
    except OSError:
        return threading.active_count() == 1


def _data_size() -> int:
    """This process's data segment (what RLIMIT_DATA limits), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child(argv: list[str], cwd: str, env: dict[str, str]) -> None:
    """In the forked child: become the kernel. Never returns."""
    try:
        os.setsid()
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        _use_threads(env)
        _reseed()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 1 << 16)
        from deckcheck.in_kernel import boot as in_kernel

        in_kernel.main(argv)
    except BaseException:
        with contextlib.suppress(Exception):
            log = env.get(env_names.CRASH_LOG)
            if log:
                with Path(log).open("a") as handle:
                    handle.write(traceback.format_exc())
        os._exit(1)
    os._exit(0)


def _use_threads(env: dict[str, str]) -> None:
    """The zygote ran single-threaded; the kernel gets the thread count its deck was given."""
    try:
        threads = int(env.get("OMP_NUM_THREADS") or 0)
    except ValueError:
        return
    if threads < 1:
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    if "numpy" in sys.modules:
        with contextlib.suppress(Exception):
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=threads)


def _reseed() -> None:
    """A fresh process seeds torch's and NumPy's generators from the system's entropy; a fork
    would share the zygote's state with every other kernel. (Python's random reseeds itself.)"""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _warm_up(loaded: list[str]) -> list[str]:
    """Pay once, here, what every deck would pay on first use; return what was warmed.

    Measured (scripts/bench.py, the 30-deck course): in a kernel, the first optimizer step
    imports torch._dynamo, about 900 modules and 1.4 s; a first forward and backward pass
    initialise autograd and the CPU kernels. (Each kernel reseeds after the fork: _reseed.)
    With CUDA hidden: the step asks whether CUDA is there, which initialises the driver here
    and leaves every fork unable to use CUDA (PyTorch's "bad fork")."""
    warmed = []
    if "torch" in loaded:
        import torch

        with contextlib.suppress(Exception):
            import torch._dynamo

            warmed.append("torch._dynamo")
        if _single_threaded():
            with contextlib.suppress(Exception), _cuda_hidden(torch):
                model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
                optimizer = torch.optim.Adam(model.parameters())
                torch.nn.functional.mse_loss(model(torch.ones(2, 4)), torch.zeros(2, 1)).backward()
                optimizer.step()
                warmed.append("a training step")
    return warmed


@contextlib.contextmanager
def _cuda_hidden(torch: Any) -> Iterator[None]:
    """torch.cuda.is_available() says False without asking the driver, for the time being."""
    available = torch.cuda.is_available
    torch.cuda.is_available = lambda: False
    try:
        yield
    finally:
        torch.cuda.is_available = available


def _forks_can_use_cuda() -> bool:
    """Whether a fork of this process may initialise CUDA: asked of a fork (only it can tell)."""
    torch = sys.modules.get("torch")
    in_bad_fork = getattr(getattr(torch, "cuda", None), "_is_in_bad_fork", None)
    if in_bad_fork is None:
        return True
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(writing, b"0" if in_bad_fork() else b"1")
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        answer = pipe.read(1)
    os.waitpid(pid, 0)
    return answer == b"1"


def _serve(stdin: Any, stdout: Any) -> None:
    children: dict[int, int | None] = {}

    def reap() -> None:
        for pid, status in list(children.items()):
            if status is None:
                with contextlib.suppress(ChildProcessError):
                    done, code = os.waitpid(pid, os.WNOHANG)
                    if done:
                        children[pid] = os.waitstatus_to_exitcode(code)

    for line in stdin:
        request = json.loads(line)
        reap()
        if "fork" in request:
            if not _single_threaded():
                answer: dict = {"error": "the fork server has threads; it cannot fork safely"}
            else:
                job = request["fork"]
                pid = os.fork()
                if pid == 0:
                    _child(job["argv"], job["cwd"], job["env"])
                children[pid] = None
                answer = {"pid": pid}
        else:
            pid = int(request["status"])
            answer = {"pid": pid, "exit": children.get(pid, -9)}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


KERNEL_MODULES = (  # what every kernel imports as it starts, measured: import them once, here
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
    "debugpy", "IPython.core.interactiveshell", "IPython.core.history", "IPython.core.completer",
    "sqlite3", "psutil", "deckcheck.in_kernel.boot", "deckcheck.in_kernel.deck_warnings",
)  # fmt: skip  # not doctest: its Pdb subclass must be made after the kernel replaces pdb.Pdb


def main() -> None:
    for name in KERNEL_MODULES:
        with contextlib.suppress(Exception):
            importlib.import_module(name)

    before = _data_size()
    loaded = []
    for name in sys.argv[1:]:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
            loaded.append(name)
        if not _single_threaded():  # e.g. a BLAS that starts its thread pool on import: give up early
            break
    warmed = _warm_up(loaded) if _single_threaded() else []
    cuda_safe = _single_threaded() and _forks_can_use_cuda()
    # Keep the collector from touching (and so copying) the shared objects in every kernel. No
    # gc.collect() first: measured, it found nothing to free after the imports and took 0.2 s.
    gc.freeze()
    ready = {
        "ready": True,
        "preloaded": loaded,
        "warmed": warmed,
        "single_threaded": _single_threaded(),
        "cuda_safe": cuda_safe,  # else its kernels could not use CUDA: they start the usual way
        "preloaded_bytes": max(0, _data_size() - before),
    }
    print(json.dumps(ready), flush=True)
    _serve(sys.stdin, sys.stdout)
    # No interpreter teardown: with torch loaded it took 0.25 s, and deckcheck waits for it (close).
    os._exit(0)


if __name__ == "__main__":
    main()
