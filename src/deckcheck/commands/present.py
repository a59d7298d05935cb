"""`deckcheck present`: the HTML decks, with every executed block editable and runnable live.

It is `deckcheck serve` (checks, checkpoints after every block, reloads on save) plus a gate
and two routes. Running a block resumes the deck's kernel from the checkpoint taken after the
block before it (a fresh kernel that runs the blocks above when there is none), runs the edited
code as that block, answers its output, figures and failure as deckcheck reports them, and
ends that kernel: the checkpoints stay as the deck file made them, and nothing is written to
the deck file. Running code over HTTP is code execution: every request needs the token that
the printed URL carries (or the cookie its first visit set), names this server in Host, and
comes from no other origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import re
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from deckcheck.check.checkpoint_store import Checkpoint, prefixes
from deckcheck.check.policy import run_options
from deckcheck.check.session import DeckSession, RunOptions
from deckcheck.commands.serve import Headers, is_loopback
from deckcheck.deck import Block, Deck
from deckcheck.errors import KernelError
from deckcheck.kernel.launch import FRESH, Forked, Launch
from deckcheck.read.parser import parse_text
from deckcheck.read.project import cache_root
from deckcheck.read.settings import project_settings
from deckcheck.report import lines as report
from deckcheck.results import BlockResult

RUN_PATH = "/_deckcheck/run"
STOP_PATH = "/_deckcheck/stop"
ASSETS = {"/_deckcheck/present.js": "text/javascript", "/_deckcheck/present.css": "text/css"}
COOKIE = "deckcheck_present_{port}"  # cookies ignore ports: two servers on one host keep theirs
FENCE = re.compile(r"^(?P<prefix>[ \t>]*(?:[-*+] |\d+[.)] )?[ \t>]*)(?:`{3,}|~{3,})")


class LiveError(Exception):
    """A run that cannot be: the reason in one line, for the slide."""


@dataclass
class Gate:
    """Who may ask: the token (query, cookie or header), this server's Host, no other Origin."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    cookie: str = "deckcheck_present"

    def refusal(self, headers: Headers, target: str) -> str | None:
        """Host is checked before (serve's HostCheck); a browser's Origin must be that host."""
        origin = headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{headers.get('Host') or ''}".lower():
            return "present mode answers no other site's pages"
        given = [*_query_tokens(target), headers.get("X-Deckcheck-Token") or "", *self._cookies(headers)]
        if not any(hmac.compare_digest(value.encode(), self.token.encode()) for value in given if value):
            return "present mode needs the token of the URL it printed"
        return None

    def _cookies(self, headers: Headers) -> list[str]:
        found = []
        for part in (headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie:
                found.append(value)
        return found

    def cookies(self, target: str) -> list[str]:
        """The token as a cookie once a URL brought it, so that the deck's links work."""
        if not _query_tokens(target):
            return []
        return [f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"]


def _query_tokens(target: str) -> list[str]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(target).query).get("token", [])


def edited_deck(deck: Deck, block: Block, code: str) -> tuple[Deck, Block]:
    """The deck with this block's code replaced (in memory), and the block as it is in it."""
    lines = deck.text.splitlines(keepends=True)
    opening = FENCE.match(lines[block.line - 1])
    prefix = re.sub(r"[-*+]|\d+[.)]", lambda m: " " * len(m.group(0)), opening["prefix"] if opening else "")
    newline = "\r\n" if "\r\n" in deck.text else "\n"
    body = [f"{prefix}{line}".rstrip() + newline if line.strip() else prefix.rstrip() + newline
            for line in code.rstrip("\n").split("\n")] if code.strip() else []  # fmt: skip
    text = "".join([*lines[: block.line], *body, *lines[block.end_line - 1 :]])
    edited = parse_text(deck.path, text, project_settings(deck.path.parent))
    same = len(edited.blocks) == len(deck.blocks) and edited.blocks[block.index].line == block.line
    if not same or edited.blocks[block.index].code.rstrip("\n") != code.rstrip("\n"):
        raise LiveError("this code would change the slide's fences: run it as one block without ``` lines")
    return edited, edited.blocks[block.index]


class LiveRuns:
    """Runs edited blocks in the decks' kernels, on serve's event loop (its checks' thread)."""

    def __init__(self, preview: Any) -> None:
        self.preview = preview  # the PreviewServer
        self.running: dict[tuple[str, int], tuple[asyncio.Task, DeckSession | None]] = {}

    def blocks(self, stem: str) -> list[dict]:
        """What the page's script needs of the deck's shown blocks, in order."""
        deck = self._deck(stem)
        runs = deck.settings.execute and deck.runnable
        shown = [block for block in deck.blocks if not block.options.remove_cell]
        return [
            {
                "index": b.index,
                "slide": b.slide,
                "code": b.code,
                "runnable": runs and not b.options.skip_execution,
            }
            for b in shown
        ]

    def _deck(self, stem: str) -> Deck:
        path = self.preview.state.decks.get(stem)
        last = self.preview.last.get(Path(path)) if path else None
        if last is None:
            raise LiveError("this deck is still being checked: run again in a moment")
        return last[0]

    def run(self, stem: str, index: int, code: str) -> dict:
        """Run a block's edited code (from any thread); the answer for the page."""
        future = asyncio.run_coroutine_threadsafe(self._run(stem, index, code), self.preview.loop)
        return future.result()

    def stop(self, stem: str, index: int) -> None:
        asyncio.run_coroutine_threadsafe(self._stop((stem, index)), self.preview.loop).result(timeout=30)

    async def _run(self, stem: str, index: int, code: str) -> dict:
        try:
            deck = self._deck(stem)
            if not 0 <= index < len(deck.blocks):
                raise LiveError("no such block")
            edited, block = edited_deck(deck, deck.blocks[index], code)
        except LiveError as error:
            return {"status": "refused", "message": str(error)}
        key = (stem, index)
        if key in self.running:
            return {"status": "refused", "message": "this block is already running"}
        task = asyncio.ensure_future(self._session_run(key, edited, block))
        self.running[key] = (task, None)
        try:
            result, resumed = await task
        except asyncio.CancelledError:
            return {"status": "stopped", "message": "stopped: its kernel was ended"}
        except LiveError as error:
            return {"status": "refused", "message": str(error)}
        finally:
            self.running.pop(key, None)
        return _answer(edited, block, result, resumed)

    async def _session_run(self, key: tuple[str, int], deck: Deck, block: Block) -> tuple[BlockResult, bool]:
        checkpoint, cells = self._checkpoint(deck, block)
        options = self._options(deck)
        launch: Launch = FRESH
        server = self.preview.checker.server
        if server is not None and server.running:
            launch = Forked(server)
        session = DeckSession(deck, options, launch, resume=checkpoint)
        self.running[key] = (self.running[key][0], session)
        try:
            try:
                await session.start()
            except KernelError as error:
                raise LiveError(f"no kernel: {error}") from None
            if checkpoint is not None:
                session.remember_cells(cells)
            else:
                await self._run_above(session, block)
            return await session.run(block), checkpoint is not None
        finally:
            await session.close(kill=True)

    def _checkpoint(self, deck: Deck, block: Block) -> tuple[Checkpoint | None, dict[int, int]]:
        """The checkpoint after the block above, if the blocks above are as it saw them."""
        store = self.preview.checkpoints
        history = store.decks.get(str(deck.path)) if store is not None else None
        if history is None or block.index == 0:
            return None, {}
        if prefixes(deck)[: block.index] != history.prefixes[: block.index]:
            return None, {}
        checkpoint = history.checkpoints.get(block.index - 1)
        cells = {count: i for count, i in history.cells.items() if i < block.index}
        return checkpoint, cells

    async def _run_above(self, session: DeckSession, block: Block) -> None:
        """No checkpoint: the deck's setup and the blocks above, as a check runs them."""
        if await session.setup() is not None:
            raise LiveError("the deck's setup failed: see the check's report")
        for above in session.deck.blocks[: block.index]:
            await session.run(above)

    def _options(self, deck: Deck) -> RunOptions:
        options = self.preview.checker.options
        return run_options(
            [deck],
            cache_root(deck.folder),
            os.cpu_count() or 1,  # as serve's checks: one computing thread per kernel
            memory_limit=options.memory_limit,
            timeout=options.timeout,
            filterwarnings=options.filterwarnings,
        )

    async def _stop(self, key: tuple[str, int]) -> None:
        """As Jupyter's stop button: interrupt; a kernel that does not stop is ended."""
        task, session = self.running.get(key, (None, None))
        if task is None:
            return
        if session is not None and session.alive:
            with contextlib.suppress(Exception):
                await session.kernel.manager.interrupt_kernel()
            done, _ = await asyncio.wait({task}, timeout=session.options.interrupt_grace)
            if done:
                return
        task.cancel()


def present_extension(preview: Any, host: str, say: Callable[[str], None]) -> Present:
    """Present mode for this preview server; a warning when others can reach it."""
    if not is_loopback(host):
        say(
            f"deckcheck: warning: presenting on {host}: anyone on the network who has the printed URL "
            "(its token) can run code on this machine as you; keep it to yourself, stop it after the lecture"
        )
    return Present(LiveRuns(preview), Gate())


def _answer(deck: Deck, block: Block, result: BlockResult, resumed: bool) -> dict:
    answer: dict[str, Any] = {
        "status": result.status,
        "output": result.output,
        "figures": [{"png": figure.png, "alt": figure.alt} for figure in result.figures],
        "duration": round(result.duration, 3),
        "resumed": resumed,
        "message": result.reason,
    }
    if result.failure is not None:
        within = result.failure.line - block.line
        answer["failure"] = f"line {within} of this block\n" + report.failure_report(deck, result)
    return answer


class Present:
    """The serve extension (commands/serve.py's Extension) that makes the preview live."""

    def __init__(self, live: LiveRuns, gate: Gate) -> None:
        self.live = live
        self.gate = gate

    def bound(self, host: str, port: int) -> str:
        self.gate.cookie = COOKIE.format(port=port)
        shown = f"[{host}]" if ":" in host else host
        return f"present: http://{shown}:{port}/?token={self.gate.token}"

    def refusal(self, headers: Headers, target: str) -> str | None:
        return self.gate.refusal(headers, target)

    def cookies(self, target: str) -> list[str]:
        return self.gate.cookies(target)

    def get(self, path: str) -> tuple[bytes, str] | None:
        kind = ASSETS.get(path)
        if kind is None:
            return None
        name = path.rsplit("/", 1)[1]
        return resources.files("deckcheck").joinpath("assets", "present", name).read_bytes(), kind

    def post(self, path: str, body: bytes) -> tuple[HTTPStatus, bytes]:
        try:
            request = json.loads(body)
            stem, index = str(request["stem"]), int(request["index"])
            if path == RUN_PATH:
                answer = self.live.run(stem, index, str(request["code"]))
            elif path == STOP_PATH:
                self.live.stop(stem, index)
                answer = {"status": "stopping"}
            else:
                return HTTPStatus.NOT_FOUND, b'{"status": "refused", "message": "no such request"}'
        except (ValueError, KeyError, TypeError):
            return HTTPStatus.BAD_REQUEST, b'{"status": "refused", "message": "a malformed request"}'
        return HTTPStatus.OK, json.dumps(answer).encode()

    def page_extra(self, stem: str) -> str:
        try:
            blocks = self.live.blocks(stem)
        except LiveError:
            return ""  # the page reloads once the deck is checked
        config = {"stem": stem, "token": self.gate.token, "blocks": blocks}
        data = json.dumps(config).replace("<", "\\u003c")  # no </script> inside the script
        return (
            '<link rel="stylesheet" href="/_deckcheck/present.css">'
            f'<script id="deckcheck-present-config" type="application/json">{data}</script>'
            '<script src="/_deckcheck/present.js"></script>'
        )
