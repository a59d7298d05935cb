"""Alt text: what Marp keeps of an image's Markdown alt text, and which alt texts say nothing."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# Marpit's image keywords (sizes, filters): Marp removes them from the alt text. A background
# image (`bg`) has its own (placement), and is drawn as a background, not as an <img>.
SIZE = r"(?:\d*\.)?\d+(?:%|ch|cm|em|ex|in|mm|pc|pt|px)?|auto"
KEYWORD = re.compile(
    rf"^(?:(?:\d*\.)?\d+%|w(?:idth)?:(?:{SIZE})|h(?:eight)?:(?:{SIZE})"
    r"|(?:blur|brightness|contrast|grayscale|hue-rotate|invert|opacity|saturate|sepia)(?::.+)?"
    r"|drop-shadow(?::.+)?)$"
)
BACKGROUND_KEYWORD = re.compile(r"^(?:bg|contain|cover|fit|auto|left|right|vertical|(?:left|right):.+)$")
GENERIC = {"", "figure", "image", "img", "picture", "photo", "graphic", "diagram", "chart", "plot", "alt"}
FALLBACK = re.compile(r"^figure \d+ drawn by the code on slide \d+$")


def fallback_alt(number: int, slide: int) -> str:
    """A figure's alt text when neither the block nor the figure says what it shows."""
    return f"figure {number} drawn by the code on slide {slide}"


def marp_alt(alt: str) -> str:
    """The alt text Marp renders for `![alt](src)`: the words that are not image keywords."""
    background = is_background(alt)
    return " ".join(
        word
        for word in alt.split()
        if not KEYWORD.match(word) and not (background and BACKGROUND_KEYWORD.match(word))
    )


def is_background(alt: str) -> bool:
    return "bg" in alt.split()


def says_nothing(alt: str, src: str = "") -> bool:
    """Empty, a generic word ("figure", "image"), the file's name, or our own fallback."""
    text = " ".join(alt.split()).lower()
    name = PurePosixPath(src.split("?", 1)[0]).name.lower()
    return text in GENERIC or text in {name, PurePosixPath(name).stem} or bool(FALLBACK.match(text))
