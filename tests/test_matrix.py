"""`deckcheck matrix`: a deck against several environments, on a cheap axis (NumPy 1 and 2).

The environments live in the project's .cache/matrix (DECKCHECK_MATRIX), so pip installs
NumPy 1 from the configured registry once per machine and later runs reuse it; the results
are in each test's own cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import FIXTURES, ROOT, deckcheck

from deckcheck.index_page import index_html
from deckcheck.manifest import SiteEntry
from deckcheck.matrix import passed_on
from deckcheck.parser import read_deck

ENVIRONMENTS = str(ROOT / ".cache" / "matrix")
REMOVED = "numpy-api.md:17: slide 2: AttributeError: module 'numpy' has no attribute 'product'"
DEPRECATED = (
    "numpy-api.md:17: slide 2: warning: DeprecationWarning: `product` is deprecated as of NumPy 1.25.0, "
    "and will be removed in NumPy 2.0. Please use `prod` instead."
)


def matrix(folder: Path, *args: str):
    return deckcheck(
        "matrix", *args, cwd=folder, cache=folder / "cache", timeout=600, DECKCHECK_MATRIX=ENVIRONMENTS
    )


def test_a_deck_passes_on_one_numpy_and_fails_on_the_other_at_its_line(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "matrix" / "numpy-api.md", tmp_path)
    run = matrix(tmp_path, "numpy-api.md", "--with", "numpy<2", "--with", "numpy>=2")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.lines == [
        "numpy-api.md: numpy<2: ok",
        DEPRECATED,
        "numpy-api.md: numpy>=2: FAILED (1 passed, 1 failed, 0 skipped)",
        REMOVED,
        "3 passed, 1 failed, 0 skipped",
    ]
    assert "numpy<2: 0 of 1 decks from the result cache" in run.stderr

    # nothing changed: every result comes from the cache, environments reused
    again = matrix(tmp_path, "numpy-api.md", "--with", "numpy<2", "--with", "numpy>=2")
    assert again.lines == run.lines and again.returncode == 1
    assert "numpy<2: 1 of 1 decks from the result cache" in again.stderr
    assert "numpy>=2: 1 of 1 decks from the result cache" in again.stderr
    assert "numpy<2: environment reused" in again.stderr

    # the site knows what the deck passed on, as long as the deck is unchanged
    deck = read_deck(tmp_path / "numpy-api.md")
    versions = passed_on(tmp_path / "cache", deck)
    assert len(versions) == 1 and versions[0].startswith("numpy 1.") and "torch " in versions[0]
    page = index_html([SiteEntry(deck="numpy-api.md", stem="numpy-api", title="NumPy", passed_on=versions)])
    assert f"passed on {versions[0]}" in page
    (tmp_path / "numpy-api.md").write_text(deck.text.replace("np.product", "np.prod"))
    assert passed_on(tmp_path / "cache", read_deck(tmp_path / "numpy-api.md")) == []
    (tmp_path / "numpy-api.md").write_text(deck.text)

    # the gate in an environment: NumPy 1's deprecation, as an error, fails that line there too
    strict = matrix(tmp_path, "numpy-api.md", "--with", "numpy<2", "-W", "error::DeprecationWarning")
    assert strict.returncode == 1
    assert strict.lines == [
        "numpy-api.md: numpy<2: FAILED (1 passed, 1 failed, 0 skipped)",
        DEPRECATED.replace(" warning: DeprecationWarning:", " DeprecationWarning:"),
        "1 passed, 1 failed, 0 skipped",
    ]
    assert passed_on(tmp_path / "cache", deck) == []  # its latest run there failed


def test_current_and_a_spec_pip_cannot_install(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "matrix" / "numpy-api.md", tmp_path)
    run = matrix(tmp_path, "numpy-api.md", "--with", "current", "--with", "numpy=2")
    assert run.returncode == 1
    assert run.lines == [
        "numpy-api.md: current: FAILED (1 passed, 1 failed, 0 skipped)",
        REMOVED,
        "numpy-api.md: numpy=2: not installable (Invalid requirement: 'numpy=2')",
        "1 passed, 1 failed, 0 skipped",
    ]
    usage = matrix(tmp_path, "numpy-api.md")
    assert usage.returncode == 2 and "--with" in usage.stderr
