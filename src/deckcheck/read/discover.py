"""Which files are decks: the paths the user named, folders searched for *.md and *.qmd."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from deckcheck.errors import UsageError

FRONT_MATTER_LIMIT = 20_000  # characters read to find the front matter
SUFFIXES = (".md", ".qmd")  # Quarto's decks are .qmd; every other dialect's are .md
FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*$", re.S | re.M)


def find_decks(paths: Sequence[str]) -> list[Path]:
    """Deck files named, or found (recursively, *.md, *.qmd) under named folders; in a stable order."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in SUFFIXES
                    and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
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


def is_deck(path: Path) -> bool:
    """Whether a .md file is a deck when nobody named it as one (the pytest plugin and the
    pre-commit hook ask): a Marp deck (front matter `marp: true`), or a file under the
    `paths` of the nearest [tool.deckcheck]. A README is neither."""
    if path.suffix not in SUFFIXES or not path.is_file():
        return False
    if _marp_front_matter(path):
        return True
    from deckcheck.read.settings import project_settings

    project = project_settings(path.parent)
    if project.path is None or not project.paths:
        return False
    here = path.absolute()
    return any(here.is_relative_to((project.path.parent / name).absolute()) for name in project.paths)


def _marp_front_matter(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(FRONT_MATTER_LIMIT)
    except (OSError, UnicodeDecodeError):
        return False
    match = FRONT_MATTER.match(head)
    if not match:
        return False
    import yaml

    from deckcheck.read import bounded_yaml

    try:
        front = bounded_yaml.load(match.group(1))
    except (yaml.YAMLError, RecursionError):
        return False
    return isinstance(front, dict) and front.get("marp") is True
