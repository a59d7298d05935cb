"""A lean install: Playwright is an extra (`deckcheck[browser]`) that `check` and `serve` never
need, and that `build` asks for in one line before checking anything.

Each run is the real command in a Python where `import playwright` fails as it does when the
package is not installed (a None in sys.modules stops the import)."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from helpers import FIXTURES, ROOT, Run, env_for

WITHOUT_PLAYWRIGHT = (
    "import sys; sys.modules['playwright'] = None; "
    "from deckcheck.commands.cli import main; sys.exit(main(sys.argv[1:]))"
)
ASK = "pip install 'deckcheck[browser]'"


def without_playwright(*args: str, cwd: Path, timeout: float = 120) -> Run:
    tag = uuid.uuid4().hex
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PLAYWRIGHT, *args],
        cwd=cwd,
        env=env_for(cwd / "cache", tag),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr, tag)


def test_the_blocker_blocks() -> None:
    probe = "import sys; sys.modules['playwright'] = None\ntry:\n import playwright.sync_api\nexcept ImportError:\n print('absent')"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout == "absent\n"


def test_build_without_playwright_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "site" / "deck-b.md", tmp_path)
    run = without_playwright("build", "deck-b.md", "--site", "site", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.splitlines() == [
        "deckcheck: error: this build drives Chromium with Playwright (page checks, handouts), "
        f"which is not installed: {ASK}"
    ]
    assert run.stdout == "" and not (tmp_path / "site").exists()  # asked before any deck ran


def test_check_and_a_build_without_the_browser_need_no_playwright(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "site" / "deck-b.md", tmp_path)
    check = without_playwright("check", "deck-b.md", cwd=tmp_path)
    assert check.returncode == 0 and check.last_line == "2 passed, 0 failed, 0 skipped", (
        check.stdout + check.stderr
    )
    build = without_playwright("build", "deck-b.md", "--site", "site", "--formats", "ipynb", cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "site" / "deck-b.ipynb").is_file()


def test_serve_previews_without_playwright(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "site" / "deck-b.md", tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_PLAYWRIGHT, "serve", str(tmp_path / "deck-b.md"), "--port", "0"],
        cwd=ROOT,
        env=env_for(tmp_path / "cache", uuid.uuid4().hex),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    seen: list[str] = []
    page = ""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (not page or "deckcheck: checking" in page):
            time.sleep(0.2)
            while not lines.empty():
                seen.append(lines.get())
            address = next((line.split()[1] for line in seen if line.startswith("preview: http://")), "")
            if address and process.poll() is None:
                with urllib.request.urlopen(f"{address}deck-b.html", timeout=10) as response:
                    page = response.read().decode()
        assert "Fixture B" in page and "deckcheck: checking" not in page, "".join(seen)
        assert not any("Traceback" in line or "playwright" in line.lower() for line in seen), "".join(seen)
    finally:
        process.kill()
        process.wait()
