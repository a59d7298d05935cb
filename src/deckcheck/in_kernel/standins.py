"""Inside the kernel: which stand-in data files the deck's cells opened (an audit hook sees
every open; the checker asks standins_used() at the end of the deck)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from deckcheck import env_names

_standins: dict[str, str] = {}
_standins_used: dict[str, set[int]] = {}  # stand-in name → the cells (execution counts) that opened it
_opened_now: set[str] = set()  # stand-ins opened by the cell that is running


def watch() -> None:
    _standins.update(json.loads(os.environ.get(env_names.STANDINS) or "{}"))
    if not _standins:
        return
    names = tuple({os.path.basename(path) for path in _standins})

    def audit(event: str, args: tuple) -> None:
        if event != "open" or isinstance(args[0], int):
            return
        path = os.fsdecode(args[0]) if isinstance(args[0], str | bytes | os.PathLike) else ""
        if path.endswith(names):
            name = _standins.get(os.path.realpath(path))
            if name:
                _opened_now.add(name)

    sys.addaudithook(audit)


def credit(result: Any) -> None:
    """After a cell: the stand-ins it opened belong to its execution count."""
    count = getattr(result, "execution_count", None)
    for name in _opened_now:
        _standins_used.setdefault(name, set()).add(int(count or 0))
    _opened_now.clear()


def standins_used() -> str:
    """{stand-in name: [the execution counts of the cells that opened its files]}."""
    return json.dumps({name: sorted(cells) for name, cells in sorted(_standins_used.items())})


def names() -> set[str]:
    """The real paths of the stand-in files in the data cache."""
    return set(_standins)
