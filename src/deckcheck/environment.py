"""Where things live and what the kernels inherit: the cache folder, TORCH_HOME, threads."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import sysconfig
from pathlib import Path

from . import __version__

CACHE_ENV = "DECKCHECK_CACHE"
NETWORK_ENV = "DECKCHECK_NETWORK"  # "0" or "1": whether requires=["network"] blocks run
STANDINS_FILE = "standins.json"


PROJECT_MARKER = "marp.config.mjs"


def project_root(*starts: Path) -> Path | None:
    """The nearest folder at or above the current folder (or else a deck's) that holds the
    project's marp.config.mjs: where its cache, node_modules and themes live."""
    for start in (Path.cwd(), *starts):
        here = start.absolute()
        for folder in (here, *here.parents):
            if (folder / PROJECT_MARKER).is_file():
                return folder
    return None


def cache_root(*starts: Path) -> Path:
    """DECKCHECK_CACHE, else the project's .cache, else .cache in the current folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).absolute()
    return (project_root(*starts) or Path.cwd()).absolute() / ".cache"


def torch_home(cache: Path) -> Path:
    return Path(os.environ.get("TORCH_HOME") or cache / "torch").absolute()


def standins(cache: Path) -> dict[str, str]:
    """Stand-in data files (absolute real path → data set name) that fetch_data.py wrote."""
    home = torch_home(cache)
    try:
        listing = json.loads((home / STANDINS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for entry in listing.get("standins", []) if isinstance(listing, dict) else []:
        for name in entry.get("files", []):
            found[os.path.realpath(home / name)] = str(entry.get("name", name))
    return found


def kernel_env(jobs: int, cache: Path) -> dict[str, str]:
    """The caller's environment plus the contract's defaults, and one BLAS pool per core."""
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("TORCH_HOME", str(torch_home(cache)))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(name, threads)
    env["DECKCHECK_STANDINS"] = json.dumps(standins(cache))
    return env


def network_allowed() -> bool:
    """Whether blocks that need the network may run: DECKCHECK_NETWORK, else a quick probe."""
    forced = os.environ.get(NETWORK_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=2).close()
    except OSError:
        return False
    return True


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
