"""Errors that reach the user as one line."""


class UsageError(Exception):
    """A mistake in how deckcheck was called (exit status 2)."""


class KernelError(RuntimeError):
    """A deck's kernel could not be started (or resumed); the message says why."""
