"""The data cache without a network (scripts/fetch_data.py, `deckcheck data fetch`, the first
check): the stand-ins load through unchanged torchvision.

The script and the package run in-process into a temporary cache root while every way of
opening a connection raises, and commands run with DECKCHECK_NETWORK=0, so these tests never
touch the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from deckcheck.kernel import data_sets, standin_data  # noqa: E402

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
RESNET_ABOUT = data_sets.by_name("resnet18").standin
EXPECTED_JSON = {
    "standins": [
        {"name": "MNIST", "files": MNIST_FILES, "standin": "digits redrawn from scikit-learn's"},
        {"name": "CIFAR-10", "files": CIFAR_FILES, "standin": "drawn silhouettes of its ten classes"},
        {"name": "ResNet-18 weights", "files": [RESNET_FILE], "standin": RESNET_ABOUT},
    ]
}
TINY_PRETRAINING = standin_data.Pretraining(steps=2, batch=8, per_class=2)


@pytest.fixture(scope="module", autouse=True)
def tiny_pretraining():
    """The stand-in ResNet-18 pre-trains for two small steps here, not about a minute and a half
    (standins.json still names the full recipe); deck 05 checks what the full one learns."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(standin_data, "PRETRAINING", TINY_PRETRAINING)
        yield


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


def test_resnet18_standin_is_pretrained_and_says_so(cache):
    about = json.loads((cache["root"] / "standins.json").read_text())["standins"][2]["standin"]
    assert about.startswith("a ResNet-18 pre-trained on the CIFAR-100 stand-in's 100 made-up classes")
    assert "not on ImageNet" in about
    saved = torch.load(cache["root"] / RESNET_FILE, weights_only=True)
    with torch.random.fork_rng():
        torch.manual_seed(standin_data.SEED)
        initial = models.resnet18().state_dict()
    convs = [name for name in initial if name.endswith("conv1.weight") or name.endswith("conv2.weight")]
    assert len(convs) == 17 and not any(torch.equal(saved[name], initial[name]) for name in convs)
    assert saved["bn1.running_mean"].abs().sum() > 0  # BatchNorm's statistics are the training's
    assert torch.equal(saved["fc.weight"], initial["fc.weight"]) and saved["fc.weight"].shape == (1000, 512)


def test_pretraining_is_seeded():
    first, second = (standin_data.pretrained_resnet18(TINY_PRETRAINING) for _ in range(2))
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_an_old_random_resnet_standin_is_made_again(cache, tmp_path):
    """A cache filled before the stand-in was pre-trained lists it without saying what it is."""
    root = tmp_path / "torch"
    shutil.copytree(cache["root"], root)
    listed = json.loads((root / "standins.json").read_text())
    del listed["standins"][2]["standin"]
    (root / "standins.json").write_text(json.dumps(listed))
    with torch.random.fork_rng():
        torch.manual_seed(standin_data.SEED)
        torch.save(models.resnet18().state_dict(), root / RESNET_FILE)  # the old stand-in
    others = {f: v for f, v in snapshot(root).items() if f in {*MNIST_FILES, *CIFAR_FILES}}

    code, _, err = run(["--root", str(root)])
    assert code == 0 and err.count("WARNING") == 1 and "ResNet-18 weights replaced" in err
    saved, made = (torch.load(r / RESNET_FILE, weights_only=True) for r in (root, cache["root"]))
    assert all(torch.equal(saved[name], made[name]) for name in made)
    assert json.loads((root / "standins.json").read_text()) == EXPECTED_JSON
    assert {f: v for f, v in snapshot(root).items() if f in others} == others


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
    assert err.count("WARNING") == 1 and "ResNet-18 weights replaced" in err


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


def test_interrupted_run_leaves_no_unmarked_standin(cache, tmp_path):
    root = tmp_path / "torch"
    shutil.copytree(cache["root"], root)
    (root / RESNET_FILE).unlink()
    (root / "standins.json").unlink()  # as if MNIST and CIFAR-10 were real data

    def interrupted(root):
        (root / RESNET_FILE).parent.mkdir(parents=True, exist_ok=True)
        raise KeyboardInterrupt

    resnet = data_sets.by_name("resnet18")
    with no_network(), pytest.raises(KeyboardInterrupt):
        data_sets.fetch(root, [dataclasses.replace(resnet, write_standin=interrupted)], network=False)

    # the weights were marked as a stand-in before any file was written
    listed = json.loads((root / "standins.json").read_text())["standins"]
    assert listed == [{"name": "ResNet-18 weights", "files": [RESNET_FILE]}]
    assert set(snapshot(root)) == {*MNIST_FILES, *CIFAR_FILES, "standins.json"}

    code, _, _ = run(["--root", str(root)])
    assert code == 0 and (root / RESNET_FILE).is_file()
    listed = json.loads((root / "standins.json").read_text())["standins"]
    assert listed == [{"name": "ResNet-18 weights", "files": [RESNET_FILE], "standin": RESNET_ABOUT}]


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


# --------------------------------------------------------------------------- more data sets

MORE = ("FashionMNIST", "KMNIST", "EMNIST", "CIFAR-100", "SVHN")


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    """The other data sets' stand-ins, made by the package offline, in one cache root."""
    root = tmp_path_factory.mktemp("more") / "torch"
    warned = []
    with no_network():
        assert data_sets.fetch(
            root, [data_sets.by_name(name) for name in MORE], network=False, warn=warned.append
        )
    return {"root": root, "warned": warned}


def as_in_a_kernel(root: Path, name: str, patched_as: str | None = None):
    """torchvision's class `name` as a deck's kernel sees it: served from the cache, its
    stand-ins accepted (a subclass, so torchvision's own stays untouched)."""
    listed = json.loads((root / "standins.json").read_text())["standins"]
    standins = {os.path.realpath(root / f) for entry in listed for f in entry["files"]}
    cls = type(name, (getattr(datasets, name),), {})
    offline_data.patch(types.SimpleNamespace(**{patched_as or name: cls}), standins)
    return cls


def test_the_deck_code_names_what_it_loads():
    named = data_sets.named_in(
        ["ds = datasets.FashionMNIST('data', download=True)", "from x import CIFAR100"]
    )
    assert [data.name for data in named] == ["FashionMNIST", "CIFAR-100"]  # not MNIST, not CIFAR-10
    assert data_sets.by_name("cifar100") is data_sets.by_name("CIFAR-100") is named[1]
    assert data_sets.by_name("resnet18").name == "ResNet-18 weights" and data_sets.by_name("ImageNet") is None


def test_each_standin_is_announced_and_listed(more):
    assert [line.split(" replaced by a stand-in (no network): ")[0] for line in more["warned"]] == list(MORE)
    listed = json.loads((more["root"] / "standins.json").read_text())["standins"]
    assert [entry["name"] for entry in listed] == list(MORE)
    assert all((more["root"] / f).is_file() for entry in listed for f in entry["files"])


@pytest.mark.parametrize(("name", "classes"), [("FashionMNIST", "Ankle boot"), ("KMNIST", "wo")])
def test_mnist_like_standins_load_into_the_decks_own_folder(more, tmp_path, monkeypatch, name, classes):
    monkeypatch.setenv("TORCH_HOME", str(more["root"]))
    cls = as_in_a_kernel(more["root"], name, patched_as="MNIST")  # they inherit MNIST's download()
    attempts = []
    with no_network(attempts):
        train = cls(root=tmp_path / "data", train=True, download=True)
        test = cls(root=tmp_path / "data", train=False, download=True)
    assert attempts == []
    assert (len(train), len(test)) == (6000, 1000) and train.classes[-1] == classes
    assert train.data.dtype == torch.uint8 and tuple(train.data.shape[1:]) == (28, 28)
    assert train.targets.bincount().tolist() == [600] * 10
    image, label = train[0]
    assert image.size == (28, 28) and isinstance(label, int)
    assert (tmp_path / "data" / name / "raw" / "train-images-idx3-ubyte").is_symlink()


@pytest.mark.parametrize(
    ("split", "first", "count"), [("balanced", 0, 47), ("letters", 1, 26), ("byclass", 0, 62)]
)
def test_emnist_standin_has_every_split(more, tmp_path, monkeypatch, split, first, count):
    monkeypatch.setenv("TORCH_HOME", str(more["root"]))
    cls = as_in_a_kernel(more["root"], "EMNIST")
    with no_network():
        test = cls(root=tmp_path, split=split, train=False, download=True)
    assert len(test) == 20 * count and tuple(test.data.shape[1:]) == (28, 28)
    assert set(test.targets.tolist()) == set(range(first, first + count))


def test_cifar100_standin_loads_with_the_real_class_names(more, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(more["root"]))
    cls = as_in_a_kernel(more["root"], "CIFAR100", patched_as="CIFAR10")  # it inherits CIFAR10's methods
    with no_network():
        train = cls(root=tmp_path, train=True, download=True)
        test = cls(root=tmp_path, train=False, download=True)
    assert (len(train), len(test)) == (5000, 1000) and train.data.shape[1:] == (32, 32, 3)
    assert len(train.classes) == 100 and train.classes[:3] == ["apple", "aquarium_fish", "baby"]
    assert torch.tensor(train.targets).bincount().tolist() == [50] * 100
    with no_network(), pytest.raises(RuntimeError, match="not found or corrupted"):
        datasets.CIFAR100(root=more["root"] / "datasets")  # torchvision alone rejects it


def test_svhn_standin_loads_from_the_cache(more, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(more["root"]))
    cls = as_in_a_kernel(more["root"], "SVHN")
    attempts = []
    with no_network(attempts):
        test = cls(root=tmp_path, split="test", download=True)
    assert attempts == []
    assert len(test) == 2600 and test.data.shape[1:] == (3, 32, 32)
    assert sorted(set(test.labels.tolist())) == list(range(10))
    image, label = test[0]
    assert image.size == (32, 32) and image.mode == "RGB" and isinstance(label, int)
    with no_network(), pytest.raises(RuntimeError, match="not found or corrupted"):
        datasets.SVHN(root=more["root"] / "datasets" / "SVHN", split="test")


FASHION_DECK = """---
marp: true
title: Clothes
---

# FashionMNIST

```python
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

train = datasets.FashionMNIST(root="data", train=True, download=True, transform=transforms.ToTensor())
test = datasets.FashionMNIST(root="data", train=False, download=True, transform=transforms.ToTensor())
assert train.classes[9] == "Ankle boot"
```

---

## One epoch

```python
torch.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for x, y in DataLoader(train, batch_size=64, shuffle=True):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
x, y = next(iter(DataLoader(test, batch_size=1000)))
accuracy = (model(x).argmax(1) == y).float().mean().item()
assert accuracy > 0.6, accuracy
```
"""


@pytest.fixture(scope="module")
def new_course(tmp_path_factory):
    """A course from `deckcheck init`, with a FashionMNIST deck added, and an empty data cache."""
    from helpers import ROOT, deckcheck

    folder = tmp_path_factory.mktemp("course") / "course"
    made = deckcheck("init", str(folder), cwd=ROOT, cache=folder.parent / "cache")
    assert made.returncode == 0, made.stderr
    (folder / "slides" / "02-fashion.md").write_text(FASHION_DECK)
    return folder


def test_a_fashionmnist_deck_passes_offline_in_a_new_course(new_course):
    from helpers import deckcheck

    cache = new_course.parent / "cache"
    run = deckcheck("check", "slides/02-fashion.md", cwd=new_course, cache=cache, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.last_line == "2 passed, 0 failed, 0 skipped"
    assert "FashionMNIST replaced by a stand-in (no network)" in run.stderr  # the first check made it
    warning = next(line for line in run.stderr.splitlines() if line.startswith("WARNING: ran on stand-in"))
    assert "(FashionMNIST)" in warning and "`deckcheck data fetch --retry-standins`" in warning
    assert "scripts/" not in run.stderr
    assert (cache / "torch" / "datasets" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_data_fetch_names_what_the_decks_load_and_refuses_an_unknown_name(new_course):
    from helpers import deckcheck

    cache = new_course.parent / "fetch-cache"
    run = deckcheck("data", "fetch", cwd=new_course, cache=cache)  # slides/: the FashionMNIST deck
    assert run.returncode == 0, run.stderr
    assert "FashionMNIST replaced by a stand-in" in run.stderr and "MNIST," not in run.stderr
    again = deckcheck("data", "fetch", "fashion-mnist", cwd=new_course, cache=cache)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert "WARNING: the cache holds a stand-in for FashionMNIST" in again.stderr
    wrong = deckcheck("data", "fetch", "ImageNet", cwd=new_course, cache=cache)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("deckcheck: error: no such deck or data set: ImageNet (data sets: MNIST,")
    assert len(wrong.stderr.splitlines()) == 1


SHAKESPEARE_DECK = """---
marp: true
---

# Characters

```python
import urllib.request
url = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
urllib.request.urlretrieve(url, "input.txt")
with open("input.txt", encoding="utf-8") as f:
    text = f.read()
chars = sorted(set(text))
assert len(chars) == 65 and text.startswith("First Citizen:")
```

```python
with urllib.request.urlopen(url) as answer:
    assert answer.read().decode() == text
```
"""


def test_tiny_shakespeare_is_served_to_urllib_offline(tmp_path):
    """The text char-level models train on, fetched by URL: the first check makes a stand-in
    with the real file's 65 characters, and urllib gets it from the cache."""
    from helpers import deckcheck

    (tmp_path / "chars.md").write_text(SHAKESPEARE_DECK)
    run = deckcheck("check", "chars.md", cwd=tmp_path, cache=tmp_path / "cache", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Tiny Shakespeare replaced by a stand-in (no network)" in run.stderr
    assert "ran on stand-in data (Tiny Shakespeare)" in run.stderr
    assert len((tmp_path / "input.txt").read_text()) > 100_000
