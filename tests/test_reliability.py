"""Hostile and garbage input, memory limits, bounded memory, and a clean working tree."""

from __future__ import annotations

import random
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from helpers import DECKCHECK, DECKS, ROOT, deckcheck, env_for, tagged_processes

from deckcheck.publish.marp import render_folder

MEMORY_HOGS = {
    "numpy.md": "import numpy as np\nbig = np.ones(5 * 2**30, dtype=np.uint8)",
    "torch.md": "import torch\nbig = torch.ones(5 * 2**30, dtype=torch.uint8)",
    "runaway.md": "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))",
}


def test_a_runaway_block_fails_as_memory_limit_exceeded_at_its_line(tmp_path: Path) -> None:
    for name, code in MEMORY_HOGS.items():
        (tmp_path / name).write_text(f"# {name}\n\n```python\nsetup = 1\n{code}\n```\n")
    run = deckcheck("check", *MEMORY_HOGS, "--memory-limit", "3G", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 1
    headers = [line for line in run.lines if ": slide 1: " in line]
    assert [line.split(":")[0:2] for line in headers] == [
        ["numpy.md", "6"],
        ["torch.md", "6"],
        ["runaway.md", "7"],
    ]
    assert all("memory limit exceeded (3.0 GB)" in line for line in headers)
    assert tagged_processes(run.tag) == []


def _peak_rss_while(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, int]:
    """Run command; return its exit status and the peak RSS of that one process (not its kernels)."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    watched = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    return process.returncode, peak


def test_the_tool_stays_small_while_a_block_prints_hundreds_of_megabytes(tmp_path: Path) -> None:
    env = env_for(tmp_path / "cache", uuid.uuid4().hex)
    status, peak = _peak_rss_while([*DECKCHECK, "check", "flood.md"], DECKS, env)
    assert status == 1
    assert peak < 150 * 2**20, f"deckcheck reached {peak / 2**20:.0f} MiB while the block printed 300 MB"


GARBAGE = {
    "random-bytes.md": bytes(random.Random(7).randrange(256) for _ in range(20_000)),
    "nul-bytes.md": b"# A\x00\n\n```python\nx = 1\x00\n```\n",
    "unbalanced.md": b"# A\n\n```python\nx = 1\n\n---\n\n## never closed\n",
    "truncated.md": b"---\nmarp: true\ntitle: cut off in the mid",
    "huge-line.md": b"# A\n\n" + b"word " * 400_000 + b"\n",
    "nested.md": b"".join(b"  " * depth + b"- item\n" for depth in range(300)),
    "yaml-list.md": b"---\n- a\n- b\n---\n# A\n",
    "yaml-scalar.md": b"---\njust words\n---\n# A\n",
    "yaml-deep.md": b"---\nx: " + b"[" * 5000 + b"\n---\n# A\n",
    "fences-only.md": b"```\n````\n~~~python\n```python\n",
    "empty.md": b"",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_never_crashes_the_tool(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(GARBAGE[name])
    run = deckcheck("check", name, cwd=tmp_path, cache=tmp_path / "cache", timeout=120)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.last_line.count(", ") == 2 and run.last_line.endswith(" skipped")


def test_checking_the_lectures_leaves_the_tracked_files_untouched(tmp_path: Path) -> None:
    def status() -> str:
        return subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout

    before = status()
    env = env_for(tmp_path / "cache", uuid.uuid4().hex, TORCH_HOME=str(ROOT / ".cache" / "torch"))
    done = subprocess.run(
        [*DECKCHECK, "check", "--no-cache", "slides"], cwd=ROOT, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    assert status() == before


def test_published_html_carries_no_script_from_a_deck(tmp_path: Path) -> None:
    (tmp_path / "hostile.md").write_text(
        "# Hostile\n\n<script>alert('deck')</script>\n\n<a href=\"javascript:alert(2)\">link</a>\n\n"
        '<img src="x.png" onerror="alert(3)">\n\n<iframe src="https://example.org"></iframe>\n'
    )
    render_folder(ROOT, tmp_path, ["html"])
    html = (tmp_path / "hostile.html").read_text()
    section = html[html.index("<section") : html.index("</section>")]
    assert "<script" not in section and "&lt;script&gt;" in section
    assert "javascript:" not in section and "onerror" not in section and "<iframe" not in section


def test_sigterm_while_kernels_start_leaves_nothing(tmp_path: Path) -> None:
    for index in range(3):
        (tmp_path / f"d{index}.md").write_text("# D\n\n```python\nimport torch, time\ntime.sleep(60)\n```\n")
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "check", "."],
        cwd=tmp_path,
        env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.DEVNULL,
    )
    threading.Event().wait(2.5)  # in the middle of starting kernels (and the fork server)
    process.terminate()
    assert process.wait(timeout=20) == 143
    deadline = time.monotonic() + 5
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [" ".join(process.cmdline()) for process in tagged_processes(tag)]
    assert left == [], "these outlived the run"
    assert not list((tmp_path / "cache").rglob("*.json"))
