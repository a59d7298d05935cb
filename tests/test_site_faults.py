"""A build killed (SIGKILL) at any point of publishing: readers see each deck whole, from one
build, with the index, manifest and search of that build; the next build removes what was left."""

from __future__ import annotations

import errno
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import DECKCHECK, ROOT, Run, deckcheck, env_for

from deckcheck.publish.manifest import SiteEntry, read_manifest
from deckcheck.publish.search import build_search
from deckcheck.publish.site import Site

STEMS = ("alpha", "beta", "gamma")
MORE = (*STEMS, "delta")  # a deck new in the killed build: its names are new links in the site
SUFFIXES = (".html", ".pdf", "-handout.pdf", ".ipynb")
OWN = {".deckcheck.lock", ".current", ".generations"}  # what the site keeps of its own

# Runs one build's publish step; every file system change it makes to the site is a step, and at
# step KILL_AT (or while Pagefind runs, when that is the step) its process group gets SIGKILL.
CHILD = """
import os, signal, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[4])
from test_site_faults import publish_build

site, build, kill_at, stems = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[5].split(",")
steps = []

def step(label):
    steps.append(label)
    if kill_at < 0:
        print(label, flush=True)
    elif len(steps) == kill_at:
        os.killpg(0, signal.SIGKILL)

def counted(module, name):
    real = getattr(module, name)
    def wrapper(*args, **kwargs):
        if any(site in str(arg) for arg in args):
            step(name)
        return real(*args, **kwargs)
    setattr(module, name, wrapper)

for name in ("replace", "rename", "link", "symlink", "unlink", "rmdir", "mkdir"):
    counted(os, name)
real_run = subprocess.run
def run(*args, **kwargs):
    if len(steps) + 1 == kill_at:  # kill while Pagefind writes the index
        threading.Thread(target=real_run, args=args, kwargs=kwargs, daemon=True).start()
        time.sleep(0.3)
    step("search")
    return real_run(*args, **kwargs)
subprocess.run = run
os.fsync = (lambda real: lambda fd: (step("fsync"), real(fd))[1])(os.fsync)
publish_build(site, build, stems)
"""


def deck_files(stem: str) -> list[str]:
    return [stem + suffix for suffix in SUFFIXES]


def page(stem: str, build: str, asset: str) -> str:
    return (
        f'<!DOCTYPE html><html><body><svg><foreignObject><section id="1"><h1>{stem}</h1>'
        f'<p>word{build} build={build}</p><img src="{asset}"></section></foreignObject></svg>'
        "</body></html>\n"
    )


def publish_build(site_folder: str, build: str, stems: Sequence[str] = STEMS) -> None:
    """One build's publish step: decks of four files and an asset each, and a search index."""
    site = Site(Path(site_folder))
    updates, files = [], []
    with site.staging() as staged:
        for stem in stems:
            asset = f"assets/{build}{stem}-figure.png"
            (staged / "assets").mkdir(exist_ok=True)
            (staged / asset).write_text(f"build={build}")
            for name in deck_files(stem):
                body = page(stem, build, asset) if name.endswith(".html") else f"build={build}\n"
                (staged / name).write_text(body)
            files += [*deck_files(stem), asset]
            names = dict(zip(("html", "pdf", "handout", "ipynb"), deck_files(stem), strict=True))
            updates.append(SiteEntry(f"slides/{stem}.md", stem, stem.title(), files=names, checked_at=build))

        def search(folder: Path, pages: list[tuple[str, str]]) -> bool:
            build_search(ROOT, folder, pages)
            return True

        with site.lock():
            site.publish(staged, files, updates, search)


def search_words(site: Path) -> set[str]:
    """The `wordBUILD` terms in the site's Pagefind index (its fragments are gzip'd JSON)."""
    found = set()
    for fragment in (site / "pagefind" / "fragment").glob("*.pf_fragment"):
        text = gzip.decompress(fragment.read_bytes()).decode("utf-8", "replace")
        found.update(re.findall(r"\bword([a-z]\d+z)\b", text))
    return found


def builds_seen(site: Path, *candidates: str) -> set[str]:
    """The build a reader finds; fails unless every deck, the index and the search agree."""
    entries = read_manifest(site)
    builds = {entry.checked_at for entry in entries.values()}
    for entry in entries.values():
        for name in entry.files.values():
            assert f"build={entry.checked_at}" in (site / name).read_text(), (name, entry.checked_at)
    index = (site / "index.html").read_text()
    assert {build for build in candidates if f" on {build} " in index} == builds
    assert search_words(site) == builds, (search_words(site), builds)
    assert len(builds) == 1, builds
    for path in site.iterdir():  # the files of a deck that is not in the index are not there yet
        if path.is_file() and path.suffix in (".html", ".pdf", ".ipynb") and path.name != "index.html":
            assert path.name.split(".")[0].removesuffix("-handout") in {e.stem for e in entries.values()}
    return builds


def leftovers(site: Path) -> list[str]:
    """What a killed build left: anything hidden but the site's own, dangling links."""
    found = [p.name for p in site.iterdir() if p.name.startswith(".") and p.name not in OWN]
    found += [p.name for p in site.iterdir() if p.is_symlink() and not p.exists()]
    generations = site / ".generations"
    if generations.is_dir() and len(list(generations.iterdir())) > 2:  # the current one and the last
        found.append(".generations/*")
    return found


def publish_killed(site: Path, build: str, kill_at: int) -> subprocess.CompletedProcess:
    """The publish step of a build of MORE in a process of its own, killed at step `kill_at`
    (-1: never; it prints its steps)."""
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(site), build, str(kill_at), str(Path(__file__).parent), ",".join(MORE)],
        capture_output=True, text=True, timeout=60, start_new_session=True,
    )  # fmt: skip


def kill_points(steps: list[str], others: int = 6) -> list[int]:
    """Every rename, link and fsync (the manifest's and index's writes) and the search, and a few
    of the other steps (hard links, folders made and removed) evenly between; numbered from 1."""
    kinds = ("replace", "rename", "symlink", "search", "fsync")
    chosen = [n for n, label in enumerate(steps, 1) if label in kinds]
    rest = [n for n, label in enumerate(steps, 1) if label not in kinds]
    return sorted(chosen + rest[:: max(1, len(rest) // others)][:others])


@pytest.mark.skipif(not (ROOT / "node_modules" / "pagefind").is_dir(), reason="needs pagefind (make)")
def test_a_build_killed_at_any_step_leaves_a_whole_site_and_the_next_one_cleans_up(tmp_path: Path) -> None:
    base = tmp_path / "base"
    publish_build(str(base), "a0z")
    shutil.copytree(base, tmp_path / "probe", symlinks=True)
    counted = publish_killed(tmp_path / "probe", "b0z", -1)
    assert counted.returncode == 0, counted.stderr
    points = kill_points(counted.stdout.split())
    assert len(points) >= 20, points
    started = time.monotonic()
    for point in points:
        site = tmp_path / f"site-{point}"
        shutil.copytree(base, site, symlinks=True)
        killed = publish_killed(site, f"k{point}z", point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        seen = builds_seen(site, "a0z", f"k{point}z")
        stems = sorted(entry.stem for entry in read_manifest(site).values())
        assert (seen, stems) in (({"a0z"}, sorted(STEMS)), ({f"k{point}z"}, sorted(MORE))), point
        publish_build(str(site), f"r{point}z", MORE)
        assert builds_seen(site, f"r{point}z") == {f"r{point}z"}, point
        assert leftovers(site) == [], point
    assert time.monotonic() - started < 90


FAULT_DECK = "---\ntitle: Faults\n---\n\n# Faults\n\n```python\nprint({value})\n```\n"
ENOSPC = """
set -e
mount -t tmpfs -o size=2m tmpfs site
"$@" > first.txt 2>&1
cp -rL site before
dd if=/dev/zero of=site/filler bs=64k 2> /dev/null || true
sed -i 's/print(1)/print(2)/' deck.md
set +e
"$@" > second.txt 2>&1
echo $? > status.txt
rm site/filler
cp -rL site after
"""


def shipped(site: Path) -> dict[str, bytes]:
    """What a reader (or the Pages upload) gets: every file under a name that is not hidden."""
    found = {}
    for top in site.iterdir():
        if not top.name.startswith("."):
            paths = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
            found.update({str(p.relative_to(site)): p.read_bytes() for p in paths})
    return found


def build_ipynb(folder: Path, site: str) -> Run:
    return deckcheck(
        "build", "deck.md", "--site", site, "--formats", "ipynb", cwd=folder, cache=folder / "cache"
    )


def test_a_site_folder_that_cannot_be_written_is_reported_and_the_last_site_stays(tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text(FAULT_DECK.format(value=1))
    assert build_ipynb(tmp_path, "site").returncode == 0
    site = tmp_path / "site"
    before = shipped(site)
    (tmp_path / "deck.md").write_text(FAULT_DECK.format(value=2))
    if os.geteuid() == 0:  # root writes through chmod; an immutable folder stops root too
        if subprocess.run(["chattr", "+i", str(site)], capture_output=True).returncode != 0:
            pytest.skip("running as root where chattr +i does not work")
    else:
        site.chmod(0o555)
    try:
        run = build_ipynb(tmp_path, "site")
    finally:
        subprocess.run(["chattr", "-i", str(site)], capture_output=True)
        site.chmod(0o755)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        f"deckcheck: cannot publish to site/: {os.strerror(errno.EPERM if os.geteuid() == 0 else errno.EACCES)}"
        in run.stdout
    )
    assert run.last_line == "1 passed, 0 failed, 0 skipped" and "Traceback" not in run.stdout + run.stderr
    assert shipped(site) == before
    (tmp_path / "blocker").write_text("a file where the site's parent folder should be")
    run = build_ipynb(tmp_path, "blocker/site")
    assert run.returncode == 1 and "deckcheck: cannot publish to blocker/site/: Not a directory" in run.stdout


def test_a_full_disk_is_reported_and_the_last_site_stays(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs a mount namespace (unshare -m) for a small tmpfs")
    (tmp_path / "deck.md").write_text(FAULT_DECK.format(value=1))
    (tmp_path / "site").mkdir()
    command = [*DECKCHECK, "build", "deck.md", "--site", "site", "--formats", "ipynb"]
    subprocess.run(
        ["unshare", "-m", "sh", "-c", ENOSPC, "sh", *command],
        cwd=tmp_path, env=env_for(tmp_path / "cache", "enospc"), timeout=300, check=True,
    )  # fmt: skip
    assert "published: deck.md" in (tmp_path / "first.txt").read_text()
    second = (tmp_path / "second.txt").read_text()
    assert (tmp_path / "status.txt").read_text().strip() == "1", second
    assert "deckcheck: cannot publish to site/: No space left on device" in second, second
    assert second.splitlines()[-1] == "1 passed, 0 failed, 0 skipped" and "Traceback" not in second
    assert shipped(tmp_path / "after") == shipped(tmp_path / "before")
    assert b"print(1)" in shipped(tmp_path / "after")["deck.ipynb"]  # the last good build's
