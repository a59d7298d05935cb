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


def test_what_a_killed_run_left_in_the_temporary_folder_goes_with_the_next_run(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    (scratch / f"deckcheck-kernel-{gone.pid}-a1.log").write_text("a crash log")
    (scratch / f"deckcheck-checkpoints-{gone.pid}-b2").mkdir()
    (scratch / f"deckcheck-checkpoints-{gone.pid}-b2" / "resume-c3.pid").write_text("123")
    (scratch / "deckcheck-kernel-1-d4.log").write_text("pid 1 is alive: not ours to remove")
    run = deckcheck("check", "passing.md", cwd=DECKS, cache=tmp_path / "cache", TMPDIR=str(scratch))
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in scratch.glob("deckcheck-*")) == ["deckcheck-kernel-1-d4.log"]


def test_a_chromium_that_will_not_start_is_one_line_and_the_deck_is_still_published(tmp_path: Path) -> None:
    (tmp_path / "node_modules").symlink_to(Path(__file__).resolve().parent.parent / "node_modules")
    (tmp_path / "slides").mkdir()
    (tmp_path / "slides" / "a.md").write_text("---\nmarp: true\n---\n\n# One\n\n```python\nprint(1)\n```\n")
    run = deckcheck(
        "build", "slides", "--site", "site", "--formats", "html",
        cwd=tmp_path, cache=tmp_path / "cache", timeout=300, CHROME_PATH="/bin/false",
    )  # fmt: skip
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert "deckcheck: cannot start Chromium (/bin/false): the page checks are skipped" in run.stdout, (
        run.stdout
    )
    assert run.returncode == 0 and (tmp_path / "site" / "a.html").is_file()
