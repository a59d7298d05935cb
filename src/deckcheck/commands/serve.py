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
from typing import Protocol

from deckcheck.check.cache import local_modules
from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.checkpoint_store import DEFAULT_BUDGET, CheckpointStore
from deckcheck.deck import Deck
from deckcheck.errors import UsageError
from deckcheck.publish.build import Builder, BuildOptions, deck_stems
from deckcheck.publish.marp import styling
from deckcheck.read.discover import find_decks
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

CHECKING_STYLE = (
    "position:fixed;bottom:0;right:0;z-index:99999;margin:0;padding:6px 12px;background:#fff8c5;"
    "color:#4d2d00;border:1px solid #d4a72c;font:13px/1.4 ui-monospace,monospace"
)
CHECKING_PAGE = (
    '<!DOCTYPE html><meta http-equiv="refresh" content="5"><title>{title}</title>'
    "<body><h1>{title}</h1><p>deckcheck: checking this deck; it shows here once it is rendered.</p></body>"
)


@dataclass
class PreviewState:
    """What the server shows: one entry per deck, and a change counter per deck stem."""

    problems: dict[str, str] = field(default_factory=dict)  # stem → failure text ("" when it passes)
    titles: dict[str, str] = field(default_factory=dict)
    decks: dict[str, str] = field(default_factory=dict)  # stem → deck path, for every deck served
    checking: set[str] = field(default_factory=set)  # deck paths whose check runs or waits
    changed: threading.Condition = field(default_factory=threading.Condition)
    events: list[str] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)  # deck path → its last check, for /status
    checkpoints: dict[str, int] = field(default_factory=dict)  # how many are kept, and their PSS

    def begin(self, path: str, stem: str, title: str) -> None:
        """A deck's check is asked for: until it is done, the deck shows "checking"."""
        with self.changed:
            self.decks[stem] = path
            self.titles.setdefault(stem, title)
            self.checking.add(path)

    def checked(self, result: DeckResult) -> None:
        """A deck's check finished (before its page is rendered again)."""
        run = "cached" if result.cached else "resumed" if result.resumed_from else "full"
        ran = not result.cached  # a cached result keeps the resume of the run that stored it: not this one's
        with self.changed:
            self.checking.discard(result.path)
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

    def given_up(self, path: str) -> None:
        """A deck's check stopped without a result (serve said why)."""
        with self.changed:
            self.checking.discard(path)

    def drop(self, path: str) -> None:
        """A deck that is gone: its page is no more (an open one reloads into a 404)."""
        with self.changed:
            stems = [stem for stem, deck in self.decks.items() if deck == path]
            for stem in stems:
                for table in (self.decks, self.problems, self.titles):
                    table.pop(stem, None)
                self.events.append(stem)
            self.checking.discard(path)
            self.checks.pop(path, None)
            self.changed.notify_all()

    def status(self) -> str:
        with self.changed:
            paths = sorted(set(self.decks.values()))
            decks = [{**self.checks.get(path, {"path": path}), "state": self._state(path)} for path in paths]
            return json.dumps({"decks": decks, "checkpoints": self.checkpoints}, indent=2)

    def _state(self, path: str) -> str:
        return "checking" if path in self.checking else "checked" if path in self.checks else "stopped"

    def listing(self) -> list[tuple[str, str, str]]:
        """(stem, title, "checking", "failing" or "") for every deck, by stem."""
        with self.changed:
            return [(stem, self.titles.get(stem, stem), self.mark(stem)) for stem in sorted(self.decks)]

    def mark(self, stem: str) -> str:
        with self.changed:
            if self.decks.get(stem) in self.checking:
                return "checking"
            return "failing" if self.problems.get(stem) else ""

    def publish(self, stem: str, problems: str, title: str) -> None:
        with self.changed:
            if stem not in self.decks:
                return  # removed while it was rendered
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


class Headers(Protocol):
    def get(self, name: str, default: None = None) -> str | None: ...


class Extension(Protocol):
    """What `deckcheck present` adds to the preview: a gate on every request, its own routes,
    and a part of every deck's page."""

    def refusal(self, headers: Headers, target: str) -> str | None:
        """Why a request (already for this address) is refused, or None."""

    def cookies(self, target: str) -> list[str]:
        """Set-Cookie values for the answer to this request."""

    def get(self, path: str) -> tuple[bytes, str] | None:
        """A body and its type for this path, or None when the preview answers it."""

    def post(self, path: str, body: bytes) -> tuple[HTTPStatus, bytes]:
        """The answer (JSON) to a POST."""

    def page_extra(self, stem: str) -> str:
        """HTML to put at the end of a deck's page."""

    def bound(self, host: str, port: int) -> str:
        """Told the address it answers on; the line that announces it."""


MAX_POST = 1_000_000  # bytes of a POST body (a block's code and a few names)


def failure_text(deck: Deck, result: DeckResult) -> str:
    parts = [report.problem_line(str(deck.path), problem) for problem in result.problems]
    parts += [report.failure_report(deck, block) for block in result.blocks if block.status == "failed"]
    return "\n\n".join(parts)


def _handler(
    folder: Path, state: PreviewState, hosts: HostCheck, extension: Extension | None = None
) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            self.cookies: list[str] = []
            super().__init__(*args, directory=str(folder), **kwargs)

        def end_headers(self) -> None:
            for cookie in self.cookies:
                self.send_header("Set-Cookie", cookie)
            super().end_headers()

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
            if extension is not None:
                why = extension.refusal(self.headers, self.path)
                if why is not None:
                    self._plain(HTTPStatus.FORBIDDEN, f"deckcheck: {why}")
                    return False
                self.cookies = extension.cookies(self.path)
            return True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if extension is None or not 0 <= length <= MAX_POST:
                return self._plain(HTTPStatus.BAD_REQUEST, "deckcheck: no such request")
            status, body = extension.post(self.path.split("?", 1)[0], self.rfile.read(length))
            self._send(body, "application/json", status)

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
            own = extension.get(path) if extension is not None else None
            if own is not None:
                return self._send(*own)
            if path in ("/", "/index.html"):
                return self._send_html(self._index())
            stem = path.lstrip("/").removesuffix(".html")
            if path.endswith(".html") and stem in state.decks:
                return self._send_html(self._page(stem))
            if path.endswith(".html") and "/" not in stem:  # a page left by a deck removed since
                return self._plain(HTTPStatus.NOT_FOUND, "deckcheck: no deck is previewed at this address")
            return super().do_GET()

        def _index(self) -> str:
            rows = "".join(
                f'<li><a href="{html.escape(stem)}.html">{html.escape(title)}</a>'
                f"{f' — <strong>{mark}</strong>' if mark else ''}</li>"
                for stem, title, mark in state.listing()
            )
            return f"<!DOCTYPE html><title>deckcheck preview</title><h1>Decks</h1><ul>{rows}</ul>"

        def _page(self, stem: str) -> str:
            try:
                page = (folder / f"{stem}.html").read_text("utf-8")
            except OSError:  # not rendered yet: it reloads when it is (or in a few seconds)
                page = CHECKING_PAGE.format(title=html.escape(state.titles.get(stem, stem)))
            extra = RELOAD_SCRIPT % json.dumps(stem)
            if state.mark(stem) == "checking":
                extra += f'<p id="deckcheck-checking" style="{CHECKING_STYLE}">deckcheck: checking…</p>'
            problems = state.problems.get(stem)
            if problems:
                extra += f'<pre id="deckcheck-failures" style="{BANNER_STYLE}">{html.escape(problems)}</pre>'
            if extension is not None:
                extra += extension.page_extra(stem)
            return page.replace("</body>", extra + "</body>", 1) if "</body>" in page else page + extra

        def _send_html(self, text: str) -> None:
            self._send(text.encode("utf-8"), "text/html; charset=utf-8")

        def _send(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
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
    """Watches the decks (main thread) and checks them on an event loop of its own (a thread),
    one check at a time: a save of a deck cancels the check that runs it (its kernel is
    killed) and the next check takes the saved decks and the cancelled check's unfinished ones."""

    def __init__(
        self,
        paths: Sequence[Path],
        check: CheckOptions,
        folder: Path,
        say: Callable[[str], None],
        checkpoint_memory: int = DEFAULT_BUDGET,
        roots: Sequence[str] | None = None,
    ) -> None:
        """`checkpoint_memory`: bytes the kernel checkpoints may use, all decks together (0: none);
        `roots`: the files and folders named, where decks added later are found (default: `paths`)."""
        self.roots = list(roots) if roots is not None else [str(path) for path in paths]
        self.paths = list(paths)
        self.stems = deck_stems(self.paths)
        # Replaced, never changed in place: the watcher and the checks' thread both read them.
        self.watched: dict[Path, frozenset[Path]] = {}  # each deck's input files, as it was last read
        self.last: dict[Path, tuple[Deck, DeckResult]] = {}  # the checks' thread's
        self.checkpoints = CheckpointStore(checkpoint_memory) if checkpoint_memory else None
        self.primed: set[Path] = set()
        self.checker = Checker(check, keep_fork_server=True, checkpoints=self.checkpoints)
        self.folder = folder
        self.say = say
        self.state = PreviewState()
        self.builder = Builder(
            BuildOptions(site=folder, formats=("html",), check_fit=False, preview=True), say
        )
        self.loop = asyncio.new_event_loop()
        self.wanted: dict[Path, Deck] = {}  # decks whose check waits, newest read
        self.task: asyncio.Task | None = None  # the running check (or priming)
        self.batch: dict[Path, Deck] | None = None  # its decks; None while priming
        self.finished: dict[Path, tuple[Deck, DeckResult]] = {}  # its decks that are done
        self.stopping = False

    def inputs(self, deck: Deck) -> list[Path]:
        """What, when it changes, means the deck must be looked at again: it, its images, and
        the local modules its blocks import."""
        images = [image_path(deck.folder, image.src) for image in deck.images]
        return [deck.path, *images, *local_modules(deck)]

    def style_inputs(self) -> list[Path]:
        """The files every deck's rendering depends on: theme CSS, marp.config.mjs, plugins."""
        return styling(project_root(*(path.parent for path in self.paths)) or Path.cwd()).files()

    def request(self, paths: Sequence[Path]) -> None:
        """Read these decks and have them checked; until then they show "checking"."""
        decks = [read_deck(path) for path in paths]
        inputs = {deck.path: frozenset(p.absolute() for p in self.inputs(deck)) for deck in decks}
        self.watched = {**self.watched, **inputs}
        for deck in decks:
            self.state.begin(str(deck.path), self.stems[str(deck.path)], deck.title)
        self.loop.call_soon_threadsafe(self._want, decks)

    # The checks' thread from here to stop_checks: every method below runs on self.loop.

    def _want(self, decks: list[Deck]) -> None:
        fresh = {deck.path: deck for deck in decks}
        self.wanted.update(fresh)
        if self.task is None:
            self._next()
        elif self.batch is None or self.batch.keys() & fresh.keys():
            self.task.cancel()  # its result would be stale: _done starts the next check

    def _next(self) -> None:
        self.task = None
        if self.stopping:
            return
        if self.wanted:
            self.batch, self.wanted, self.finished = self.wanted, {}, {}
            self.task = self.loop.create_task(self._check(list(self.batch.values())))
        elif (deck := self._unprimed()) is not None:
            self.batch = None
            self.task = self.loop.create_task(self._prime(deck))
        if self.task is not None:
            self.task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        batch = self.batch or {}
        if task.cancelled():
            unfinished = {path: deck for path, deck in batch.items() if path not in self.finished}
            self.wanted = {**unfinished, **self.wanted}  # a deck saved since: its newer read wins
        elif task.exception() is not None:
            self.say(f"deckcheck: the check stopped: {task.exception()}")
            for path in batch:
                self.state.given_up(str(path))
        self._next()

    async def _check(self, decks: list[Deck]) -> None:
        """Check and render these decks, then tell the open pages; cancelled, render the decks
        that were done."""
        self.checker.on_deck = self._checked
        try:
            await self.checker.check(decks)
        finally:
            self._show(list(self.finished.values()))
            self.keep_within_budget()

    def _checked(self, deck: Deck, result: DeckResult) -> None:
        self.finished[deck.path] = self.last[deck.path] = (deck, result)
        self.state.checked(result)

    def _show(self, shown: list[tuple[Deck, DeckResult]]) -> None:
        shown = [(deck, result) for deck, result in shown if deck.path in self.last]  # not removed since
        if not shown:
            return
        self.builder.build([deck for deck, _ in shown], [result for _, result in shown], self.stems)
        for deck, result in shown:
            problems = failure_text(deck, result)
            self.state.publish(self.stems[str(deck.path)], problems, deck.title)
            self.say(report.deck_line(result) + (f"\n{problems}" if problems else ""))
            for warning in (warning for block in result.blocks for warning in block.warnings):
                self.say(report.warning_report(str(deck.path), warning))

    def keep_within_budget(self) -> None:
        if self.checkpoints is not None:
            memory = self.checkpoints.enforce_budget()
            count = sum(len(history.checkpoints) for history in self.checkpoints.decks.values())
            with self.state.changed:
                self.state.checkpoints = {"count": count, "memory": memory}

    def _unprimed(self) -> Deck | None:
        """A deck whose shown result came from the cache and has no checkpoints yet, if any."""
        if self.checkpoints is None:
            return None
        waiting = [
            deck
            for path, (deck, result) in self.last.items()
            if result.cached and str(path) not in self.checkpoints.decks and path not in self.primed
        ]
        return waiting[0] if waiting else None

    async def _prime(self, deck: Deck) -> None:
        """Run a deck shown from the cache, so that it has checkpoints before its first edit
        (serve does when it has nothing else to do; a save cancels it)."""
        self.primed.add(deck.path)
        self.checker.on_deck = _ignore
        try:
            await self.checker.check([deck], reuse=False)
        except asyncio.CancelledError:
            self.primed.discard(deck.path)  # its turn comes again
            raise
        self.keep_within_budget()

    def _drop(self, path: Path) -> None:
        self.wanted.pop(path, None)
        self.last.pop(path, None)
        if self.batch is not None and path in self.batch and self.task is not None:
            self.task.cancel()
            self.batch.pop(path)
        if self.checkpoints is not None:
            self.checkpoints.forget(str(path))
        self.state.drop(str(path))

    def restyle(self) -> None:
        """Render every deck again with the last results: the theme or the renderer changed."""
        decks, results = zip(*self.last.values(), strict=True) if self.last else ((), ())
        self.builder.build(list(decks), list(results), self.stems)
        for deck in decks:
            stem = self.stems[str(deck.path)]
            self.state.publish(stem, self.state.problems.get(stem, ""), deck.title)
        self.say(f"restyled {len(decks)} deck(s)")

    async def _stop(self) -> None:
        self.stopping = True
        self.wanted.clear()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    # The watcher's thread (the main one).

    def start_checks(self) -> threading.Thread:
        thread = threading.Thread(target=self.loop.run_forever, name="deckcheck-checks", daemon=True)
        thread.start()
        return thread

    def stop_checks(self, thread: threading.Thread) -> None:
        """Cancel the running check (its kernels are killed) and end the checks' thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            self.loop.close()

    def follow(self) -> None:
        """Have decks added under the roots since checked, and decks removed dropped."""
        try:
            found = find_decks([root for root in self.roots if Path(root).exists()])
        except UsageError:
            return  # a root went away meanwhile: the next change looks again
        known = {path.absolute(): path for path in self.paths}
        added = [path for path in found if path.absolute() not in known]
        removed = [path for path in self.paths if path.absolute() not in {p.absolute() for p in found}]
        if not added and not removed:
            return
        self.paths = [path for path in self.paths if path not in removed] + added
        self.stems = {**self.stems, **deck_stems(added)}
        for path in removed:
            self.watched = {p: inputs for p, inputs in self.watched.items() if p != path}
            self.loop.call_soon_threadsafe(self._drop, path)
        if added:
            self.request(added)

    def changed(self, files: Iterable[str]) -> tuple[list[Path], bool]:
        """Which decks a set of changed files concerns, and whether the styling changed."""
        touched = {Path(file).absolute() for file in files}
        decks = [path for path in self.paths if self.watched.get(path, frozenset()) & touched]
        style = bool(touched & {path.absolute() for path in self.style_inputs()})
        return decks, style

    def folders(self) -> set[Path]:
        """Where to watch: the folders of every deck's inputs and of the styling, and the
        folders named (with theirs: a deck may be added in any)."""
        files = [file for inputs in self.watched.values() for file in inputs] + self.style_inputs()
        named = [Path(root) for root in self.roots if Path(root).is_dir()]
        below = [folder for root in named for folder in root.rglob("*") if _visible_folder(folder, root)]
        return {file.parent for file in files if file.parent.is_dir()} | {
            folder.absolute() for folder in [*named, *below]
        }

    def listen(self, host: str, port: int, extension: Extension | None = None) -> _Server:
        """Bind the address (a port of 0 picks one); warn when it is reachable from elsewhere."""
        server = _Server((host, port), SimpleHTTPRequestHandler, self.say)
        server.RequestHandlerClass = _handler(
            self.folder, self.state, HostCheck.bound_to(host, server.server_address[1]), extension
        )
        if not is_loopback(host) and extension is None:
            self.say(
                f"deckcheck: warning: serving on {host}, not only on this machine: anyone on the network "
                "can read the previews and the status (the decks' outputs, failures and paths)"
            )
        return server

    def serve(self, host: str, port: int, extension: Extension | None = None) -> None:
        """Answer at once (decks show "checking" until their check is done), check every deck,
        answer `deckcheck check` on the course's socket, and follow the saves until Ctrl-C."""
        from deckcheck.commands.check_service import CheckService

        self.folder.mkdir(parents=True, exist_ok=True)
        server = self.listen(host, port, extension)
        bound = server.server_address[1]
        address = extension.bound(host, bound) if extension else f"preview: http://{host}:{bound}/"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        checks = self.start_checks()
        service = CheckService.open(self, self.folder.parent, self.say)
        try:
            self.request(self.paths)
            self.watch(f"{address} (Ctrl-C stops)")
        finally:
            if service is not None:
                service.close()
            server.shutdown()
            self.stop_checks(checks)
            self.checker.close()
            if self.checkpoints is not None:
                self.checkpoints.close()

    def watch(self, address: str) -> None:
        import watchfiles

        announced = False  # the address is given once the watcher runs: a save right after it counts
        while True:
            folders = self.folders()
            self.follow()  # what changed while the watch was restarted
            for changes in watchfiles.watch(
                *folders,
                debounce=DEBOUNCE_MS,
                step=50,
                recursive=False,
                yield_on_timeout=True,
                rust_timeout=300,
            ):
                if not announced:
                    self.say(address)
                    announced = True
                if not changes:
                    continue
                self.follow()
                decks, style = self.changed(file for _, file in changes)
                if decks:
                    self.request(decks)
                if style:
                    self.loop.call_soon_threadsafe(self.restyle)
                if self.folders() != folders:
                    break  # a deck now uses a file in another folder, or a folder was added: watch it too


def _visible_folder(path: Path, root: Path) -> bool:
    return path.is_dir() and not any(part.startswith(".") for part in path.relative_to(root).parts)


def _ignore(deck: Deck, result: DeckResult) -> None:
    pass
