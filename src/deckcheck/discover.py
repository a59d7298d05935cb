"""Which files are decks: the paths the user named, folders searched for *.md."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError


def find_decks(paths: Sequence[str]) -> list[Path]:
    """Deck files named, or found (recursively, *.md) under named folders; in a stable order."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*.md")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {name}")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.absolute(), path)
    return list(unique.values())
