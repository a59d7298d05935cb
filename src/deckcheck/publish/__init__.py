"""Publish: decks that passed → site/ (HTML, PDF, handout, notebook, index, search).

The build (generated copies → marp-cli → the Python producers → the browser's page checks →
atomic moves into the site), the format table and its producers, the site, its manifest,
index and search. Runs in the checker. May import: the vocabulary, read, check, report
(locations); never commands.
"""

__all__ = [
    "accessibility", "assemble", "build", "fit", "formats", "generated_copy", "handout",
    "html_filter", "index_page", "jobs", "labels", "manifest", "marp", "notebook", "search", "site",
    "thumbnail",
]  # fmt: skip
