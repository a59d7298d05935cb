"""The index's picture of a deck: its title slide, taken from the bare-template render."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT = 480, 270  # pixels: twice the size the index shows it at

SHRINK = """([width, height]) => {
  const slide = document.querySelector('svg[data-marpit-svg]')
  slide.style.width = `${width}px`
  slide.style.height = `${height}px`
}"""


def title_slide_png(page: Any) -> bytes:
    """A PNG of the first slide of the bare-template render loaded in `page`, drawn at the
    thumbnail's size (the slide is vector: it scales down without a blur). Call it last: it
    changes the page."""
    page.evaluate(SHRINK, [WIDTH, HEIGHT])
    return page.locator("svg[data-marpit-svg]").first.screenshot(type="png")
