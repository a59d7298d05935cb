"""The pre-commit hook: `python -m deckcheck.pre_commit FILE ...` checks the decks among the
files a commit changes (pre-commit passes them), the way `deckcheck check` does. Files that
are not decks (a README, notes) are left alone: the rule is discover.is_deck's."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from deckcheck.commands.cli import main as deckcheck
from deckcheck.read.discover import is_deck


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    options = [name for name in names if not Path(name).is_file()]  # the hook's `args:`, e.g. --jobs 2
    decks = [name for name in names if Path(name).is_file() and is_deck(Path(name))]
    if not decks:
        return 0
    return deckcheck(["check", *options, *decks])


if __name__ == "__main__":
    sys.exit(main())
