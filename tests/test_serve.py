"""`deckcheck serve`: saving a deck re-checks it, re-renders it and tells the open page."""

from __future__ import annotations

import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import DECKCHECK, FIXTURES, ROOT, env_for, tagged_processes


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _wait_for(lines: queue.Queue, pattern: str, timeout: float = 90) -> re.Match:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(seen))


@pytest.fixture
def server(tmp_path: Path):
    shutil.copytree(FIXTURES / "site", tmp_path / "decks")
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "serve", str(tmp_path / "decks" / "deck-b.md"), "--port", "0"],
        cwd=ROOT,
        env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        port = int(_wait_for(lines, r"preview: http://127\.0\.0\.1:(\d+)/").group(1))
        _first_checks(f"http://127.0.0.1:{port}", "deck-b")
        yield process, lines, f"http://127.0.0.1:{port}", tmp_path / "decks" / "deck-b.md", tag
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _first_checks(base: str, stem: str = "", timeout: float = 90) -> None:
    """Wait until every deck's first check is done (serve answers before), and the page of
    `stem` is rendered."""
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        decks = json.loads(_get(f"{base}/_deckcheck/status"))["decks"]
        checked = decks and all(deck["state"] == "checked" for deck in decks)
        if checked and not (stem and "deckcheck: checking" in _get(f"{base}/{stem}.html")):
            return
        time.sleep(0.05)
    raise AssertionError(f"the first checks did not finish within {timeout} s")


def test_saving_a_deck_rechecks_it_and_reloads_the_page_with_its_failures(server) -> None:
    process, _lines, base, deck, tag = server
    page = _get(f"{base}/deck-b.html")
    assert "Version one" in page and "EventSource('/__events')" in page
    assert "deckcheck-failures" not in page

    events: queue.Queue = queue.Queue()

    def listen() -> None:
        with urllib.request.urlopen(f"{base}/__events", timeout=120) as stream:
            for raw in stream:
                if raw.startswith(b"data: "):
                    events.put(raw[6:].decode().strip())

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(0.5)
    deck.write_text(deck.read_text().replace("assert value == 4", "assert value == 5"))
    assert events.get(timeout=90) == "deck-b"
    page = _get(f"{base}/deck-b.html")
    assert "deckcheck-failures" in page
    assert f"{deck}:11: slide 1: AssertionError" in page

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    assert tagged_processes(tag) == []


def _project(tmp_path: Path) -> Path:
    """A course of its own (theme, config, renderer), so that a test may edit its theme."""
    project = tmp_path / "course"
    project.mkdir()
    for name in ("marp.config.mjs", "marp", "themes"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copytree(FIXTURES / "site", project / "slides")
    return project


def test_saving_the_theme_re_renders_the_open_decks(tmp_path: Path) -> None:
    project = _project(tmp_path)
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "serve", "slides/deck-b.md", "--port", "0"],
        cwd=project, env=env_for(tmp_path / "cache", tag), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        port = _wait_for(lines, r"preview: http://127\.0\.0\.1:(\d+)/").group(1)
        base = f"http://127.0.0.1:{port}"
        _first_checks(base, "deck-b")
        assert "rebeccapurple" not in _get(f"{base}/deck-b.html")
        theme = project / "themes" / "deckcheck.css"
        theme.write_text(theme.read_text() + "\nsection h1 { color: rebeccapurple; }\n")
        _wait_for(lines, r"^restyled 1 deck", timeout=60)
        assert "rebeccapurple" in _get(f"{base}/deck-b.html")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert tagged_processes(tag) == []


def test_saving_an_edit_of_the_last_block_resumes_and_the_status_says_so(tmp_path: Path) -> None:
    import json

    deck = tmp_path / "decks" / "steps.md"
    deck.parent.mkdir()
    deck.write_text(
        "# Steps\n\n```python\ntotal = 0\n```\n\n```python\ntotal += 1\n```\n\n```python\nassert total == 1\n```\n"
    )
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "serve", str(deck), "--port", "0"], cwd=ROOT, env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        port = _wait_for(lines, r"preview: http://127\.0\.0\.1:(\d+)/").group(1)

        def status() -> dict:
            return json.loads(_get(f"http://127.0.0.1:{port}/_deckcheck/status"))["decks"][0]

        _first_checks(f"http://127.0.0.1:{port}")
        first = status()
        assert (first["run"], first["passed"], first["resumed_from_block"]) == ("full", 3, None)
        deck.write_text(deck.read_text().replace("assert total == 1", "assert total == 1, 'once'"))
        deadline = time.monotonic() + 60
        while status()["finished_at"] == first["finished_at"] and time.monotonic() < deadline:
            time.sleep(0.05)
        after = status()
        assert (after["run"], after["resumed_from_block"], after["passed"], after["ok"]) == (
            "resumed",
            3,
            3,
            True,
        )
        deck.write_text(deck.read_text().replace("total += 1", "total += 2"))  # block 2: from block 2
        _wait_for(lines, r"steps\.md: FAILED")
        assert (status()["run"], status()["resumed_from_block"]) == ("resumed", 2)
        deck.write_text(deck.read_text().replace("total = 0", "total = -1"))  # the first block: from the top
        _wait_for(lines, r"steps\.md: ok")
        assert (status()["run"], status()["resumed_from_block"]) == ("full", None)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert tagged_processes(tag) == []
