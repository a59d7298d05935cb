"""`--shard K/N`: every deck in exactly one shard, the same split in every shard, balanced;
a sharded build's sites assembled into one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers import ROOT, deckcheck, search, site_page
from test_site_faults import publish_build

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


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Everything in a folder, links as their targets: to see that nothing changed."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        found[name] = (
            f"-> {os.readlink(path)}" if path.is_symlink() else path.read_bytes() if path.is_file() else ""
        )
    return found


def _shard(folder: Path, *stems: str) -> Path:
    publish_build(str(folder), "s1z", stems)
    return folder


def _files_of(shard: Path) -> Path:
    """Where a shard's files are: its current generation."""
    return shard / ".current" if (shard / ".current").exists() else shard


def _tamper(shard: Path, stem: str, **files: str) -> None:
    manifest = _files_of(shard) / "manifest.json"
    data = json.loads(manifest.read_text())
    for entry in data["decks"]:
        if entry["stem"] == stem:
            entry["files"].update(files)
    manifest.unlink()  # a hard link another generation may share: a new file
    manifest.write_text(json.dumps(data))


@pytest.mark.skipif(not (ROOT / "node_modules" / "pagefind").is_dir(), reason="needs pagefind (make)")
def test_assemble_refuses_names_outside_a_shard_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    target = _shard(tmp_path / "site", "alpha")
    (tmp_path / "secret.html").write_text("not the site's")
    before = _tree(target)
    wrong = {
        "../secret.html": "is not a plain file name inside the site",
        "/etc/passwd": "is not a file name inside the site",
        "javascript:alert(1)": "is not a file name inside the site",
        "assets/../../secret.html": "is not a plain file name inside the site",
    }
    for number, (name, why) in enumerate(wrong.items()):
        shard = _shard(tmp_path / f"shard-{number}", "beta")
        _tamper(shard, "beta", html=name)
        run = deckcheck("assemble", str(shard), "--site", "site", cwd=tmp_path, cache=tmp_path / "cache")
        assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("deckcheck: error: "), run.stderr
        assert f"{name!r} {why}" in run.stderr, run.stderr
        assert _tree(target) == before
    shard = _shard(tmp_path / "shard-link", "beta")
    (_files_of(shard) / "beta.pdf").unlink()
    (_files_of(shard) / "beta.pdf").symlink_to("/etc/passwd")
    run = deckcheck("assemble", str(shard), "--site", "site", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "beta.pdf is a symbolic link" in run.stderr and _tree(target) == before


@pytest.mark.skipif(not (ROOT / "node_modules" / "pagefind").is_dir(), reason="needs pagefind (make)")
def test_assemble_refuses_a_stem_another_deck_has_in_the_target(tmp_path: Path) -> None:
    target = _shard(tmp_path / "site", "alpha")
    shard = _shard(tmp_path / "shard", "beta")
    manifest = _files_of(shard) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["decks"][0].update(deck="slides/other/alpha.md", stem="alpha")
    manifest.unlink()
    manifest.write_text(json.dumps(data))
    before = _tree(target)
    run = deckcheck("assemble", "shard", "--site", "site", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "alpha is slides/alpha.md's (in site) and slides/other/alpha.md's (in shard)" in run.stderr
    assert _tree(target) == before


@pytest.mark.skipif(browser_path() is None, reason="needs Chromium (make installs it)")
def test_an_assembled_site_answers_a_search(tmp_path: Path) -> None:
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    _shard(tmp_path / "shard-1", "alpha")
    publish_build(str(tmp_path / "shard-2"), "s2z", ("beta",))
    run = deckcheck(
        "assemble", "shard-1", "shard-2", "--site", "site", cwd=tmp_path, cache=tmp_path / "cache"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    site = tmp_path / "site"
    assert (
        'id="search"' in (site / "index.html").read_text()
        and (site / "pagefind" / "pagefind-ui.js").is_file()
    )
    with site_page(site) as page:
        links = search(page, "words2z")
    assert links == ["/beta.html#1"]
