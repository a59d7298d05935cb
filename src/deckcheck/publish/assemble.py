"""One site from the sites that shards of a build published (`deckcheck assemble`).

A shard's site is input from another machine: every name in its manifest must be a plain file
name inside the shard (no absolute path, no `..`, no hidden part, no URL scheme), every file a
regular file, not a link. All of it is checked, and no deck may take a name another deck has,
before anything is copied; then the merge is published as one generation of the target site,
with its search index, as a build publishes."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckcheck.errors import UsageError
from deckcheck.publish.manifest import MANIFEST, SiteEntry
from deckcheck.publish.search import FOLDER, SearchError, build_search
from deckcheck.publish.site import CURRENT, GENERATIONS, Site
from deckcheck.read.project import project_root
from deckcheck.read.settings import project_settings

URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f\\?#]")


@dataclass(frozen=True)
class Shard:
    """A shard's site, checked: where its files are, its decks, the files to copy (names in the site)."""

    folder: Path
    tree: Path
    entries: dict[str, SiteEntry]
    files: list[str]


def assemble(target: Path, sources: Sequence[Path], say: Callable[[str], None]) -> list[str]:
    """Merge the shards' sites into `target`; the decks added. UsageError, with nothing written,
    when a shard is not a deckcheck site, names a file outside itself, or clashes with a deck."""
    shards = [_shard(source) for source in sources]
    site = Site(target)
    with site.lock():
        _check_owners(target, site.entries(), shards)
        with site.staging() as staged:
            for shard in shards:
                for name in shard.files:
                    _copy(shard.tree, name, staged)
            files = [name for shard in shards for name in shard.files]
            updates = [entry for shard in shards for entry in shard.entries.values()]
            site.publish(staged, files, updates, _search(say), project_settings(Path.cwd()).repository)
    return [deck for shard in shards for deck in shard.entries]


def _search(say: Callable[[str], None]) -> Callable[[Path, list[tuple[str, str]]], bool]:
    root = project_root() or Path.cwd()

    def search(folder: Path, pages: list[tuple[str, str]]) -> bool:
        if pages:
            try:
                build_search(root, folder, pages)
            except (SearchError, OSError) as error:
                say(f"deckcheck: search index not updated: {error}")
        return (folder / FOLDER / "pagefind-ui.js").is_file()

    return search


def _shard(source: Path) -> Shard:
    tree = _tree(source)
    entries = _entries(source, tree)
    files: list[str] = []
    for entry in entries.values():
        _check_name(source, entry.stem, f"{entry.deck}'s stem")
        names = [*entry.files.values(), *([entry.thumbnail] if entry.thumbnail else [])]
        for name in names:
            _check_name(source, name, entry.deck)
            if _regular_file(source, tree, name):
                files.append(name)
        if entry.thumbnail and not entry.thumbnail.startswith("assets/"):
            raise UsageError(f"{source}: {entry.deck}'s thumbnail {entry.thumbnail!r} is not in assets/")
    files += [name for name in _assets(source, tree) if name not in files]
    return Shard(source, tree, entries, files)


def _tree(source: Path) -> Path:
    """Where a shard's files are: its current generation, or the folder itself."""
    current = source / CURRENT
    if not current.is_symlink():
        return source
    target = Path(os.readlink(current))
    if target.parent != Path(GENERATIONS) or not _plain(target.name) or not (source / target).is_dir():
        raise UsageError(f"{current}: a link to {target}, not to one of its {GENERATIONS}")
    return source / target


def _entries(source: Path, tree: Path) -> dict[str, SiteEntry]:
    manifest = tree / MANIFEST
    if not manifest.is_file():
        raise UsageError(f"{source}: not a deckcheck site (no {MANIFEST})")
    try:
        decks = json.loads(manifest.read_text("utf-8"))["decks"]
        entries = [SiteEntry.from_dict(item) for item in decks]
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{source / MANIFEST}: not a deckcheck manifest ({error})") from None
    return {entry.deck: entry for entry in entries}


def _plain(part: str) -> bool:
    return bool(part) and not part.startswith(".") and not NOT_IN_A_NAME.search(part)


def _check_name(source: Path, name: object, owner: str) -> None:
    """A name in a shard's manifest: a plain relative path inside the shard, and no URL."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"{source / MANIFEST}: {owner}: {name!r} is not a file name")
    if name.startswith("/") or URL_SCHEME.match(name):
        raise UsageError(f"{source / MANIFEST}: {owner}: {name!r} is not a file name inside the site")
    if not all(_plain(part) for part in name.split("/")):
        raise UsageError(
            f"{source / MANIFEST}: {owner}: {name!r} is not a plain file name inside the site"
            " (no '..', no hidden part, no \\ ? # or control characters)"
        )


def _regular_file(source: Path, tree: Path, name: str) -> bool:
    """Whether the shard has the file; a link or anything but a regular file is refused."""
    path = tree
    for part in name.split("/"):
        path = path / part
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return False  # listed, never written (a withheld deck's): nothing to copy
        if stat.S_ISLNK(mode):
            raise UsageError(f"{source}: {name} is a symbolic link; a shard's files must be plain files")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{source}: {name} is not a regular file")
    return True


def _assets(source: Path, tree: Path) -> list[str]:
    names = []
    for folder, dirs, files in os.walk(tree / "assets"):
        for child in [*dirs, *files]:
            name = str((Path(folder) / child).relative_to(tree))
            _check_name(source, name, "assets/")
            if child in files and _regular_file(source, tree, name):
                names.append(name)
            elif (Path(folder) / child).is_symlink():
                raise UsageError(f"{source}: {name} is a symbolic link; a shard's files must be plain files")
    return sorted(names)


def _check_owners(target: Path, existing: dict[str, SiteEntry], shards: Sequence[Shard]) -> None:
    """No two decks share a stem or a file, among the shards' decks and the target's others."""
    incoming = {deck for shard in shards for deck in shard.entries}
    owners = {
        key: (deck, target)
        for deck, entry in existing.items()
        if deck not in incoming
        for key in _keys(entry)
    }
    for shard in shards:
        for deck, entry in shard.entries.items():
            for key in _keys(entry):
                owner, where = owners.setdefault(key, (deck, shard.folder))
                if owner != deck:
                    raise UsageError(f"{key} is {owner}'s (in {where}) and {deck}'s (in {shard.folder})")


def _keys(entry: SiteEntry) -> list[str]:
    """What a deck owns in a site: its stem and its files' names."""
    return [entry.stem, *entry.files.values()]


def _copy(tree: Path, name: str, staged: Path) -> None:
    """Copy one checked file; O_NOFOLLOW: a file swapped for a link since the check is not read."""
    (staged / name).parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(tree / name, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(handle, "rb") as source, (staged / name).open("wb") as copy:
        shutil.copyfileobj(source, copy)
