"""The first check that needs a data set fetches it: the real download where the network
allows, else a stand-in (kernel/data_sets.py), before any kernel starts and before the
result cache is asked (its keys name the stand-ins in use)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from deckcheck.deck import Deck
from deckcheck.kernel import data_sets
from deckcheck.kernel.data_cache import torch_home


def provide(decks: Sequence[Deck], cache: Path) -> None:
    """Fetch what the decks' code loads (by torchvision's names) and the cache lacks."""
    code = [deck.settings.setup for deck in decks] + [
        block.code for deck in decks for block in deck.blocks if not block.options.skip_execution
    ]
    root = torch_home(cache)
    wanted = [data for data in data_sets.named_in(code) if not data.present(root)]
    if not wanted:
        return
    from deckcheck.kernel.env import network_allowed

    def say(text: str) -> None:
        print(f"deckcheck: {text}", file=sys.stderr, flush=True)

    data_sets.fetch(root, wanted, network=network_allowed(), say=say, warn=say)
