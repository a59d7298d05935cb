"""Inside the kernel: torchvision's dataset downloads served from the data cache.

A deck may download MNIST, FashionMNIST, KMNIST, EMNIST, CIFAR-10, CIFAR-100 or SVHN into
any folder (`datasets.MNIST(root="./data", download=True)`). When the data cache
(TORCH_HOME/datasets, filled by kernel/data_sets.py) holds that data set, its files are
linked into the folder the deck named before torchvision looks, so its download finds them
there: no network, no change to the deck. Linked, not copied, so that reading a stand-in is still noticed (the
kernel's audit hook sees the link's real path). With nothing cached, torchvision downloads
as usual. Imports nothing heavy; patches torchvision.datasets once it is imported.
"""

from __future__ import annotations

import contextlib
import os
import sys
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
    """Wrap the download() of the MNIST family, CIFAR and SVHN so they look in the cache first,
    and accept the cache's stand-ins where torchvision compares checksums."""
    cache = cache_folder()
    if cache is None:
        return
    for name in ("MNIST", "EMNIST"):  # FashionMNIST and KMNIST inherit MNIST's download()
        if hasattr(getattr(datasets, name, None), "download"):
            _patch_mnist(getattr(datasets, name), cache)
    if hasattr(getattr(datasets, "CIFAR10", None), "download"):  # CIFAR100 inherits it
        _patch_cifar(datasets.CIFAR10, cache, standins)
    if hasattr(getattr(datasets, "SVHN", None), "download"):
        _patch_svhn(datasets.SVHN, cache, standins)


def _patch_mnist(cls: Any, cache: Path) -> None:
    download = cls.download

    def mnist_download(self: Any) -> Any:
        if not self._check_exists():
            link_files(cache / type(self).__name__ / "raw", Path(self.raw_folder))
        return download(self)

    cls.download = mnist_download


def _patch_cifar(cls: Any, cache: Path, standins: set[str]) -> None:
    download_cifar, check, load_meta = cls.download, cls._check_integrity, cls._load_meta

    def cifar_download(self: Any) -> Any:
        if not check(self):
            link_files(cache / self.base_folder, Path(self.root) / self.base_folder)
        return download_cifar(self)

    def cifar_check(self: Any) -> bool:
        """True for the cache's stand-ins too, whose checksums are not the real ones."""
        files = [Path(self.root) / self.base_folder / name for name, _ in self.train_list + self.test_list]
        if files and all(f.exists() and _from_cache(f, standins) for f in files):
            return True
        return check(self)

    def cifar_load_meta(self: Any) -> None:
        """The class names of a stand-in (CIFAR-100's meta file is made, not the real one)."""
        if _from_cache(Path(self.root) / self.base_folder / self.meta["filename"], standins):
            self.meta = {**self.meta, "md5": None}
        load_meta(self)

    cls.download = cifar_download
    cls._check_integrity = cifar_check
    cls._load_meta = cifar_load_meta


def _patch_svhn(cls: Any, cache: Path, standins: set[str]) -> None:
    download_svhn, check = cls.download, cls._check_integrity

    def svhn_check(self: Any) -> bool:
        file = Path(self.root) / self.filename
        return (file.exists() and _from_cache(file, standins)) or check(self)

    def svhn_download(self: Any) -> Any:
        if not check(self):
            link_files(cache / "SVHN", Path(self.root))
        if svhn_check(self):  # its download_url() would fetch a stand-in again: checksums
            return None
        return download_svhn(self)

    cls.download = svhn_download
    cls._check_integrity = svhn_check


# Text files that courses download by URL, not through a library: the cache's copy (the real
# file, or a stand-in) is served for these URLs to urllib.request and requests. Shell lines
# (`!wget URL`) are other processes: they still go to the network.
TEXTS = {
    "karpathy/char-rnn/master/data/tinyshakespeare/input.txt": "text/tinyshakespeare/input.txt",
    "karpathy/ng-video-lecture/master/input.txt": "text/tinyshakespeare/input.txt",
}


def cached_text(url: object) -> Path | None:
    """The cache's copy of a known text file's URL, if the cache holds it."""
    home = os.environ.get("TORCH_HOME")
    if not home or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    name = next((file for tail, file in TEXTS.items() if url.split("?")[0].endswith(tail)), None)
    path = Path(home) / name if name else None
    return path if path is not None and path.is_file() else None


def patch_text_downloads(module: Any) -> None:
    """urllib.request.urlopen (and so urlretrieve) or requests' Session.request: a known text's
    URL answered from the cache."""
    if getattr(module, "_deckcheck_texts", False):  # a resumed kernel prepares again
        return
    module._deckcheck_texts = True
    if hasattr(module, "urlopen") and hasattr(module, "urlretrieve"):
        _patch_urlopen(module)
    elif hasattr(module, "Session"):
        _patch_requests(module.Session)


def _patch_urlopen(request: Any) -> None:
    import email.message
    import urllib.response

    urlopen = request.urlopen

    def cached_urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
        path = cached_text(getattr(url, "full_url", url))
        if path is None:
            return urlopen(url, *args, **kwargs)
        headers = email.message.Message()
        headers["Content-Type"] = "text/plain; charset=utf-8"
        headers["Content-Length"] = str(path.stat().st_size)
        answer = open(path, "rb")  # noqa: SIM115  # the response owns it: closed with the response
        return urllib.response.addinfourl(answer, headers, str(getattr(url, "full_url", url)), 200)

    request.urlopen = cached_urlopen


def _patch_requests(session: Any) -> None:
    send = session.request

    def cached_request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        path = cached_text(url)
        if path is None or str(method).upper() != "GET":
            return send(self, method, url, *args, **kwargs)
        response = sys.modules["requests.models"].Response()  # loaded with requests.sessions
        response.status_code, response.url, response.encoding = 200, str(url), "utf-8"
        response._content = path.read_bytes()
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response

    session.request = cached_request
