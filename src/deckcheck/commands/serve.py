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
import ipaddress
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from deckcheck.check.cache import local_modules
from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.checkpoint_store import DEFAULT_BUDGET, CheckpointStore
from deckcheck.deck import Deck
from deckcheck.publish.build import Builder, BuildOptions, deck_stems
from deckcheck.publish.marp import styling
from deckcheck.read.parser import image_path, read_deck
from deckcheck.read.project import project_root
from deckcheck.report import lines as report
from deckcheck.results import DeckResult

STATUS_PATH = "/_deckcheck/status"
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
    checks: dict[str, dict] = field(default_factory=dict)  # deck path → its last check, for /status
    checkpoints: dict[str, int] = field(default_factory=dict)  # how many are kept, and their PSS

    def checked(self, result: DeckResult) -> None:
        """A deck's check finished (before its page is rendered again)."""
        run = "cached" if result.cached else "resumed" if result.resumed_from else "full"
        ran = not result.cached  # a cached result keeps the resume of the run that stored it: not this one's
        with self.changed:
            self.checks[result.path] = {
                "path": result.path,
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "passed": result.count("passed"),
                "failed": result.count("failed"),
                "skipped": result.count("skipped"),
                "ok": result.ok,
                "duration": round(result.duration, 3),
                "run": run,
                "resumed_from_block": (result.resumed_from or None) if ran else None,
                "no_resume": (result.no_resume or None) if ran else None,
            }

    def status(self) -> str:
        with self.changed:
            decks = [self.checks[path] for path in sorted(self.checks)]
            return json.dumps({"decks": decks, "checkpoints": self.checkpoints}, indent=2)

    def publish(self, stem: str, problems: str, title: str) -> None:
        with self.changed:
            self.problems[stem] = problems
            self.titles[stem] = title
            self.events.append(stem)
            self.changed.notify_all()


@dataclass(frozen=True)
class HostCheck:
    """The Host headers serve answers: the address it was given, and on loopback its other
    names; bound to every interface, any IP address. A page of another site that a DNS name
    rebound to this address gets nothing (its requests name that site)."""

    names: frozenset[str]
    port: int
    any_address: bool

    @classmethod
    def bound_to(cls, host: str, port: int) -> HostCheck:
        everywhere = is_loopback(host) or _unspecified(host)
        names = {host, "localhost", "127.0.0.1", "::1"} if everywhere else {host}
        authorities = {_authority(name.lower(), port) for name in names}
        if port == 80:
            authorities |= {_authority(name.lower(), 0) for name in names}
        return cls(frozenset(authorities), port, _unspecified(host))

    def accepts(self, header: str) -> bool:
        header = header.strip().lower()
        if header in self.names:
            return True
        name, _, port = header.rpartition(":")
        return self.any_address and port == str(self.port) and _ip_address(name.strip("[]"))


def is_loopback(host: str) -> bool:
    return host.lower() == "localhost" or (_ip_address(host) and ipaddress.ip_address(host).is_loopback)


def _unspecified(host: str) -> bool:
    return _ip_address(host) and ipaddress.ip_address(host).is_unspecified


def _ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _authority(name: str, port: int) -> str:
    name = f"[{name}]" if ":" in name else name
    return f"{name}:{port}" if port else name


def malformed(target: str) -> bool:
    """Whether a request's target is no path serve can look up: not absolute, not UTF-8 once
    unquoted, or with control characters (a NUL would reach the file system's calls)."""
    try:
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path, errors="strict")
    except ValueError:  # UnicodeDecodeError too
        return True
    return not target.startswith("/") or any(ord(char) < 32 or char == "\x7f" for char in path)


def failure_text(deck: Deck, result: DeckResult) -> str:
    parts = [report.problem_line(str(deck.path), problem) for problem in result.problems]
    parts += [report.failure_report(deck, block) for block in result.blocks if block.status == "failed"]
    return "\n\n".join(parts)


def _handler(folder: Path, state: PreviewState, hosts: HostCheck) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def parse_request(self) -> bool:
            """Refuse, before any method runs, a request for another host or a malformed path."""
            if not super().parse_request():
                return False
            if not hosts.accepts(self.headers.get("Host", "")):
                self._plain(
                    HTTPStatus.FORBIDDEN, "deckcheck: this preview answers only requests for its own address"
                )
                return False
            if malformed(self.path):
                self._plain(HTTPStatus.BAD_REQUEST, "deckcheck: malformed URL")
                return False
            return True

        def _plain(self, status: HTTPStatus, line: str) -> None:
            body = (line + "\n").encode()
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/__events":
                return self._events()
            if path == STATUS_PATH:
                return self._send(state.status().encode(), "application/json")
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
            self._send(text.encode("utf-8"), "text/html; charset=utf-8")

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
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
                        state.changed.wait_for(partial(_grown, state.events, seen), timeout=15)
                        fresh, seen = state.events[seen:], len(state.events)
                    message = "".join(f"data: {stem}\n\n" for stem in fresh) or ": keep-alive\n\n"
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def _grown(events: list[str], count: int) -> bool:
    return len(events) > count


class _Server(ThreadingHTTPServer):
    """One thread a request; a request that fails costs one line, never a traceback."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, say: Callable[[str], None]) -> None:
        super().__init__(address, handler)
        self.say = say

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            self.say(f"deckcheck: a preview request failed: {type(error).__name__}: {error}")


class PreviewServer:
    def __init__(
        self,
        paths: Sequence[Path],
        check: CheckOptions,
        folder: Path,
        say: Callable[[str], None],
        checkpoint_memory: int = DEFAULT_BUDGET,
    ) -> None:
        """`checkpoint_memory`: bytes the kernel checkpoints may use, all decks together (0: none)."""
        self.paths = list(paths)
        self.stems = deck_stems(self.paths)
        self.watched: dict[Path, set[Path]] = {}  # each deck's input files, as it was last read
        self.last: dict[Path, tuple[Deck, DeckResult]] = {}
        self.checkpoints = CheckpointStore(checkpoint_memory) if checkpoint_memory else None
        self.primed: set[Path] = set()
        self.checker = Checker(check, keep_fork_server=True, checkpoints=self.checkpoints)
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
            self.state.checked(result)
        self.builder.build(decks, results, self.stems)
        for deck, result in zip(decks, results, strict=True):
            problems = failure_text(deck, result)
            self.state.publish(self.stems[str(deck.path)], problems, deck.title)
            self.say(report.deck_line(result) + (f"\n{problems}" if problems else ""))
            for warning in (warning for block in result.blocks for warning in block.warnings):
                self.say(report.warning_report(str(deck.path), warning))
        self.keep_within_budget()

    def keep_within_budget(self) -> None:
        if self.checkpoints is not None:
            memory = self.checkpoints.enforce_budget()
            count = sum(len(history.checkpoints) for history in self.checkpoints.decks.values())
            with self.state.changed:
                self.state.checkpoints = {"count": count, "memory": memory}

    def prime(self) -> bool:
        """Run one deck whose shown result came from the cache, so that it has checkpoints
        before its first edit; False when every deck has them (or they are off)."""
        if self.checkpoints is None:
            return False
        waiting = [
            path
            for path, (_, result) in self.last.items()
            if result.cached and str(path) not in self.checkpoints.decks and path not in self.primed
        ]
        if not waiting:
            return False
        self.primed.add(waiting[0])
        deck = read_deck(waiting[0])
        asyncio.run(self.checker.check([deck], reuse=False))
        self.keep_within_budget()
        return True

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

    def listen(self, host: str, port: int) -> _Server:
        """Bind the address (a port of 0 picks one); warn when it is reachable from elsewhere."""
        server = _Server((host, port), SimpleHTTPRequestHandler, self.say)
        server.RequestHandlerClass = _handler(
            self.folder, self.state, HostCheck.bound_to(host, server.server_address[1])
        )
        if not is_loopback(host):
            self.say(
                f"deckcheck: warning: serving on {host}, not only on this machine: anyone on the network "
                "can read the previews and the status (the decks' outputs, failures and paths)"
            )
        return server

    def serve(self, host: str, port: int) -> None:
        import watchfiles

        self.folder.mkdir(parents=True, exist_ok=True)
        self.refresh(self.paths)
        server = self.listen(host, port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        announced = False  # the address is given once the watcher runs: a save right after it counts
        try:
            while True:
                folders = self.folders()
                for changes in watchfiles.watch(
                    *folders,
                    debounce=DEBOUNCE_MS,
                    step=50,
                    recursive=False,
                    yield_on_timeout=True,
                    rust_timeout=300,
                ):
                    if not announced:
                        self.say(f"preview: http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
                        announced = True
                    if not changes:
                        self.prime()  # idle: give a deck shown from the cache its checkpoints
                        continue
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
            if self.checkpoints is not None:
                self.checkpoints.close()
