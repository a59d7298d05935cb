"""The result cache: a deck whose executable content is unchanged is not run again.

The key covers what can change a result: the blocks' code and options in order, the bytes
of the images and local files the deck references and of the local modules its blocks
import (`from helpers import f` with helpers.py beside the deck, and what those import in
turn), the command line's warning filters, the Python version, the installed distributions
(a matrix environment's, when the kernel runs in one), whether stand-in data is in use, and
deckcheck's own version. Prose and styling are not in it. Entries are written whole (temp
file + rename) or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.deck import Block, Deck
from deckcheck.read.imports import imported_names
from deckcheck.read.inline_values import value_problems
from deckcheck.read.parser import image_path
from deckcheck.results import DeckResult, Failure

FORMAT = 6  # of the cached results; a change here invalidates every entry
STRING_LITERAL = re.compile(r"""(?:'([^'\\\n]{1,200})'|"([^"\\\n]{1,200})")""")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def _literal_files(folder: Path, code: str) -> set[Path]:
    """Files that code names in a string literal and that exist beside the deck."""
    found = set()
    for match in STRING_LITERAL.finditer(code):
        candidate = folder / (match.group(1) or match.group(2))
        try:
            if candidate.is_file():
                found.add(candidate)
        except (OSError, ValueError):
            continue
    return found


def _module_files(folder: Path, name: str) -> list[Path]:
    """The files beside the deck that importing `name` (a.b.c) runs: a.py, or a/__init__.py,
    a/b.py, ... as far as they exist."""
    found = []
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        base = folder.joinpath(*parts[:depth])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            try:
                if candidate.is_file():
                    found.append(candidate)
            except (OSError, ValueError):
                continue
    return found


def _imported_modules(folder: Path, codes: list[str]) -> set[Path]:
    """The .py files beside the deck (or in its packages) that the code imports, followed
    through their own imports; the kernel runs in the deck's folder, so these are importable."""
    seen: set[Path] = set()
    pending = list(codes)
    while pending:
        for name in imported_names(pending.pop()):
            for path in _module_files(folder, name):
                if path not in seen:
                    seen.add(path)
                    try:
                        pending.append(path.read_text("utf-8", "replace"))
                    except OSError:
                        continue
    return seen


def referenced_files(deck: Deck) -> list[Path]:
    """Images, and files that a block names in a string literal and that exist beside the deck."""
    found = {image_path(deck.folder, image.src) for image in deck.images}
    for block in deck.blocks:
        found |= _literal_files(deck.folder, block.code)
    return sorted(found)


def local_modules(deck: Deck) -> list[Path]:
    """The local modules that the deck's blocks import (see _imported_modules)."""
    return sorted(_imported_modules(deck.folder, [block.code for block in deck.blocks]))


def block_inputs(deck: Deck, block: Block) -> list[Path]:
    """What a block's run depends on besides its code: the files it names, the local modules
    it imports."""
    return sorted(_literal_files(deck.folder, block.code) | _imported_modules(deck.folder, [block.code]))


def deck_key(
    deck: Deck, runtime: dict[str, str], standins: dict[str, str], filters: tuple[str, ...] = ()
) -> str:
    files = {str(path): file_digest(path) for path in [*referenced_files(deck), *local_modules(deck)]}
    material = {
        "format": FORMAT,
        "filters": list(filters),
        "blocks": [[block.code, block.info] for block in deck.blocks],
        "inline": [[expr.before, expr.expr, expr.spec] for expr in deck.inline],
        "deck": str(deck.path.absolute()),  # no two decks share a result
        "text": "" if deck.blocks else deck.text,  # a deck with no block: nothing else tells it apart
        "settings": repr(deck.settings),
        "files": files,
        "runtime": runtime,
        "standins": sorted(standins.values()),
        "standin_files": sorted(standins),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class ResultCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, deck: Deck, failures: bool = False) -> DeckResult | None:
        """The stored result; one with failures only if `failures` (the matrix keeps those)."""
        try:
            data = json.loads(self._entry(key).read_text("utf-8"))
            result = DeckResult.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        failed = result.count("failed") or any(value.error for value in result.values)
        if (failed and not failures) or len(result.values) != len(deck.inline):
            return None
        result = _with_slide_labels(result, deck)
        problems = deck.problems + value_problems(deck, result.values)
        return replace(result, path=str(deck.path), problems=problems, cached=True)

    def put(self, key: str, result: DeckResult, failures: bool = False) -> None:
        """Store a result whose blocks all passed or were skipped on purpose, or with `failures`
        one that failed, as long as every block ran (no lost kernel, no interruption)."""
        failed = result.count("failed") or any(value.error for value in result.values)
        if (failed and not failures) or any(b.reason.startswith("not run") for b in result.blocks):
            return
        data = replace(result, problems=(), cached=False).to_dict()
        write_atomic(self._entry(key), json.dumps(data))


def _with_slide_labels(result: DeckResult, deck: Deck) -> DeckResult:
    """JSON keeps a slide's position only: give back the names its tool shows (reveal.js's 2.3)."""
    named = {
        int(slide.number): slide.number
        for slide in deck.slides
        if str(slide.number) != str(int(slide.number))
    }
    if not named:
        return result

    def name(number: int) -> int:
        return named.get(number, number)

    def failure(found: Failure | None) -> Failure | None:
        if found is None:
            return None
        frames = tuple(replace(f, slide=name(f.slide)) if f.slide else f for f in found.frames)
        return replace(found, slide=name(found.slide), frames=frames)

    blocks = tuple(
        replace(
            block,
            slide=name(block.slide),
            failure=failure(block.failure),
            warnings=tuple(replace(w, slide=name(w.slide)) for w in block.warnings),
        )
        for block in result.blocks
    )
    return replace(result, blocks=blocks)


TIMINGS = "timings.json"  # in the cache folder: what the next runs order and split by


class Timings:
    """How long each deck took last time, so the longest start first when decks run in parallel
    and shards split the decks evenly. A run records its durations into `measured` when given:
    a shard keeps its own file, so the file that every shard splits by stays the same for all
    of them (CI merges the shards' files into it afterwards)."""

    def __init__(self, path: Path, measured: Path | None = None) -> None:
        self.path = path
        self.measured = measured or path
        self.seconds = _load(path)
        self.recorded: dict[str, float] = {}

    def estimate(self, deck: Deck) -> float:
        return self.seconds.get(str(deck.path.absolute()), float(len(deck.blocks)))

    def record(self, deck: Deck, seconds: float) -> None:
        self.seconds[str(deck.path.absolute())] = seconds
        self.recorded[str(deck.path.absolute())] = seconds

    def save(self) -> None:
        if self.measured == self.path:
            write_atomic(self.path, json.dumps(self.seconds))
        else:
            write_atomic(self.measured, json.dumps({**_load(self.measured), **self.recorded}))


def _load(path: Path) -> dict[str, float]:
    try:
        loaded = json.loads(path.read_text("utf-8"))
        return {str(k): float(v) for k, v in loaded.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
