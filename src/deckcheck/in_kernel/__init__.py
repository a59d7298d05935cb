"""In the kernel: what runs inside a deck's kernel process (and the fork server's child side).

Booting the kernel, import hooks, output capture and figures, stand-in data and the offline
data sets, written-file tracking, checkpoints (take and resume), warnings at the deck's line,
doctest sessions, and the queries the checker asks (deckcheck.kernel.calls lists them).
May import: the standard library, IPython (and ipykernel to boot), deckcheck.env_names and
deckcheck.jupyter_internals; nothing else of deckcheck, and nothing heavy at import time:
every kernel imports these modules before its first block.
"""

__all__ = [
    "asserts", "boot", "checkpoints", "deck_warnings", "doctest_sessions", "import_hook", "inline_values",
    "offline_data", "output", "queries", "standins", "writes",
]  # fmt: skip
