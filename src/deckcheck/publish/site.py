"""The published site: staged files moved in by atomic renames, under a lock.

A reader sees each file whole, old or new, never half-written: every file is written in
a staging folder inside the site (same file system) and renamed into place. Assets are
content-addressed, so a published name never changes meaning. Two builds take turns
through an exclusive lock on `.deckcheck.lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.errors import UsageError
from deckcheck.publish.index_page import index_html
from deckcheck.publish.manifest import MANIFEST, SiteEntry, manifest_json, read_manifest

LOCK = ".deckcheck.lock"
STAGING_PREFIX = ".staging-"
ASSET_GRACE_S = 3600  # an asset no page uses any more is removed after this long
PAGES_USING_ASSETS = (".html", ".ipynb")  # published files that refer to assets by name


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
        """A fresh folder inside the site for one build's files; removed afterwards."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.folder))
        try:
            yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def entries(self) -> dict[str, SiteEntry]:
        return read_manifest(self.folder)

    def publish(
        self,
        staged: Path,
        files: list[str],
        updates: list[SiteEntry],
        search: Callable[[Path, list[tuple[str, str]]], bool] | None = None,
        repository: str = "",
    ) -> None:
        """Move the staged files into the site and rewrite the manifest and index; call under lock().

        `search` indexes the published decks' HTML (file name, title) and says whether the site has a
        search index; `repository` ("owner/name" on GitHub) adds "Open in Colab" links."""
        for name in sorted(files, key=lambda n: not n.startswith("assets/")):  # assets before pages
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name.startswith("assets/") and target.exists():
                continue  # content-addressed: the same name holds the same bytes
            os.replace(staged / name, target)
        entries = self.entries()
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
            if e.files.get("html") and (self.folder / e.files["html"]).is_file()
        ]
        searchable = search(self.folder, pages) if search is not None else False
        write_atomic(self.folder / MANIFEST, manifest_json(ordered))
        write_atomic(
            self.folder / "index.html", index_html(ordered, search=searchable, repository=repository)
        )
        self._collect_assets(ordered)

    def _collect_assets(self, entries: list[SiteEntry]) -> None:
        """Remove assets that no published page mentions, once they are old enough."""
        assets = self.folder / "assets"
        if not assets.is_dir():
            return
        names = os.listdir(assets)
        used = {Path(entry.thumbnail).name for entry in entries if entry.thumbnail}
        for entry in entries:
            for file in entry.files.values():
                page = self.folder / file
                if file.endswith(PAGES_USING_ASSETS) and page.is_file():
                    text = page.read_text("utf-8", "replace")
                    used.update(name for name in names if name in text)
        now = time.time()
        for path in assets.rglob("*"):
            if path.is_file() and path.relative_to(assets).parts[0] not in used:
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > ASSET_GRACE_S:
                        path.unlink()


def assemble(target: Path, sources: Sequence[Path]) -> list[str]:
    """One site from the sites that shards of a build published: every source's files and
    assets copied in, their manifests merged, the index rewritten. Returns the decks added."""
    site = Site(target)
    added: list[str] = []
    owners: dict[str, str] = {}  # stem → deck, so that two decks never share a file name
    for source in sources:
        if not (source / MANIFEST).is_file():
            raise UsageError(f"{source}: not a deckcheck site (no {MANIFEST})")
        entries = read_manifest(source)  # none for a shard that had no decks
        for entry in entries.values():
            if owners.setdefault(entry.stem, entry.deck) != entry.deck:
                raise UsageError(f"{source}: {entry.deck} and {owners[entry.stem]} share {entry.stem}")
        with site.staging() as staged:
            files = _copy_site(source, staged, entries.values())
            with site.lock():
                site.publish(staged, files, list(entries.values()))
        added += list(entries)
    return added


def _copy_site(source: Path, staged: Path, entries: Iterable[SiteEntry]) -> list[str]:
    """Copy a site's published files and assets into a staging folder; their names in the site."""
    names = [name for entry in entries for name in entry.files.values() if (source / name).is_file()]
    assets = source / "assets"
    if assets.is_dir():
        names += [str(path.relative_to(source)) for path in assets.rglob("*") if path.is_file()]
    for name in names:
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, staged / name)
    return names
