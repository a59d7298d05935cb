"""Errors that reach the user as one line."""


class UsageError(Exception):
    """A mistake in how deckcheck was called (exit status 2)."""
