"""The site's manifest: one SiteEntry per deck, what was last published for it and how it stands."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass
class SiteEntry:
    """One deck's row in the site."""

    deck: str
    stem: str
    title: str
    slides: int = 0
    files: dict[str, str] = field(default_factory=dict)  # format name → file in the site
    passed: int = 0
    skipped: int = 0
    checked_at: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    standins: list[str] = field(default_factory=list)
    withheld: str = ""  # why the latest build did not publish it; empty when it did
    passed_on: list[str] = field(default_factory=list)  # versions it passed `deckcheck matrix` on
    description: str = ""  # the front matter's `description:`
    thumbnail: str = ""  # a picture of its title slide, in the site's assets/

    @classmethod
    def from_dict(cls, data: dict) -> SiteEntry:
        data = dict(data)
        files = dict(data.pop("files", None) or {})
        for name in ("html", "pdf"):  # manifests written before the format table
            if data.get(name):
                files.setdefault(name, data[name])
            data.pop(name, None)
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known}, files=files)


def read_manifest(folder: Path) -> dict[str, SiteEntry]:
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
        return {item["deck"]: SiteEntry.from_dict(item) for item in data.get("decks", [])}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def manifest_json(entries: list[SiteEntry]) -> str:
    return json.dumps({"decks": [asdict(entry) for entry in entries]}, indent=2)
