"""Inside the kernel: a block's printed output kept to a bound, and its figures sent to the
notebook as PNGs with their alt text."""

from __future__ import annotations

import io
import sys
from typing import Any

FIGURE_DPI = 150


class OutputCap:
    """Keeps a block's printed output to a bounded size, across stdout and stderr."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.dropped = 0

    def wrap(self, stream: Any) -> None:
        write = stream.write

        def capped_write(text: str) -> int:
            if not isinstance(text, str):
                return write(text)
            room = self.limit - self.used
            if len(text) > room:
                self.dropped += len(text) - max(room, 0)
                text = text[: max(room, 0)]
            self.used += len(text)
            if text:
                write(text)
            return len(text)

        stream.write = capped_write
        self._notice = write

    def reset(self, *_: object) -> None:
        self.used = 0
        self.dropped = 0

    def report(self, *_: object) -> None:
        if self.dropped:
            self._notice(f"\n[deckcheck: {self.dropped:,} more characters of output not kept]\n")
        self.reset()


def show_figures(*_: object, **__: object) -> None:
    """Send every open matplotlib figure to the notebook as a PNG, then close it.

    The kernel keeps matplotlib's Agg backend (MPLBACKEND=Agg), on which plt.show() shows
    nothing; this stands in for it, as Jupyter's inline backend would."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not pyplot.get_fignums():
        return
    from IPython.display import Image, display

    for number in pyplot.get_fignums():
        figure = pyplot.figure(number)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
        alt = figure_alt(figure)
        display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt} if alt else None))
    pyplot.close("all")


def figure_alt(figure: Any) -> str:
    """What a figure shows, in words, from its own labels: the suptitle, else each axes'
    title, else its axis labels ("accuracy against epoch"); empty when it has none."""
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return suptitle.get_text().strip()
    parts = []
    for axes in figure.get_axes():
        title = axes.get_title().strip()
        x, y = axes.get_xlabel().strip(), axes.get_ylabel().strip()
        if title:
            parts.append(title)
        elif x and y:
            parts.append(f"{y} against {x}")
        elif x or y:
            parts.append(x or y)
    return "; ".join(parts)
