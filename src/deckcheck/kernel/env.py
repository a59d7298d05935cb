"""What a deck's kernel inherits: the caller's environment plus the contract's defaults."""

from __future__ import annotations

import json
import os
from pathlib import Path

from deckcheck import env_names
from deckcheck.kernel.data_cache import standins, torch_home


def kernel_env(jobs: int, cache: Path) -> dict[str, str]:
    """The caller's environment, MPLBACKEND and TORCH_HOME when unset, one BLAS pool per core."""
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("TORCH_HOME", str(torch_home(cache)))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    for name in env_names.THREADS:
        env.setdefault(name, threads)
    env[env_names.STANDINS] = json.dumps(standins(cache))
    return env


def network_allowed() -> bool:
    """Whether blocks that need the network may run: DECKCHECK_NETWORK, else a quick probe."""
    forced = os.environ.get(env_names.NETWORK)
    if forced in ("0", "1"):
        return forced == "1"
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=2).close()
    except OSError:
        return False
    return True


def default_memory_limit(jobs: int) -> int:
    """Three quarters of the machine's memory, shared between the kernels that run at once."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
    return int(total * 0.75 / max(1, jobs))
