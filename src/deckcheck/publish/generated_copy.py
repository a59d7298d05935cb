"""Deck + results → the generated copy that Marp renders (what Quarto does for its slides).

`remove-cell` blocks are dropped (leaving only their output when they are `show-output`
too), fence options are stripped to the bare language, a `show-output` block is followed by
what it printed and by its figures, every inline value (`{python} expr`) is replaced by what
it came to, and every local image is renamed into the site's content-addressed `assets/` folder.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from deckcheck.check.output_lock import shown_output
from deckcheck.deck import Block, Deck, ImageRef, source_lines_with_ends
from deckcheck.publish.labels import footer_directive, standin_note
from deckcheck.read.fences import language
from deckcheck.read.parser import image_path, is_inside, parse_text
from deckcheck.read.project import course_root
from deckcheck.results import BlockResult, DeckResult

FENCE = re.compile(r"^(?P<prefix>[ \t>]*(?:[-*+] |\d+[.)] )?[ \t>]*)(?P<fence>`{3,}|~{3,})")
ASSETS = "assets"
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>$~|&]")  # what could start markup in a value's text


class RenderError(Exception):
    """The generated copy would not have the deck's slides; the message says why."""


@dataclass(frozen=True)
class Asset:
    name: str  # path inside the site, e.g. assets/3f2a…-graph.png
    data: bytes


@dataclass(frozen=True)
class GeneratedDeck:
    stem: str
    markdown: str
    assets: tuple[Asset, ...]
    slides: int
    image_assets: tuple[tuple[str, str], ...] = ()  # each local image of the deck (its src) → its asset


def asset_name(data: bytes, filename: str) -> str:
    digest = hashlib.sha256(data).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name) or "file"
    return f"{ASSETS}/{digest}-{safe}"


def with_values(deck: Deck, result: DeckResult) -> str:
    """The deck's text with each evaluated inline value in place of its code span, on the same
    line (every line keeps its number); one not evaluated stays as written."""
    lines = source_lines_with_ends(deck.text)
    if len(result.values) != len(deck.inline):
        return deck.text
    for expr, value in reversed(list(zip(deck.inline, result.values, strict=True))):
        line = lines[expr.line - 1]
        end = expr.column + len(expr.source)
        if value.text is None or value.expr != expr.expr or line[expr.column : end] != expr.source:
            continue
        text = " ".join(value.text.split())
        shown = text.replace("-->", "--&gt;") if expr.note else MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)
        lines[expr.line - 1] = line[: expr.column] + shown + line[end:]
    return "".join(lines)


def generated_copy(deck: Deck, result: DeckResult, stem: str) -> GeneratedDeck:
    lines = source_lines_with_ends(with_values(deck, result))
    newline = "\r\n" if "\r\n" in deck.text else "\n"
    assets: dict[str, Asset] = {}
    image_assets: dict[str, str] = {}
    for image, asset in local_images(deck):
        assets[asset.name] = asset
        image_assets[image.src] = asset.name
        lines[image.line - 1] = _replace_src(lines[image.line - 1], image.src, asset.name)
    first, last = deck.settings_lines
    # the settings comment would otherwise become a speaker note
    replacements: dict[int, list[str]] = {index: [newline] for index in range(first - 1, last) if first}
    results = {block.index: block for block in result.blocks}
    for block in deck.blocks:
        replacements.update(_block_edits(block, lines, results.get(block.index), assets, newline))
    added: dict[int, list[str]] = {}  # line index → generated lines to put after it
    added.setdefault(deck.front_matter_end - 1, []).append(_with_newline(footer_directive(result), newline))
    for block, note in _standin_notes(deck, results):
        added.setdefault(block.end_line - 1, []).extend([newline, note + newline])
    markdown = "".join(
        [*added.get(-1, []), *(text for i, original in enumerate(lines)
                               for text in [*replacements.get(i, [original]), *added.get(i, [])])]
    )  # fmt: skip
    slides = len(parse_text(deck.path, markdown).slides)
    if slides != len(deck.slides):
        raise RenderError(f"the rendered copy has {slides} slides instead of {len(deck.slides)}")
    return GeneratedDeck(stem, markdown, tuple(assets.values()), slides, tuple(image_assets.items()))


def local_images(deck: Deck) -> list[tuple[ImageRef, Asset]]:
    """Each local image the deck shows that can be published, with its asset."""
    found = []
    for image in deck.images:
        try:
            file = image_path(deck.folder, image.src)
            if not is_inside(file, course_root(deck.path)):
                continue  # the reader said so: the deck is invalid, and never published
            data = file.read_bytes()
        except OSError:
            continue  # a missing image is the deck's problem, reported at its line; a preview shows it
        found.append((image, Asset(asset_name(data, image.src), data)))
    return found


def notebook_copy(deck: Deck, stem: str) -> GeneratedDeck:
    """What the notebook of a deck that only its notebook publishes (another tool's deck, which
    Marp does not render) needs: no Markdown for Marp, its local images."""
    pairs = local_images(deck)
    assets = {asset.name: asset for _, asset in pairs}
    images = {image.src: asset.name for image, asset in pairs}
    return GeneratedDeck(stem, "", tuple(assets.values()), len(deck.slides), tuple(images.items()))


def _standin_notes(deck: Deck, results: dict[int, BlockResult]) -> list[tuple[Block, str]]:
    """For each slide with shown code or output that rests on stand-ins: its last such block,
    and the note to put after it."""
    by_slide: dict[int, list[Block]] = {}
    for block in deck.blocks:
        result = results.get(block.index)
        shown = not block.options.remove_cell or block.options.show_output
        if result is not None and result.standins and shown:
            by_slide.setdefault(block.slide, []).append(block)
    return [
        (blocks[-1], standin_note([results[block.index] for block in blocks])) for blocks in by_slide.values()
    ]


def _replace_src(line: str, src: str, new: str) -> str:
    for raw in (src, quote(src, safe="/:._-~"), src.replace(" ", "%20")):
        if raw in line:
            return line.replace(raw, new)
    return line


def _block_edits(
    block: Block, lines: list[str], result: BlockResult | None, assets: dict[str, Asset], newline: str
) -> dict[int, list[str]]:
    first, last = block.line - 1, block.end_line - 1
    if block.options.remove_cell:
        edits: dict[int, list[str]] = {index: [] for index in range(first, last + 1)}
        opening = FENCE.match(lines[first])
        if block.options.show_output and result is not None and opening:
            edits[first] = _output_lines(result, opening["prefix"], assets, newline)[1:]
        return edits
    fence_line = lines[first]
    edits = {first: [fence_line.replace(block.info, language(block.info), 1)]}
    closing = FENCE.match(lines[last]) if last > first else None
    if block.options.show_output and result is not None and closing:
        edits[last] = [
            _with_newline(lines[last], newline),
            *_output_lines(result, closing["prefix"], assets, newline),
        ]
    return edits


def _with_newline(line: str, newline: str) -> str:
    return line if line.endswith(("\n", "\r")) else line + newline


def _output_lines(result: BlockResult, prefix: str, assets: dict[str, Asset], newline: str) -> list[str]:
    continuation = re.sub(r"[-*+]|\d+[.)]", lambda m: " " * len(m.group(0)), prefix)
    out: list[str] = []
    text = shown_output(result)
    if text.strip():
        fence = "`" * max(3, _longest_backtick_run(text) + 1)
        out += ["", f"{fence}output", *text.splitlines(), fence]
    figures = []
    for figure in result.figures:
        data = base64.b64decode(figure.png)
        asset = Asset(asset_name(data, "figure.png"), data)
        assets[asset.name] = asset
        figures.append(f'<img class="figure" src="{asset.name}" alt="{_alt_text(figure.alt)}">')
    if figures:
        out += ["", f'<p class="figures">{" ".join(figures)}</p>']
    if out:
        out.append("")
    return [f"{continuation}{line}".rstrip() + newline for line in out]


def _alt_text(alt: str) -> str:
    """Alt text as an HTML attribute, on one line. An <img> tag, not Markdown's ![alt](src):
    Marp reads words such as "grayscale" or "w:200" in Markdown alt text as image options."""
    return html.escape(" ".join(alt.split()), quote=True)


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(run) for run in runs), default=0)
