"""What a Python producer of a format gets (ProduceJob), and what a producer is: the types that
the format table (formats.py) and the producers (handout.py, notebook.py) share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deckcheck.deck import Deck
    from deckcheck.publish.generated_copy import GeneratedDeck
    from deckcheck.results import DeckResult


@dataclass(frozen=True)
class ProduceJob:
    """What a Python producer gets: one deck, its check result, its generated copy, and where
    to write (`target`, inside the build's staging folder, beside the marp-cli outputs)."""

    deck: Deck
    result: DeckResult
    generated: GeneratedDeck
    staged: Path
    target: Path
    browser: Any = None  # the build's Chromium (a Playwright Browser) for formats that ask for it
    checked_at: str = ""  # when the build published it, "YYYY-MM-DD HH:MM UTC"
    handout_layout: int = 3  # slides per handout page

    @property
    def measured(self) -> Path:
        """The deck rendered with Marp's bare template: every slide at once (`needs` "measure")."""
        return self.staged / ".measure" / f"{self.generated.stem}.html"

    @property
    def notes(self) -> Path:
        """Each slide's speaker notes as JSON, a list of strings per slide (`needs` "notes")."""
        return self.staged / ".notes" / f"{self.generated.stem}.json"


Producer = Callable[[ProduceJob], None]
