"""The pictures of the stand-in data sets: drawn, seeded, in each data set's own shapes.

Made offline when the real downloads cannot be had (kernel/data_sets.py writes them in
torchvision's formats). Every class is drawn so that a model can learn it: digits redrawn
from scikit-learn's (MNIST), silhouettes of the classes on a scene (CIFAR-10, CIFAR-100),
clothes drawn from parts (FashionMNIST), letters and digits in a font (EMNIST, SVHN), brush
strokes, one figure per class (KMNIST). Each picture gets a random place, size, tilt,
distortion and noise. The ResNet-18 stand-in is trained here on the CIFAR-100 stand-in, so
that its features transfer (deck 05). Imports torch only when drawing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SEED = 20240607
N_TRAIN, N_TEST, SIDE = 60_000, 10_000, 28
# A part of a silhouette: (shape, dx, dy, half-width, half-height, tilt in degrees, colour role);
# shape "e" is an ellipse, "r" a rectangle; (dx, dy) in the object's own frame ([-1, 1], y down);
# colour roles: 0 the body colour, 1 a shade of it, 2 dark, 3 light.
Part = tuple[str, float, float, float, float, float, int]
Tensor = Any  # torch.Tensor, imported only when drawing


def render_digits(src: Tensor, gen: Tensor) -> Tensor:
    """Turn 8x8 digits in [0, 1] (tensor n x 8 x 8) into MNIST-like 28x28 uint8."""
    import torch
    import torch.nn.functional as F

    n = src.shape[0]

    def uniform(lo: float, hi: float, *shape: int) -> Tensor:
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


def make_mnist_standin() -> tuple[Any, Any, Any, Any]:
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

    pictures, targets = images.numpy(), labels[picks].numpy()
    return pictures[:N_TRAIN], targets[:N_TRAIN], pictures[N_TRAIN:], targets[N_TRAIN:]


# --------------------------------------------------------------------------- CIFAR

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# What each class's images show: a scene, and the parts of its silhouette in drawing order.
# A part: (shape, dx, dy, half-width, half-height, tilt in degrees, colour role); shape "e"
# is an ellipse, "r" a rectangle; (dx, dy) in the object's own frame ([-1, 1], y down);
# colour roles: 0 the body colour, 1 a shade of it, 2 dark, 3 light.
# fmt: off
CIFAR_PARTS: dict[str, tuple[str, list[Part]]] = {
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


def silhouette(parts: Sequence[Part], side: int = TEMPLATE_SIDE) -> Tensor:
    """The parts drawn once, large: (4, side, side), how much of each pixel each colour role
    covers (the parts drawn later cover the earlier ones)."""
    import torch

    axis = torch.linspace(-TEMPLATE_REACH, TEMPLATE_REACH, side)
    v, u = torch.meshgrid(axis, axis, indexing="ij")
    pixel = 2 * TEMPLATE_REACH / side
    cover = torch.zeros(4, side, side)
    for shape, dx, dy, half_w, half_h, degrees, role in parts:
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


def draw_scenes(scene: str, parts: Sequence[Part], palette: Sequence[tuple[float, float, float]],
                n: int, gen: Tensor) -> Tensor:  # fmt: skip
    """n random 32x32 pictures of one class: a uint8 tensor (n, 3, 32, 32)."""
    import torch
    import torch.nn.functional as F

    def uniform(lo: float, hi: float, *shape: int) -> Tensor:
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=gen)

    sky, ground, horizon = CIFAR_SCENES[scene]
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
    template = silhouette(parts)[None].expand(n, -1, -1, -1)
    cover = F.grid_sample(template, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    colours = torch.tensor(palette)
    body = colours[torch.randint(len(colours), (n,), generator=gen)] + uniform(-0.1, 0.1, n, 3)
    shade = body * uniform(0.55, 0.85)[:, None] + uniform(-0.1, 0.1, n, 3)
    dark = uniform(0.02, 0.15, n, 1).expand(n, 3)
    light = uniform(0.75, 0.95, n, 1) * torch.tensor([0.9, 0.95, 1.0])
    roles = torch.stack([body, shade, dark, light], 1).clamp(0, 1)  # (n, 4 roles, 3)
    painted = torch.einsum("nrhw,nrc->nchw", cover, roles)
    img = img * (1 - cover.sum(1, keepdim=True)) + painted
    img = img * uniform(0.7, 1.15)[:, None, None, None] + uniform(-0.1, 0.1)[:, None, None, None]
    img = img + 0.03 * torch.randn(img.shape, generator=gen)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


Look = tuple[str, list[Part], list[tuple[float, float, float]]]  # a class: scene, parts, palette


def cifar10_looks() -> list[Look]:
    return [(CIFAR_PARTS[name][0], CIFAR_PARTS[name][1], CIFAR_PALETTES[name]) for name in CIFAR_CLASSES]


def make_cifar_split(looks: Sequence[Look], per_class: int, gen: Tensor) -> tuple[Any, list[int]]:
    """(images as uint8 (n, 3072) in CIFAR's plane order, labels), the classes shuffled."""
    import torch

    images = torch.cat([draw_scenes(*look, per_class, gen) for look in looks])
    labels = torch.arange(len(looks)).repeat_interleave(per_class)
    order = torch.randperm(len(labels), generator=gen)
    return images[order].reshape(len(labels), -1).numpy(), labels[order].tolist()


# The real CIFAR-100 meta file: its 20 superclasses, each with its five classes.
CIFAR100_SUPERCLASSES = {
    "aquatic_mammals": ("beaver", "dolphin", "otter", "seal", "whale"),
    "fish": ("aquarium_fish", "flatfish", "ray", "shark", "trout"),
    "flowers": ("orchid", "poppy", "rose", "sunflower", "tulip"),
    "food_containers": ("bottle", "bowl", "can", "cup", "plate"),
    "fruit_and_vegetables": ("apple", "mushroom", "orange", "pear", "sweet_pepper"),
    "household_electrical_devices": ("clock", "keyboard", "lamp", "telephone", "television"),
    "household_furniture": ("bed", "chair", "couch", "table", "wardrobe"),
    "insects": ("bee", "beetle", "butterfly", "caterpillar", "cockroach"),
    "large_carnivores": ("bear", "leopard", "lion", "tiger", "wolf"),
    "large_man-made_outdoor_things": ("bridge", "castle", "house", "road", "skyscraper"),
    "large_natural_outdoor_scenes": ("cloud", "forest", "mountain", "plain", "sea"),
    "large_omnivores_and_herbivores": ("camel", "cattle", "chimpanzee", "elephant", "kangaroo"),
    "medium_mammals": ("fox", "porcupine", "possum", "raccoon", "skunk"),
    "non-insect_invertebrates": ("crab", "lobster", "snail", "spider", "worm"),
    "people": ("baby", "boy", "girl", "man", "woman"),
    "reptiles": ("crocodile", "dinosaur", "lizard", "snake", "turtle"),
    "small_mammals": ("hamster", "mouse", "rabbit", "shrew", "squirrel"),
    "trees": ("maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"),
    "vehicles_1": ("bicycle", "bus", "motorcycle", "pickup_truck", "train"),
    "vehicles_2": ("lawn_mower", "rocket", "streetcar", "tank", "tractor"),
}
CIFAR100_CLASSES = tuple(sorted(name for names in CIFAR100_SUPERCLASSES.values() for name in names))
CIFAR100_COARSE = tuple(CIFAR100_SUPERCLASSES)


def cifar100_looks() -> list[Look]:
    """A made-up silhouette and palette per class (seeded), on a scene per superclass."""
    scenes = list(CIFAR_SCENES)
    looks = []
    for index, name in enumerate(CIFAR100_CLASSES):
        rng = random.Random(f"{SEED}-{name}")
        coarse = next(i for i, names in enumerate(CIFAR100_SUPERCLASSES.values()) if name in names)
        parts: list[Part] = [
            (rng.choice("er"), 0.0, 0.0, rng.uniform(0.35, 0.7), rng.uniform(0.25, 0.6), 0, 0)
        ]
        for _ in range(rng.randint(2, 4)):
            parts.append((rng.choice("er"), rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6),
                          rng.uniform(0.08, 0.35), rng.uniform(0.08, 0.35), rng.uniform(-40, 40),
                          rng.choice((0, 1, 1, 2, 3))))  # fmt: skip
        palette = [(rng.random(), rng.random(), rng.random()) for _ in range(2)]
        looks.append((scenes[(coarse + index) % len(scenes)], parts, palette))
    return looks


# --------------------------------------------------------------------------- a pre-trained backbone


@dataclass(frozen=True)
class Pretraining:
    """How the stand-in ResNet-18 learns its features: from scratch, on the CIFAR-100 stand-in's
    hundred made-up classes (none of them a CIFAR-10 class), at the 64 px that deck 05 feeds it."""

    steps: int = 100
    batch: int = 128
    per_class: int = 60  # pictures drawn per class (the pool the batches are sampled from)
    side: int = 64
    lr: float = 0.1

    def describe(self) -> str:
        return (
            f"a ResNet-18 pre-trained on the CIFAR-100 stand-in's {len(CIFAR100_CLASSES)} made-up classes"
            f" ({self.steps} steps of {self.batch} pictures, {self.side} px), not on ImageNet"
        )


PRETRAINING = Pretraining()
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ResNet18_Weights'


def pretrained_resnet18(how: Pretraining = PRETRAINING) -> dict[str, Tensor]:
    """A torchvision ResNet-18 state dict (1000 outputs, as ResNet18_Weights' file), trained as
    `how` says with SGD and a one-cycle schedule; seeded. Its head is the untrained one: deck
    05 replaces it."""
    import torch
    import torch.nn.functional as F
    from torchvision import models

    gen = torch.Generator().manual_seed(SEED)
    images = torch.cat([draw_scenes(*look, how.per_class, gen) for look in cifar100_looks()])
    labels = torch.arange(len(CIFAR100_CLASSES)).repeat_interleave(how.per_class)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        state = models.resnet18().state_dict()
        model = models.resnet18(num_classes=len(CIFAR100_CLASSES))
    opt = torch.optim.SGD(model.parameters(), lr=how.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=how.lr, total_steps=how.steps, pct_start=0.25)
    model.train()
    for _ in range(how.steps):
        pick = torch.randint(len(images), (how.batch,), generator=gen)
        mirror = (torch.rand(how.batch, generator=gen) < 0.5)[:, None, None, None]
        x = torch.where(mirror, images[pick].flip(3), images[pick]).float() / 255
        x = F.interpolate(x, size=(how.side, how.side), mode="bilinear", antialias=True, align_corners=False)
        loss = F.cross_entropy(model((x - mean) / std), labels[pick])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    trained = model.state_dict()
    return {name: value if name.startswith("fc.") else trained[name] for name, value in state.items()}


# --------------------------------------------------------------------------- 28x28 grey pictures

# FashionMNIST's ten classes, each drawn from parts as the CIFAR silhouettes are (roles: 0
# the cloth, 1 a darker shade, 2 a hole or seam, 3 a light detail).
# fmt: off
FASHION_PARTS: dict[str, list[Part]] = {
    "T-shirt/top": [("r", 0.0, 0.15, 0.45, 0.7, 0, 0), ("r", -0.55, -0.45, 0.25, 0.14, 30, 0),
                    ("r", 0.55, -0.45, 0.25, 0.14, -30, 0), ("e", 0.0, -0.55, 0.18, 0.1, 0, 2)],
    "Trouser": [("r", 0.0, -0.8, 0.42, 0.1, 0, 1), ("r", -0.22, 0.1, 0.18, 0.85, 3, 0),
                ("r", 0.22, 0.1, 0.18, 0.85, -3, 0)],
    "Pullover": [("r", 0.0, 0.1, 0.45, 0.75, 0, 0), ("r", -0.62, 0.05, 0.14, 0.7, -12, 1),
                 ("r", 0.62, 0.05, 0.14, 0.7, 12, 1), ("e", 0.0, -0.62, 0.15, 0.08, 0, 2)],
    "Dress": [("e", 0.0, 0.45, 0.6, 0.6, 0, 0), ("r", 0.0, -0.5, 0.25, 0.4, 0, 0),
              ("r", 0.0, -0.15, 0.27, 0.04, 0, 1)],
    "Coat": [("r", 0.0, 0.1, 0.5, 0.85, 0, 0), ("r", -0.68, 0.1, 0.15, 0.75, -8, 1),
             ("r", 0.68, 0.1, 0.15, 0.75, 8, 1), ("r", 0.0, 0.1, 0.02, 0.85, 0, 2),
             ("e", 0.1, -0.2, 0.04, 0.04, 0, 3), ("e", 0.1, 0.2, 0.04, 0.04, 0, 3)],
    "Sandal": [("r", 0.0, 0.45, 0.9, 0.08, -5, 1), ("r", -0.4, 0.1, 0.05, 0.35, 25, 0),
               ("r", 0.0, 0.1, 0.05, 0.35, 0, 0), ("r", 0.4, 0.1, 0.05, 0.35, -25, 0)],
    "Shirt": [("r", 0.0, 0.1, 0.45, 0.8, 0, 1), ("r", -0.6, 0.0, 0.13, 0.75, -10, 1),
              ("r", 0.6, 0.0, 0.13, 0.75, 10, 1), ("e", -0.12, -0.7, 0.12, 0.08, 30, 3),
              ("e", 0.12, -0.7, 0.12, 0.08, -30, 3), ("r", 0.0, 0.1, 0.015, 0.8, 0, 2)],
    "Sneaker": [("e", 0.0, 0.15, 0.85, 0.3, 0, 0), ("e", -0.3, -0.1, 0.35, 0.25, 0, 0),
                ("r", 0.0, 0.38, 0.9, 0.08, 0, 3), ("r", 0.1, -0.05, 0.25, 0.04, 20, 2)],
    "Bag": [("e", 0.0, -0.35, 0.45, 0.35, 0, 1), ("e", 0.0, -0.35, 0.33, 0.25, 0, 2),
            ("r", 0.0, 0.25, 0.75, 0.55, 0, 0)],
    "Ankle boot": [("r", -0.35, -0.35, 0.32, 0.5, 0, 0), ("e", 0.15, 0.3, 0.75, 0.28, 0, 0),
                   ("r", 0.1, 0.55, 0.8, 0.07, 0, 2), ("r", -0.55, 0.5, 0.12, 0.1, 0, 2)],
}
# fmt: on
ROLE_GREY = (1.0, 0.7, 0.05, 0.95)  # how bright each colour role is in a grey picture


def fashion_templates(side: int = 64) -> Tensor:
    """(10, side, side) brightness in [0, 1] of each FashionMNIST class, filling its square."""
    import torch

    grey = torch.tensor(ROLE_GREY)[:, None, None]
    return torch.stack([(silhouette(parts, side) * grey).sum(0) for parts in FASHION_PARTS.values()])


def glyph_templates(variants: Sequence[Sequence[str]], side: int = 64) -> Tensor:
    """(classes, variants, side, side): each class's characters in the packaged font, centred.
    A class with fewer variants repeats its first."""
    import torch
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=int(side * 0.8))
    width = max(len(chars) for chars in variants)
    found = torch.zeros(len(variants), width, side, side)
    for index, chars in enumerate(variants):
        for slot in range(width):
            char = chars[slot] if slot < len(chars) else chars[0]
            picture = Image.new("L", (side, side))
            left, top, right, bottom = ImageDraw.Draw(picture).textbbox((0, 0), char, font=font)
            at = ((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top)
            ImageDraw.Draw(picture).text(at, char, fill=255, font=font)
            found[index, slot] = (
                torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8).view(side, side) / 255.0
            )
    return found


def stroke_templates(count: int, side: int = 64) -> Tensor:
    """(count, side, side): a figure of three to five brush strokes per class (KMNIST's cursive
    characters, made up: the font has no hiragana)."""
    import torch
    from PIL import Image, ImageDraw

    found = torch.zeros(count, side, side)
    for index in range(count):
        rng = random.Random(f"{SEED}-stroke-{index}")
        picture = Image.new("L", (side, side))
        draw = ImageDraw.Draw(picture)
        for _ in range(rng.randint(3, 5)):
            ends = [(rng.uniform(0.12, 0.88) * side, rng.uniform(0.12, 0.88) * side) for _ in range(3)]
            points = []
            for step in range(17):  # a quadratic Bezier curve through the three points
                t = step / 16
                points.append(tuple((1 - t) ** 2 * a + 2 * t * (1 - t) * b + t**2 * c
                                    for a, b, c in zip(*ends, strict=True)))  # fmt: skip
            draw.line(points, fill=255, width=max(2, side // 10), joint="curve")
        found[index] = (
            torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8).view(side, side) / 255
        )
    return found


def render_grey(
    templates: Tensor, labels: Tensor, gen: Tensor, *, box: int = 20, fill: bool = False
) -> Tensor:
    """Pictures (n, 28, 28) uint8 of the templates (classes, [variants,] side, side) that the
    labels pick: each in a `box`-pixel square at the centre, randomly turned, scaled, sheared,
    shifted and distorted, with noise; `fill` shades the picture as cloth (FashionMNIST)."""
    import torch
    import torch.nn.functional as F

    n = len(labels)
    if templates.dim() == 4:  # a variant per picture
        variant = torch.randint(templates.shape[1], (n,), generator=gen)
        source = templates[labels, variant][:, None]
    else:
        source = templates[labels][:, None]

    def uniform(lo: float, hi: float, *shape: int) -> Tensor:
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=gen)

    angle, scale, shear = uniform(-0.17, 0.17), uniform(0.9, 1.1) * box / SIDE, uniform(-0.1, 0.1)
    shift = 2 * 2.0 / SIDE
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, SIDE, SIDE], align_corners=False)
    disp = torch.randn(n, 2, 4, 4, generator=gen) * (2 * 0.7 / SIDE)
    grid = grid + F.interpolate(disp, size=(SIDE, SIDE), mode="bicubic", align_corners=True).permute(
        0, 2, 3, 1
    )
    img = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if fill:  # cloth: a random brightness and a smooth texture
        texture = F.interpolate(torch.randn(n, 1, 5, 5, generator=gen), size=(SIDE, SIDE), mode="bicubic")
        img = img * (uniform(0.45, 1.0)[:, None, None, None] + 0.12 * texture)
    img = img + 0.04 * torch.randn(img.shape, generator=gen) * (img > 0.05)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)[:, 0]


def grey_split(templates: Tensor, per_class: int, gen: Tensor, *, first: int = 0, box: int = 20,
               fill: bool = False) -> tuple[Any, Any]:  # fmt: skip
    """(images (n, 28, 28), labels (n,)) as uint8 numpy arrays, every class `per_class` times,
    shuffled; labels count from `first`."""
    import torch

    labels = torch.arange(len(templates)).repeat_interleave(per_class)
    labels = labels[torch.randperm(len(labels), generator=gen)]
    images = render_grey(templates, labels, gen, box=box, fill=fill)
    return images.numpy(), (labels + first).to(torch.uint8).numpy()


# --------------------------------------------------------------------------- SVHN


def svhn_split(per_class: int, gen: Tensor) -> tuple[Any, Any]:
    """(images (32, 32, 3, n) uint8, labels (n, 1) with 10 for the digit 0), as SVHN's .mat
    files hold them: a house-number digit in the middle, parts of its neighbours at the sides,
    on a plain background."""
    import torch
    import torch.nn.functional as F

    digits = glyph_templates([[str(d)] for d in range(10)])[:, 0]
    n = 10 * per_class
    labels = torch.arange(10).repeat_interleave(per_class)[torch.randperm(n, generator=gen)]

    def uniform(lo: float, hi: float, *shape: int) -> Tensor:
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=gen)

    cover = torch.zeros(n, 1, CIFAR_SIDE, CIFAR_SIDE)
    scale, tilt = uniform(0.75, 1.0), uniform(-0.15, 0.15)
    wide, tall, turn = 1.5 * torch.cos(tilt) / scale, torch.cos(tilt) / scale, torch.sin(tilt) / scale
    for place, picks in ((0.0, labels), (-0.75, None), (0.75, None)):
        chosen = picks if picks is not None else torch.randint(10, (n,), generator=gen)
        centre = place + uniform(-0.08, 0.08)
        rows = [
            torch.stack([wide, -turn, -wide * centre], 1),
            torch.stack([turn, tall, uniform(-0.1, 0.1)], 1),
        ]
        grid = F.affine_grid(torch.stack(rows, 1), [n, 1, CIFAR_SIDE, CIFAR_SIDE], align_corners=False)
        drawn = F.grid_sample(digits[chosen][:, None], grid, mode="bilinear", align_corners=False)
        cover = torch.maximum(cover, drawn)
    background, ink = torch.rand(n, 3, 1, 1, generator=gen), torch.rand(n, 3, 1, 1, generator=gen)
    luma = torch.tensor([0.3, 0.59, 0.11])[None, :, None, None]
    faint = ((ink - background) * luma).sum(1, keepdim=True).abs() < 0.35
    ink = torch.where(faint, (background + 0.6) % 1.0, ink)  # readable contrast
    ink = torch.where(
        ((ink - background) * luma).sum(1, keepdim=True).abs() < 0.35, 1 - background.round(), ink
    )
    img = background * (1 - cover) + ink * cover
    img = img + 0.04 * torch.randn(n, 3, CIFAR_SIDE, CIFAR_SIDE, generator=gen)
    img = F.avg_pool2d(F.pad(img, (1, 1, 1, 1), mode="replicate"), 3, stride=1)  # a camera's blur
    images = (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(2, 3, 1, 0).contiguous()
    targets = torch.where(labels == 0, 10, labels).to(torch.uint8)[:, None]
    return images.numpy(), targets.numpy()


# --------------------------------------------------------------------------- Tiny Shakespeare

SHAKESPEARE_CHARS = "\n !$&',-.3:;?" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"  # its 65
SPEAKERS = (
    "First Citizen", "Second Citizen", "All", "MENENIUS", "ROMEO", "JULIET", "Nurse", "GLOUCESTER",
    "KING RICHARD III", "QUEEN ELIZABETH", "DUKE VINCENTIO", "ISABELLA", "LUCIO", "PETRUCHIO",
    "KATHARINA", "BENVOLIO", "TYBALT", "YORK", "WARWICK", "VOLUMNIA", "ANGELO", "ESCALUS",
    "FRIAR LAURENCE", "HORTENSIO", "OXFORD", "ZOUNDS",
)  # fmt: skip
WORD_TEXT = (
    "the and to of I you my a that in is not with me it for be his your this but he have as thou so "
    "him will what thy all her do no shall by we or if are our on thee lord now good from at sir they "
    "o more then would was let which here well love how their there an can say am she them may make "
    "come king upon should know like us yet one such must hath man what's why did these speak heart "
    "see these father death blood tell night where noble fair queen heaven day crown sweet grace "
    "quoth zeal vex jest brave gentle sword honour hast doth ere art o'er 'tis ne'er whence hence "
    "prithee methinks forsooth wherefore anon nay aye citizen people corn famine patience "
    "Xanthippe Rome Verona Padua England London York Warwick God"
)
WORDS = tuple(WORD_TEXT.split())


def shakespeare_text(length: int) -> str:
    """About `length` characters of made-up dialogue in tiny Shakespeare's form (SPEAKER:, then
    lines; a blank line between speeches) and with exactly its 65 characters."""
    rng = random.Random(SEED)
    speeches = ["First Citizen:\nBefore we proceed any further, hear me speak; what's $3 & more?\n"]
    size = len(speeches[0])
    while size < length:
        lines = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(4, 10))]
            line = " ".join(words)
            if rng.random() < 0.3:
                cut = rng.randint(1, len(words) - 1)
                line = " ".join(words[:cut]) + rng.choice((",", ";", " -", ":")) + " " + " ".join(words[cut:])
            lines.append(line[0].upper() + line[1:] + rng.choice(".,.!?;:"))
        speech = f"{rng.choice(SPEAKERS)}:\n" + "\n".join(lines) + "\n"
        speeches.append(speech)
        size += len(speech) + 1
    return "\n".join(speeches)
