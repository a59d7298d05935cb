"""Report: results → what people and CI read (the `PATH:LINE: slide N:` lines, the live
console, JUnit XML).

May import: the vocabulary, read and check (their data types); never publish or commands.
"""

__all__ = ["console", "github", "junit", "lines", "progress"]
