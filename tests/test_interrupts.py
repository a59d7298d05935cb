"""Ctrl-C and SIGTERM during a block: a prompt exit, no kernel left, no cache entry."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from helpers import DECKCHECK, env_for, tagged_processes

DECK = """# Busy

```python
x = 1
```

```python
import subprocess, sys, time
from pathlib import Path
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
Path("started").write_text("yes")
time.sleep(600)
```
"""


def _start(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    (tmp_path / "busy.md").write_text(DECK)
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "check", "busy.md", "--jobs", "1"],
        cwd=tmp_path,
        env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline, "the block never started"
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    return process, tag


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_promptly_and_leaves_nothing(tmp_path: Path, signum: int, status: int) -> None:
    process, tag = _start(tmp_path)
    assert tagged_processes(tag), "the kernel and its child should be running"
    sent = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert process.returncode == status
    assert "interrupted" in stderr and "Traceback" not in stderr
    name = signal.Signals(signum).name
    assert f"busy.md:8: slide 1: interrupted ({name})" in stdout.splitlines()
    assert stdout.splitlines()[-1] == "1 passed, 0 failed, 0 skipped"  # the block that finished
    assert tagged_processes(tag) == []
    results = tmp_path / "cache" / "results"
    assert not results.exists() or not any(results.rglob("*.json"))
