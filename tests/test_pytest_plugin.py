"""The pytest plugin (`pytest slides/`) and the pre-commit hook, run as their users run them."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import env_for, tagged_processes

DECK = """---
marp: true
headingDivider: 2
---

# Circles

## Data

```python
n = 41
```

## The check

```python
total = n + 1
assert total == 43, f"total is {total}"
```

## Later

```python
print(n * 2)
```

## On a GPU

```python requires=["cuda"]
import torch
torch.zeros(1, device="cuda")
```
"""
# pytest with this plugin whether or not deckcheck is installed with its entry point (which
# `-p no:deckcheck` blocks, so that the module is not registered twice).
PLUGIN = ["-p", "no:deckcheck", "-p", "deckcheck.commands.pytest_plugin", "-p", "no:cacheprovider"]


def pytest_run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    tag = uuid.uuid4().hex
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *PLUGIN, *args],
        cwd=folder, env=env_for(folder / ".cache", tag), capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert tagged_processes(tag) == []
    return done


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "slides").mkdir()
    (tmp_path / "slides" / "01-circles.md").write_text(DECK)
    (tmp_path / "README.md").write_text("# A course\n\n```python\nraise SystemExit('not a test')\n```\n")
    (tmp_path / "slides" / "notes.md").write_text(
        "# Notes\n\n```python\nraise SystemExit('not a test')\n```\n"
    )
    return tmp_path


def test_each_block_is_an_item_and_a_failure_reads_as_the_command_s(course: Path) -> None:
    done = pytest_run(course, ".", "-v", "-rs", "--junitxml=junit.xml")
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    for item, outcome in (
        ("slide2-line10", "PASSED"),
        ("slide3-line16", "FAILED"),
        ("slide4-line23", "PASSED"),
    ):
        assert f"slides/01-circles.md::{item} {outcome}" in out, out
    assert "slides/01-circles.md::slide5-line29 SKIPPED" in out
    assert "slides/01-circles.md:29: requires cuda, not available here" in out
    assert "slides/01-circles.md:18: slide 3: AssertionError: total is 42" in out
    assert "> 18 | assert total == 43" in out
    assert "README" not in out and "notes.md" not in out  # not Marp decks, and no paths configured
    cases = ET.parse(course / "junit.xml").getroot().iter("testcase")
    assert [case.get("name") for case in cases] == [
        "slide2-line10", "slide3-line16", "slide4-line23", "slide5-line29",
    ]  # fmt: skip


def test_k_runs_the_blocks_before_the_chosen_one_and_x_stops(course: Path) -> None:
    done = pytest_run(course, "slides", "-k", "slide4", "-q")
    assert done.returncode == 0 and "1 passed, 3 deselected" in done.stdout, done.stdout + done.stderr
    done = pytest_run(course, "slides", "-x", "-q")
    assert done.returncode == 1 and "1 failed, 1 passed" in done.stdout, done.stdout
    done = pytest_run(course, "slides", "-m", "cuda", "-q", "-rs")
    assert "1 skipped, 3 deselected" in done.stdout, done.stdout


def test_configured_paths_make_any_md_a_deck(course: Path) -> None:
    (course / "pyproject.toml").write_text('[tool.deckcheck]\npaths = ["slides"]\n')
    done = pytest_run(course, ".", "-q")
    assert "notes.md" in done.stdout and "README" not in done.stdout, done.stdout


def test_with_xdist_a_deck_stays_on_one_worker(course: Path) -> None:
    pytest.importorskip("xdist")
    (course / "slides" / "02-copy.md").write_text(DECK)
    done = pytest_run(course, "slides", "-n", "2", "--dist", "loadfile", "-v")
    assert "2 failed, 4 passed, 2 skipped" in done.stdout, done.stdout + done.stderr
    workers: dict[str, set[str]] = {}
    for worker, deck in re.findall(r"^\[(gw\d+)\] .*? (slides/\S+\.md)::", done.stdout, re.M):
        workers.setdefault(deck, set()).add(worker)
    assert len(workers) == 2 and all(len(found) == 1 for found in workers.values()), workers


def test_the_pre_commit_hook_checks_only_the_decks_among_the_files(course: Path) -> None:
    tag = uuid.uuid4().hex
    files = ["README.md", "slides/notes.md", "slides/01-circles.md"]
    done = subprocess.run(
        [sys.executable, "-m", "deckcheck.commands.pre_commit", "--jobs", "1", *files],
        cwd=course, env=env_for(course / ".cache", tag), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "slides/01-circles.md:18: slide 3: AssertionError" in done.stdout
    assert "README" not in done.stdout and "notes.md" not in done.stdout
    assert done.stdout.splitlines()[-1] == "2 passed, 1 failed, 1 skipped"
    done = subprocess.run(
        [sys.executable, "-m", "deckcheck.commands.pre_commit", "README.md"],
        cwd=course, env=env_for(course / ".cache", tag), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout == ""


def test_sigterm_ends_the_decks_kernel_and_its_children(tmp_path: Path) -> None:
    """As the command does: nothing of a deck outlives pytest stopped by SIGTERM."""
    import signal
    import subprocess
    import sys
    import time
    import uuid

    from helpers import env_for, tagged_processes

    (tmp_path / "deck.md").write_text(
        "---\nmarp: true\n---\n\n# Sleepy\n\n```python\nimport subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'])\ntime.sleep(300)\n```\n"
    )
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "deck.md"],
        cwd=tmp_path,
        env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.name() == "sleep" for p in tagged_processes(tag)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(p.name() == "sleep" for p in tagged_processes(tag)), "the block did not start its child"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) != 0
    deadline = time.monotonic() + 5
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tagged_processes(tag) == []
