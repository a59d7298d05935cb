"""The data cache that decks download into (TORCH_HOME), and which of its files are stand-ins."""

from __future__ import annotations

import json
import os
from pathlib import Path

STANDINS_FILE = "standins.json"  # written by kernel/data_sets.py while a stand-in is in use


def torch_home(cache: Path) -> Path:
    return Path(os.environ.get("TORCH_HOME") or cache / "torch").absolute()


def standins(cache: Path) -> dict[str, str]:
    """Stand-in data files (absolute real path → data set name) that data_sets.py wrote."""
    home = torch_home(cache)
    try:
        listing = json.loads((home / STANDINS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for entry in listing.get("standins", []) if isinstance(listing, dict) else []:
        for name in entry.get("files", []):
            found[os.path.realpath(home / name)] = str(entry.get("name", name))
    return found
