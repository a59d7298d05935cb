"""The result cache: a deck whose executable content is unchanged is not run again.

The key covers what can change a result: the blocks' code and options in order, the bytes
of the images and local files the deck references, the Python version, the installed
distributions, whether stand-in data is in use, and deckcheck's own version. Prose and
styling are not in it. Entries are written whole (temp file + rename) or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path

from .deck import Deck
from .parser import image_path
from .results import DeckResult

STRING_LITERAL = re.compile(r"""(?:'([^'\\\n]{1,200})'|"([^"\\\n]{1,200})")""")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def referenced_files(deck: Deck) -> list[Path]:
    """Images, and files that a block names in a string literal and that exist beside the deck."""
    found = {image_path(deck.folder, image.src) for image in deck.images}
    for block in deck.blocks:
        for match in STRING_LITERAL.finditer(block.code):
            name = match.group(1) or match.group(2)
            candidate = deck.folder / name
            try:
                if candidate.is_file():
                    found.add(candidate)
            except (OSError, ValueError):
                continue
    return sorted(found)


def deck_key(deck: Deck, runtime: dict[str, str], standins: dict[str, str]) -> str:
    files = {str(path): _file_digest(path) for path in referenced_files(deck)}
    material = {
        "blocks": [[block.code, block.info] for block in deck.blocks],
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

    def get(self, key: str, deck: Deck) -> DeckResult | None:
        try:
            data = json.loads(self._entry(key).read_text("utf-8"))
            result = DeckResult.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return replace(result, path=str(deck.path), problems=deck.problems, cached=True)

    def put(self, key: str, result: DeckResult) -> None:
        """Store a result whose blocks all passed or were skipped on purpose."""
        if result.count("failed") or any(b.reason.startswith("not run") for b in result.blocks):
            return
        entry = self._entry(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        data = replace(result, problems=(), cached=False).to_dict()
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(data), "utf-8")
            os.replace(tmp, entry)
        finally:
            tmp.unlink(missing_ok=True)


class Timings:
    """How long each deck took last time, so the longest start first when decks run in parallel."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text("utf-8"))
            self.seconds: dict[str, float] = {str(k): float(v) for k, v in loaded.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            self.seconds = {}

    def estimate(self, deck: Deck) -> float:
        return self.seconds.get(str(deck.path.absolute()), float(len(deck.blocks)))

    def record(self, deck: Deck, seconds: float) -> None:
        self.seconds[str(deck.path.absolute())] = seconds

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.seconds), "utf-8")
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
