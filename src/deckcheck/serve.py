"""`deckcheck serve`: a live preview on localhost.

Saving a deck (or an image or local module it uses) re-checks it (unchanged decks come from
the result cache), re-renders it, and the open page reloads on the same slide. Saving the
theme CSS, marp.config.mjs or a Marp plugin re-renders every deck without re-checking. A
deck whose check fails is rendered all the same, with its failures shown in a banner.
Files are watched with watchfiles (inotify on Linux), not polled.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import report
from .build import Builder, BuildOptions, deck_stems
from .cache import local_modules
from .checker import Checker, CheckOptions
from .deck import Deck
from .marp import styling
from .parser import image_path, read_deck
from .project import project_root
from .results import DeckResult

DEBOUNCE_MS = 100  # changes this close together are one save (an editor writes, then renames)
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


class PreviewServer:
    def __init__(
        self, paths: Sequence[Path], check: CheckOptions, folder: Path, say: Callable[[str], None]
    ) -> None:
        self.paths = list(paths)
        self.stems = deck_stems(self.paths)
        self.watched: dict[Path, set[Path]] = {}  # each deck's input files, as it was last read
        self.last: dict[Path, tuple[Deck, DeckResult]] = {}
        self.checker = Checker(check, keep_fork_server=True)  # one warm fork server for every save
        self.folder = folder
        self.say = say
        self.state = PreviewState()
        self.builder = Builder(
            BuildOptions(site=folder, formats=("html",), check_fit=False, preview=True), say
        )

    def inputs(self, deck: Deck) -> list[Path]:
        """What, when it changes, means the deck must be looked at again: it, its images, and
        the local modules its blocks import."""
        images = [image_path(deck.folder, image.src) for image in deck.images]
        return [deck.path, *images, *local_modules(deck)]

    def style_inputs(self) -> list[Path]:
        """The files every deck's rendering depends on: theme CSS, marp.config.mjs, plugins."""
        return styling(project_root(*(path.parent for path in self.paths)) or Path.cwd()).files()

    def refresh(self, paths: Sequence[Path]) -> None:
        """Check and render these decks, then tell the open pages."""
        decks = [read_deck(path) for path in paths]
        for path, deck in zip(paths, decks, strict=True):
            self.watched[path] = {p.absolute() for p in self.inputs(deck)}
        results = asyncio.run(self.checker.check(decks))
        for path, deck, result in zip(paths, decks, results, strict=True):
            self.last[path] = (deck, result)
        self.builder.build(decks, results, self.stems)
        for deck, result in zip(decks, results, strict=True):
            problems = failure_text(deck, result)
            self.state.publish(self.stems[str(deck.path)], problems, deck.title)
            self.say(report.deck_line(result) + (f"\n{problems}" if problems else ""))

    def restyle(self) -> None:
        """Render every deck again with the last results: the theme or the renderer changed."""
        decks, results = zip(*self.last.values(), strict=True) if self.last else ((), ())
        self.builder.build(list(decks), list(results), self.stems)
        for deck in decks:
            stem = self.stems[str(deck.path)]
            self.state.publish(stem, self.state.problems.get(stem, ""), deck.title)
        self.say(f"restyled {len(decks)} deck(s)")

    def changed(self, files: Iterable[str]) -> tuple[list[Path], bool]:
        """Which decks a set of changed files concerns, and whether the styling changed."""
        touched = {Path(file).absolute() for file in files}
        decks = [path for path in self.paths if self.watched.get(path, set()) & touched]
        style = bool(touched & {path.absolute() for path in self.style_inputs()})
        return decks, style

    def folders(self) -> set[Path]:
        files = [file for inputs in self.watched.values() for file in inputs] + self.style_inputs()
        return {file.parent for file in files if file.parent.is_dir()}

    def serve(self, host: str, port: int) -> None:
        import watchfiles

        self.folder.mkdir(parents=True, exist_ok=True)
        self.refresh(self.paths)
        server = ThreadingHTTPServer((host, port), _handler(self.folder, self.state))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.say(f"preview: http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            while True:
                folders = self.folders()
                for changes in watchfiles.watch(*folders, debounce=DEBOUNCE_MS, step=50, recursive=False):
                    decks, style = self.changed(file for _, file in changes)
                    if decks:
                        self.refresh(decks)
                    if style:
                        self.restyle()
                    if self.folders() != folders:
                        break  # a deck now uses a file in another folder: watch that one too
        finally:
            server.shutdown()
            self.checker.close()
