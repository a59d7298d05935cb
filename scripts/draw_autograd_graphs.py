"""Draw the forward and backward computational graphs used in 01-fundamentals.md.

    f(x1, x2) = ln(x1) + x1 * x2 - sin(x2)   at   x1 = 2, x2 = 5

Writes images/autograd-forward.png and images/autograd-backward.png (16:9-friendly,
large type, high contrast, deterministic).  Run from anywhere:

    python scripts/draw_autograd_graphs.py
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

OUT = Path(__file__).resolve().parent.parent / "images"
X1, X2 = 2.0, 5.0

# values of the forward pass
V_LN = math.log(X1)
V_MUL = X1 * X2
V_SIN = math.sin(X2)
V_ADD = V_LN + V_MUL
V_F = V_ADD - V_SIN
# local derivatives for the backward pass
D_X1 = 1 / X1 + X2  # 5.5
D_X2 = X1 - math.cos(X2)  # 1.716

INK = "#111111"
INPUT_FILL = "#dbe9ff"
OP_FILL = "#fff1c9"
OUT_FILL = "#d8f5d0"
FWD = "#1f4e9c"
BWD = "#c0392b"
FONT = 22

# node positions (data coordinates, the canvas is 12 x 5.5 "inches" = units)
POS = {
    "x1": (1.4, 3.95),
    "x2": (1.4, 1.55),
    "ln": (5.6, 4.6),
    "mul": (5.6, 2.75),
    "sin": (5.6, 0.9),
    "add": (8.3, 3.7),
    "sub": (9.85, 2.3),
    "f": (11.45, 2.3),
}
OPS = {"ln": "ln", "mul": "×", "sin": "sin", "add": "+", "sub": "−"}
R = 0.48  # radius of an op node
BOX = {"x1": (2.7, 1.05), "x2": (2.7, 1.05), "f": (0.95, 0.8)}  # width, height
GAP = 0.06  # space between an arrow tip and a node


def new_canvas():
    fig = plt.figure(figsize=(12, 5.5), dpi=120)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 5.5)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.patch.set_facecolor("white")
    return fig, ax


def box(ax, name, text, fill, size=FONT + 2):
    x, y = POS[name]
    w, h = BOX[name]
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.15",
            fc=fill,
            ec=INK,
            lw=2.5,
            zorder=3,
        )
    )
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=size,
        weight="bold",
        color=INK,
        zorder=4,
        linespacing=1.4,
    )


def op(ax, name):
    x, y = POS[name]
    ax.add_patch(Circle((x, y), R, fc=OP_FILL, ec=INK, lw=2.5, zorder=3))
    size = FONT + 10 if OPS[name] in "×+−" else FONT
    ax.text(x, y, OPS[name], ha="center", va="center", fontsize=size, weight="bold", color=INK, zorder=4)


def border(name, towards):
    """The point where the ray from node ``name`` towards ``towards`` leaves it."""
    (x, y), (tx, ty) = POS[name], towards
    dx, dy = tx - x, ty - y
    norm = math.hypot(dx, dy)
    dx, dy = dx / norm, dy / norm
    if name in BOX:
        w, h = BOX[name]
        t = min((w / 2 + GAP) / abs(dx) if dx else math.inf, (h / 2 + GAP) / abs(dy) if dy else math.inf)
    else:
        t = R + GAP
    return x + t * dx, y + t * dy


def edge(ax, a, b, color, label=None, where=0.5, reverse=False, below=0.0):
    """Arrow a -> b (b -> a when reverse); the label sits on the line at ``where``
    (or ``below`` units under it)."""
    pa, pb = border(a, POS[b]), border(b, POS[a])
    start, end = (pb, pa) if reverse else (pa, pb)
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=30,
            lw=3.2,
            color=color,
            shrinkA=0,
            shrinkB=0,
            zorder=2,
        )
    )
    if label:
        lx = pa[0] + (pb[0] - pa[0]) * where
        ly = pa[1] + (pb[1] - pa[1]) * where - below
        ax.text(
            lx,
            ly,
            label,
            ha="center",
            va="center",
            fontsize=FONT - 3,
            color=color,
            weight="bold",
            zorder=5,
            bbox={"fc": "white", "ec": color, "lw": 1.5, "pad": 3, "boxstyle": "round,pad=0.25"},
        )


def num(v: float) -> str:
    """Three decimals with a typographic minus sign."""
    return f"{v:.3f}".replace("-", "−")


def value(ax, name, text, color, dx=0.0, dy=-0.8):
    x, y = POS[name]
    ax.text(
        x + dx,
        y + dy,
        text,
        ha="center",
        va="center",
        fontsize=FONT - 2,
        color=color,
        weight="bold",
        zorder=5,
    )


def nodes(ax, x1_text, x2_text, f_text, size=FONT + 2):
    box(ax, "x1", x1_text, INPUT_FILL, size)
    box(ax, "x2", x2_text, INPUT_FILL, size)
    for name in OPS:
        op(ax, name)
    box(ax, "f", f_text, OUT_FILL)


def save(fig, name):
    OUT.mkdir(exist_ok=True)
    # no "Software" metadata: the PNG bytes depend only on the drawing
    fig.savefig(OUT / name, dpi=120, facecolor="white", metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {OUT / name}")


def caption(ax, text: str, color: str) -> None:
    """The pass's explanation, top right, in the pass's colour."""
    ax.text(11.8, 5.3, text, fontsize=FONT - 4, color=color, ha="right", va="top", style="italic")


def forward():
    fig, ax = new_canvas()
    nodes(ax, "x₁ = 2", "x₂ = 5", "f")
    for a, b in [
        ("x1", "ln"),
        ("x1", "mul"),
        ("x2", "mul"),
        ("x2", "sin"),
        ("ln", "add"),
        ("mul", "add"),
        ("add", "sub"),
        ("sin", "sub"),
        ("sub", "f"),
    ]:
        edge(ax, a, b, FWD)
    value(ax, "ln", f"ln 2 = {num(V_LN)}", FWD, dy=0.72)
    value(ax, "mul", f"2·5 = {V_MUL:.0f}", FWD, dx=1.05, dy=-0.55)
    value(ax, "sin", f"sin 5 = {num(V_SIN)}", FWD, dx=1.75, dy=-0.3)
    value(ax, "add", num(V_ADD), FWD, dy=0.75)
    value(ax, "sub", f"f = {num(V_F)}", FWD, dx=0.3, dy=-0.8)
    caption(ax, "forward pass:\nvalues flow left → right", FWD)
    save(fig, "autograd-forward.png")


def backward():
    fig, ax = new_canvas()
    nodes(ax, f"x₁\n∂f/∂x₁ = {D_X1:.1f}", f"x₂\n∂f/∂x₂ = {num(D_X2)}", "f", size=FONT - 2)
    # each label: the gradient of f carried back along that edge (the local
    # derivative of the op times the gradient arriving at the op)
    edge(ax, "sub", "f", BWD, reverse=True)
    edge(ax, "add", "sub", BWD, "1", reverse=True)
    edge(ax, "sin", "sub", BWD, "−1", reverse=True)
    edge(ax, "ln", "add", BWD, "1", reverse=True)
    edge(ax, "mul", "add", BWD, "1", reverse=True)
    edge(ax, "x1", "ln", BWD, "1/x₁ = 0.5", reverse=True, where=0.45)
    edge(ax, "x1", "mul", BWD, "x₂ = 5", reverse=True, where=0.45)
    edge(ax, "x2", "mul", BWD, "x₁ = 2", reverse=True, where=0.45)
    edge(ax, "x2", "sin", BWD, f"−cos x₂ = {num(-math.cos(X2))}", reverse=True, where=0.45, below=0.55)
    caption(ax, "backward pass: gradients flow\nright → left and add up\nwhere paths meet", BWD)
    save(fig, "autograd-backward.png")


if __name__ == "__main__":
    forward()
    backward()
