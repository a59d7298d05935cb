"""Where a deck's time goes: kernel start, connection, set-up, blocks, collection, teardown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

PHASES = ("start", "connect", "setup", "blocks", "collect", "teardown")


class Timeline:
    """Seconds spent in each phase of one deck's run, summed over its visits."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def items(self) -> tuple[tuple[str, float], ...]:
        return tuple((name, round(self.seconds[name], 4)) for name in PHASES if name in self.seconds)


def timeline_text(phases: tuple[tuple[str, float], ...]) -> str:
    return " · ".join(f"{name} {seconds:.2f} s" for name, seconds in phases)
