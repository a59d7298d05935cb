"""`deckcheck serve`: a live preview on localhost.

Saving a deck re-checks it (unchanged decks come from the result cache), re-renders it, and
the open page reloads on the same slide. A deck whose check fails is rendered all the same,
with its failures shown in a banner on the page.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import report
from .build import Builder, BuildOptions, deck_stems
from .checker import Checker, CheckOptions
from .deck import Deck
from .parser import image_path, read_deck
from .results import DeckResult

POLL_S = 0.4
RELOAD_SCRIPT = """<script>
(() => {
  const stem = %s;
  const events = new EventSource('/__events');
  events.onmessage = (message) => { if (message.data === stem) location.reload(); };
})();
</script>"""
BANNER_STYLE = (
    "position:fixed;top:0;left:0;right:0;z-index:99999;max-height:45vh;overflow:auto;margin:0;"
    "padding:12px 16px;background:#fff1f0;color:#82071e;border-bottom:3px solid #cf222e;"
    "font:14px/1.4 ui-monospace,monospace;white-space:pre-wrap"
)


@dataclass
class PreviewState:
    """What the server shows: one entry per deck, and a change counter per deck stem."""

    problems: dict[str, str] = field(default_factory=dict)  # stem → failure text ("" when it passes)
    titles: dict[str, str] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    events: list[str] = field(default_factory=list)

    def publish(self, stem: str, problems: str, title: str) -> None:
        with self.changed:
            self.problems[stem] = problems
            self.titles[stem] = title
            self.events.append(stem)
            self.changed.notify_all()


def failure_text(deck: Deck, result: DeckResult) -> str:
    parts = [report.problem_line(str(deck.path), problem) for problem in result.problems]
    parts += [report.failure_report(deck, block) for block in result.blocks if block.status == "failed"]
    return "\n\n".join(parts)


def _handler(folder: Path, state: PreviewState) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/__events":
                return self._events()
            if path in ("/", "/index.html"):
                return self._send_html(self._index())
            stem = path.lstrip("/").removesuffix(".html")
            if path.endswith(".html") and stem in state.problems:
                return self._send_html(self._page(stem))
            return super().do_GET()

        def _index(self) -> str:
            rows = "".join(
                f'<li><a href="{html.escape(stem)}.html">{html.escape(state.titles[stem])}</a>'
                f"{' — <strong>failing</strong>' if state.problems[stem] else ''}</li>"
                for stem in sorted(state.problems)
            )
            return f"<!DOCTYPE html><title>deckcheck preview</title><h1>Decks</h1><ul>{rows}</ul>"

        def _page(self, stem: str) -> str:
            try:
                page = (folder / f"{stem}.html").read_text("utf-8")
            except OSError:
                page = f"<!DOCTYPE html><title>{html.escape(stem)}</title><body></body>"
            extra = RELOAD_SCRIPT % json.dumps(stem)
            problems = state.problems.get(stem)
            if problems:
                extra += f'<pre id="deckcheck-failures" style="{BANNER_STYLE}">{html.escape(problems)}</pre>'
            return page.replace("</body>", extra + "</body>", 1) if "</body>" in page else page + extra

        def _send_html(self, text: str) -> None:
            body = text.encode("utf-8")
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = len(state.events)
            try:
                while True:
                    with state.changed:
                        state.changed.wait_for(lambda count=seen: len(state.events) > count, timeout=15)
                        fresh, seen = state.events[seen:], len(state.events)
                    message = "".join(f"data: {stem}\n\n" for stem in fresh) or ": keep-alive\n\n"
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def _stamp(file: Path) -> tuple:
    try:
        info = file.stat()
    except OSError:
        return (str(file), None)
    return (str(file), info.st_mtime_ns, info.st_size)


class PreviewServer:
    def __init__(
        self, paths: Sequence[Path], check: CheckOptions, folder: Path, say: Callable[[str], None]
    ) -> None:
        self.paths = list(paths)
        self.stems = deck_stems(self.paths)
        self.images: dict[Path, list[Path]] = {}  # each deck's images, as it was last read
        self.check_options = check
        self.folder = folder
        self.say = say
        self.state = PreviewState()
        self.builder = Builder(
            BuildOptions(site=folder, formats=("html",), check_fit=False, preview=True), say
        )

    def fingerprint(self, path: Path) -> tuple:
        """What, when it changes, means the deck must be looked at again: it and its images."""
        return (_stamp(path), *(_stamp(image) for image in self.images.get(path, [])))

    def refresh(self, paths: Sequence[Path]) -> None:
        """Check and render these decks, then tell the open pages."""
        decks = [read_deck(path) for path in paths]
        for path, deck in zip(paths, decks, strict=True):
            self.images[path] = [image_path(deck.folder, image.src) for image in deck.images]
        results = asyncio.run(Checker(self.check_options).check(decks))
        self.builder.build(decks, results, self.stems)
        for deck, result in zip(decks, results, strict=True):
            problems = failure_text(deck, result)
            self.state.publish(self.stems[str(deck.path)], problems, deck.title)
            self.say(report.deck_line(result) + (f"\n{problems}" if problems else ""))

    def serve(self, host: str, port: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.refresh(self.paths)
        server = ThreadingHTTPServer((host, port), _handler(self.folder, self.state))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.say(f"preview: http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
        seen = {path: self.fingerprint(path) for path in self.paths}
        try:
            while True:
                time.sleep(POLL_S)
                changed = [path for path in self.paths if self.fingerprint(path) != seen[path]]
                for path in changed:
                    seen[path] = self.fingerprint(path)
                if changed:
                    self.refresh(changed)
        finally:
            server.shutdown()
