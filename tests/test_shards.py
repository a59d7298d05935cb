"""`--shard K/N`: every deck in exactly one shard, the same split in every shard, balanced;
a sharded build's sites assembled into one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import deckcheck

from deckcheck.check.shards import parse_shard, split
from deckcheck.publish.marp import browser_path
from deckcheck.read.parser import parse_text

DECK_LINE = re.compile(r"^(\S+\.md): (ok|FAILED):", re.M)


def _deck(folder: Path, name: str, blocks: int, run: bool = False) -> Path:
    fence = "```python" if run else '```python tags=["skip-execution"]'
    body = "\n\n".join(f"## Slide {i}\n\n{fence}\nx = {i}\n```" for i in range(blocks))
    path = folder / name
    path.write_text(f"---\nmarp: true\nheadingDivider: 2\n---\n\n# {name}\n\n{body}\n", "utf-8")
    return path


def test_parse_shard_takes_k_of_n_and_refuses_the_rest() -> None:
    assert (parse_shard("2/3").number, parse_shard(" 2 / 3 ").count) == (2, 3)
    for wrong in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(wrong)


def test_the_split_is_a_partition_balanced_by_duration(tmp_path: Path) -> None:
    durations = [30.0, 1.0, 2.0, 28.0, 3.0, 5.0, 1.0, 29.0]
    decks = [parse_text(tmp_path / f"d{i}.md", "---\nmarp: true\n---\n# d\n") for i in range(len(durations))]
    seconds = {str(deck.path): duration for deck, duration in zip(decks, durations, strict=True)}
    shards = split(decks, 3, lambda deck: seconds[str(deck.path)])
    names = [str(deck.path) for shard in shards for deck in shard]
    assert sorted(names) == sorted(seconds) and len(names) == len(set(names))
    loads = [sum(seconds[str(deck.path)] for deck in shard) for shard in shards]
    assert max(loads) - min(loads) <= 5.0, loads  # each long deck on its own runner
    assert split(list(reversed(decks)), 3, lambda deck: seconds[str(deck.path)]) == [
        [deck for deck in reversed(decks) if deck in shard] for shard in shards
    ]
    assert split(decks, 10, lambda deck: 1.0)[9] == []


def test_shards_check_every_deck_once_and_record_durations_apart(tmp_path: Path) -> None:
    decks = tmp_path / "slides"
    decks.mkdir()
    for number in range(5):
        _deck(decks, f"{number:02d}-deck.md", blocks=number + 1)
    _deck(decks, "05-runs.md", blocks=2, run=True)
    _deck(decks, "06-runs.md", blocks=1, run=True)
    cache = tmp_path / "cache"
    cache.mkdir()
    timings = {str((decks / "05-runs.md").absolute()): 50.0, str((decks / "06-runs.md").absolute()): 40.0}
    (cache / "timings.json").write_text(json.dumps(timings))
    seen: list[str] = []
    for number in (1, 2, 3):
        run = deckcheck("check", "slides", "--shard", f"{number}/3", cwd=tmp_path, cache=cache)
        assert run.returncode == 0, run.stdout + run.stderr
        assert re.search(rf"^shard {number}/3: \d of 7 decks$", run.stdout, re.M), run.stdout
        seen += [path for path, _ in DECK_LINE.findall(run.stdout)]
    assert sorted(seen) == sorted(f"slides/{p.name}" for p in decks.glob("*.md")), seen
    assert json.loads((cache / "timings.json").read_text()) == timings  # the file the shards split by
    measured = [set(json.loads(file.read_text())) for file in sorted(cache.glob("timings-*-of-3.json"))]
    assert len(measured) == 3 and sum(len(found) for found in measured) == 7  # each shard, its own decks
    assert set().union(*measured) == {str(path.absolute()) for path in decks.glob("*.md")}


def test_wrong_shards_are_usage_errors(tmp_path: Path) -> None:
    _deck(tmp_path, "a.md", blocks=1)
    run = deckcheck("check", "a.md", "--shard", "4/3", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 2 and "1 <= K <= N" in run.stderr


@pytest.mark.skipif(browser_path() is None, reason="needs Chromium (make installs it)")
def test_shard_sites_assemble_into_one_site(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "node_modules").symlink_to(root / "node_modules")
    decks = tmp_path / "slides"
    (decks / "a").mkdir(parents=True)
    (decks / "b").mkdir()
    _deck(decks / "a", "intro.md", blocks=1)
    _deck(decks / "b", "intro.md", blocks=2)  # the same name: the stems must differ in every shard
    cache = tmp_path / "cache"
    for number in (1, 2):
        site = f"shards/site-{number}"
        run = deckcheck(
            "build", "slides", "--shard", f"{number}/2", "--site", site, "--formats", "html",
            cwd=tmp_path, cache=cache, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
    run = deckcheck("assemble", "shards/site-1", "shards/site-2", "--site", "site", cwd=tmp_path, cache=cache)
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    stems = {entry["deck"]: entry["stem"] for entry in manifest["decks"]}
    assert stems == {"slides/a/intro.md": "a-intro", "slides/b/intro.md": "b-intro"}  # from the paths alone
    index = (tmp_path / "site" / "index.html").read_text()
    for stem in stems.values():
        assert (tmp_path / "site" / f"{stem}.html").is_file() and f'href="{stem}.html"' in index
    run = deckcheck("assemble", "nowhere", cwd=tmp_path, cache=cache)
    assert run.returncode == 2 and "not a deckcheck site" in run.stderr
