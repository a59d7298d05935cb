"""Where a project's things live: its root (the folder that holds its configuration) and its cache."""

from __future__ import annotations

import os
from pathlib import Path

from deckcheck import env_names

# Any of these marks a course's root: its own Marp configuration, its package.json (pinning
# marp-cli), or its pyproject.toml (its [tool.deckcheck] settings).
DECKS_FOLDER = "slides"  # where a course keeps its decks, by convention (`deckcheck init` makes it)
PROJECT_MARKERS = ("marp.config.mjs", "package.json", "pyproject.toml")


def course_root(deck: Path) -> Path:
    """The course a deck belongs to: the nearest folder above it with a project marker (or a
    git repository's), else the current folder if the deck is inside it, else its own folder."""
    full = deck.absolute()
    for folder in full.parents:
        if any((folder / marker).is_file() for marker in PROJECT_MARKERS) or (folder / ".git").exists():
            return folder
    here = Path.cwd().absolute()
    return here if here in full.parents else full.parent


def project_root(*starts: Path) -> Path | None:
    """The nearest folder at or above the current folder (or else a deck's) that holds one of
    the project markers: where its cache, node_modules and own themes live."""
    for start in (Path.cwd(), *starts):
        here = start.absolute()
        for folder in (here, *here.parents):
            if any((folder / marker).is_file() for marker in PROJECT_MARKERS):
                return folder
    return None


def cache_root(*starts: Path) -> Path:
    """DECKCHECK_CACHE, else the project's .cache, else .cache in the current folder."""
    configured = os.environ.get(env_names.CACHE)
    if configured:
        return Path(configured).absolute()
    return (project_root(*starts) or Path.cwd()).absolute() / ".cache"
