"""Publishing without a browser: staging, withheld decks, the manifest, the format table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deckcheck.publish.build import Builder, BuildOptions
from deckcheck.publish.formats import FORMATS, OutputFormat, ProduceJob, add_format, parse_formats
from deckcheck.publish.index_page import index_html
from deckcheck.publish.manifest import SiteEntry, read_manifest
from deckcheck.publish.site import Site
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult, Failure

DECK = (
    "---\ntitle: {title}\n---\n\n# {title}\n\n```python\nx = 1\n```\n\n---\n\n## Two\n\nWords on slide two.\n"
)


def write_words(job: ProduceJob) -> None:
    """A dummy format: the deck's prose words, one per line."""
    job.target.write_text("\n".join(job.generated.markdown.split()), "utf-8")


@pytest.fixture
def words_format():
    add_format(OutputFormat("words", ".words.txt", "Words", produce=write_words))
    yield "words"
    del FORMATS["words"]


def deck_and_result(folder: Path, name: str, title: str, status: str = "passed"):
    path = folder / f"{name}.md"
    path.write_text(DECK.format(title=title))
    deck = parse_text(path, path.read_text())
    block = deck.blocks[0]
    failure = Failure(block.first_code_line, 1, "AssertionError") if status == "failed" else None
    result = DeckResult(str(path), (BlockResult(0, block.line, 1, status, failure=failure),))
    return deck, result


def build(site: Path, formats: tuple[str, ...], *pairs) -> tuple[Builder, list[str]]:
    said: list[str] = []
    builder = Builder(BuildOptions(site=site, formats=formats, check_fit=False), said.append)
    outcome = builder.build([deck for deck, _ in pairs], [result for _, result in pairs])
    return outcome, said


def test_a_new_format_is_one_row_and_its_producer(tmp_path: Path, words_format: str) -> None:
    assert parse_formats("words") == ("words",)
    outcome, _ = build(tmp_path / "site", ("words",), deck_and_result(tmp_path, "intro", "Intro"))
    assert outcome.published == [str(tmp_path / "intro.md")]
    words = (tmp_path / "site" / "intro.words.txt").read_text().splitlines()
    assert "Words" in words and "x" in words
    entry = read_manifest(tmp_path / "site")[str(tmp_path / "intro.md")]
    assert entry.files == {"words": "intro.words.txt"}
    assert '<a href="intro.words.txt">Words</a>' in (tmp_path / "site" / "index.html").read_text()


def test_unknown_formats_are_refused_with_the_table_named(words_format: str) -> None:
    with pytest.raises(ValueError, match="formats are html, pdf, handout, ipynb, pptx, words"):
        parse_formats("html,slides")


def test_a_failing_deck_keeps_its_last_good_files_byte_for_byte(tmp_path: Path, words_format: str) -> None:
    site = tmp_path / "site"
    build(site, ("words",), deck_and_result(tmp_path, "intro", "Intro"))
    before = (site / "intro.words.txt").read_bytes()
    outcome, _ = build(site, ("words",), deck_and_result(tmp_path, "intro", "Changed", status="failed"))
    assert outcome.published == [] and outcome.withheld == [(str(tmp_path / "intro.md"), "1 failing block")]
    assert (site / "intro.words.txt").read_bytes() == before
    entry = read_manifest(site)[str(tmp_path / "intro.md")]
    assert entry.title == "Intro" and entry.withheld == "1 failing block"
    index = (site / "index.html").read_text()
    assert "withheld: 1 failing block" in index and "(last good version shown)" in index


def test_a_producer_that_fails_withholds_only_its_deck(tmp_path: Path) -> None:
    def broken(job: ProduceJob) -> None:
        if "bad" in job.deck.path.name:
            raise RuntimeError("no room on the page")
        write_words(job)

    add_format(OutputFormat("fragile", ".txt", "Fragile", produce=broken))
    try:
        outcome, _ = build(
            tmp_path / "site", ("fragile",),
            deck_and_result(tmp_path, "good", "Good"), deck_and_result(tmp_path, "bad", "Bad"),
        )  # fmt: skip
    finally:
        del FORMATS["fragile"]
    assert outcome.published == [str(tmp_path / "good.md")]
    assert outcome.withheld == [(str(tmp_path / "bad.md"), "cannot produce its files: no room on the page")]
    assert not (tmp_path / "site" / "bad.txt").exists()


def test_staging_leaves_nothing_behind_and_publishing_is_whole(tmp_path: Path, words_format: str) -> None:
    site = tmp_path / "site"
    build(site, ("words",), deck_and_result(tmp_path, "a", "A"), deck_and_result(tmp_path, "b", "B"))
    hidden = sorted(p.name for p in site.iterdir() if p.name.startswith("."))
    assert hidden == [".current", ".deckcheck.lock", ".generations"]
    assert [p.name for p in site.iterdir() if p.is_symlink() and not p.exists()] == []
    manifest = json.loads((site / "manifest.json").read_text())
    assert [entry["stem"] for entry in manifest["decks"]] == ["a", "b"]


def test_manifests_written_before_the_format_table_are_read(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {"decks": [{"deck": "slides/a.md", "stem": "a", "title": "A", "html": "a.html", "pdf": "a.pdf"}]}
        )
    )
    entry = Site(tmp_path).entries()["slides/a.md"]
    assert entry.files == {"html": "a.html", "pdf": "a.pdf"}


def test_the_index_names_versions_stand_ins_and_escapes_titles() -> None:
    entries = [
        SiteEntry("a.md", "a", "<Tensors & you>", slides=3, files={"html": "a.html"}, passed=2,
                  versions={"torch": "2.14.1"}, standins=["MNIST"]),
        SiteEntry("b.md", "b", "B", files={"html": "b.html", "pdf": "b.pdf"}),
    ]  # fmt: skip
    page = index_html(entries)
    assert "&lt;Tensors &amp; you&gt;" in page and "<Tensors" not in page
    assert "torch 2.14.1" in page and "stand-in data: MNIST" in page
    assert '<a href="b.pdf">PDF</a>' in page and "a.pdf" not in page  # a's PDF is missing
    assert "colab" not in page and "pagefind" not in page


def test_the_index_shows_descriptions_thumbnails_search_and_colab_links() -> None:
    entry = SiteEntry("a.md", "a", "Tensors", files={"html": "a.html", "ipynb": "a.ipynb"},
                      description="What a tensor is", thumbnail="assets/0123-a-title.png")  # fmt: skip
    page = index_html([entry], search=True, repository="course/lectures")
    assert "<p>What a tensor is</p>" in page
    assert '<img src="assets/0123-a-title.png" alt="Title slide of Tensors"' in page
    assert 'href="https://colab.research.google.com/github/course/lectures/blob/gh-pages/a.ipynb"' in page
    assert '<script src="pagefind/pagefind-ui.js"></script>' in page and 'id="search"' in page


def test_a_site_published_before_generations_is_taken_over_whole(tmp_path: Path, words_format: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    entry = SiteEntry(str(tmp_path / "old.md"), "old", "Old", files={"words": "old.words.txt"})
    (site / "manifest.json").write_text(json.dumps({"decks": [entry.__dict__]}))
    (site / "old.words.txt").write_text("old words")
    (site / "assets").mkdir()
    (site / "assets" / "0123-old.png").write_text("an old asset")
    (site / ".staging-abc").mkdir()  # a killed build's, from before (no build holds it, it is old)
    os.utime(site / ".staging-abc", (0, 0))
    (site / "CNAME").write_text("lectures.example.org")  # not deckcheck's: left alone
    build(site, ("words",), deck_and_result(tmp_path, "new", "New"))
    assert (site / "old.words.txt").is_symlink() and (site / "old.words.txt").read_text() == "old words"
    assert (site / "assets").is_symlink() and (site / "assets" / "0123-old.png").read_text() == "an old asset"
    assert (site / "new.words.txt").is_symlink() and not (site / ".staging-abc").exists()
    assert not (site / "CNAME").is_symlink() and (site / "CNAME").read_text() == "lectures.example.org"
    assert set(read_manifest(site)) == {str(tmp_path / "old.md"), str(tmp_path / "new.md")}
