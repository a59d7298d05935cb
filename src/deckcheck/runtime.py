"""What the blocks run against: Python, the installed distributions, torch's version."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import sysconfig

from . import __version__


def installed_fingerprint() -> str:
    """A cheap hash of every installed distribution's name and version (their dist-info names)."""
    names: list[str] = []
    for key in ("purelib", "platlib"):
        folder = sysconfig.get_paths()[key]
        try:
            names.extend(
                entry for entry in os.listdir(folder) if entry.endswith((".dist-info", ".egg-link", ".pth"))
            )
        except OSError:
            continue
    return hashlib.sha256("\n".join(sorted(set(names))).encode()).hexdigest()


def runtime_fingerprint() -> dict[str, str]:
    return {
        "deckcheck": __version__,
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "packages": installed_fingerprint(),
    }


def versions() -> dict[str, str]:
    """torch and torchvision versions, read from metadata (no import of torch)."""
    from importlib import metadata

    found = {}
    for name in ("torch", "torchvision"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
