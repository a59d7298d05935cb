"""What the blocks run against: Python, the installed distributions, torch's version."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import sysconfig
from collections.abc import Iterable, Sequence

from deckcheck import __version__


def site_dirs() -> tuple[str, ...]:
    """Where this interpreter's distributions are installed."""
    paths = sysconfig.get_paths()
    return tuple(dict.fromkeys((paths["purelib"], paths["platlib"])))


def installed_fingerprint(folders: Sequence[str] = ()) -> str:
    """A cheap hash of every installed distribution's name and version (their dist-info names),
    in these folders (by default this interpreter's), the first folder first."""
    names: list[str] = []
    for number, folder in enumerate(folders or site_dirs()):
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        marked = f"{number}:" if number else ""  # the same distribution first or second is not the same
        names.extend(
            marked + entry for entry in entries if entry.endswith((".dist-info", ".egg-link", ".pth"))
        )
    return hashlib.sha256("\n".join(sorted(set(names))).encode()).hexdigest()


def runtime_fingerprint(folders: Sequence[str] = ()) -> dict[str, str]:
    return {
        "deckcheck": __version__,
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "packages": installed_fingerprint(folders),
    }


def versions(names: Iterable[str] = (), folders: Sequence[str] = ()) -> dict[str, str]:
    """torch's, torchvision's and these distributions' versions, read from metadata (no import
    of torch), in these folders (by default this interpreter's path), the first found first."""
    from importlib import metadata

    found = {}
    for name in dict.fromkeys(("torch", "torchvision", *names)):
        dist = next(iter(metadata.distributions(name=name, path=list(folders) or sys.path)), None)
        found[name] = dist.version if dist is not None else "not installed"
    return found
