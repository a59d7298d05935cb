"""Splitting the decks between N runners (`--shard K/N`): each deck in exactly one shard.

The split is the longest-first greedy one: decks in order of their recorded duration (the
number of their blocks when none is recorded), longest first, each to the shard with the
least work so far. It depends only on the decks and the durations, so every runner that sees
the same decks and the same timings file computes the same split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deckcheck.deck import Deck

SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; ValueError says what is wrong."""
    match = SHARD.match(text)
    if not match:
        raise ValueError(f"a shard is K/N, e.g. 2/3: not {text!r}")
    number, count = int(match.group(1)), int(match.group(2))
    if not 1 <= number <= count:
        raise ValueError(f"a shard K/N needs 1 <= K <= N: not {text!r}")
    return Shard(number, count)


def split(decks: Sequence[Deck], count: int, estimate: Callable[[Deck], float]) -> list[list[Deck]]:
    """The decks in `count` shards, balanced by `estimate`; each shard keeps the decks' order."""
    order = sorted(range(len(decks)), key=lambda i: (-estimate(decks[i]), str(decks[i].path)))
    loads = [0.0] * count
    chosen: list[list[int]] = [[] for _ in range(count)]
    for index in order:
        lightest = min(range(count), key=lambda shard: (loads[shard], shard))
        loads[lightest] += estimate(decks[index])
        chosen[lightest].append(index)
    return [[decks[i] for i in sorted(indexes)] for indexes in chosen]


def shard_of(decks: Sequence[Deck], shard: Shard, estimate: Callable[[Deck], float]) -> list[Deck]:
    return split(decks, shard.count, estimate)[shard.number - 1]
