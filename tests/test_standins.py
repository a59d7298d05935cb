"""scripts/fetch_data.py without a network: the stand-ins load through unchanged torchvision.

The script runs in-process into a temporary cache root while every way of opening a
connection raises, so these tests never touch the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import shutil
import socket
import sys
import time
import types
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("sklearn")

from torchvision import datasets, models  # noqa: E402

from deckcheck.in_kernel import offline_data  # noqa: E402

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fetch_data.py"
MNIST_FILES = [
    "datasets/MNIST/raw/train-images-idx3-ubyte",
    "datasets/MNIST/raw/train-labels-idx1-ubyte",
    "datasets/MNIST/raw/t10k-images-idx3-ubyte",
    "datasets/MNIST/raw/t10k-labels-idx1-ubyte",
]
CIFAR_FILES = [
    f"datasets/cifar-10-batches-py/{name}"
    for name in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
RESNET_FILE = "hub/checkpoints/" + os.path.basename(models.ResNet18_Weights.DEFAULT.url)
EXPECTED_JSON = {
    "standins": [
        {"name": "MNIST", "files": MNIST_FILES},
        {"name": "CIFAR-10", "files": CIFAR_FILES},
        {"name": "ResNet-18 weights", "files": [RESNET_FILE]},
    ]
}


class NetworkAttempt(OSError):
    pass


@contextlib.contextmanager
def no_network(attempts: list | None = None):
    """Make every way of reaching the network raise (and record the attempt)."""

    def refuse(*args, **kwargs):
        if attempts is not None:
            attempts.append(args[:2])
        raise NetworkAttempt("network disabled in tests")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield


def load_script():
    spec = importlib.util.spec_from_file_location("fetch_data_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def run(argv, env_torch_home=None):
    """Run the script's main() offline; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        if env_torch_home is None:
            mp.delenv("TORCH_HOME", raising=False)
        else:
            mp.setenv("TORCH_HOME", str(env_torch_home))
        with no_network(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = load_script().main(argv)
    return code, out.getvalue(), err.getvalue()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache") / "torch"
    start = time.monotonic()
    code, out, err = run(["--root", str(root)])
    return {"root": root, "code": code, "out": out, "err": err, "seconds": time.monotonic() - start}


def test_first_run_succeeds_and_warns(cache):
    assert cache["code"] == 0
    warnings = [line for line in cache["err"].splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 3, cache["err"]
    assert "MNIST" in warnings[0] and "scikit-learn" in warnings[0]
    assert "CIFAR-10" in warnings[1]
    assert "ResNet-18" in warnings[2]


def test_only_complete_files_are_left(cache):
    files = set(snapshot(cache["root"]))
    assert files == {*MNIST_FILES, *CIFAR_FILES, RESNET_FILE, "standins.json"}
    sizes = {f: (cache["root"] / f).stat().st_size for f in MNIST_FILES}
    assert sizes == {
        MNIST_FILES[0]: 16 + 60_000 * 28 * 28,
        MNIST_FILES[1]: 8 + 60_000,
        MNIST_FILES[2]: 16 + 10_000 * 28 * 28,
        MNIST_FILES[3]: 8 + 10_000,
    }


@pytest.mark.parametrize(("train", "n"), [(True, 60_000), (False, 10_000)])
def test_mnist_loads_through_torchvision(cache, train, n):
    attempts = []
    with no_network(attempts):
        ds = datasets.MNIST(root=cache["root"] / "datasets", train=train, download=True)
    assert attempts == []
    assert len(ds) == n
    assert ds.data.dtype == torch.uint8 and tuple(ds.data.shape) == (n, 28, 28)
    assert set(ds.targets.tolist()) == set(range(10))
    image, label = ds[0]  # a PIL image and an int, as with the real data
    assert image.size == (28, 28) and isinstance(label, int)
    # every image has ink, and most of it lies in the central 20x20 box, as in MNIST
    ink = ds.data.float()
    assert (ink.sum(dim=(1, 2)) > 0).all()
    assert ink[:, 4:24, 4:24].sum() > 0.9 * ink.sum()

    sample = ds.data[torch.randperm(n, generator=torch.Generator().manual_seed(0))[:3000]]
    assert len(torch.unique(sample.reshape(len(sample), -1), dim=0)) == 3000


def test_train_and_test_images_are_all_distinct(cache):
    raw = cache["root"] / "datasets" / "MNIST" / "raw"
    train = (raw / "train-images-idx3-ubyte").read_bytes()[16:]
    test = (raw / "t10k-images-idx3-ubyte").read_bytes()[16:]
    rows = {train[i : i + 784] for i in range(0, len(train), 784)}
    assert len(rows) == 60_000
    rows.update(test[i : i + 784] for i in range(0, len(test), 784))
    assert len(rows) == 70_000


def cifar_as_in_a_kernel(root: Path):
    """CIFAR10 as a deck's kernel sees it: deckcheck serves the cache and accepts its stand-ins."""
    listed = json.loads((root / "standins.json").read_text())["standins"]
    standins = {os.path.realpath(root / f) for entry in listed for f in entry["files"]}
    namespace = types.SimpleNamespace(CIFAR10=type("CIFAR10", (datasets.CIFAR10,), {}))
    offline_data.patch(namespace, standins)
    return namespace.CIFAR10


@pytest.mark.parametrize(("train", "n"), [(True, 50_000), (False, 10_000)])
def test_cifar_loads_through_torchvision(cache, monkeypatch, train, n):
    monkeypatch.setenv("TORCH_HOME", str(cache["root"]))
    cifar10 = cifar_as_in_a_kernel(cache["root"])
    attempts = []
    with no_network(attempts):
        ds = cifar10(root=cache["root"] / "datasets", train=train, download=True)
    assert attempts == []
    assert len(ds) == n and ds.data.dtype == "uint8" and ds.data.shape == (n, 32, 32, 3)
    assert ds.classes == CIFAR_CLASSES
    assert torch.tensor(ds.targets).bincount().tolist() == [n // 10] * 10
    image, label = ds[0]  # a PIL image and an int, as with the real data
    assert image.size == (32, 32) and image.mode == "RGB" and isinstance(label, int)
    pixels = torch.from_numpy(ds.data[:1000]).float()
    assert pixels.std(dim=(1, 2, 3)).min() > 10  # every image has something in it
    assert len(torch.unique(pixels.reshape(1000, -1), dim=0)) == 1000


def test_cifar_standin_fails_torchvisions_own_checksums(cache):
    """Without deckcheck's patch the stand-in is rejected: it can never pass for the real data."""
    meta = (cache["root"] / CIFAR_FILES[-1]).read_bytes()  # batches.meta: the class names
    assert hashlib.md5(meta).hexdigest() == datasets.CIFAR10.meta["md5"]  # the real file
    with no_network(), pytest.raises(RuntimeError, match="not found or corrupted"):
        datasets.CIFAR10(root=cache["root"] / "datasets", train=False)


def test_cifar_train_and_test_images_are_distinct(cache, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(cache["root"]))
    cifar10 = cifar_as_in_a_kernel(cache["root"])
    with no_network():
        train = cifar10(root=cache["root"] / "datasets", train=True).data.reshape(50_000, -1)
        test = cifar10(root=cache["root"] / "datasets", train=False).data.reshape(10_000, -1)
    rows = {row.tobytes() for row in train}
    assert len(rows) == 50_000
    rows.update(row.tobytes() for row in test)
    assert len(rows) == 60_000


def test_resnet18_default_weights_load_from_standin(cache, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(cache["root"]))
    attempts = []
    with no_network(attempts):
        model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    assert attempts == []
    saved = torch.load(cache["root"] / RESNET_FILE, weights_only=True)
    state = model.state_dict()
    assert state.keys() == saved.keys()
    assert all(torch.equal(state[k], saved[k]) for k in state)


def test_standins_json_lists_all_three(cache):
    data = json.loads((cache["root"] / "standins.json").read_text())
    assert data == EXPECTED_JSON


def test_second_run_does_nothing(cache):
    before = snapshot(cache["root"])
    start = time.monotonic()
    code, out, _ = run(["--root", str(cache["root"])])
    assert code == 0
    assert time.monotonic() - start < 5
    assert snapshot(cache["root"]) == before
    assert "nothing to do" in out


def test_root_from_torch_home_and_default(cache, tmp_path, monkeypatch):
    before = snapshot(cache["root"])
    code, out, _ = run([], env_torch_home=cache["root"])
    assert code == 0 and str(cache["root"]) in out
    # without --root and $TORCH_HOME: .cache/torch under the current folder
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "torch").symlink_to(cache["root"], target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run([])
    assert code == 0 and "nothing to do" in out
    assert snapshot(cache["root"]) == before


def test_missing_weights_are_replaced_and_listed_again(cache, tmp_path):
    root = tmp_path / "torch"
    shutil.copytree(cache["root"], root)
    (root / RESNET_FILE).unlink()
    kept = {*MNIST_FILES, *CIFAR_FILES}
    data_before = {f: v for f, v in snapshot(root).items() if f in kept}

    code, _, err = run(["--root", str(root)])
    assert code == 0
    assert (root / RESNET_FILE).is_file()
    assert {f: v for f, v in snapshot(root).items() if f in kept} == data_before
    assert json.loads((root / "standins.json").read_text()) == EXPECTED_JSON
    assert err.count("WARNING") == 3


def test_retrying_offline_keeps_every_standin_listed(cache, tmp_path):
    """A stand-in already in place never passes for a download (torch.hub loads it unchecked)."""
    root = tmp_path / "torch"
    shutil.copytree(cache["root"], root)
    data_before = {f: v for f, v in snapshot(root).items() if f != "standins.json"}

    code, out, err = run(["--root", str(root), "--retry-standins"])
    assert code == 0
    assert "downloaded" not in out, out
    assert json.loads((root / "standins.json").read_text()) == EXPECTED_JSON
    assert {f: v for f, v in snapshot(root).items() if f != "standins.json"} == data_before
    assert err.count("WARNING") == 3


def test_interrupted_run_leaves_no_unmarked_standin(cache, tmp_path, monkeypatch):
    root = tmp_path / "torch"
    shutil.copytree(cache["root"], root)
    (root / RESNET_FILE).unlink()
    (root / "standins.json").unlink()  # as if MNIST and CIFAR-10 were real data

    module = load_script()

    def interrupted(root):
        (root / RESNET_FILE).parent.mkdir(parents=True, exist_ok=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "write_resnet_standin", interrupted)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    with no_network(), pytest.raises(KeyboardInterrupt):
        module.main(["--root", str(root)])

    # the weights were marked as a stand-in before any file was written
    listed = json.loads((root / "standins.json").read_text())["standins"]
    assert listed == [{"name": "ResNet-18 weights", "files": [RESNET_FILE]}]
    assert set(snapshot(root)) == {*MNIST_FILES, *CIFAR_FILES, "standins.json"}

    code, _, _ = run(["--root", str(root)])
    assert code == 0 and (root / RESNET_FILE).is_file()
    listed = json.loads((root / "standins.json").read_text())["standins"]
    assert listed == [{"name": "ResNet-18 weights", "files": [RESNET_FILE]}]


STANDIN_DECK = """---
marp: true
theme: deckcheck
title: On stand-ins
---

# On stand-ins

---

## Prose only

No code here.

---

## Loading

```python
import os
from pathlib import Path
from torchvision import datasets, models
home = Path(os.environ["TORCH_HOME"])
digits = datasets.MNIST(root=home / "datasets", download=True)
```

---

## Using what was loaded

```python
first_label = int(digits.targets[0])
```

---

## Unrelated code

```python
digits_in_a_word = len("digits")
```

---

## Weights

```python
net = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
```
"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium (make installs it)")
def test_slides_whose_code_rests_on_standins_say_so_in_html_and_pdf(cache, tmp_path):
    from helpers import ROOT, deckcheck
    from pypdf import PdfReader

    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "standins.md").write_text(STANDIN_DECK)
    (tmp_path / "decks" / "plain.md").write_text("---\nmarp: true\n---\n\n# Plain\n\n```python\nx = 1\n```\n")
    run = deckcheck("build", str(tmp_path / "decks"), "--site", str(tmp_path / "site"), "--formats", "html,pdf",
                    cwd=ROOT, cache=tmp_path / "cache", timeout=300, TORCH_HOME=str(cache["root"]))  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    pages = [page.extract_text() for page in PdfReader(tmp_path / "site" / "standins.pdf").pages]
    noted = [number for number, text in enumerate(pages, 1) if "Ran on a stand-in for" in text]
    assert noted == [3, 4, 6]  # loading, using what was loaded, the weights; not prose or unrelated code
    assert "MNIST" in pages[2] and "ResNet-18 weights" in pages[5]
    html = (tmp_path / "site" / "standins.html").read_text()
    assert html.count('<p class="standin-note">') == 3
    assert "standin-note" not in (tmp_path / "site" / "plain.html").read_text().split("</style>")[-1]
    assert "1 block ran and passed on CPU" in "".join(
        PdfReader(tmp_path / "site" / "plain.pdf").pages[0].extract_text()
    )
