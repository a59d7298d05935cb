"""Notebooks written as Markdown: MyST (```{code-cell}, `+++` between Markdown cells) and
Jupytext Markdown (```python cells, `<!-- #region -->` Markdown cells).

Slides as RISE (reveal.js in Jupyter) numbers a notebook's cells by their `slideshow`
metadata: `slide` starts a slide, `subslide` a vertical one under it (numbered `h.v`, as
reveal.js shows a slide of a vertical stack), `fragment` and `-` stay on the slide, `skip`
and `notes` are not shown (a block there still runs, and is reported at the slide before it).
The first cell starts slide 1 whatever its type. A deck without any `slideshow` metadata would
be one long slide in RISE; deckcheck then splits it as Quarto's reveal.js does (a slide at each
`#` and `##` heading and each `---`), so that a problem is not always on "slide 1".

Tags mean what MyST-NB and nbclient make of them: `raises-exception` lets the cell raise (its
error is shown, not a failure), `skip-execution` shows the cell without running it,
`remove-cell` runs it hidden, `remove-input` shows only its output; display tags
(`hide-input`, ...) change nothing here. Other tags and keys are the notebook's business:
ignored, with one warning per deck.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

import yaml
from markdown_it.token import Token

from deckcheck.deck import BlockOptions
from deckcheck.read import bounded_yaml
from deckcheck.read.dialects import MYST_CELL, Cell, Layout
from deckcheck.read.fences import KNOWN_KEYS, KNOWN_TAGS, OptionError, is_block, parse_options
from deckcheck.read.quarto import heading_starts

PAIR_KEY = re.compile(r"\s*([\w-]+)=")
JSON = json.JSONDecoder()
MYST_BREAK = re.compile(r"^ {0,3}\+\+\+\s*(.*?)\s*$")
MYST_OPTION = re.compile(r"^:([\w-]+):\s*(.*?)\s*$")
REGION = re.compile(r"^ {0,3}<!--\s*#(region|md|markdown|raw)\b(.*?)-->\s*$")
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
DISPLAY_TAGS = {
    "hide-input", "hide-output", "hide-cell", "remove-output", "remove-stderr", "remove-stdout",
    "full-width", "margin", "output_scroll", "scroll-output", "scroll-input", "thebe-init",
    "parameters", "injected-parameters", "hide_input", "hide_output",
}  # fmt: skip
NOTEBOOK_KEYS = {  # cell metadata that Jupyter, MyST-NB and editors write, none of it deckcheck's
    "editable", "deletable", "jupyter", "mystnb", "name", "label", "caption", "execution",
    "collapsed", "scrolled", "vscode", "pycharm", "id", "lines_to_next_cell", "title",
}  # fmt: skip


class _Ignored:
    """The first option of the deck that deckcheck ignores (one warning per deck says so)."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None

    def note(self, line: int, what: str) -> None:
        if self.first is None:
            self.first = (line, what)


def myst_layout(tokens: list[Token], lines: list[str]) -> Layout:
    return _notebook_layout(
        tokens,
        lines,
        lambda token: MYST_CELL.match(token.info.strip()) is not None,
        _myst_cell,
        lambda line: _json(found.group(1)) if (found := MYST_BREAK.match(line)) else None,
    )


def jupytext_layout(tokens: list[Token], lines: list[str]) -> Layout:
    return _notebook_layout(
        tokens,
        lines,
        lambda token: is_block(token.info, token.content),
        _jupytext_cell,
        lambda line: _pairs(found.group(2)) if (found := REGION.match(line)) else None,
    )


def _notebook_layout(
    tokens: list[Token],
    lines: list[str],
    is_cell: Callable[[Token], bool],
    read_cell: Callable[[Token, _Ignored], Cell],
    marker: Callable[[str], Mapping[str, object] | None],
) -> Layout:
    """Cells, and the slide type of each cell and of each Markdown cell's marker line (MyST's
    `+++ {...}`, Jupytext's `<!-- #region ... -->`) outside code."""
    ignored = _Ignored()
    units: list[tuple[int, str]] = []  # (1-based line, slide type) of each cell that has one
    cells = []
    for token in _fences(tokens):
        if is_cell(token):
            cell = read_cell(token, ignored)
            cells.append(cell)
            units.append((cell.line, cell.slide_type))
    inside = _fenced_lines(tokens)
    for number, line in enumerate(lines, 1):
        metadata = marker(line) if number - 1 not in inside else None
        if metadata is not None:
            units.append((number, _slide_type(metadata, number, ignored)))
    return _layout(tokens, lines, sorted(units), cells, ignored)


def _layout(
    tokens: list[Token], lines: list[str], units: list[tuple[int, str]], cells: list[Cell], ignored: _Ignored
) -> Layout:
    if not any(kind for _, kind in units):
        starts = heading_starts(tokens, 2, title=False)
        return Layout(tuple((line, str(n)) for n, line in enumerate(starts, 1)), tuple(cells), ignored.first)
    first = _first_content(tokens, lines)
    kinds = [(1, "slide")] + [
        (line, kind) for line, kind in units if kind in ("slide", "subslide") and line > first
    ]
    return Layout(rise_labels(kinds), tuple(cells), ignored.first)


def rise_labels(kinds: list[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    """reveal.js's slide numbers: `h` for a slide alone, `h.v` for each slide of a vertical stack."""
    numbered: list[tuple[int, int, int]] = []  # (line, h, v)
    h, v = 0, 0
    for line, kind in kinds:
        h, v = (h, v + 1) if kind == "subslide" and h else (h + 1, 0)
        numbered.append((line, h, v))
    stacked = {h for _, h, v in numbered if v}
    return tuple((line, f"{h}.{v + 1}" if h in stacked else str(h)) for line, h, v in numbered)


def _first_content(tokens: list[Token], lines: list[str]) -> int:
    start = tokens[0].map[1] if tokens and tokens[0].type == "front_matter" and tokens[0].map else 0
    return next((n for n in range(start + 1, len(lines) + 1) if lines[n - 1].strip()), len(lines) + 1)


def _fences(tokens: list[Token]) -> Iterable[Token]:
    return (token for token in tokens if token.type == "fence" and token.map)


def _fenced_lines(tokens: list[Token]) -> set[int]:
    return {n for token in _fences(tokens) for n in range(*(token.map or (0, 0)))}


def _myst_cell(token: Token, ignored: _Ignored) -> Cell:
    line = (token.map or [0])[0] + 1
    code_lines = token.content.split("\n")
    metadata, skip = _myst_options(code_lines, line, ignored)
    options, problem = _notebook_options(metadata, line, ignored)
    return Cell(
        line=line,
        end_line=(token.map or [0, 1])[1],
        code="\n".join(code_lines[skip:]),
        info="\n".join([token.info, *code_lines[:skip]]),  # the options enter the cache's key
        options=options,
        skip=skip,
        slide_type=_slide_type(metadata, line, ignored),
        problem=problem,
    )


def _myst_options(code_lines: list[str], line: int, ignored: _Ignored) -> tuple[dict[str, object], int]:
    """A code cell's options: a `---` YAML block at its top, or `:key: value` lines."""
    if code_lines and code_lines[0].strip() == "---":
        end = next((n for n in range(1, len(code_lines)) if code_lines[n].strip() == "---"), 0)
        if end:
            return _yaml("\n".join(code_lines[1:end]), line, ignored), end + 1
    metadata: dict[str, object] = {}
    skip = 0
    while skip < len(code_lines) and (found := MYST_OPTION.match(code_lines[skip].strip())):
        metadata.update(_yaml(f"{found.group(1)}: {found.group(2)}", line, ignored))
        skip += 1
    return metadata, skip


def _yaml(text: str, line: int, ignored: _Ignored) -> dict[str, object]:
    try:
        data = bounded_yaml.load(text)
    except (yaml.YAMLError, RecursionError):
        ignored.note(line, f"cell options it cannot read ({text.splitlines()[0] if text else ''})")
        return {}
    return {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}


def _json(text: str) -> dict[str, object]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _pairs(text: str) -> dict[str, object]:
    """A region's metadata: a JSON mapping, or jupytext's key=value pairs."""
    text = text.strip()
    if text.startswith("{"):
        return _json(text)
    found: dict[str, object] = {}
    pos = 0
    while key := PAIR_KEY.match(text, pos):
        try:
            found[key.group(1)], pos = JSON.raw_decode(text, key.end())
        except ValueError:
            word = re.match(r"\S*", text[key.end() :])
            found[key.group(1)] = word.group(0).strip("'\"") if word else ""
            pos = key.end() + (word.end() if word else 0)
    return found


def _slide_type(metadata: Mapping[str, object], line: int, ignored: _Ignored) -> str:
    slideshow = metadata.get("slideshow")
    kind = slideshow.get("slide_type") if isinstance(slideshow, dict) else None
    if kind is None:
        return ""
    if kind not in SLIDE_TYPES:
        ignored.note(line, f"slide type {kind!r}")
        return ""
    return str(kind)


def _jupytext_cell(token: Token, ignored: _Ignored) -> Cell:
    line = (token.map or [0])[0] + 1
    words = token.info.split(maxsplit=1)
    metadata = _pairs(words[1]) if len(words) > 1 else {}
    options, problem = _notebook_options(metadata, line, ignored)
    return Cell(
        line=line,
        end_line=(token.map or [0, 1])[1],
        code=token.content,
        info=token.info,
        options=options,
        slide_type=_slide_type(metadata, line, ignored),
        problem=problem,
    )


def _notebook_options(
    metadata: Mapping[str, object], line: int, ignored: _Ignored
) -> tuple[BlockOptions, str]:
    """deckcheck's options from a cell's metadata: tags as MyST-NB and nbclient read them, and
    deckcheck's own keys (timeout, requires, alt, filterwarnings) checked as in a Marp deck."""
    tags = metadata.get("tags", [])
    tags = [tags] if isinstance(tags, str) else tags if isinstance(tags, list) else []
    kept: list[str] = []
    for tag in map(str, tags):
        if tag == "remove-input":
            kept += ["remove-cell", "show-output"]
        elif tag in KNOWN_TAGS and tag != "raises-exception":
            kept.append(tag)
        elif tag not in DISPLAY_TAGS and tag != "raises-exception":
            ignored.note(line, f"tag {tag!r}")
    own = {key: value for key, value in metadata.items() if key in KNOWN_KEYS and key != "tags"}
    for key in metadata:
        if key not in KNOWN_KEYS and key != "slideshow" and key not in NOTEBOOK_KEYS:
            ignored.note(line, f"option {key!r}")
    try:
        parsed = parse_options(
            "python " + " ".join(f"{key}={json.dumps(value)}" for key, value in own.items())
        )
    except OptionError as error:
        parsed, problem = BlockOptions(), str(error)
    else:
        problem = ""
    options = BlockOptions(
        tags=tuple(dict.fromkeys(kept)),
        timeout=parsed.timeout,
        requires=parsed.requires,
        alt=parsed.alt,
        filterwarnings=parsed.filterwarnings,
        errors_allowed="raises-exception" in tags,
    )
    return options, problem
