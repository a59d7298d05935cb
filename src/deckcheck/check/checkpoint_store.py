"""Checkpoints of decks' kernels for `deckcheck serve`: re-run a deck from the edited block.

While serve checks a deck, the kernel is forked after every block (in_kernel/checkpoints.py runs in
the kernel). When a save changes block k and blocks 1..k-1 are unchanged (code, options, the
files they name, the local modules they import, the deck's settings), the deck resumes from
the checkpoint taken after block k-1 and runs blocks k..n; the results of blocks 1..k-1 are
the last run's. Anything else falls back to a full run: an earlier block changed, the
checkpoint is gone (evicted to stay within the memory budget, or refused because the
deck's own threads were running), or a block from k on changed files in the last run
(files are not part of a checkpoint).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from deckcheck.check.cache import block_inputs, file_digest
from deckcheck.deck import Deck
from deckcheck.kernel import scratch
from deckcheck.results import BlockResult, InlineValue

DEFAULT_BUDGET = 2 * 1024**3  # bytes of checkpoint memory (PSS), all decks together


@dataclass(frozen=True)
class Checkpoint:
    pid: int
    fifo: str


@dataclass
class DeckHistory:
    """What serve remembers of a deck's last run."""

    prefixes: list[str]  # fingerprint of blocks 0..i, for each i
    results: list[BlockResult]
    cells: dict[int, int]  # the kernel's execution count → block index
    writers: set[int]  # blocks that changed files
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)  # after block index
    values: tuple[InlineValue, ...] = ()  # the deck's inline values
    used: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ResumePlan:
    start: int  # index of the first block to run
    checkpoint: Checkpoint
    results: tuple[BlockResult, ...]  # of the blocks before `start`, from the last run
    cells: dict[int, int]
    values: tuple[InlineValue, ...] = ()  # of the inline values above block `start`, from the last run


def prefixes(deck: Deck) -> list[str]:
    """For each block, a fingerprint of it and everything before it that its state depends on."""
    digest = hashlib.sha256(repr(deck.settings).encode())
    found = []
    for block in deck.blocks:
        inputs = {str(path): file_digest(path) for path in block_inputs(deck, block)}
        inline = [[expr.expr, expr.spec] for expr in deck.inline if expr.before == block.index]
        digest.update(json.dumps([block.code, block.info, inputs, inline], sort_keys=True).encode())
        found.append(digest.copy().hexdigest())
    return found


class CheckpointStore:
    """Every deck's last run and its checkpoints, within a memory budget (PSS, all decks)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.folder = Path(tempfile.mkdtemp(prefix=scratch.prefix("checkpoints")))
        self.decks: dict[str, DeckHistory] = {}

    def plan(self, deck: Deck) -> ResumePlan | None:
        """Where this deck can resume from, if anywhere (see the module's docstring)."""
        history = self.decks.get(str(deck.path))
        if history is None:
            return None
        new = prefixes(deck)
        same = [a == b for a, b in zip(new, history.prefixes, strict=False)]
        start = same.index(False) if False in same else len(same)
        if start == 0 or start > len(history.results) or any(w >= start for w in history.writers):
            return None
        checkpoint = history.checkpoints.get(start - 1)
        if checkpoint is None or not _alive(checkpoint.pid):
            return None
        history.used = time.monotonic()
        cells = {count: index for count, index in history.cells.items() if index < start}
        above = sum(1 for expr in deck.inline if expr.before < start)
        return ResumePlan(start, checkpoint, tuple(history.results[:start]), cells, history.values[:above])

    def record(
        self,
        deck: Deck,
        results: list[BlockResult],
        cells: dict[int, int],
        writers: set[int],
        taken: dict[int, Checkpoint],
        plan: ResumePlan | None,
        values: Iterable[InlineValue] = (),
    ) -> None:
        """Remember a run; checkpoints of the last run that no longer hold are ended."""
        old = self.decks.get(str(deck.path))
        kept = {i: c for i, c in (old.checkpoints if old else {}).items() if plan and i < plan.start}
        for index, checkpoint in (old.checkpoints if old else {}).items():
            if kept.get(index) is not checkpoint:
                _end(checkpoint)
        self.decks[str(deck.path)] = DeckHistory(
            prefixes(deck), list(results), cells, writers, {**kept, **taken}, tuple(values)
        )

    def discard(self, checkpoints: Iterable[Checkpoint]) -> None:
        """End checkpoints that a cancelled run took and the store never recorded."""
        for checkpoint in checkpoints:
            _end(checkpoint)

    def forget(self, path: str) -> None:
        """A deck that is gone: end its checkpoints and its history."""
        history = self.decks.pop(path, None)
        self.discard(history.checkpoints.values() if history else ())

    def memory(self) -> int:
        """The checkpoints' memory: proportional set size, so pages they share count once."""
        total = 0
        for history in self.decks.values():
            for checkpoint in history.checkpoints.values():
                with contextlib.suppress(psutil.Error):
                    total += psutil.Process(checkpoint.pid).memory_full_info().pss
        return total

    def enforce_budget(self) -> int:
        """End checkpoints, least recently used deck first and its earliest blocks first, until
        the rest fit the budget; return the memory they use."""
        used = self.memory()
        for history in sorted(self.decks.values(), key=lambda h: h.used):
            for index in sorted(history.checkpoints):
                if used <= self.budget:
                    return used
                _end(history.checkpoints.pop(index))
                used = self.memory()
        return used

    def close(self) -> None:
        for history in self.decks.values():
            for checkpoint in history.checkpoints.values():
                _end(checkpoint)
        self.decks.clear()
        shutil.rmtree(self.folder, ignore_errors=True)  # FIFOs, resumed kernels' pid files


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _end(checkpoint: Checkpoint) -> None:
    with contextlib.suppress(OSError):
        os.killpg(checkpoint.pid, signal.SIGKILL)  # the checkpoint and any kernel resumed from it
