"""Find slides whose content is cut off, by laying out the rendered HTML in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from deckcheck.deck import Block, Deck

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_SCRIPT = resources.files("deckcheck") / "assets" / "measure_overflow.js"
# Playwright runs the text as a function only if it starts like one: drop the leading comments.
MEASURE = "\n".join(line for line in _SCRIPT.read_text("utf-8").splitlines() if not line.startswith("//"))
TOLERANCE_PX = 2
MIN_CODE_SCALE = 0.99  # the theme's code size is the smallest readable from the back: no shrinking
MAX_SHOWN_LINES = 12  # of code in a shown block, at the theme's 24 px
LONG_BLOCK_ADVICE = (
    f"at most {MAX_SHOWN_LINES} lines are readable from the back row: split the slide, or hide "
    'set-up and plotting code in a tags=["remove-cell"] block'
)


def long_blocks(deck: Deck) -> list[tuple[Block, int]]:
    """The blocks shown on a slide with more than MAX_SHOWN_LINES lines of code."""
    found = []
    for block in deck.blocks:
        lines = len(block.code.rstrip("\n").splitlines())
        if not block.options.remove_cell and lines > MAX_SHOWN_LINES:
            found.append((block, lines))
    return found


class BrowserFailed(RuntimeError):
    """Chromium could not be started; the message says why, in one line."""


@contextmanager
def browser(executable: str) -> Iterator[Any]:
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        except Error as error:
            raise BrowserFailed(str(error).splitlines()[0][:200]) from None
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass(frozen=True)
class SlideFit:
    slide: int
    reach: int  # CSS pixels the content reaches past the slide's edge (0 when it fits)
    shrink: float  # the scale Marp gave its most shrunken code block (1.0: none)

    @property
    def overflows(self) -> bool:
        return self.reach > TOLERANCE_PX

    @property
    def shrunk(self) -> bool:
        return self.shrink < MIN_CODE_SCALE

    @property
    def summary(self) -> str:
        return "content overflows the slide" if self.overflows else f"code shrunk to {self.shrink:.0%} to fit"

    @property
    def detail(self) -> str:
        if self.overflows:
            return f"it reaches {self.reach} px past the slide's edge and is cut off"
        return "Marp shrank a code block to fit; split the slide or shorten the code"


@contextmanager
def loaded(chromium: Any, html: Path) -> Iterator[Any]:
    """A page of the build's Chromium with a rendered deck loaded, its fonts ready, at the
    slides' own size."""
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(html.absolute().as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready")
        yield page
    finally:
        page.close()


def slide_fits(page: Any) -> list[SlideFit]:
    """Every slide that is cut off, or whose code Marp shrank to fit, in a deck rendered with
    Marp's bare template (the presentation template lays out only the slide on show) and
    loaded in `page`."""
    measured = page.evaluate(MEASURE)
    fits = [SlideFit(number, int(m["reach"]), float(m["shrink"])) for number, m in enumerate(measured, 1)]
    return [fit for fit in fits if fit.overflows or fit.shrunk]
