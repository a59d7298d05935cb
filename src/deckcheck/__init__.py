"""deckcheck: run every Python block of every Marp deck, then publish the decks that pass."""

__version__ = "0.1.0"
