"""`deckcheck serve` keeps up: it answers at once, a save cancels the deck's running check,
new decks are picked up, and only requests for its own address are answered."""

from __future__ import annotations

import http.client
import json
import queue
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from helpers import DECKCHECK, ROOT, env_for, tagged_processes

LOOPING = """# Loop

```python
x = 1
```

```python
open("looping", "w").close()
while True:
    pass
```

```python
assert x == 1
```
"""

STEPS = "# Steps\n\n```python\ntotal = 0\n```\n\n```python\ntotal += 1\n```\n\n```python\nassert total == 1\n```\n"


@dataclass
class Serve:
    process: subprocess.Popen
    lines: queue.Queue
    seen: list[str]
    port: int
    tag: str

    def request(self, path: str, host: str | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_host=True)
            connection.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def status(self) -> dict[str, dict]:
        code, body = self.request("/_deckcheck/status")
        assert code == 200, body
        return {Path(deck["path"]).name: deck for deck in json.loads(body)["decks"]}

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.seen))

    def output(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def start_serve(tmp_path: Path, *args: str, announced: float = 60) -> Serve:
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, "serve", *args, "--port", "0"], cwd=ROOT, env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    serve = Serve(process, lines, [], 0, tag)
    try:
        serve.port = int(serve.wait_for(r"preview: http://[^:]+:(\d+)/", timeout=announced).group(1))
    except BaseException:
        serve.stop()
        raise
    return serve


def until(condition, timeout: float = 60, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def checked(serve: Serve, name: str) -> dict | None:
    """The deck's status once its check is done (None while it is checked, or not known)."""
    deck = serve.status().get(name)
    return deck if deck and "finished_at" in deck and deck.get("state") != "checking" else None


def _busy_process(tag: str) -> psutil.Process:
    """The tagged process that computes flat out: the kernel in the loop."""
    processes = tagged_processes(tag)
    for process in processes:
        process.cpu_percent(None)
    time.sleep(0.5)
    busy = [p for p in processes if p.is_running() and p.cpu_percent(None) > 50]
    assert len(busy) == 1, busy
    return busy[0]


def _in_folder(tag: str, folder: Path) -> list[psutil.Process]:
    """The tagged processes working in a folder: a deck's kernel and its checkpoints."""
    found = []
    for process in tagged_processes(tag):
        try:
            if Path(process.cwd()) == folder.resolve():
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_a_save_that_fixes_an_infinite_loop_cancels_the_running_check(tmp_path: Path) -> None:
    deck = tmp_path / "decks" / "loop.md"
    deck.parent.mkdir()
    deck.write_text(LOOPING)
    serve = start_serve(tmp_path, str(deck), announced=30)  # the default 300 s time limit holds
    try:
        assert serve.status()["loop.md"]["state"] == "checking"
        code, page = serve.request("/loop.html")
        assert code == 200 and "deckcheck: checking" in page and "EventSource('/__events')" in page
        code, index = serve.request("/")
        assert code == 200 and "checking" in index
        until(lambda: (deck.parent / "looping").exists())
        looping = _busy_process(serve.tag)

        deck.write_text(LOOPING.replace('open("looping", "w").close()\nwhile True:\n    pass', "y = 2"))
        saved = time.monotonic()
        shown = until(lambda: serve.status()["loop.md"].get("state") == "checked", timeout=60, step=0.02)
        elapsed = time.monotonic() - saved
        after = serve.status()["loop.md"]
        print(f"save → new result: {elapsed:.2f} s (the check itself: {after['duration']} s)")
        assert shown and (after["ok"], after["passed"], after["run"]) == (True, 3, "full")
        assert elapsed < 5, elapsed
        assert not looping.is_running() or looping.status() == psutil.STATUS_ZOMBIE
        # the cancelled run's checkpoint (after block 1) is ended: the new run's three are left
        until(lambda: len(_in_folder(serve.tag, deck.parent)) == 3)
        time.sleep(1)
        assert len(_in_folder(serve.tag, deck.parent)) == 3

        # the checkpoint store holds the new run: editing the last block resumes from it
        deck.write_text(deck.read_text().replace("assert x == 1", "assert x == 1, 'kept'"))
        until(lambda: serve.status()["loop.md"]["finished_at"] != after["finished_at"])
        resumed = serve.status()["loop.md"]
        assert (resumed["run"], resumed["resumed_from_block"], resumed["ok"]) == ("resumed", 3, True)
        assert "Traceback" not in serve.output()
    finally:
        serve.stop()
    assert serve.process.returncode == 130
    assert tagged_processes(serve.tag) == []


def test_decks_added_renamed_or_removed_after_the_start_are_followed(tmp_path: Path) -> None:
    folder = tmp_path / "slides"
    folder.mkdir()
    (folder / "one.md").write_text(STEPS)
    serve = start_serve(tmp_path, str(folder))
    try:
        until(lambda: checked(serve, "one.md"))
        (folder / "two.md").write_text(STEPS.replace("# Steps", "# Two"))
        assert until(lambda: checked(serve, "two.md"))["ok"] is True
        assert "two.html" in serve.request("/")[1] and serve.request("/two.html")[0] == 200

        (folder / "two.md").rename(folder / "three.md")
        until(lambda: checked(serve, "three.md"))
        assert sorted(serve.status()) == ["one.md", "three.md"]
        assert serve.request("/two.html")[0] == 404

        (folder / "three.md").unlink()
        until(lambda: sorted(serve.status()) == ["one.md"])
        assert "three" not in serve.request("/")[1]
    finally:
        serve.stop()
    assert tagged_processes(serve.tag) == []


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serve, Path]]:
    tmp_path = tmp_path_factory.mktemp("steps")
    deck = tmp_path / "decks" / "steps.md"
    deck.parent.mkdir()
    deck.write_text(STEPS)
    serve = start_serve(tmp_path, str(deck))
    try:
        until(lambda: checked(serve, "steps.md"))
        yield serve, deck
    finally:
        serve.stop()
    assert tagged_processes(serve.tag) == []


@pytest.mark.parametrize(
    "path", ["/%00", "/steps%00.html", "/%ff%fe.html", "/a%00b/c", "/..%2f..%2fetc%2fpasswd%00"]
)
def test_a_malformed_url_is_a_400_and_no_traceback(steps: tuple[Serve, Path], path: str) -> None:
    serve, _ = steps
    code, body = serve.request(path)
    assert code == 400, body
    assert "Traceback" not in body and len(body.strip().splitlines()) == 1
    assert serve.request("/steps.html")[0] == 200  # it serves on
    assert "Traceback" not in serve.output()


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "", "localhost.evil:{port}"]
)
def test_a_request_for_another_host_is_refused(steps: tuple[Serve, Path], host: str) -> None:
    serve, _ = steps
    for path in ("/steps.html", "/_deckcheck/status", "/"):
        code, body = serve.request(path, host.format(port=serve.port))
        assert code in (403, 421), (path, code)
        assert body.startswith("deckcheck: ") and len(body.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_requests_for_the_loopback_address_are_answered(steps: tuple[Serve, Path], host: str) -> None:
    serve, _ = steps
    assert serve.request("/_deckcheck/status", host.format(port=serve.port))[0] == 200


def test_a_result_from_the_cache_says_nothing_of_a_resume(steps: tuple[Serve, Path]) -> None:
    serve, deck = steps
    original = deck.read_text()
    edited = original.replace("assert total == 1", "assert total == 1, 'once'")

    def save(text: str) -> dict:
        before = serve.status()["steps.md"]["finished_at"]
        deck.write_text(text)
        return until(lambda: (s := serve.status()["steps.md"])["finished_at"] != before and s)

    assert save(edited)["run"] == "resumed"
    save(original)  # from the result cache
    again = save(edited)  # the resumed run's result, now from the cache
    assert (again["run"], again["resumed_from_block"], again["no_resume"]) == ("cached", None, None)


def test_binding_every_interface_warns_and_still_checks_hosts(tmp_path: Path) -> None:
    deck = tmp_path / "decks" / "steps.md"
    deck.parent.mkdir()
    deck.write_text(STEPS)
    serve = start_serve(tmp_path, str(deck), "--host", "0.0.0.0")
    try:
        warning = [line for line in serve.seen if "0.0.0.0" in line and "deckcheck: warning" in line]
        assert len(warning) == 1 and "anyone" in warning[0] and "status" in warning[0], serve.seen
        assert serve.request("/_deckcheck/status", f"127.0.0.1:{serve.port}")[0] == 200
        assert serve.request("/_deckcheck/status", f"evil.example:{serve.port}")[0] in (403, 421)
    finally:
        serve.stop()
    assert tagged_processes(serve.tag) == []
