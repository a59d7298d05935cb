"""Hostile input gets a clear one-line reason at its line, fast: never a hang, a traceback or
gigabytes of memory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import deckcheck

from deckcheck.read.parser import read_deck

LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]" for n in range(8)]
)  # nine levels of nine: 387,420,489 "lol"s once expanded


@pytest.mark.parametrize(
    ("front", "line"),
    [
        (f"marp: true\n{LAUGHS}\ndeckcheck:\n  setup: *i\n", 12),
        (f"marp: true\n{LAUGHS}\ntitle: *i\n", 3),
    ],
    ids=["in-settings", "in-title"],
)
def test_a_yaml_alias_bomb_is_an_error_at_its_line_in_well_under_a_second(
    tmp_path: Path, front: str, line: int
) -> None:
    (tmp_path / "bomb.md").write_text(f"---\n{front}---\n\n# Bomb\n\n```python\nprint(1)\n```\n")
    started = time.monotonic()
    deck = read_deck(tmp_path / "bomb.md")
    assert time.monotonic() - started < 2
    assert [problem.summary for problem in deck.problems] == [
        "invalid front matter: its aliases expand to more than 10,000 values (a YAML alias bomb?)"
    ]
    assert deck.problems[0].line == 3  # the anchor whose copies went past the limit
    run = deckcheck("check", "bomb.md", cwd=tmp_path, cache=tmp_path / "cache", timeout=30)
    assert run.returncode == 1
    assert run.lines[0] == (
        "bomb.md:3: slide 1: invalid front matter: its aliases expand to more than 10,000 values (a YAML alias bomb?)"
    )


def test_a_wrong_setting_quotes_a_short_prefix_of_its_value(tmp_path: Path) -> None:
    value = "x" * 5000
    (tmp_path / "deck.md").write_text(f"---\ndeckcheck:\n  timeout: {value}\n---\n\n# Deck\n")
    deck = read_deck(tmp_path / "deck.md")
    assert len(deck.problems) == 1
    assert len(deck.problems[0].summary) < 200, deck.problems[0].summary
    assert "xxxxxxxxxx" in deck.problems[0].summary


@pytest.mark.parametrize("how", ["dot-dot", "symlink"])
def test_an_image_outside_the_course_is_an_error_at_its_line_and_never_published(
    tmp_path: Path, how: str
) -> None:
    from deckcheck.publish.generated_copy import generated_copy
    from deckcheck.results import DeckResult

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    (tmp_path / "slides").mkdir()
    secret = tmp_path.parent / f"secret-{how}.txt"
    secret.write_text("not for the site")
    src = "../" * len((tmp_path / "slides").parts) + str(secret).lstrip("/")
    if how == "symlink":
        (tmp_path / "slides" / "pic.png").symlink_to(secret)
        src = "pic.png"
    deck_file = tmp_path / "slides" / "deck.md"
    deck_file.write_text(f"---\ndeckcheck:\n  execute: false\n---\n\n# Deck\n\n![w:100 x]({src})\n")
    deck = read_deck(deck_file)
    assert [(p.line, p.summary) for p in deck.problems] == [
        (8, f"image {src} is outside the course ({tmp_path}): only files inside it are published")
    ]
    copy = generated_copy(deck, DeckResult(str(deck_file), ()), "deck")
    assert all(b"not for the site" not in asset.data for asset in copy.assets)
    run = deckcheck("check", "slides/deck.md", cwd=tmp_path, cache=tmp_path / "cache", timeout=60)
    assert run.returncode == 1 and run.lines[0].startswith("slides/deck.md:8: slide 1: image "), run.stdout


def test_a_kill_from_outside_is_reported_as_a_kill_not_as_out_of_memory(tmp_path: Path) -> None:
    (tmp_path / "killed.md").write_text(
        "# Killed\n\n```python\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n```\n"
    )
    run = deckcheck("check", "killed.md", cwd=tmp_path, cache=tmp_path / "cache", timeout=60)
    assert run.lines[0] == "killed.md:5: slide 1: kernel died (killed by SIGKILL)", run.stdout


def test_links_in_the_index_are_url_encoded() -> None:
    from deckcheck.publish.index_page import index_html
    from deckcheck.publish.manifest import SiteEntry

    entry = SiteEntry(deck="a#b?c%d.md", stem="a#b?c%d", title="Odd", files={"html": "a#b?c%d.html"})
    page = index_html([entry], search=False)
    assert 'href="a%23b%3Fc%25d.html"' in page and 'href="a#b' not in page


def test_pip_says_why_a_spec_is_not_installable() -> None:
    import subprocess
    import sys

    from deckcheck.check.environments import pip_reason

    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "numpy;rm"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pip_reason(done.stderr or done.stdout, done.returncode) == (
        "InvalidMarker: Invalid marker: 'rm', parse error at 'rm'"
    )
