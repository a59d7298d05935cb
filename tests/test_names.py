"""A deck's name in the site comes from its path in the course alone: full and subset builds
agree, never rename or overwrite another deck's files, and a clash is an error naming both."""

from __future__ import annotations

from pathlib import Path

from deckcheck.publish.build import Builder, BuildOptions, deck_stem
from deckcheck.publish.manifest import read_manifest
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult

DECK = "---\ntitle: {title}\n---\n\n# {title}\n\n```python\nx = 1\n```\n"


def deck_and_result(path: Path, title: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DECK.format(title=title))
    deck = parse_text(path, path.read_text())
    block = deck.blocks[0]
    return deck, DeckResult(str(path), (BlockResult(0, block.line, 1, "passed"),))


def build(site: Path, *pairs):
    builder = Builder(BuildOptions(site=site, formats=("ipynb",), check_fit=False), lambda line: None)
    return builder.build([deck for deck, _ in pairs], [result for _, result in pairs])


def test_names_come_from_the_path_in_the_course(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    assert deck_stem(tmp_path / "slides" / "01-intro.md") == "01-intro"
    assert deck_stem(tmp_path / "slides" / "b" / "intro.md") == "b-intro"
    assert deck_stem(tmp_path / "notes" / "intro.md") == "notes-intro"


def test_two_decks_of_one_name_keep_their_own_files_through_full_and_subset_builds(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    site = tmp_path / "site"
    a = deck_and_result(tmp_path / "slides" / "a" / "intro.md", "Deck A")
    b = deck_and_result(tmp_path / "slides" / "b" / "intro.md", "Deck B")
    assert build(site, a, b).withheld == []
    first_a = (site / "a-intro.ipynb").read_bytes()
    assert b"Deck A" in first_a and b"Deck B" in (site / "b-intro.ipynb").read_bytes()
    b = deck_and_result(tmp_path / "slides" / "b" / "intro.md", "Deck B, again")
    outcome = build(site, b)  # `deckcheck build slides/b/intro.md`
    assert outcome.published == [str(b[0].path)]
    assert (site / "a-intro.ipynb").read_bytes() == first_a
    assert b"Deck B, again" in (site / "b-intro.ipynb").read_bytes()
    entries = read_manifest(site)
    assert {entries[str(a[0].path)].stem, entries[str(b[0].path)].stem} == {"a-intro", "b-intro"}
    assert entries[str(a[0].path)].files == {"ipynb": "a-intro.ipynb"}


def test_a_name_clash_is_an_error_naming_both_decks(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    site = tmp_path / "site"
    a = deck_and_result(tmp_path / "slides" / "a" / "intro.md", "Deck A")
    assert build(site, a).withheld == []
    before = (site / "a-intro.ipynb").read_bytes()
    clash = deck_and_result(tmp_path / "slides" / "a-intro.md", "Another")
    outcome = build(site, clash)
    assert outcome.withheld == [
        (str(clash[0].path), f"its name in the site, a-intro, is {a[0].path}'s: rename one of the two decks")
    ]
    assert (site / "a-intro.ipynb").read_bytes() == before
