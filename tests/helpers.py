"""Running the real `deckcheck` command in tests, and finding processes it left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


RERUN = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], 4)
NotebookClient(
    notebook, timeout=600, kernel_name="python3", skip_cells_with_tag="no cell has this tag",
    resources={"metadata": {"path": sys.argv[2]}},
).execute()
nbformat.write(notebook, sys.argv[3])
"""


ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # a repr's memory address differs in every process

# The data the check had: where the data cache holds stand-ins (offline), a plain kernel is
# given them as deckcheck's kernels are (torchvision itself rejects stand-ins' checksums); a
# student with the real downloads needs nothing of the kind.
STARTUP = """
import json, os
from deckcheck.in_kernel.offline_data import serve_from_cache
serve_from_cache(set(json.loads(os.environ.get("DECKCHECK_STANDINS") or "{}")))
"""


def _cell_outputs(cell: dict) -> tuple[str, int]:
    """What a code cell printed (as deckcheck keeps it: streams, plain results, the error of a
    raises-exception cell; memory addresses masked) and how many images it showed."""
    from deckcheck.text import clean

    text, images = [], 0
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            text.append(output["text"])
        elif kind in ("execute_result", "display_data"):
            if "image/png" in output["data"]:
                images += 1
            elif "text/plain" in output["data"] and kind == "execute_result":
                text.append(output["data"]["text/plain"] + "\n")
        elif kind == "error":
            text.append(f"{output['ename']}: {output['evalue']}\n")
    return ADDRESS.sub(" at 0x…", clean("".join(text))), images


def notebook_differences(notebook: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    """Run a notebook as Jupyter's "Run all" does (a fresh kernel, every cell, tags ignored) and
    say where a cell the check ran printed something else; an empty list when none did."""
    import nbformat

    from deckcheck.kernel.data_cache import standins

    executed = notebook.with_name(f"{notebook.stem}.rerun.ipynb")
    profile = notebook.parent / ".ipython-rerun"
    (profile / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
    (profile / "profile_default" / "startup" / "00-data-cache.py").write_text(STARTUP)
    env = {k: v for k, v in env.items() if k != "MPLBACKEND"}
    if env.get("TORCH_HOME"):
        env["DECKCHECK_STANDINS"] = json.dumps(standins(Path(env["TORCH_HOME"]).parent))
    done = subprocess.run(
        [sys.executable, "-c", RERUN, str(notebook), str(cwd), str(executed)],
        env={**env, "IPYTHONDIR": str(profile)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        return [f"{notebook.name} did not run to the end: {done.stderr[-2000:]}"]
    stored = [cell for cell in nbformat.read(notebook, 4).cells if cell.cell_type == "code"]
    rerun = [cell for cell in nbformat.read(executed, 4).cells if cell.cell_type == "code"]
    differences = []
    for number, (before, after) in enumerate(zip(stored, rerun, strict=True), 1):
        checked = "skip-execution" not in before.metadata.get("tags", [])  # a CUDA cell on a CPU
        if checked and _cell_outputs(before) != _cell_outputs(after):
            differences.append(
                f"{notebook.name} cell {number}: {_cell_outputs(before)} != {_cell_outputs(after)}"
            )
    return differences


@contextmanager
def site_page(site: Path) -> Iterator[Any]:
    """The site's index in headless Chromium, served over HTTP (Pagefind does not work from file://)."""
    import functools
    import http.server
    import threading

    from deckcheck.publish.fit import browser
    from deckcheck.publish.marp import browser_path

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with browser(browser_path() or "") as chromium:
            page = chromium.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            yield page
    finally:
        server.shutdown()


def search(page: Any, word: str) -> list[str]:
    """The links the site's search box lists for a word."""
    page.fill("#search input", word)
    page.wait_for_selector(".pagefind-ui__result-link", timeout=20_000)
    return [link.get_attribute("href") for link in page.query_selector_all(".pagefind-ui__result-link")]
