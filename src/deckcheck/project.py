"""Where a project's things live: its root (the folder with marp.config.mjs) and its cache."""

from __future__ import annotations

import os
from pathlib import Path

from . import env_names

PROJECT_MARKER = "marp.config.mjs"


def project_root(*starts: Path) -> Path | None:
    """The nearest folder at or above the current folder (or else a deck's) that holds the
    project's marp.config.mjs: where its cache, node_modules and themes live."""
    for start in (Path.cwd(), *starts):
        here = start.absolute()
        for folder in (here, *here.parents):
            if (folder / PROJECT_MARKER).is_file():
                return folder
    return None


def cache_root(*starts: Path) -> Path:
    """DECKCHECK_CACHE, else the project's .cache, else .cache in the current folder."""
    configured = os.environ.get(env_names.CACHE)
    if configured:
        return Path(configured).absolute()
    return (project_root(*starts) or Path.cwd()).absolute() / ".cache"
