"""Inside the kernel: torchvision's dataset downloads served from the data cache.

A deck may download MNIST, FashionMNIST, KMNIST, CIFAR-10 or CIFAR-100 into any folder
(`datasets.MNIST(root="./data", download=True)`). When the data cache (TORCH_HOME/datasets,
filled by scripts/fetch_data.py) holds that data set, its files are linked into the folder
the deck named before torchvision looks, so its download finds them there: no network, no
change to the deck. Linked, not copied, so that reading a stand-in is still noticed (the
kernel's audit hook sees the link's real path). With nothing cached, torchvision downloads
as usual. Imports nothing heavy; patches torchvision.datasets once it is imported.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any


def serve_from_cache(standins: set[str]) -> None:
    """Patch torchvision.datasets once it is imported (or now, if it is): for a kernel that is
    not deckcheck's, given the data a check had (an IPython startup file can call this)."""
    from deckcheck.in_kernel.import_hook import after_import

    after_import("torchvision.datasets", lambda module: patch(module, standins))


def cache_folder() -> Path | None:
    home = os.environ.get("TORCH_HOME")
    return Path(home) / "datasets" if home else None


def link_files(source: Path, target: Path) -> bool:
    """Link every file of `source` that `target` lacks; whether `source` had any files."""
    try:
        files = [entry for entry in source.iterdir() if entry.is_file()]
    except OSError:
        return False
    if not files or source.resolve() == target.resolve():
        return bool(files)
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        destination = target / file.name
        if not destination.exists():
            with contextlib.suppress(OSError):
                destination.unlink(missing_ok=True)  # a dangling link from an emptied cache
                destination.symlink_to(file.resolve())
    return True


def _from_cache(file: Path, standins: set[str]) -> bool:
    return os.path.realpath(file) in standins


def patch(datasets: Any, standins: set[str]) -> None:
    """Wrap the download() of the MNIST family and of CIFAR so they look in the cache first."""
    cache = cache_folder()
    if cache is None:
        return
    mnist, cifar = getattr(datasets, "MNIST", None), getattr(datasets, "CIFAR10", None)
    if mnist is not None and hasattr(mnist, "download"):
        download = mnist.download

        def mnist_download(self: Any) -> Any:
            name = type(self).__name__
            if not self._check_exists():
                link_files(cache / name / "raw", Path(self.raw_folder))
            return download(self)

        mnist.download = mnist_download
    if cifar is not None and hasattr(cifar, "download"):
        download_cifar, check = cifar.download, cifar._check_integrity

        def cifar_download(self: Any) -> Any:
            if not check(self):
                link_files(cache / self.base_folder, Path(self.root) / self.base_folder)
            return download_cifar(self)

        def cifar_check(self: Any) -> bool:
            """True for the cache's stand-ins too, whose checksums are not the real ones."""
            files = [
                Path(self.root) / self.base_folder / name for name, _ in self.train_list + self.test_list
            ]
            if files and all(f.exists() and _from_cache(f, standins) for f in files):
                return True
            return check(self)

        cifar.download = cifar_download
        cifar._check_integrity = cifar_check
