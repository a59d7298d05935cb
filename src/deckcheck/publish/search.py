"""Site search: a Pagefind index of every published deck's slides, in site/pagefind/.

Each slide is one record (its text, its deck's title and heading, a link to it in the deck's
HTML), read back from the published HTML: Pagefind's own crawler skips text inside <svg>, which
is where Marp puts every slide. marp/search.mjs writes the index into a fresh folder that then
replaces the old one by two renames, so a reader finds a whole index, the old or the new.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from deckcheck.text import shorten

SCRIPT = (
    Path(__file__).resolve().parents[1] / "assets" / "marp" / "search.mjs"
)  # packaged; a link to marp/ here
FOLDER = "pagefind"
SKIPPED = {"style", "script", "template"}


class SearchError(Exception):
    """The search index could not be built; the message says why, in one line."""


class _SlideText(HTMLParser):
    """The text of each Marp slide (`<section id="N">` inside the slide's <svg>) and its first heading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.slides: list[tuple[str, list[str]]] = []  # (first heading, words)
        self.depth = 0  # <section> nesting inside the current slide; 0 outside any
        self.skipping = 0
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            if self.depth == 0 and dict(attrs).get("id"):
                self.slides.append(("", []))
                self.depth = 1
            elif self.depth:
                self.depth += 1
        elif tag in SKIPPED:
            self.skipping += 1
        elif self.depth and tag in ("h1", "h2", "h3") and not self.slides[-1][0] and self.heading is None:
            self.heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.depth:
            self.depth -= 1
        elif tag in SKIPPED and self.skipping:
            self.skipping -= 1
        elif tag in ("h1", "h2", "h3") and self.heading is not None:
            self.slides[-1] = (" ".join("".join(self.heading).split()), self.slides[-1][1])
            self.heading = None

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skipping:
            self.slides[-1][1].append(data)
            if self.heading is not None:
                self.heading.append(data)


def slide_records(page: Path, title: str) -> list[dict[str, str]]:
    """One search record per slide of a published deck."""
    parser = _SlideText()
    parser.feed(page.read_text("utf-8", "replace"))
    records = []
    for number, (heading, words) in enumerate(parser.slides, 1):
        content = " ".join(" ".join(words).split())
        if content:
            name = f"{title}: {heading}" if heading and heading != title else f"{title}, slide {number}"
            records.append({"url": f"{page.name}#{number}", "title": name, "content": content})
    return records


def build_search(root: Path, site: Path, pages: Sequence[tuple[str, str]], timeout: float = 300) -> None:
    """Index the given decks, (HTML file in the site, title), into site/pagefind/."""
    node = shutil.which("node")
    if node is None or not (root / "node_modules" / "pagefind").is_dir():
        raise SearchError("pagefind is not installed: run make (it runs npm ci)")
    records = [record for file, title in pages for record in slide_records(site / file, title)]
    fresh = site / f".{FOLDER}-{uuid.uuid4().hex[:8]}"
    try:
        done = subprocess.run(
            [node, str(SCRIPT), str(root), str(fresh)],
            input=json.dumps(records),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=root,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(fresh, ignore_errors=True)
        raise SearchError(f"pagefind did not finish within {timeout:g} s") from None
    if done.returncode != 0 or not (fresh / "pagefind-ui.js").is_file():
        shutil.rmtree(fresh, ignore_errors=True)
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = shorten(lines[-1] if lines else "no output", 1, width=300)
        raise SearchError(f"pagefind failed (exit status {done.returncode}): {reason}")
    current = site / FOLDER
    old = site / f".{FOLDER}-old-{uuid.uuid4().hex[:8]}"
    if current.exists():
        os.replace(current, old)
    os.replace(fresh, current)
    shutil.rmtree(old, ignore_errors=True)
