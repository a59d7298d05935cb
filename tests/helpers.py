"""Running the real `deckcheck` command in tests, and finding processes it left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DECKS = FIXTURES / "decks"
DECKCHECK = [sys.executable, "-m", "deckcheck"]
TAG = "DECKCHECK_TEST_TAG"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    tag: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def last_line(self) -> str:
        return self.lines[-1] if self.lines else ""


def env_for(cache: Path, tag: str, **extra: str) -> dict[str, str]:
    # a user's shell: no pytest variables (ipykernel stops capturing fd output under pytest)
    dropped = ("TORCH_HOME", "MPLBACKEND", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DECKCHECK_CACHE": str(cache), TAG: tag, "DECKCHECK_NETWORK": "0", **extra})
    return env


def deckcheck(*args: str, cwd: Path, cache: Path, timeout: float = 120, **extra: str) -> Run:
    tag = uuid.uuid4().hex
    done = subprocess.run(
        [*DECKCHECK, *args],
        cwd=cwd,
        env=env_for(cache, tag, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr, tag)


def tagged_processes(tag: str) -> list[psutil.Process]:
    """Live processes whose environment carries the tag: kernels, their children, workers."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(TAG) == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found
