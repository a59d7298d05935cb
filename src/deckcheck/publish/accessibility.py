"""Accessibility: alt text that says what each image shows, and axe-core's audit of the pages.

The alt-text check reads the deck (its images, its figures); the audit runs axe-core from the
project's node_modules on a page of the build's Chromium: on the slides of the bare-template
render (every slide laid out, so each violation has its slide), and on the presentation and
index pages around the slides.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from deckcheck.deck import Deck
from deckcheck.read.alt_text import is_background, marp_alt, says_nothing
from deckcheck.results import DeckResult
from deckcheck.text import shorten

AXE = Path("node_modules") / "axe-core" / "axe.min.js"
REPORTED_IMPACTS = ("serious", "critical")  # axe's "moderate" and "minor" are advice, not failures
_SCRIPT = resources.files("deckcheck") / "assets" / "axe_audit.js"
AUDIT = "\n".join(line for line in _SCRIPT.read_text("utf-8").splitlines() if not line.startswith("//"))


@dataclass(frozen=True)
class Finding:
    """One accessibility problem of a deck, at its line and slide (0: of the page itself)."""

    line: int
    slide: int
    summary: str
    detail: str


def alt_text_findings(deck: Deck, result: DeckResult) -> list[Finding]:
    """Images and figures on the slides whose alt text is missing or says nothing."""
    findings = []
    for image in deck.images:
        written = image.alt or ""
        if image.markdown and is_background(written):
            continue  # Marp draws a background, not an <img>
        alt = marp_alt(written) if image.markdown else image.alt
        if alt is None or says_nothing(alt, image.src):
            example = f"![{written + ' ' if written else ''}what it shows]({image.src})"
            if not image.markdown:
                example = '<img ... alt="what it shows">'
            findings.append(
                Finding(
                    image.line,
                    image.slide,
                    f"image without alt text: {image.src}",
                    f"say what it shows: {example}",
                )
            )
    blocks = {block.index: block for block in deck.blocks}
    for block_result in result.blocks:
        block = blocks.get(block_result.index)
        if block is None or not block.options.show_output:
            continue
        if any(says_nothing(figure.alt) for figure in block_result.figures):
            findings.append(
                Finding(
                    block.line,
                    block.slide,
                    "figure without alt text",
                    'say what it shows: alt="..." in the fence, or a title or axis labels on the figure',
                )
            )
    return findings


@dataclass(frozen=True)
class Violation:
    """One axe-core rule broken on one slide (0: on the page around the slides)."""

    rule: str
    impact: str
    help: str
    slide: int
    nodes: tuple[str, ...]

    @property
    def summary(self) -> str:
        return f"accessibility: {self.help} ({self.rule}, {self.impact})"

    @property
    def detail(self) -> str:
        more = f" (and {len(self.nodes) - 1} more)" if len(self.nodes) > 1 else ""
        return f"{shorten(self.nodes[0], 1, width=160)}{more}"


def audit(page: Any, axe: Path, slides: bool) -> list[Violation]:
    """axe-core's serious and critical violations on the page loaded in `page`: on its slides
    (a bare-template render) or on everything but its slides."""
    page.add_script_tag(path=str(axe))
    nodes = page.evaluate(AUDIT, {"slides": slides})
    grouped: dict[tuple[str, int], list[dict]] = {}
    for node in nodes:
        if node["impact"] in REPORTED_IMPACTS:
            grouped.setdefault((node["rule"], int(node["slide"])), []).append(node)
    return [
        Violation(rule, found[0]["impact"], found[0]["help"], slide, tuple(n["html"] for n in found))
        for (rule, slide), found in sorted(grouped.items(), key=lambda item: (item[0][1], item[0][0]))
    ]
