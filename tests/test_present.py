"""`deckcheck present` in Chromium: a block edited and run on its slide in the deck's kernel,
its failure as deckcheck reports it, reset; the token, Host and Origin gate; and `deckcheck
check` answered by a running serve over the course's socket."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DECKCHECK, ROOT, deckcheck, env_for, tagged_processes
from test_serve_live import Serve, _read_lines, until

DECK = """---
marp: true
---

# Rate

```python tags=["show-output"]
rate = 0.1
print("rate", rate)
```

---

# Scaled

```python tags=["show-output"]
scaled = rate * 10
print("scaled", scaled)
```

```python
assert scaled > 0
```
"""


class Present(Serve):
    token: str = ""

    def post(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, json.dumps(body), {"Host": f"127.0.0.1:{self.port}", **headers})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


def start(tmp_path: Path, command: str, *paths: Path) -> Present:
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*DECKCHECK, command, *map(str, paths), "--port", "0"], cwd=ROOT, env=env_for(tmp_path / "cache", tag),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    present = Present(process, lines, [], 0, tag)
    try:
        match = present.wait_for(r"(?:present|preview): http://127\.0\.0\.1:(\d+)/(?:\?token=(\S+))?")
        present.port, present.token = int(match.group(1)), match.group(2) or ""
        present.wait_for(r"demo\.md: ok: 3 passed")
    except BaseException:
        present.stop()
        raise
    return present


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    path = tmp_path / "decks" / "demo.md"
    path.parent.mkdir()
    path.write_text(DECK)
    return path


@pytest.fixture
def present(tmp_path: Path, deck: Path) -> Iterator[Present]:
    running = start(tmp_path, "present", deck)
    try:
        yield running
    finally:
        running.stop()
    assert tagged_processes(running.tag) == []


def _editor(page, index: int):
    return page.locator(f'.deckcheck-live[data-block="{index}"]')


def _replace_code(page, index: int, code: str) -> None:
    _editor(page, index).locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)


def test_a_block_edited_and_run_on_its_slide_shows_its_new_output_then_reset(
    present: Present, deck: Path
) -> None:
    from deckcheck.publish.fit import browser
    from deckcheck.publish.marp import browser_path

    with browser(browser_path() or "") as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"http://127.0.0.1:{present.port}/demo.html?token={present.token}#2")
        page.wait_for_selector('html[data-deckcheck-present="3"]')
        shown = page.locator(  # the published output (the run's is a plain <pre>)
            "svg[data-marpit-svg]:nth-of-type(2) marp-pre:has(code.language-output)"
        ).first
        assert "scaled 1.0" in shown.inner_text()

        _replace_code(page, 1, 'scaled = rate * 1000\nprint("scaled", scaled)')
        page.keyboard.press("ArrowLeft")  # inside the editor: moves the cursor, not the slide
        assert page.evaluate("location.hash") == "#2"
        clicked = page.evaluate("performance.now()")
        page.keyboard.press("Shift+Enter")
        output = _editor(page, 1).locator("xpath=following-sibling::pre[1]")
        output.locator("text=scaled 100.0").wait_for(timeout=30_000)
        elapsed = (page.evaluate("performance.now()") - clicked) / 1000
        print(f"present: run → output on the slide: {elapsed:.3f} s (the page's own: {_elapsed(page, 1)} s)")
        assert "language-output" in output.locator("code").get_attribute("class")
        assert not shown.is_visible()  # the published output makes way for the run's

        # from the checkpoint after block 2 as the deck has it (scaled 1.0), not after the live run
        _replace_code(page, 2, "limit = 5\nassert scaled > limit, scaled")
        _editor(page, 2).locator(".deckcheck-live-run").click()
        error = page.locator(".deckcheck-live-error")
        error.wait_for(timeout=30_000)
        report = error.inner_text()
        assert "line 2 of this block" in report and "slide 2: AssertionError: 1.0" in report, report
        assert "assert 1.0 > 5" in report, report  # the assert's values, as the check reports them

        _editor(page, 1).locator(".deckcheck-live-reset").click()
        assert shown.is_visible() and "scaled 1.0" in shown.inner_text()
        assert _editor(page, 1).locator(".cm-content").inner_text().startswith("scaled = rate * 10\n")
        page.locator("h1#scaled").click()  # outside the editor the arrow keys move through the slides
        page.keyboard.press("ArrowLeft")
        until(lambda: page.evaluate("location.hash") == "#1", timeout=10)
    assert deck.read_text() == DECK  # nothing run live is written to the deck


def test_a_block_runs_in_marps_presenter_view_too(present: Present) -> None:
    from deckcheck.publish.fit import browser
    from deckcheck.publish.marp import browser_path

    with browser(browser_path() or "") as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"http://127.0.0.1:{present.port}/demo.html?token={present.token}&view=presenter#2")
        page.wait_for_selector('html[data-deckcheck-present="3"]')
        assert page.locator(".bespoke-marp-presenter-container").count() == 1  # Marp's presenter view
        _replace_code(page, 1, 'scaled = rate * 70\nprint("scaled", scaled)')
        page.keyboard.press("Shift+Enter")
        _editor(page, 1).locator("xpath=following-sibling::pre[1]").locator("text=scaled 7.0").wait_for(
            timeout=30_000
        )


def _elapsed(page, index: int) -> str:
    return _editor(page, index).get_attribute("data-elapsed") or "?"


def test_requests_without_the_token_or_for_another_host_or_from_another_origin_are_refused(
    present: Present,
) -> None:
    own = f"127.0.0.1:{present.port}"
    assert present.request(f"/demo.html?token={present.token}")[0] == 200
    assert present.request("/demo.html")[0] == 403
    assert present.request("/demo.html?token=wrong")[0] == 403
    assert present.request("/_deckcheck/status")[0] == 403
    assert (
        present.request(f"/demo.html?token={present.token}", host=f"attacker.example:{present.port}")[0]
        == 403
    )
    body = {"stem": "demo", "index": 0, "code": "print('ran')"}
    assert present.post("/_deckcheck/run", body, {})[0] == 403
    refused = present.post(
        "/_deckcheck/run", body, {"X-Deckcheck-Token": present.token, "Origin": "http://evil.example"}
    )
    assert refused[0] == 403
    status, answer = present.post(
        "/_deckcheck/run", body, {"X-Deckcheck-Token": present.token, "Origin": f"http://{own}"}
    )
    assert status == 200 and json.loads(answer)["output"] == "ran\n", answer
    cookie = f"deckcheck_present_{present.port}={present.token}"
    assert present.post("/_deckcheck/run", body, {"Cookie": cookie})[0] == 200


def test_check_asks_the_running_serve_and_falls_back_when_it_is_gone(tmp_path: Path, deck: Path) -> None:
    serve = start(tmp_path, "serve", deck)
    try:
        deck.write_text(DECK.replace("assert scaled > 0", "assert scaled > 5"))
        through = deckcheck("check", str(deck), cwd=tmp_path, cache=tmp_path / "cache")
        alone = deckcheck("check", "--no-serve", str(deck), cwd=tmp_path, cache=tmp_path / "cache")
        assert through.returncode == alone.returncode == 1
        assert f"checked by the running serve (pid {serve.process.pid})" in through.stdout
        problems = [line for line in through.lines if line.startswith(str(deck) + ":2")]
        assert problems == [line for line in alone.lines if line.startswith(str(deck) + ":2")]
        assert problems == [f"{deck}:22: slide 2: AssertionError: assert 1.0 > 5"]
        assert through.last_line == alone.last_line == "2 passed, 1 failed, 0 skipped"
        assert "checked by the running serve" not in alone.stdout
        assert (tmp_path / "cache" / "serve.sock").stat().st_mode & 0o777 == 0o600
        serve.process.send_signal(signal.SIGKILL)  # leaves its socket behind
        serve.process.wait()
        after = deckcheck("check", str(deck), cwd=tmp_path, cache=tmp_path / "cache", timeout=60)
        assert (tmp_path / "cache" / "serve.sock").exists()
        assert after.returncode == 1 and "checked by the running serve" not in after.stdout
        assert after.last_line == "2 passed, 1 failed, 0 skipped"
    finally:
        serve.stop()
        until(lambda: tagged_processes(serve.tag) == [], timeout=30)  # the checkpoints leave after it


def test_the_committed_editor_bundle_is_what_the_build_script_makes(tmp_path: Path) -> None:
    """present.js is committed (a course installs deckcheck without building it): it must be
    `npm run build-present`'s output of editor.mjs and the locked CodeMirror."""
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        pytest.skip("no esbuild in node_modules (make node installs it)")
    script = json.loads((ROOT / "package.json").read_text())["scripts"]["build-present"]
    out = tmp_path / "present.js"
    command = script.replace("src/deckcheck/assets/present/present.js", str(out)).split()
    subprocess.run([str(esbuild), *command[1:]], cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert out.read_bytes() == (ROOT / "src" / "deckcheck" / "assets" / "present" / "present.js").read_bytes()
