"""Random Marp decks that mix every way a ruler can split a slide, or be hidden from splitting."""

from __future__ import annotations

import random
from collections.abc import Callable

RULERS = ["---", "***", "___", "- - -", "* * *", "_ _ _", "-----", " ---", "  ***", "   ___", "---  "]


class DeckWriter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.marker = 0

    def fence(self, inner: str = "") -> str:
        self.marker += 1
        language = self.rng.choice(["python", "py", "python3", 'python tags=["remove-cell"]'])
        fence = self.rng.choice(["```", "````", "~~~"])
        return f"{fence}{language}\nm{self.marker}z = {self.marker}\n{inner}{fence}"

    def piece(self) -> str:
        rng = self.rng
        makers: list[Callable[[], str]] = [
            lambda: rng.choice(RULERS),
            lambda: rng.choice(RULERS),
            lambda: f"Setext heading\n{rng.choice(['---', '===', '------'])}",
            lambda: f"{'#' * rng.randint(1, 4)} Heading {rng.randint(1, 99)}",
            lambda: f"{'#' * rng.randint(1, 3)} Heading {rng.randint(1, 99)}",
            lambda: "Some prose with `code` and *emphasis*.",
            lambda: self.fence(),
            lambda: self.fence(inner=f"{rng.choice(RULERS)}\n"),
            lambda: f"<div>\n{rng.choice(RULERS)}\n</div>",
            lambda: f"<!--\n{rng.choice(RULERS)}\nspeaker note\n-->",
            lambda: f"<!-- headingDivider: {rng.choice(['1', '2', '3', '[1, 3]', '[2]', 'false'])} -->",
            lambda: f"> quoted\n> {rng.choice(RULERS)}\n> more",
            lambda: f"- item\n- {rng.choice(['---', 'item'])}\n\n  {self.fence()}",
            lambda: f"$$\nx\n{rng.choice(RULERS)}\n$$",
            lambda: f"    indented code\n    {rng.choice(RULERS).strip()}",
            lambda: f"| a | b |\n|---|---|\n| 1 | 2 |\n{rng.choice(RULERS)}",
            lambda: f"> # Quoted heading\n\n{self.fence()}",
            lambda: f"<style>\n{rng.choice(RULERS)}\n</style>",
        ]
        return rng.choice(makers)()

    def front_matter(self) -> str:
        options = [
            "",
            "---\nmarp: true\n---\n",
            "---\nmarp: true\nheadingDivider: 2\n---\n",
            f"---\nheadingDivider: {self.rng.choice(['1', '3', '[1, 2]', '[3]'])}\n---\n",
            "---\ntitle: x\n",  # never closed: Marp reads the whole deck as front matter
        ]
        weights = [4, 3, 3, 3, 1]
        return self.rng.choices(options, weights)[0]

    def deck(self) -> str:
        parts = [self.piece() for _ in range(self.rng.randint(1, 14))]
        text = self.front_matter()
        for part in parts:
            text += part + self.rng.choice(["\n\n", "\n\n", "\n"])
        return text


def random_decks(seed: int, count: int) -> dict[str, str]:
    rng = random.Random(seed)
    decks = {}
    for index in range(count):
        writer = DeckWriter(rng)
        decks[f"deck{index:03d}"] = writer.deck()
    return decks
