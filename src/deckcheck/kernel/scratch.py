"""deckcheck's files in the temporary folder (crash logs, checkpoint folders), named with the
pid of the deckcheck process that made them, so that a later run removes what a killed one
(SIGKILL, a power cut) left behind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil

OWNED = re.compile(r"^deckcheck-[a-z]+-(\d+)-")


def prefix(kind: str) -> str:
    """The start of a temporary file's or folder's name: `deckcheck-KIND-PID-`."""
    return f"deckcheck-{kind}-{os.getpid()}-"


def sweep(folder: Path | None = None) -> list[Path]:
    """Remove what deckcheck processes that are gone left in the temporary folder; what went."""
    removed = []
    for entry in Path(folder or tempfile.gettempdir()).glob("deckcheck-*"):
        owner = OWNED.match(entry.name)
        if owner is None or psutil.pid_exists(int(owner.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed
