"""The data sets and weights that decks download, fetched into the data cache (TORCH_HOME).

For each: the real download with torchvision's own code, else (no network) a stand-in in
torchvision's own files, so that the deck's unchanged `datasets.X(root, download=True)`
loads it. `deckcheck data fetch` and the first check that needs one (check.checker) call
`fetch`; scripts/fetch_data.py too. Layout (torchvision's)::

    ROOT/datasets/{MNIST,FashionMNIST,KMNIST,EMNIST}/raw/*-ubyte
    ROOT/datasets/cifar-10-batches-py/, ROOT/datasets/cifar-100-python/
    ROOT/datasets/SVHN/{train,test}_32x32.mat
    ROOT/hub/checkpoints/resnet18-f37072fd.pth
    ROOT/standins.json          (only while something in the cache is a stand-in: each entry's
                                 name, files, and what the stand-in is)

A stand-in is listed in standins.json before its files are written (an interrupted run
never leaves one that passes for real data). MNIST and CIFAR-10 stand-ins have the real
data sets' sizes; the others about a tenth of them (fast to make; `len()` differs).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckcheck.atomic import write_atomic
from deckcheck.kernel import standin_data as draw
from deckcheck.kernel.data_cache import STANDINS_FILE

Say = Callable[[str], None]
RESNET_FILE = "hub/checkpoints/resnet18-f37072fd.pth"  # basename of ResNet18_Weights.DEFAULT.url
EMNIST_SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
EMNIST_MERGED = "cijklmopsuvwxyz"  # lower-case letters that bymerge and balanced file under upper case


@dataclass(frozen=True)
class DataSet:
    """One thing the cache holds: its files, how deck code names it, how to get it."""

    name: str  # as standins.json and the report name it
    pattern: str  # a regular expression that finds it in deck code
    files: tuple[str, ...]  # relative to the cache root
    download: Callable[[Path], None]  # raises when it cannot
    write_standin: Callable[[Path], None]
    verify: Callable[[Path], None]  # the stand-in loads through torchvision, offline
    standin: str  # what the stand-in is, for the warning

    def present(self, root: Path) -> bool:
        """All its files are there, and if they are a stand-in, today's (a cache made before
        the ResNet-18 stand-in was pre-trained holds random weights: they are made again)."""
        recorded = standin_descriptions(root).get(self.name, self.standin)
        return recorded == self.standin and all((root / name).is_file() for name in self.files)


# --------------------------------------------------------------------------- files


def _write(path: Path, data: bytes) -> None:
    umask = os.umask(0)
    os.umask(umask)
    write_atomic(path, data, mode=0o666 & ~umask)


def idx_bytes(array: Any) -> bytes:
    """A uint8 array in the IDX format of the MNIST family (big-endian header)."""
    import numpy as np

    assert array.dtype == np.uint8
    header = np.array([(0x08 << 8) | array.ndim, *array.shape], dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def read_standins(root: Path) -> dict[str, list[str]]:
    try:
        entries = json.loads((root / STANDINS_FILE).read_text("utf-8"))["standins"]
        return {entry["name"]: list(entry["files"]) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def standin_descriptions(root: Path) -> dict[str, str]:
    """What each listed stand-in is, as standins.json says ("" where it does not say)."""
    try:
        entries = json.loads((root / STANDINS_FILE).read_text("utf-8"))["standins"]
        return {entry["name"]: str(entry.get("standin", "")) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_standins(
    root: Path,
    standins: dict[str, list[str]],
    require_files: bool = True,
    made: DataSet | None = None,
    pending: DataSet | None = None,
) -> None:
    """ROOT/standins.json in the catalogue's order, or none when nothing is listed. With
    `require_files` only entries whose files all exist are kept. Each entry keeps what the file
    said its stand-in is: `made` (just written) says what it is now; `pending` (being written)
    says nothing, so that an interrupted run leaves it outdated (DataSet.present)."""
    order = [data.name for data in DATA_SETS]
    names = sorted(standins, key=lambda n: (order.index(n) if n in order else len(order), n))
    about = standin_descriptions(root) | ({made.name: made.standin} if made else {})
    about.pop(pending.name if pending else "", None)
    entries = [
        {"name": name, "files": standins[name]} | ({"standin": about[name]} if about.get(name) else {})
        for name in names
        if standins[name] and (not require_files or all((root / f).is_file() for f in standins[name]))
    ]
    if not entries:
        with contextlib.suppress(FileNotFoundError):
            (root / STANDINS_FILE).unlink()
        return
    _write(root / STANDINS_FILE, (json.dumps({"standins": entries}, indent=2) + "\n").encode())


@contextlib.contextmanager
def network_forbidden() -> Iterator[None]:
    """Every attempt to open a connection fails (while a stand-in is verified)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access is forbidden while verifying the cache")

    saved = (socket.socket.connect, socket.create_connection, socket.getaddrinfo)
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.create_connection, socket.getaddrinfo = saved  # type: ignore[method-assign]


@contextlib.contextmanager
def torch_home(root: Path) -> Iterator[None]:
    """torch.hub reads $TORCH_HOME on every call."""
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TORCH_HOME", None)
        else:
            os.environ["TORCH_HOME"] = old


@contextlib.contextmanager
def scratch_in(root: Path, name: str) -> Iterator[Path]:
    """A scratch folder under ROOT (a download lands there, then moves in place whole)."""
    (root / "datasets").mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root / "datasets", prefix=f".{name}-download-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _move(scratch: Path, root: Path, moves: Iterable[tuple[str, str]]) -> None:
    for source, target in moves:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / source, root / target)


# --------------------------------------------------------------------------- the MNIST family


def _mnist_files(folder: str, prefixes: Iterable[str] = ("train", "t10k")) -> tuple[str, ...]:
    return tuple(
        f"datasets/{folder}/raw/{prefix}-{kind}-ubyte"
        for prefix in prefixes
        for kind in ("images-idx3", "labels-idx1")
    )


def _download_mnist_like(cls: str) -> Callable[[Path], None]:
    def download(root: Path) -> None:
        from torchvision import datasets

        with scratch_in(root, cls) as scratch:
            for train in (True, False):
                getattr(datasets, cls)(root=scratch, train=train, download=True)
            files = _mnist_files(cls)
            _move(scratch, root, [(name.removeprefix("datasets/"), name) for name in files])

    return download


def _write_idx(root: Path, files: Sequence[str], arrays: Sequence[Any]) -> None:
    for name, array in zip(files, arrays, strict=True):
        _write(root / name, idx_bytes(array))


def write_mnist(root: Path) -> None:
    _write_idx(root, _mnist_files("MNIST"), draw.make_mnist_standin())


def _write_grey(
    folder: str, templates: Callable[[], Any], per_class: tuple[int, int], **how: Any
) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        import torch

        gen = torch.Generator().manual_seed(draw.SEED)
        shapes = templates()
        train = draw.grey_split(shapes, per_class[0], gen, **how)
        test = draw.grey_split(shapes, per_class[1], gen, **how)
        _write_idx(root, _mnist_files(folder), [*train, *test])

    return write


def _verify_mnist_like(cls: str, counts: tuple[int, int] | None = None) -> Callable[[Path], None]:
    def verify(root: Path) -> None:
        from torchvision import datasets

        with network_forbidden():
            for train, count in zip((True, False), counts or (0, 0), strict=True):
                loaded = getattr(datasets, cls)(root=root / "datasets", train=train, download=True)
                assert tuple(loaded.data.shape[1:]) == (28, 28) and (not count or len(loaded) == count)

    return verify


def emnist_classes(split: str) -> list[list[str]]:
    """Each class of an EMNIST split as the characters it holds (torchvision's class order)."""
    from string import ascii_lowercase, ascii_uppercase, digits

    if split in ("digits", "mnist"):
        return [[d] for d in digits]
    if split == "letters":
        return [[lower, lower.upper()] for lower in ascii_lowercase]
    merged = split in ("bymerge", "balanced")
    upper = [[c, c.lower()] if merged and c.lower() in EMNIST_MERGED else [c] for c in ascii_uppercase]
    lower = [[c] for c in ascii_lowercase if not (merged and c in EMNIST_MERGED)]
    return [[d] for d in digits] + upper + lower


EMNIST_FILES = tuple(
    name
    for split in EMNIST_SPLITS
    for name in _mnist_files("EMNIST", (f"emnist-{split}-train", f"emnist-{split}-test"))
)


def write_emnist(root: Path) -> None:
    """Every split, 100 training and 20 test pictures a class, stored transposed as the real
    files are (a picture shows upright only after `.transpose`)."""
    import torch

    gen = torch.Generator().manual_seed(draw.SEED)
    for split in EMNIST_SPLITS:
        shapes = draw.glyph_templates(emnist_classes(split))
        first = 1 if split == "letters" else 0  # letters: labels 1..26, class 0 is "N/A"
        arrays = []
        for per_class in (100, 20):
            images, labels = draw.grey_split(shapes, per_class, gen, first=first)
            arrays += [images.transpose(0, 2, 1).copy(), labels]
        _write_idx(root, _mnist_files("EMNIST", (f"emnist-{split}-train", f"emnist-{split}-test")), arrays)


def download_emnist(root: Path) -> None:
    from torchvision import datasets

    with scratch_in(root, "EMNIST") as scratch:
        datasets.EMNIST(root=scratch, split="mnist", download=True)
        _move(scratch, root, [(name.removeprefix("datasets/"), name) for name in EMNIST_FILES])


def verify_emnist(root: Path) -> None:
    from torchvision import datasets

    with network_forbidden():
        for split in EMNIST_SPLITS:
            loaded = datasets.EMNIST(root=root / "datasets", split=split, train=False, download=True)
            assert len(loaded) == 20 * len(emnist_classes(split))


# --------------------------------------------------------------------------- CIFAR

CIFAR10_DIR = "datasets/cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = tuple(f"{CIFAR10_DIR}/{name}" for name in (*CIFAR10_TRAIN, "test_batch", "batches.meta"))
CIFAR100_DIR = "datasets/cifar-100-python"
CIFAR100_FILES = tuple(f"{CIFAR100_DIR}/{name}" for name in ("train", "test", "meta"))


def cifar10_meta_bytes() -> bytes:
    """batches.meta exactly as in the real archive (Python 2 pickle, protocol 2)."""

    def short_string(text: str) -> bytes:
        return b"U" + bytes([len(text)]) + text.encode()

    memo = iter(range(2, 20))

    def put() -> bytes:
        return b"q" + bytes([next(memo)])

    head = b"\x80\x02}q\x01(" + short_string("num_cases_per_batch") + put() + b"M\x10'"
    head += short_string("label_names") + put() + b"]" + put() + b"("
    names = b"".join(short_string(name) + put() for name in draw.CIFAR_CLASSES)
    return head + names + b"e" + short_string("num_vis") + put() + b"M\x00\x0cu."


def write_cifar10(root: Path) -> None:
    import torch

    gen = torch.Generator().manual_seed(draw.SEED)
    looks = draw.cifar10_looks()
    batches = [(name, f"training batch {i} of 5") for i, name in enumerate(CIFAR10_TRAIN, 1)]
    for name, label in [*batches, ("test_batch", "testing batch 1 of 1")]:
        data, labels = draw.make_cifar_split(looks, 1000, gen)
        files = [f"standin_{name}_{i:05d}.png" for i in range(len(labels))]
        entry = {"batch_label": label, "labels": labels, "data": data, "filenames": files}
        _write(root / CIFAR10_DIR / name, pickle.dumps(entry, protocol=4))
    _write(root / CIFAR10_DIR / "batches.meta", cifar10_meta_bytes())


def write_cifar100(root: Path) -> None:
    """50 training and 10 test pictures a class (the real set: 500 and 100)."""
    import torch

    gen = torch.Generator().manual_seed(draw.SEED)
    looks = draw.cifar100_looks()
    coarse_of = {fine: draw.CIFAR100_COARSE.index(coarse)
                 for coarse, fines in draw.CIFAR100_SUPERCLASSES.items() for fine in fines}  # fmt: skip
    for name, per_class in (("train", 50), ("test", 10)):
        data, labels = draw.make_cifar_split(looks, per_class, gen)
        entry = {
            "filenames": [f"standin_{name}_{i:05d}.png" for i in range(len(labels))],
            "batch_label": f"{'training' if name == 'train' else 'testing'} batch 1 of 1",
            "fine_labels": labels,
            "coarse_labels": [coarse_of[draw.CIFAR100_CLASSES[label]] for label in labels],
            "data": data,
        }
        _write(root / CIFAR100_DIR / name, pickle.dumps(entry, protocol=4))
    meta = {"fine_label_names": list(draw.CIFAR100_CLASSES), "coarse_label_names": list(draw.CIFAR100_COARSE)}
    _write(root / CIFAR100_DIR / "meta", pickle.dumps(meta, protocol=2))


def _download_cifar(cls: str, folder: str) -> Callable[[Path], None]:
    def download(root: Path) -> None:
        from torchvision import datasets

        with scratch_in(root, cls) as scratch:
            getattr(datasets, cls)(root=scratch, train=True, download=True)
            shutil.rmtree(root / folder, ignore_errors=True)
            _move(scratch, root, [(Path(folder).name, folder)])

    return download


def _unchecked(cls: Any) -> Any:
    """torchvision's class with its checksums waived, as deckcheck's kernels waive them for
    the files listed as stand-ins."""
    attributes: dict[str, Any] = {
        "train_list": [[name, None] for name, _ in cls.train_list],
        "test_list": [[name, None] for name, _ in cls.test_list],
        "meta": {**cls.meta, "md5": None},
    }
    return type(f"Unchecked{cls.__name__}", (cls,), attributes)


def verify_cifar10(root: Path) -> None:
    from torchvision import datasets

    assert hashlib.md5(cifar10_meta_bytes()).hexdigest() == datasets.CIFAR10.meta["md5"]
    with network_forbidden():
        loaded = _unchecked(datasets.CIFAR10)(root=root / "datasets", train=False)
        assert len(loaded) == 10_000 and tuple(loaded.classes) == draw.CIFAR_CLASSES


def verify_cifar100(root: Path) -> None:
    from torchvision import datasets

    with network_forbidden():
        loaded = _unchecked(datasets.CIFAR100)(root=root / "datasets", train=False)
        assert len(loaded) == 1000 and tuple(loaded.classes) == draw.CIFAR100_CLASSES


# --------------------------------------------------------------------------- SVHN

SVHN_DIR = "datasets/SVHN"
SVHN_FILES = (f"{SVHN_DIR}/train_32x32.mat", f"{SVHN_DIR}/test_32x32.mat")


def write_svhn(root: Path) -> None:
    """733 and 260 pictures a digit (the real set: about ten times as many)."""
    import scipy.io
    import torch

    gen = torch.Generator().manual_seed(draw.SEED)
    for name, per_class in zip(SVHN_FILES, (733, 260), strict=True):
        images, labels = draw.svhn_split(per_class, gen)
        buffer = io.BytesIO()
        scipy.io.savemat(buffer, {"X": images, "y": labels})
        _write(root / name, buffer.getvalue())


def download_svhn(root: Path) -> None:
    from torchvision import datasets

    with scratch_in(root, "SVHN") as scratch:
        for split in ("train", "test"):
            datasets.SVHN(root=scratch, split=split, download=True)
        _move(scratch, root, [(Path(name).name, name) for name in SVHN_FILES])


def verify_svhn(root: Path) -> None:
    from torchvision import datasets

    unchecked = type("UncheckedSVHN", (datasets.SVHN,), {"_check_integrity": lambda self: True})
    with network_forbidden():
        loaded = unchecked(root=root / SVHN_DIR, split="test")
        assert len(loaded) == 2600 and loaded.data.shape[1:] == (3, 32, 32)
        assert set(loaded.labels.tolist()) == set(range(10))


# --------------------------------------------------------------------------- Tiny Shakespeare

SHAKESPEARE_FILE = "text/tinyshakespeare/input.txt"
SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_LENGTH = 1_115_394  # characters of the real file


def download_shakespeare(root: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(SHAKESPEARE_URL, timeout=10) as answer:  # a fixed https URL
        text = answer.read()
    if len(text.decode("utf-8")) != SHAKESPEARE_LENGTH:
        raise ValueError(f"{SHAKESPEARE_URL} has {len(text)} bytes, not the tiny Shakespeare file")
    _write(root / SHAKESPEARE_FILE, text)


def write_shakespeare(root: Path) -> None:
    """A tenth of the real length, with exactly its 65 characters (a char-level model's
    vocabulary is the same)."""
    _write(root / SHAKESPEARE_FILE, draw.shakespeare_text(SHAKESPEARE_LENGTH // 10).encode())


def verify_shakespeare(root: Path) -> None:
    text = (root / SHAKESPEARE_FILE).read_text("utf-8")
    assert sorted(set(text)) == sorted(draw.SHAKESPEARE_CHARS) and len(text) >= SHAKESPEARE_LENGTH // 10


# --------------------------------------------------------------------------- ResNet-18


def resnet_file(root: Path) -> Path:
    return root / RESNET_FILE


def download_resnet(root: Path) -> None:
    """Into a scratch folder, then in place: torch.hub loads a file already there unchecked,
    so a stand-in in place would pass for a download."""
    from torchvision import models

    (root / "hub").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root / "hub", prefix=".resnet-download-"))
    try:
        with torch_home(scratch):
            models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
        resnet_file(root).parent.mkdir(parents=True, exist_ok=True)
        os.replace(resnet_file(scratch), resnet_file(root))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_resnet(root: Path) -> None:
    """Random weights would teach deck 05 that pretraining does not help: pre-trained ones
    (standin_data.PRETRAINING, about a minute and a half on two cores), on every core."""
    import torch

    threads = torch.get_num_threads()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(cores or 1)
    try:
        state = draw.pretrained_resnet18(draw.PRETRAINING)
    finally:
        torch.set_num_threads(threads)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    _write(resnet_file(root), buffer.getvalue())


def verify_resnet(root: Path) -> None:
    import torch
    from torchvision import models

    saved = torch.load(resnet_file(root), weights_only=True)
    with network_forbidden(), torch_home(root):
        model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    assert torch.equal(model.conv1.weight, saved["conv1.weight"])


# --------------------------------------------------------------------------- the catalogue


def _mnist_like(name: str, standin: str, templates: Callable[[], Any], **how: Any) -> DataSet:
    """FashionMNIST, KMNIST: 600 training and 100 test pictures a class (a tenth of the real)."""
    return DataSet(
        name, rf"\b{name}\b", _mnist_files(name), _download_mnist_like(name),
        _write_grey(name, templates, (600, 100), **how), _verify_mnist_like(name, (6000, 1000)),
        f"{standin}, a tenth of its size",
    )  # fmt: skip


DATA_SETS = (
    DataSet(
        "MNIST", r"\bMNIST\b", _mnist_files("MNIST"), _download_mnist_like("MNIST"), write_mnist,
        _verify_mnist_like("MNIST", (60_000, 10_000)), "digits redrawn from scikit-learn's",
    ),
    DataSet(
        "CIFAR-10", r"\bCIFAR10\b", CIFAR10_FILES, _download_cifar("CIFAR10", CIFAR10_DIR), write_cifar10,
        verify_cifar10, "drawn silhouettes of its ten classes",
    ),
    DataSet(
        "ResNet-18 weights", r"\bResNet18_Weights\b|\bresnet18\([^)]*pretrained", (RESNET_FILE,),
        download_resnet, write_resnet, verify_resnet, draw.PRETRAINING.describe(),
    ),
    _mnist_like(
        "FashionMNIST", "drawn clothes of its ten classes", draw.fashion_templates, box=26, fill=True
    ),
    _mnist_like("KMNIST", "a made-up brush figure per class", lambda: draw.stroke_templates(10)),
    DataSet(
        "EMNIST", r"\bEMNIST\b", EMNIST_FILES, download_emnist, write_emnist, verify_emnist,
        "letters and digits in a font, 100 training pictures a class",
    ),
    DataSet(
        "CIFAR-100", r"\bCIFAR100\b", CIFAR100_FILES, _download_cifar("CIFAR100", CIFAR100_DIR),
        write_cifar100, verify_cifar100, "made-up silhouettes of its hundred classes, a tenth of its size",
    ),
    DataSet(
        "SVHN", r"\bSVHN\b", SVHN_FILES, download_svhn, write_svhn, verify_svhn,
        "house numbers in a font, a tenth of its size (no extra split)",
    ),
    DataSet(
        "Tiny Shakespeare", r"tinyshakespeare/input\.txt|ng-video-lecture/master/input\.txt",
        (SHAKESPEARE_FILE,), download_shakespeare, write_shakespeare, verify_shakespeare,
        "made-up dialogue with its 65 characters, a tenth of its length",
    ),
)  # fmt: skip
ALIASES = {re.sub(r"[^a-z0-9]", "", data.name.lower()): data for data in DATA_SETS} | {
    "resnet18": DATA_SETS[2]
}


def by_name(name: str) -> DataSet | None:
    """A data set by any spelling of its name: CIFAR-100, cifar100, ResNet-18 weights, resnet18."""
    return ALIASES.get(re.sub(r"[^a-z0-9]", "", name.lower()).removesuffix("weights"))


def named_in(code: Iterable[str]) -> list[DataSet]:
    """The data sets that this code loads (by their torchvision names), in catalogue order."""
    text = "\n".join(code)
    return [data for data in DATA_SETS if re.search(data.pattern, text)]


def fetch(root: Path, wanted: Sequence[DataSet], *, network: bool, retry: bool = False, say: Say = print,
          warn: Say = print) -> bool:  # fmt: skip
    """Whatever of `wanted` the cache lacks (with `retry`: also what is a stand-in now): the real
    download when `network`, else a stand-in. False when one could not be had at all."""
    standins = read_standins(root)
    needed = [data for data in wanted if not data.present(root) or (retry and data.name in standins)]
    if not needed:
        return True
    root.mkdir(parents=True, exist_ok=True)
    complete = True
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        for data in needed:
            complete = _fetch_one(root, data, standins, network, say, warn) and complete
    finally:
        socket.setdefaulttimeout(old_timeout)
    write_standins(root, standins)  # not when interrupted: a half-written stand-in stays listed
    return complete


def _fetch_one(
    root: Path, data: DataSet, standins: dict[str, list[str]], network: bool, say: Say, warn: Say
) -> bool:
    why = "no network"
    if network:
        try:
            data.download(root)
        except Exception as error:  # no network after all, a mirror down, a bad checksum, ...
            why = f"download failed: {describe(error)}"
        else:
            standins.pop(data.name, None)
            say(f"{data.name} downloaded to {root}")
            return True
    if data.present(root) and data.name in standins:
        warn(f"{data.name}: keeping the stand-in ({why}): {data.standin}")
        return True
    standins[data.name] = list(data.files)
    write_standins(root, standins, require_files=False, pending=data)  # listed before it is written
    try:
        with _one_thread():
            data.write_standin(root)
            data.verify(root)
    except Exception as error:  # e.g. a torchvision whose files differ: the deck will say
        warn(f"{data.name}: could not make a stand-in: {describe(error)}")
        return False
    write_standins(root, standins, require_files=False, made=data)
    warn(f"{data.name} replaced by a stand-in ({why}): {data.standin}")
    return True


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Drawing is many small tensor operations: one thread draws them fastest on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def describe(error: BaseException) -> str:
    """One line for an exception: its type, first and last line of its message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [""]
    text = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return f"{type(error).__name__}: {text}"


def warn_line(message: str) -> None:
    import sys

    print(f"WARNING: {message}", file=sys.stderr, flush=True)


def fetch_and_report(root: Path, wanted: Sequence[DataSet], retry: bool = False) -> int:
    """`deckcheck data fetch` and scripts/fetch_data.py: fetch, say what the cache holds, and
    the exit status (1 when something could be neither downloaded nor made)."""
    from deckcheck.kernel.env import network_allowed

    standins = read_standins(root)
    if all(data.present(root) and not (retry and data.name in standins) for data in wanted):
        for data in wanted:
            if data.name in standins:
                warn_line(f"the cache holds a stand-in for {data.name}: {data.standin}")
        print(f"data cache {root} is complete; nothing to do")
        return 0
    return 0 if fetch(root, wanted, network=network_allowed(), retry=retry, warn=warn_line) else 1
