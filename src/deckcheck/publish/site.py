"""The published site: each build's files in a new generation folder, swapped in with one rename.

`site/` is a real folder whose files are links: `site/NAME -> .current/NAME`, and `.current`
is a link to one folder in `.generations/` that holds a whole site (pages, assets, manifest,
index, search index). A build fills a new generation (the last one's files hard-linked, its own
renamed in) and then replaces `.current` with one rename: a reader and a killed build only ever
find one build's files, index, manifest and search together. The previous generation is kept
until the next build, for a reader still in it; what a killed build left (`.staging-*`, an
unfinished generation, a link for a deck it did not publish) is removed by the next one, under
the lock on `.deckcheck.lock` that builds take turns through.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.publish.index_page import index_html
from deckcheck.publish.manifest import MANIFEST, SiteEntry, manifest_json, read_manifest

LOCK = ".deckcheck.lock"
STAGING_PREFIX = ".staging-"
BUSY = ".busy"  # held locked by the build that fills a staging folder
GENERATIONS = ".generations"
CURRENT = ".current"
OWN = (LOCK, GENERATIONS, CURRENT)
LEFTOVER = re.compile(r"^\.(staging-|pagefind-|link-|current-|retired-|.+\.tmp$)")
STALE_STAGING_S = 60  # a staging folder that no build holds (yet) is a leftover after this long
ASSET_GRACE_S = 3600  # an asset no page uses any more is removed after this long
PAGES_USING_ASSETS = (".html", ".ipynb")  # published files that refer to assets by name
SEARCH_FOLDER = "pagefind"


def cannot_publish(folder: Path, error: OSError) -> str:
    """What stopped a publish, in one line: `cannot publish to site/: No space left on device`."""
    where = f" ({error.filename})" if error.filename and error.strerror else ""
    return f"cannot publish to {folder}/: {error.strerror or error}{where}"


class Site:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / LOCK).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder inside the site (the same file system) for one build's files, held
        locked while it is in use so that another build knows it is no leftover; removed afterwards."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.folder))
        try:
            with (staged / BUSY).open("w") as busy:
                fcntl.flock(busy, fcntl.LOCK_EX)
                yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def entries(self) -> dict[str, SiteEntry]:
        return read_manifest(self.tree())

    def tree(self) -> Path:
        """The folder that holds the site's files: the current generation, or (a site published
        before generations) the site folder itself."""
        current = self.folder / CURRENT
        return current.resolve() if current.is_symlink() else self.folder

    def publish(
        self,
        staged: Path,
        files: list[str],
        updates: list[SiteEntry],
        search: Callable[[Path, list[tuple[str, str]]], bool] | None = None,
        repository: str = "",
    ) -> None:
        """Publish the staged files as the site's next generation, with a new manifest, index and
        search index; call under lock().

        `search` indexes the published decks' HTML (file name, title) in the folder it is given and
        says whether that has a search index; `repository` ("owner/name" on GitHub) adds "Open in
        Colab" links."""
        self.clean()
        if not (self.folder / CURRENT).is_symlink() and (self.folder / MANIFEST).is_file():
            self._adopt()
        entries = self.entries()
        fresh = self._generation(self.tree())
        self._move_in(staged, files, fresh)
        for entry in updates:
            previous = entries.get(entry.deck)
            if entry.withheld and previous is not None:
                previous.withheld = entry.withheld
                entry = previous
            entries[entry.deck] = entry
        ordered = sorted(entries.values(), key=lambda e: e.stem)
        pages = [
            (e.files["html"], e.title)
            for e in ordered
            if e.files.get("html") and (fresh / e.files["html"]).is_file()
        ]
        searchable = search(fresh, pages) if search is not None else False
        write_atomic(fresh / MANIFEST, manifest_json(ordered))
        write_atomic(fresh / "index.html", index_html(ordered, search=searchable, repository=repository))
        _collect_assets(fresh, ordered)
        self._swap(fresh)
        self.clean()

    def clean(self) -> None:
        """Remove what killed builds left: temporary names, staging folders no build holds, links
        to files the current generation lacks, generations but the current one and the last."""
        for path in self.folder.iterdir():
            if path.is_symlink() and not path.exists() and os.readlink(path).startswith(f"{CURRENT}/"):
                path.unlink()
            elif LEFTOVER.match(path.name) and not _in_use(path):
                _remove(path)
        generations = self.folder / GENERATIONS
        if not generations.is_dir():
            return
        current = self.tree().name if (self.folder / CURRENT).is_symlink() else ""
        names = sorted(os.listdir(generations))
        keep = {current, *[name for name in names if name < current][-1:]} if current else set()
        for name in names:
            if name not in keep:
                _remove(generations / name)

    def _generation(self, seed: Path) -> Path:
        """A new generation folder holding the seed's files as hard links (nothing is written in
        place, so a generation never changes a file another one holds)."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"  # sorts by age
        fresh = self.folder / GENERATIONS / name
        fresh.mkdir(parents=True)
        for top in _published_names(seed):
            _link_tree(seed / top, fresh / top)
        return fresh

    def _move_in(self, staged: Path, files: list[str], fresh: Path) -> None:
        for name in sorted(files, key=lambda n: not n.startswith("assets/")):  # assets before pages
            target = fresh / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name.startswith("assets/") and target.exists():
                continue  # content-addressed: the same name holds the same bytes
            os.replace(staged / name, target)

    def _swap(self, fresh: Path) -> None:
        """Make `fresh` the site: a link for each of its names (before, so that none is missing
        after), then `.current` replaced by one rename."""
        for name in _published_names(fresh):
            self._link(name)
        self._point_current(fresh)

    def _adopt(self) -> None:
        """Turn a site published before generations into one: its files, as they are, become the
        first generation, and each name a link to it (`.current` first: the content is the same)."""
        first = self._generation(self.folder)
        self._point_current(first)
        for name in _published_names(first):
            self._link(name)

    def _point_current(self, generation: Path) -> None:
        swap = self.folder / f"{CURRENT}-{uuid.uuid4().hex[:8]}"
        swap.symlink_to(Path(GENERATIONS) / generation.name, target_is_directory=True)
        os.replace(swap, self.folder / CURRENT)

    def _link(self, name: str) -> None:
        """site/NAME → .current/NAME, in place of what was there (a file or folder of an older site)."""
        path = self.folder / name
        target = f"{CURRENT}/{name}"
        if path.is_symlink() and os.readlink(path) == target:
            return
        link = self.folder / f".link-{uuid.uuid4().hex[:8]}"
        link.symlink_to(target)
        if path.is_dir() and not path.is_symlink():  # a rename cannot replace a folder with a link
            retired = self.folder / f".retired-{uuid.uuid4().hex[:8]}"
            os.replace(path, retired)
            os.replace(link, path)
            _remove(retired)
        else:
            os.replace(link, path)


def _published_names(folder: Path) -> list[str]:
    """The names at the top of a site that readers see: its decks' files, assets, index, manifest, search."""
    entries = read_manifest(folder)
    names = {MANIFEST, "index.html", "assets", SEARCH_FOLDER}
    names.update(name.split("/")[0] for entry in entries.values() for name in entry.files.values())
    return sorted(name for name in names if not name.startswith(".") and (folder / name).exists())


def _link_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        target.mkdir()
        for child in source.iterdir():
            _link_tree(child, target / child.name)
        return
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _in_use(path: Path) -> bool:
    """Whether a staging folder is some build's: its lock is held, or it is too new to have one."""
    if not path.name.startswith(STAGING_PREFIX) or not path.is_dir():
        return False
    try:
        busy = os.open(path / BUSY, os.O_RDONLY)
    except OSError:  # not made yet, or never: a build that just made the folder, or a dead one
        return time.time() - path.stat().st_mtime < STALE_STAGING_S
    try:
        fcntl.flock(busy, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(busy)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _collect_assets(folder: Path, entries: list[SiteEntry]) -> None:
    """Remove assets that no published page mentions, once they are old enough."""
    assets = folder / "assets"
    if not assets.is_dir():
        return
    names = os.listdir(assets)
    used = {Path(entry.thumbnail).name for entry in entries if entry.thumbnail}
    for entry in entries:
        for file in entry.files.values():
            page = folder / file
            if file.endswith(PAGES_USING_ASSETS) and page.is_file():
                text = page.read_text("utf-8", "replace")
                used.update(name for name in names if name in text)
    now = time.time()
    for path in assets.rglob("*"):
        if path.is_file() and path.relative_to(assets).parts[0] not in used:
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > ASSET_GRACE_S:
                    path.unlink()
