"""`python -m deckcheck.workflow_lint [FILE ...]`, as courses made by `deckcheck init` call it."""

import sys

from deckcheck.commands.workflow_lint import main

if __name__ == "__main__":
    sys.exit(main())
