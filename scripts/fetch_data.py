"""Fill the shared data cache so that every deck runs offline.

Cache root: ``--root DIR``, else ``$TORCH_HOME``, else ``.cache/torch`` relative to
the current folder.  Layout (the one torchvision itself uses)::

    ROOT/datasets/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    ROOT/datasets/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}
    ROOT/hub/checkpoints/resnet18-f37072fd.pth
    ROOT/standins.json          (only while something in the cache is a stand-in)

First the real downloads are tried with the real library code.  Where that is
impossible (no network), stand-ins are written that the unchanged torchvision code
then loads:

* MNIST: 60,000 + 10,000 images of 28x28 uint8 made from scikit-learn's bundled
  8x8 handwritten digits (upscaled, centred, randomly shifted, scaled, rotated,
  sheared, elastically deformed and given some noise).  Test images come only from
  the last 20% of the scikit-learn samples, training images only from the first 80%.
* CIFAR-10: 50,000 + 10,000 colour images of 32x32, drawn for each of its ten
  classes: a simple silhouette (wings and fuselage, body and wheels, head and ears...)
  in random colours, sizes, places and tilts on a scene (sky, road, grass, room,
  water) with random shading, exposure and noise.  ``batches.meta`` (the class names)
  is byte for byte the real file; the data batches hold the same keys and arrays as
  the real ones, but their checksums differ, which deckcheck accepts for files listed
  as stand-ins (torchvision alone rejects them).
* ResNet-18 weights: a randomly initialised ``resnet18().state_dict()`` under the
  file name torchvision expects.

Every stand-in is announced by a WARNING line on stderr and listed in
``ROOT/standins.json``.  Files are written atomically.  A second run with the cache
filled does nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import pickle
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from deckcheck.atomic import write_atomic

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
MNIST_RAW = Path("datasets", "MNIST", "raw")
N_TRAIN, N_TEST, SIDE = 60_000, 10_000, 28
SEED = 20240607
# torchvision's name for it (basename of ResNet18_Weights.DEFAULT.url); used only for the
# quick "is the cache complete?" check, which must not pay for importing torch.
RESNET_FILE = "resnet18-f37072fd.pth"
RESNET_NAME = "ResNet-18 weights"
MNIST_NAME = "MNIST"
CIFAR_NAME = "CIFAR-10"
CIFAR_DIR = Path("datasets", "cifar-10-batches-py")
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_FILES = (*CIFAR_TRAIN_FILES, "test_batch", "batches.meta")
CIFAR_PER_BATCH = 10_000
STANDINS_JSON = "standins.json"
WARNINGS = {
    MNIST_NAME: "MNIST replaced by stand-in data made from scikit-learn digits",
    CIFAR_NAME: "CIFAR-10 replaced by stand-in data: drawn silhouettes of its ten classes",
    RESNET_NAME: "ResNet-18 weights replaced by randomly initialised weights",
}


UMASK = os.umask(0)
os.umask(UMASK)

# --------------------------------------------------------------------------- helpers


def warn(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


def describe(err: BaseException) -> str:
    """One line for an exception: its type, first and last line of its message."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
    text = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return f"{type(err).__name__}: {text}"


def resolve_root(arg: str | None) -> Path:
    if arg:
        return Path(arg).expanduser().resolve()
    env = os.environ.get("TORCH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / ".cache" / "torch").resolve()


def atomic_write(path: Path, data: bytes) -> None:
    write_atomic(path, data, mode=0o666 & ~UMASK)


@contextlib.contextmanager
def torch_home(root: Path) -> Iterator[None]:
    """Point torch.hub (which reads $TORCH_HOME on every call) at ``root``."""
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
def network_forbidden() -> Iterator[None]:
    """Make any attempt to open a connection fail (used to verify stand-ins)."""

    def refuse(*args, **kwargs):
        raise OSError("network access is forbidden while verifying the cache")

    saved = (socket.socket.connect, socket.create_connection, socket.getaddrinfo)
    socket.socket.connect = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.create_connection, socket.getaddrinfo = saved


def mnist_present(root: Path) -> bool:
    return all((root / MNIST_RAW / name).is_file() for name in MNIST_FILES)


def cifar_present(root: Path) -> bool:
    return all((root / CIFAR_DIR / name).is_file() for name in CIFAR_FILES)


def resnet_file(root: Path) -> Path:
    from torchvision import models

    url = models.ResNet18_Weights.DEFAULT.url
    return root / "hub" / "checkpoints" / os.path.basename(url)


def read_standins(root: Path) -> dict[str, list[str]]:
    path = root / STANDINS_JSON
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text())["standins"]
        return {e["name"]: list(e["files"]) for e in entries}
    except (ValueError, KeyError, TypeError):
        return {}


def write_standins(root: Path, standins: dict[str, list[str]], require_files: bool = True) -> None:
    """Write ROOT/standins.json (in a fixed order), or remove it when nothing is listed.

    With ``require_files`` only entries whose files all exist are kept.  Without it,
    an entry is written *before* its files, so that an interrupted run can never
    leave stand-in files behind that look like real data.
    """
    path = root / STANDINS_JSON
    order = [MNIST_NAME, CIFAR_NAME, RESNET_NAME]
    names = sorted(standins, key=lambda n: (order.index(n) if n in order else len(order), n))
    entries = [
        {"name": n, "files": standins[n]}
        for n in names
        if standins[n] and (not require_files or all((root / f).is_file() for f in standins[n]))
    ]
    if not entries:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    text = json.dumps({"standins": entries}, indent=2) + "\n"
    atomic_write(path, text.encode())


# --------------------------------------------------------------------------- MNIST


def try_download_mnist(root: Path) -> bool:
    """Download MNIST with torchvision into a scratch folder, then move it in place."""
    from torchvision import datasets

    raw = root / MNIST_RAW
    raw.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root / "datasets", prefix=".mnist-download-"))
    try:
        for train in (True, False):
            datasets.MNIST(root=scratch, train=train, download=True)
        for name in MNIST_FILES:
            os.replace(scratch / "MNIST" / "raw" / name, raw / name)
        return True
    except Exception as err:  # no network, a mirror down, a bad checksum, ...
        print(f"MNIST download failed: {describe(err)}", file=sys.stderr)
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def render_digits(src, gen):
    """Turn 8x8 digits in [0, 1] (tensor n x 8 x 8) into MNIST-like 28x28 uint8."""
    import math

    import torch
    import torch.nn.functional as F

    n = src.shape[0]

    def uniform(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=gen)

    # upscale to 20x20 and sharpen the blurry 8x8 strokes (random stroke width)
    img = F.interpolate(src[:, None], size=(20, 20), mode="bicubic", align_corners=False)
    thr = uniform(0.15, 0.35, n, 1, 1, 1)
    img = ((img - thr) / (0.75 - thr)).clamp(0, 1)
    img = F.pad(img, (4, 4, 4, 4))  # centred in 28x28, like MNIST's 20x20 box
    # random rotation, scale, shear and shift (grid coordinates are in [-1, 1])
    angle = uniform(-math.radians(10), math.radians(10))
    scale = uniform(0.90, 1.10)
    shear = uniform(-0.10, 0.10)
    shift = 2 * 2.0 / SIDE  # up to 2 pixels each way
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, SIDE, SIDE], align_corners=False)
    # a smooth random displacement field (under a pixel) for elastic variety
    disp = torch.randn(n, 2, 4, 4, generator=gen) * (2 * 0.7 / SIDE)
    disp = F.interpolate(disp, size=(SIDE, SIDE), mode="bicubic", align_corners=True)
    grid = grid + disp.permute(0, 2, 3, 1)
    img = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # pixel noise on the strokes; the background stays 0 as in MNIST
    img = img + 0.04 * torch.randn(img.shape, generator=gen) * (img > 0.05)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)[:, 0]


def make_mnist_standin():
    """Return (train_x, train_y, test_x, test_y) as numpy uint8 arrays."""
    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    src = torch.from_numpy(digits.images.astype(np.float32) / 16.0)
    labels = torch.from_numpy(digits.target.astype(np.uint8))
    n_src_train = int(0.8 * len(src))  # the last 20% of the samples only for test

    gen = torch.Generator().manual_seed(SEED)
    pick_train = torch.randint(0, n_src_train, (N_TRAIN,), generator=gen)
    pick_test = torch.randint(n_src_train, len(src), (N_TEST,), generator=gen)
    picks = torch.cat([pick_train, pick_test])
    images = torch.cat([render_digits(src[picks[i : i + 10_000]], gen) for i in range(0, len(picks), 10_000)])
    # make sure no two images are identical (re-render the rare duplicates)
    for _ in range(10):
        flat = images.reshape(len(images), -1).numpy()
        seen: dict[bytes, int] = {}
        dups = []
        for i, row in enumerate(flat):
            key = row.tobytes()
            if key in seen:
                dups.append(i)
            else:
                seen[key] = i
        if not dups:
            break
        dup = torch.tensor(dups)
        images[dup] = render_digits(src[picks[dup]], gen)
    else:
        raise RuntimeError("could not make 70,000 distinct stand-in images")

    images = images.numpy()
    targets = labels[picks].numpy()
    return images[:N_TRAIN], targets[:N_TRAIN], images[N_TRAIN:], targets[N_TRAIN:]


def idx_bytes(array) -> bytes:
    """Encode a uint8 array in the IDX format (big-endian header)."""
    import numpy as np

    assert array.dtype == np.uint8
    magic = (0x08 << 8) | array.ndim
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def write_mnist_standin(root: Path) -> None:
    train_x, train_y, test_x, test_y = make_mnist_standin()
    raw = root / MNIST_RAW
    arrays = dict(zip(MNIST_FILES, (train_x, train_y, test_x, test_y), strict=True))
    for name, array in arrays.items():
        atomic_write(raw / name, idx_bytes(array))


def verify_mnist(root: Path) -> None:
    from torchvision import datasets

    with network_forbidden():
        for train, n in ((True, N_TRAIN), (False, N_TEST)):
            ds = datasets.MNIST(root=root / "datasets", train=train, download=True)
            assert len(ds) == n and tuple(ds.data.shape[1:]) == (SIDE, SIDE)


# --------------------------------------------------------------------------- CIFAR-10

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# What each class's images show: a scene, and the parts of its silhouette in drawing order.
# A part: (shape, dx, dy, half-width, half-height, tilt in degrees, colour role); shape "e"
# is an ellipse, "r" a rectangle; (dx, dy) in the object's own frame ([-1, 1], y down);
# colour roles: 0 the body colour, 1 a shade of it, 2 dark, 3 light.
# fmt: off
CIFAR_PARTS = {
    "airplane": ("sky", [("e", 0.0, 0.0, 0.95, 0.13, 0, 0), ("e", 0.1, 0.0, 0.16, 0.75, 12, 0),
                         ("e", -0.82, -0.18, 0.1, 0.28, -15, 1), ("e", 0.55, -0.04, 0.12, 0.06, 0, 2)]),
    "automobile": ("road", [("r", 0.0, 0.1, 0.85, 0.22, 0, 0), ("r", -0.05, -0.2, 0.45, 0.17, 0, 0),
                            ("r", -0.05, -0.2, 0.38, 0.12, 0, 3), ("e", -0.52, 0.34, 0.18, 0.18, 0, 2),
                            ("e", 0.52, 0.34, 0.18, 0.18, 0, 2)]),
    "bird": ("sky", [("e", -0.55, 0.1, 0.32, 0.08, 20, 1), ("e", 0.0, 0.0, 0.48, 0.28, 10, 0),
                     ("e", 0.45, -0.28, 0.2, 0.2, 0, 0), ("e", 0.7, -0.26, 0.13, 0.05, 0, 3),
                     ("e", 0.5, -0.33, 0.04, 0.04, 0, 2), ("e", -0.1, 0.0, 0.3, 0.14, 15, 1)]),
    "cat": ("room", [("e", 0.0, 0.35, 0.55, 0.42, 0, 0), ("e", -0.22, -0.66, 0.09, 0.2, -20, 0),
                     ("e", 0.22, -0.66, 0.09, 0.2, 20, 0), ("e", 0.0, -0.32, 0.34, 0.3, 0, 0),
                     ("e", -0.13, -0.38, 0.06, 0.05, 0, 3), ("e", 0.13, -0.38, 0.06, 0.05, 0, 3),
                     ("e", 0.0, -0.24, 0.05, 0.03, 0, 2)]),
    "deer": ("grass", [("r", -0.35, 0.45, 0.04, 0.32, 0, 0), ("r", 0.35, 0.45, 0.04, 0.32, 0, 0),
                       ("e", 0.0, 0.05, 0.55, 0.24, 0, 0), ("r", 0.45, -0.3, 0.08, 0.32, 30, 0),
                       ("e", 0.62, -0.6, 0.17, 0.1, 10, 0), ("r", 0.55, -0.85, 0.02, 0.15, -20, 1),
                       ("r", 0.7, -0.85, 0.02, 0.15, 20, 1), ("e", -0.55, 0.0, 0.06, 0.05, 0, 3)]),
    "dog": ("room", [("e", 0.0, 0.35, 0.6, 0.4, 0, 0), ("e", 0.0, -0.3, 0.38, 0.32, 0, 0),
                     ("e", -0.38, -0.22, 0.11, 0.26, 10, 1), ("e", 0.38, -0.22, 0.11, 0.26, -10, 1),
                     ("e", 0.0, -0.12, 0.17, 0.12, 0, 3), ("e", 0.0, -0.17, 0.07, 0.05, 0, 2),
                     ("e", -0.14, -0.4, 0.05, 0.05, 0, 2), ("e", 0.14, -0.4, 0.05, 0.05, 0, 2)]),
    "frog": ("grass", [("e", 0.0, 0.15, 0.62, 0.34, 0, 0), ("e", -0.3, -0.18, 0.14, 0.14, 0, 0),
                       ("e", 0.3, -0.18, 0.14, 0.14, 0, 0), ("e", -0.3, -0.2, 0.06, 0.06, 0, 2),
                       ("e", 0.3, -0.2, 0.06, 0.06, 0, 2), ("e", 0.0, 0.3, 0.4, 0.15, 0, 1)]),
    "horse": ("grass", [("r", -0.4, 0.48, 0.07, 0.35, 0, 0), ("r", 0.4, 0.48, 0.07, 0.35, 0, 0),
                        ("e", 0.0, 0.05, 0.62, 0.3, 0, 0), ("r", 0.5, -0.3, 0.13, 0.35, 35, 0),
                        ("r", 0.42, -0.38, 0.05, 0.32, 35, 1), ("e", 0.72, -0.58, 0.22, 0.11, 25, 0),
                        ("e", -0.68, 0.1, 0.08, 0.3, 15, 1)]),
    "ship": ("water", [("r", 0.0, 0.22, 0.9, 0.14, 0, 0), ("r", 0.0, 0.33, 0.72, 0.08, 0, 2),
                       ("r", 0.1, -0.04, 0.38, 0.14, 0, 3), ("r", 0.25, -0.28, 0.08, 0.12, 0, 1)]),
    "truck": ("road", [("r", -0.22, -0.12, 0.55, 0.38, 0, 1), ("r", 0.58, 0.02, 0.26, 0.26, 0, 0),
                       ("r", 0.64, -0.06, 0.14, 0.1, 0, 3), ("e", -0.5, 0.34, 0.15, 0.15, 0, 2),
                       ("e", -0.1, 0.34, 0.15, 0.15, 0, 2), ("e", 0.58, 0.34, 0.15, 0.15, 0, 2)]),
}
# fmt: on
# A scene: sky colour, ground colour, horizon height (0 top, 1 bottom; beyond 1: all sky)
CIFAR_SCENES = {
    "sky": ((0.55, 0.7, 0.9), (0.6, 0.7, 0.8), 1.1),
    "road": ((0.7, 0.75, 0.8), (0.4, 0.4, 0.42), 0.62),
    "grass": ((0.65, 0.75, 0.85), (0.3, 0.5, 0.2), 0.5),
    "room": ((0.75, 0.65, 0.55), (0.5, 0.4, 0.3), 0.7),
    "water": ((0.7, 0.8, 0.9), (0.15, 0.35, 0.6), 0.58),
}
# The body colours of each class; each image picks one and jitters it
CIFAR_PALETTES = {
    "airplane": [(0.9, 0.9, 0.92), (0.7, 0.72, 0.75), (0.85, 0.85, 0.8)],
    "automobile": [(0.8, 0.1, 0.1), (0.1, 0.2, 0.7), (0.9, 0.8, 0.1), (0.9, 0.9, 0.9), (0.15, 0.15, 0.15)],
    "bird": [(0.5, 0.35, 0.2), (0.2, 0.35, 0.8), (0.8, 0.2, 0.15), (0.5, 0.5, 0.5)],
    "cat": [(0.85, 0.55, 0.2), (0.5, 0.5, 0.5), (0.15, 0.15, 0.15), (0.9, 0.9, 0.85)],
    "deer": [(0.6, 0.4, 0.2), (0.7, 0.5, 0.3)],
    "dog": [(0.55, 0.35, 0.15), (0.85, 0.7, 0.4), (0.15, 0.12, 0.1), (0.9, 0.88, 0.85)],
    "frog": [(0.3, 0.6, 0.2), (0.45, 0.5, 0.2), (0.5, 0.4, 0.2)],
    "horse": [(0.35, 0.2, 0.1), (0.15, 0.1, 0.08), (0.55, 0.3, 0.15), (0.85, 0.85, 0.82)],
    "ship": [(0.25, 0.25, 0.3), (0.6, 0.15, 0.1), (0.85, 0.85, 0.85)],
    "truck": [(0.8, 0.1, 0.1), (0.1, 0.3, 0.7), (0.9, 0.6, 0.1), (0.9, 0.9, 0.9)],
}
CIFAR_SIDE = 32
TEMPLATE_SIDE, TEMPLATE_REACH = 96, 1.25  # a class's silhouette, drawn once over [-1.25, 1.25]^2


def silhouette(name: str):
    """The parts of class `name` drawn once, large: (4, side, side), how much of each pixel
    each colour role covers (the parts drawn later cover the earlier ones)."""
    import torch

    axis = torch.linspace(-TEMPLATE_REACH, TEMPLATE_REACH, TEMPLATE_SIDE)
    v, u = torch.meshgrid(axis, axis, indexing="ij")
    pixel = 2 * TEMPLATE_REACH / TEMPLATE_SIDE
    cover = torch.zeros(4, TEMPLATE_SIDE, TEMPLATE_SIDE)
    for shape, dx, dy, half_w, half_h, degrees, role in CIFAR_PARTS[name][1]:
        a = math.radians(degrees)
        pu = math.cos(a) * (u - dx) + math.sin(a) * (v - dy)
        pv = -math.sin(a) * (u - dx) + math.cos(a) * (v - dy)
        if shape == "e":
            inside = (1 - torch.sqrt((pu / half_w) ** 2 + (pv / half_h) ** 2)) * min(half_w, half_h)
        else:
            inside = torch.minimum(half_w - pu.abs(), half_h - pv.abs())
        mask = (inside / pixel + 0.5).clamp(0, 1)
        cover = cover * (1 - mask)
        cover[role] += mask
    return cover


def draw_scenes(name: str, n: int, gen):
    """n random 32x32 images of class `name`: a uint8 tensor (n, 3, 32, 32)."""
    import torch
    import torch.nn.functional as F

    def uniform(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=gen)

    sky, ground, horizon = CIFAR_SCENES[CIFAR_PARTS[name][0]]
    ys = torch.linspace(-1, 1, CIFAR_SIDE)[:, None]
    # the scene: sky over ground at a random horizon, jittered colours, smooth shading
    sky_colour = (torch.tensor(sky) + uniform(-0.15, 0.15, n, 3)).clamp(0, 1)[:, :, None, None]
    ground_colour = (torch.tensor(ground) + uniform(-0.15, 0.15, n, 3)).clamp(0, 1)[:, :, None, None]
    level = (horizon + uniform(-0.12, 0.12)) * 2 - 1
    below = torch.sigmoid((ys - level[:, None, None]) * 15)[:, None]
    img = sky_colour * (1 - below) + ground_colour * below
    shading = torch.randn(n, 1, 4, 4, generator=gen)
    img = img + 0.08 * F.interpolate(
        shading, size=(CIFAR_SIDE, CIFAR_SIDE), mode="bicubic", align_corners=True
    )
    # the silhouette, placed at a random centre, size, tilt, mirrored or not
    centre = uniform(-0.25, 0.25, n, 2) * torch.tensor([1.0, 0.8])
    size, tilt = uniform(0.55, 0.9), uniform(-0.2, 0.2)
    mirror = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(tilt), torch.sin(tilt)
    linear = torch.stack([torch.stack([cos * mirror, sin], 1), torch.stack([-sin * mirror, cos], 1)], 1)
    linear = linear / (size * TEMPLATE_REACH)[:, None, None]  # image -> silhouette coordinates
    theta = torch.cat([linear, -(linear @ centre[:, :, None])], 2)
    grid = F.affine_grid(theta, [n, 4, CIFAR_SIDE, CIFAR_SIDE], align_corners=False)
    template = silhouette(name)[None].expand(n, -1, -1, -1)
    cover = F.grid_sample(template, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    palette = torch.tensor(CIFAR_PALETTES[name])
    body = palette[torch.randint(len(palette), (n,), generator=gen)] + uniform(-0.1, 0.1, n, 3)
    shade = body * uniform(0.55, 0.85)[:, None] + uniform(-0.1, 0.1, n, 3)
    dark = uniform(0.02, 0.15, n, 1).expand(n, 3)
    light = uniform(0.75, 0.95, n, 1) * torch.tensor([0.9, 0.95, 1.0])
    colours = torch.stack([body, shade, dark, light], 1).clamp(0, 1)  # (n, 4 roles, 3)
    painted = torch.einsum("nrhw,nrc->nchw", cover, colours)
    img = img * (1 - cover.sum(1, keepdim=True)) + painted
    img = img * uniform(0.7, 1.15)[:, None, None, None] + uniform(-0.1, 0.1)[:, None, None, None]
    img = img + 0.03 * torch.randn(img.shape, generator=gen)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def make_cifar_split(per_class: int, gen):
    """(images as uint8 (n, 3072) in CIFAR's plane order, labels), the classes shuffled."""
    import torch

    images = torch.cat([draw_scenes(name, per_class, gen) for name in CIFAR_CLASSES])
    labels = torch.arange(len(CIFAR_CLASSES)).repeat_interleave(per_class)
    order = torch.randperm(len(labels), generator=gen)
    return images[order].reshape(len(labels), -1).numpy(), labels[order].tolist()


def cifar_meta_bytes() -> bytes:
    """batches.meta exactly as in the real archive (Python 2 pickle, protocol 2)."""

    def short_string(text: str) -> bytes:
        return b"U" + bytes([len(text)]) + text.encode()

    memo = iter(range(2, 20))

    def put() -> bytes:
        return b"q" + bytes([next(memo)])

    head = b"\x80\x02}q\x01(" + short_string("num_cases_per_batch") + put() + b"M\x10'"
    head += short_string("label_names") + put() + b"]" + put() + b"("
    names = b"".join(short_string(name) + put() for name in CIFAR_CLASSES)
    return head + names + b"e" + short_string("num_vis") + put() + b"M\x00\x0cu."


def write_cifar_standin(root: Path) -> None:
    import torch

    gen = torch.Generator().manual_seed(SEED)
    folder = root / CIFAR_DIR
    per_class = CIFAR_PER_BATCH // len(CIFAR_CLASSES)
    batches = [(name, f"training batch {i} of 5") for i, name in enumerate(CIFAR_TRAIN_FILES, 1)]
    for name, label in [*batches, ("test_batch", "testing batch 1 of 1")]:
        data, labels = make_cifar_split(per_class, gen)
        entry = {
            "batch_label": label,
            "labels": labels,
            "data": data,
            "filenames": [f"standin_{name}_{i:05d}.png" for i in range(len(labels))],
        }
        atomic_write(folder / name, pickle.dumps(entry, protocol=4))
    atomic_write(folder / "batches.meta", cifar_meta_bytes())


def try_download_cifar(root: Path) -> bool:
    """Download CIFAR-10 with torchvision into a scratch folder, then move it in place."""
    from torchvision import datasets

    (root / "datasets").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root / "datasets", prefix=".cifar-download-"))
    try:
        datasets.CIFAR10(root=scratch, train=True, download=True)
        shutil.rmtree(root / CIFAR_DIR, ignore_errors=True)
        os.replace(scratch / CIFAR_DIR.name, root / CIFAR_DIR)
        return True
    except Exception as err:  # no network, a mirror down, a bad checksum, ...
        print(f"CIFAR-10 download failed: {describe(err)}", file=sys.stderr)
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def verify_cifar(root: Path) -> None:
    """The stand-in loads through torchvision's own CIFAR10 once its checksums are waived."""
    from torchvision import datasets

    assert hashlib.md5(cifar_meta_bytes()).hexdigest() == datasets.CIFAR10.meta["md5"]

    class Unchecked(datasets.CIFAR10):
        train_list: ClassVar = [[name, None] for name, _ in datasets.CIFAR10.train_list]
        test_list: ClassVar = [[name, None] for name, _ in datasets.CIFAR10.test_list]

    with network_forbidden():
        for train, n in ((True, 5 * CIFAR_PER_BATCH), (False, CIFAR_PER_BATCH)):
            ds = Unchecked(root=root / "datasets", train=train)
            assert len(ds) == n and ds.data.shape[1:] == (CIFAR_SIDE, CIFAR_SIDE, 3)
            assert tuple(ds.classes) == CIFAR_CLASSES


# --------------------------------------------------------------------------- ResNet-18


def try_download_resnet(root: Path) -> bool:
    """Let torchvision fetch the weights into a scratch folder, then move them in place.

    Not into ``root`` itself: torch.hub loads a file that is already there without checking
    it, so a stand-in in place would pass for a successful download."""
    from torchvision import models

    (root / "hub").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root / "hub", prefix=".resnet-download-"))
    try:
        with torch_home(scratch):
            models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
        resnet_file(root).parent.mkdir(parents=True, exist_ok=True)
        os.replace(resnet_file(scratch), resnet_file(root))
        return True
    except Exception as err:  # no network, a bad checksum, ...
        print(f"ResNet-18 download failed: {describe(err)}", file=sys.stderr)
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_resnet_standin(root: Path) -> None:
    import io

    import torch
    from torchvision import models

    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        state = models.resnet18().state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(resnet_file(root), buffer.getvalue())


def verify_resnet(root: Path) -> None:
    import torch
    from torchvision import models

    saved = torch.load(resnet_file(root), weights_only=True)
    with network_forbidden(), torch_home(root):
        model = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    assert torch.equal(model.conv1.weight, saved["conv1.weight"])


# --------------------------------------------------------------------------- main


def report_complete(root: Path, standins: dict[str, list[str]]) -> int:
    for name in standins:
        warn(f"the cache holds a stand-in: {WARNINGS.get(name, name)}")
    print(f"data cache {root} is complete; nothing to do")
    return 0


@dataclass(frozen=True)
class DataSet:
    """One thing the cache holds: how to find it, download it, or make and check its stand-in."""

    name: str
    files: Callable[[Path], list[Path]]  # its files, given the cache root
    download: Callable[[Path], bool]
    write_standin: Callable[[Path], None]
    verify: Callable[[Path], None]

    def present(self, root: Path) -> bool:
        return all(path.is_file() for path in self.files(root))

    def fetch(self, root: Path, standins: dict[str, list[str]]) -> None:
        """The real download, else the stand-in already there, else a new stand-in, listed
        in standins.json before it is written (a crash leaves no unlisted stand-in)."""
        if self.download(root):
            standins.pop(self.name, None)
            print(f"{self.name} downloaded to {root}")
        elif self.present(root) and self.name in standins:
            print(f"{self.name}: keeping the existing stand-in")
        else:
            standins[self.name] = [path.relative_to(root).as_posix() for path in self.files(root)]
            write_standins(root, standins, require_files=False)  # mark first
            self.write_standin(root)
            self.verify(root)


def _late(name: str) -> Callable:
    """The module's function `name`, looked up when called (so that a test can replace it)."""
    return lambda *args: globals()[name](*args)


DATA_SETS = (
    DataSet(
        MNIST_NAME, lambda root: [root / MNIST_RAW / name for name in MNIST_FILES],
        _late("try_download_mnist"), _late("write_mnist_standin"), _late("verify_mnist"),
    ),
    DataSet(
        CIFAR_NAME, lambda root: [root / CIFAR_DIR / name for name in CIFAR_FILES],
        _late("try_download_cifar"), _late("write_cifar_standin"), _late("verify_cifar"),
    ),
    DataSet(
        RESNET_NAME, lambda root: [root / "hub" / "checkpoints" / RESNET_FILE],
        _late("try_download_resnet"), _late("write_resnet_standin"), _late("verify_resnet"),
    ),
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="cache root (default: $TORCH_HOME or .cache/torch)")
    parser.add_argument(
        "--retry-standins",
        action="store_true",
        help="try the real downloads again for what is a stand-in now",
    )
    args = parser.parse_args(argv)
    root = resolve_root(args.root)
    standins = read_standins(root)

    # before paying for `import torch`: whether there is anything to do
    needed = [
        data for data in DATA_SETS
        if not data.present(root) or (args.retry_standins and data.name in standins)
    ]  # fmt: skip
    if not needed:
        return report_complete(root, standins)

    root.mkdir(parents=True, exist_ok=True)
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        for data in needed:
            data.fetch(root, standins)
    finally:
        socket.setdefaulttimeout(old_timeout)

    write_standins(root, standins)
    for name in read_standins(root):
        warn(f"no network: {WARNINGS.get(name, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
