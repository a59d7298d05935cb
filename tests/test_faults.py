"""Faults of the machine are reported in one line, and never cost the report of what was checked."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from helpers import DECKS, deckcheck


@pytest.fixture
def full_disk(tmp_path: Path):
    """A real file system with no room left (a 256 KB tmpfs, filled)."""
    mount = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        (mount / "cache").mkdir()
        with (mount / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:  # ENOSPC: full
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_under_the_cache_is_a_warning_and_the_report_is_printed(full_disk: Path) -> None:
    run = deckcheck("check", "passing.md", cwd=DECKS, cache=full_disk / "cache")
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.last_line == "5 passed, 0 failed, 1 skipped", run.stdout
    warning = (
        f"deckcheck: warning: cannot write the result cache in {full_disk / 'cache'}: No space left on device"
    )
    assert warning in run.stderr.splitlines(), run.stderr
