"""Kernels forked from the fork server behave as kernels started the usual way."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import DECKS, deckcheck, tagged_processes

from deckcheck.kernel.fork_server import wanted_preloads

PARENT = """# Who started me

```python
import os, psutil, torch
parent = " ".join(psutil.Process(os.getppid()).cmdline())
print("forked" if "deckcheck.kernel.fork_server" in parent else "launched")
raise RuntimeError("show the output")
```
"""


def test_preloads_follow_the_imports_of_the_blocks() -> None:
    codes = ["import torch\nfrom torchvision import datasets", "from sklearn.datasets import make_circles"]
    assert wanted_preloads(codes) == ["torch", "torchvision", "sklearn.datasets"]
    assert wanted_preloads(["import os"]) == []


@pytest.mark.parametrize(("fork", "expected"), [("1", "forked"), ("0", "launched")])
def test_several_decks_run_in_forked_kernels_unless_turned_off(
    tmp_path: Path, fork: str, expected: str
) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(PARENT)
    run = deckcheck(
        "check", "a.md", "b.md", "--jobs", "2",
        cwd=tmp_path, cache=tmp_path / "cache", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", DECKCHECK_FORK=fork,
    )  # fmt: skip
    assert run.last_line == "0 passed, 2 failed, 0 skipped"
    assert run.stdout.count(f"    {expected}") == 2, run.stdout  # in each failure's output
    assert tagged_processes(run.tag) == []


def test_crashes_and_exits_of_forked_kernels_are_reported_as_usual(tmp_path: Path) -> None:
    run = deckcheck(
        "check", "crash.md", "exits.md", "stdin.md", "--jobs", "3",
        cwd=DECKS, cache=tmp_path / "cache", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
    )  # fmt: skip
    assert "crash.md:12: slide 2: kernel died (killed by SIGSEGV)" in run.lines
    assert "exits.md:5: slide 1: kernel died (exit status 7)" in run.lines
    assert any(line.startswith("stdin.md:4: slide 1: StdinNotImplementedError") for line in run.lines)
    assert tagged_processes(run.tag) == []


def test_one_job_forks_too_and_the_kernel_gets_its_thread_count(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "# A\n\n```python\nimport os, psutil, sys, torch\n"
        "parent = ' '.join(psutil.Process(os.getppid()).cmdline())\n"
        "print('forked' if 'deckcheck.kernel.fork_server' in parent else 'launched', torch.get_num_threads(),"
        " 'torch._dynamo' in sys.modules)\nraise RuntimeError('show the output')\n```\n"
    )
    run = deckcheck(
        "check", "a.md", "--jobs", "1", cwd=tmp_path, cache=tmp_path / "cache", OMP_NUM_THREADS="2"
    )
    assert "    forked 2 True" in run.stdout, run.stdout  # warm: torch._dynamo came from the fork server


ISOLATION = """# {name}

```python
import torch
assert torch.get_default_dtype() == torch.float32, "the default dtype leaked in"
assert not hasattr(torch, "deckcheck_was_here"), "a patch leaked in"
assert "leaked" not in globals(), "a global leaked in"
open("{name}.random", "w").write(repr(torch.randn(1).item()))
leaked = True
torch.set_default_dtype(torch.float64)
torch.deckcheck_was_here = True
torch.zeros = lambda *args, **kwargs: "patched"
```
"""


def test_a_deck_never_sees_what_another_deck_forked_from_the_same_server_did(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.md").write_text(ISOLATION.format(name=name))
    run = deckcheck(
        "check", "a.md", "b.md", "c.md", "--jobs", "1", "--no-cache", cwd=tmp_path, cache=tmp_path / "cache"
    )
    assert run.returncode == 0, run.stdout
    assert run.last_line == "3 passed, 0 failed, 0 skipped"
    assert tagged_processes(run.tag) == []
    drawn = {(tmp_path / f"{name}.random").read_text() for name in ("a", "b", "c")}
    assert len(drawn) == 3, "forked kernels share one random state; fresh processes would not"


def test_closing_the_fork_server_at_once_takes_its_living_kernels_with_it(tmp_path: Path) -> None:
    """An interrupted run closes the server `now`: a kernel it forked whose pid never reached a
    session (SIGTERM while kernels start) must not outlive it."""
    import os
    import sys
    import time

    import psutil

    from deckcheck.kernel.fork_server import Zygote

    server = Zygote([], dict(os.environ))
    try:
        assert server.start()
        argv = ["-f", str(tmp_path / "kernel.json")]  # a real kernel, on a connection file of its own
        pid = server.fork(argv, str(tmp_path), {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert psutil.pid_exists(pid)
    finally:
        server.close(now=True)
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the forked kernel outlived its fork server"
        time.sleep(0.1)
