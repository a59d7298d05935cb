"""Check: run every block of every deck and say how each went.

The checker (decks in parallel, the result cache, timings, shards), a deck's run and its
policy (deck_runner, policy), one live kernel block by block (session), and what went wrong in
the deck's own lines (failures, syntax). Runs in the checker. May import: the vocabulary,
read, in_kernel (pure helpers: doctest examples) and kernel; never report, publish, commands.
"""

__all__ = [
    "cache", "checker", "checkpoint_store", "data_fetch", "deck_runner", "environments", "failures",
    "matrix_passes", "output_lock", "policy", "quick", "runtime", "selection", "session", "shards",
    "standin_flow", "syntax", "timeline",
]  # fmt: skip
