"""Read: a course's files → Deck records (slides as Marp numbers them, blocks, options, settings).

Runs in the checker. May import: the vocabulary (deckcheck.deck, errors, text, ...) and the
standard library, markdown-it-py and PyYAML; nothing that runs code.
"""

__all__ = [
    "alt_text", "bounded_yaml", "dialects", "discover", "fences", "imports", "inline_values",
    "marp_markdown", "notebooks", "parser", "project", "quarto", "revealjs", "settings", "slidev",
]  # fmt: skip
