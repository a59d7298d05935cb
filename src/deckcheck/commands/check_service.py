"""`deckcheck check` through a running serve: the course's socket, both ends.

A running `deckcheck serve` (or `present`) listens on a Unix socket, `serve.sock` in the
course's cache folder (`.cache/`, or DECKCHECK_CACHE), made owner-only (0600) as it is bound.
A Unix socket rather than localhost HTTP with a token file: only the file system's permissions
let a process in, no port is open to the machine's other users or to web pages, and a socket
left by a serve killed with -9 refuses the connection at once (ECONNREFUSED), so `check`
falls back to its own run without waiting.

One request, one JSON line: the decks (absolute paths) and the options that change a result.
Serve answers `{"accepted": pid}` (or `{"refused": why}`), then `{"waiting": true}` every
second while its checks run (resumed from the edited block), then `{"results": [...]}`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.checkpoint_store import prefixes
from deckcheck.deck import Deck
from deckcheck.read.parser import read_deck
from deckcheck.results import DeckResult

if TYPE_CHECKING:
    import asyncio

    from deckcheck.report.console import Console

SOCKET = "serve.sock"
ACCEPT_WAIT_S = 5.0  # a serve that does not accept within this is stuck (stopped, swapping)
SILENCE_S = 30.0  # nor one that stays silent this long while it checks
TICK_S = 1.0


def _same_options(options: CheckOptions) -> dict[str, Any]:
    """What of the check's options changes a deck's result: serve must have the same."""
    return {
        "timeout": options.timeout,
        "exitfirst": options.exitfirst,
        "memory_limit": options.memory_limit,
        "filterwarnings": list(options.filterwarnings),
    }


@dataclass(frozen=True)
class Served:
    pid: int
    results: list[DeckResult]  # in the decks' order, paths and problems as this check reads them


def ask_serve(decks: Sequence[Deck], options: CheckOptions, cache: Path) -> Served | str | None:
    """The running serve's results for these decks; None when no serve listens (a stale
    socket too), or why the serve could not answer (then the check runs standalone)."""
    path = cache / SOCKET
    if not path.is_socket():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(ACCEPT_WAIT_S)
        connection.connect(str(path))
    except OSError:  # nobody listens: a serve killed with -9 left it
        connection.close()
        return None
    with connection, connection.makefile("rwb") as stream:
        try:
            return _exchange(connection, stream, decks, options)
        except (OSError, ValueError, KeyError, TypeError) as error:
            return f"the running serve did not answer ({type(error).__name__}: {error})"


def _exchange(
    connection: socket.socket, stream: Any, decks: Sequence[Deck], options: CheckOptions
) -> Served | str:
    request = {"paths": [str(deck.path.absolute()) for deck in decks], "options": _same_options(options)}
    stream.write(json.dumps(request).encode() + b"\n")
    stream.flush()
    answer = _line(stream)
    if "refused" in answer:
        return f"the running serve (pid {answer.get('pid')}) cannot check for this run: {answer['refused']}"
    pid = int(answer["accepted"])
    connection.settimeout(SILENCE_S)
    while "waiting" in (answer := _line(stream)):
        pass
    results = [DeckResult.from_dict(data) for data in answer["results"]]
    if len(results) != len(decks):
        return "the running serve answered for other decks"
    pairs = zip(decks, results, strict=True)
    return Served(pid, [replace(result, path=str(d.path), problems=d.problems) for d, result in pairs])


def _line(stream: Any) -> dict:
    line = stream.readline()
    if not line:
        raise ConnectionError("it closed the connection")
    return json.loads(line)


def replay(
    served: Served, decks: Sequence[Deck], console: Console, deck_done: Callable[[Deck, DeckResult], None]
) -> list[DeckResult]:
    """Print the serve's results as a check here prints its own, after a line that says so."""
    console.say(f"checked by the running serve (pid {served.pid})")
    for deck, result in zip(decks, served.results, strict=True):
        for block in result.blocks:
            console.block_done(deck, block)
        deck_done(deck, result)
    return served.results


class PreviewServer(Protocol):
    """What of serve's PreviewServer the service uses (serve imports this module)."""

    paths: list[Path]
    checker: Checker
    last: dict[Path, tuple[Deck, DeckResult]]
    wanted: dict[Path, Deck]
    loop: asyncio.AbstractEventLoop
    state: Any  # serve's PreviewState: `checking` (deck paths) and the `changed` condition

    def request(self, paths: Sequence[Path]) -> None: ...


class CheckService:
    """Serve's end: answers `deckcheck check` from its checks (each on a thread of its own)."""

    def __init__(self, server: _UnixServer, path: Path) -> None:
        self.server = server
        self.path = path
        self.inode = path.stat().st_ino
        threading.Thread(target=server.serve_forever, name="deckcheck-check-service", daemon=True).start()

    @classmethod
    def open(cls, preview: PreviewServer, cache: Path, say: Callable[[str], None]) -> CheckService | None:
        """Listen on the course's socket; None (serve said why) when another serve does."""
        path = cache / SOCKET
        cache.mkdir(parents=True, exist_ok=True)
        if path.is_socket() and ask_alive(path):
            say(f"deckcheck: another serve answers `deckcheck check` for this course ({path})")
            return None
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a stale one, left by a serve killed with -9
        umask = os.umask(0o177)  # owner-only from the moment it exists
        try:
            server = _UnixServer(str(path), _answerer(preview))
        except OSError as error:
            why = error.strerror or error
            say(f"deckcheck: `deckcheck check` runs standalone: cannot listen on {path}: {why}")
            return None
        finally:
            os.umask(umask)
        os.chmod(path, 0o600)
        return cls(server, path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with contextlib.suppress(OSError):
            if self.path.stat().st_ino == self.inode:  # not a later serve's
                self.path.unlink()


def ask_alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def _answerer(preview: PreviewServer) -> type[socketserver.StreamRequestHandler]:
    class Answer(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                request = json.loads(self.rfile.readline(1_000_000))
                paths = [Path(str(path)) for path in request["paths"]]
                wanted = request["options"]
            except (ValueError, KeyError, TypeError):
                return
            why = _refusal(preview, paths, wanted)
            if why:
                return self._say({"refused": why, "pid": os.getpid()})
            self._say({"accepted": os.getpid()})
            results = check_now(preview, paths, lambda: self._say({"waiting": True}))
            if isinstance(results, str):
                return self._say({"refused": results, "pid": os.getpid()})
            self._say({"results": [result.to_dict() for result in results]})

        def _say(self, message: dict) -> None:
            with contextlib.suppress(OSError):
                self.wfile.write(json.dumps(message).encode() + b"\n")
                self.wfile.flush()

    return Answer


def _refusal(preview: PreviewServer, paths: list[Path], wanted: dict) -> str:
    served = {path.absolute() for path in preview.paths}
    missing = [str(path) for path in paths if path not in served]
    if missing:
        return f"it does not serve {', '.join(missing[:3])}"
    own = _same_options(preview.checker.options)
    differing = [name for name in own if own[name] != wanted.get(name)]
    return f"its {', '.join(differing)} differ from this run's" if differing else ""


def check_now(
    preview: PreviewServer, paths: list[Path], waiting: Callable[[], None]
) -> list[DeckResult] | str:
    """Each deck's result for the deck as it is on disk now: the last check's when the deck
    (and the files its blocks read) did not change since, else serve's next check's (from
    the edited block on)."""
    served = {path.absolute(): path for path in preview.paths}
    own = [served[path] for path in paths]
    decks = [read_deck(path) for path in own]
    stale = [deck.path for deck in decks if not _current(preview, deck)]
    if stale:
        preview.request(stale)
    while True:
        if not any(str(deck.path) in preview.state.checking for deck in decks):
            last = [preview.last.get(deck.path) for deck in decks]
            if any(done is None or done[0].text != deck.text for done, deck in zip(last, decks, strict=True)):
                return "its check stopped without a result, or the deck changed meanwhile"
            return [done[1] for done in last if done is not None]
        if not preview.loop.is_running():
            return "it is stopping"
        waiting()
        with preview.state.changed:
            preview.state.changed.wait(TICK_S)


def _current(preview: PreviewServer, deck: Deck) -> bool:
    last = preview.last.get(deck.path)
    if last is None or str(deck.path) in preview.state.checking or deck.path in preview.wanted:
        return False
    return last[0].text == deck.text and prefixes(last[0]) == prefixes(deck)
