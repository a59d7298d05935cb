"""Which versions each deck passed on: what `deckcheck matrix` records, the build reads (the
index shows "passed on torch 2.6.0, ..."). Kept per deck as it is now: an edit forgets them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.check.cache import deck_key
from deckcheck.deck import Deck
from deckcheck.results import DeckResult

PASSED = "matrix-passed.json"  # in the cache folder


def record_passes(
    cache: Path, decks: Sequence[Deck], runs: Mapping[str, Sequence[DeckResult] | None]
) -> None:
    """For the site: per deck (as it is now), the versions of each environment it passed on.
    `runs`: SPEC → each deck's result in that environment, or None to forget the SPEC (it
    could not be installed)."""
    path = cache / PASSED
    known = _read(path)
    for index, deck in enumerate(decks):
        entry = known.get(str(deck.path.absolute()), {})
        if entry.get("deck") != _digest(deck):
            entry = {"deck": _digest(deck), "runs": {}}
        for spec, results in runs.items():
            if results is None:
                entry["runs"].pop(spec, None)
            else:
                entry["runs"][spec] = dict(results[index].versions) if results[index].ok else None
        known[str(deck.path.absolute())] = entry
    write_atomic(path, json.dumps(known, indent=2, sort_keys=True))


def passed_on(cache: Path, deck: Deck) -> list[str]:
    """The versions this deck, unchanged since, passed a matrix run on: "torch 2.6.0, ..."."""
    entry = _read(cache / PASSED).get(str(deck.path.absolute()), {})
    if entry.get("deck") != _digest(deck):
        return []
    found = [versions_text(versions) for versions in entry.get("runs", {}).values() if versions]
    return sorted(dict.fromkeys(found), key=_version_order)


def versions_text(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())


def _version_order(text: str) -> list:
    return [
        int(part) if part.isdigit() else part for part in text.replace(",", " ").replace(".", " ").split()
    ]


def _digest(deck: Deck) -> str:
    return deck_key(deck, {}, {})


def _read(path: Path) -> dict:
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
