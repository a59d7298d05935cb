"""The functions of deckcheck.in_kernel that the checker calls inside a kernel: one table.

A call names the function itself, not a string, so a rename or a wrong argument fails in the
type checker and at import, not in a kernel at run time. The code sent imports the function's
module by name in the kernel, where the same module (and its state) lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec

from deckcheck.in_kernel import (
    boot,
    checkpoints,
    deck_warnings,
    doctest_sessions,
    inline_values,
    queries,
    standins,
    writes,
)

P = ParamSpec("P")

KERNEL_CALLS: tuple[Callable[..., object], ...] = (
    queries.last_error,  # the exception a cell raised, with its frames
    queries.device,  # what the deck's torch computes on
    standins.standins_used,  # the stand-in data each cell opened
    writes.writing_cells,  # the cells that changed files
    checkpoints.take,  # fork a checkpoint (serve)
    deck_warnings.begin,  # before a block: its warning filters
    deck_warnings.collected,  # after it: the warnings it caused
    doctest_sessions.run,  # a `>>> ` session, as the block's cell
    doctest_sessions.last_result,  # how that session went
    inline_values.evaluate,  # the deck's inline values where they stand
    boot.exit_now,  # leave, exit handlers run, no teardown
)


def call_code(function: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> str:
    """The Python expression that calls `function(*args)` inside the kernel (args: literals)."""
    if function not in KERNEL_CALLS:
        raise ValueError(f"{function.__qualname__} is not a function the checker calls in a kernel")
    if kwargs:
        raise TypeError("kernel calls take positional arguments")
    return f"__import__({function.__module__!r}, fromlist=['_']).{function.__qualname__}(*{args!r})"
