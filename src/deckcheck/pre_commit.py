"""`python -m deckcheck.pre_commit FILE ...`, as courses made by `deckcheck init` call it."""

import sys

from deckcheck.commands.pre_commit import main

if __name__ == "__main__":
    sys.exit(main())
