"""Slide dialects: which tool's deck a file is, how that tool numbers its slides, which fences
are its Python blocks.

- marp (the default; the only dialect `build` publishes): marp_markdown.py and parser.py;
- quarto (`.qmd`, or `format: revealjs`): quarto.py;
- myst (MyST / Jupyter Book, ```{code-cell}) and jupytext (Jupytext Markdown): notebooks.py;
- slidev (`---` separators with per-slide front matter): slidev.py;
- revealjs (reveal.js Markdown, `---` and `--` separators, slides numbered `h.v`): revealjs.py.

`deckcheck: {dialect: NAME}` in the deck's settings chooses one; otherwise it is told from the
front matter's keys, the file's extension and its fences (`detect`). A Marp deck whose fences
are another tool's cells, and a deck whose fences look like Python but none of which is read as
a block, are errors naming the first such fence: never a quiet "ok" having run nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deckcheck.deck import BlockOptions

DIALECTS = ("marp", "quarto", "myst", "jupytext", "slidev", "revealjs")
QUARTO_CELL = re.compile(r"^\{(python|ipython3?)(?:[\s,}]|$)")
MYST_CELL = re.compile(r"^\{(code-cell|jupyter-execute)\}")
SLIDEV_BLOCK = re.compile(r"^(python|py|python3)\s*[\[{]")
FOREIGN_CELLS = (  # a fence's info → the tool whose code cell it is, and the dialect that reads it
    (QUARTO_CELL, "a Quarto cell", "quarto"),
    (MYST_CELL, "a MyST code cell", "myst"),
    (SLIDEV_BLOCK, "a Slidev block (its {…} attributes)", "slidev"),
)
PYTHON_WORDS = {
    "python",
    "py",
    "python3",
    "py3",
    "ipython",
    "ipython3",
    "pycon",
    "code-cell",
    "jupyter-execute",
}
LANGUAGE_WORD = re.compile(r"^[{.=]*([\w-]+)")
SLIDEV_KEYS = {  # headmatter keys that only Slidev reads (Marp shares theme, class, transition...)
    "layout", "highlighter", "drawings", "mdc", "colorSchema", "canvasWidth", "aspectRatio",
    "addons", "fonts", "routerMode", "monaco", "lineNumbers", "themeConfig", "hideInToc",
    "exportFilename", "seoMeta", "titleTemplate", "download", "selectable", "record",
}  # fmt: skip
REVEAL_KEYS = {"revealOptions", "revealjs", "separator", "verticalSeparator"}
JUPYTEXT_REGION = re.compile(r"^<!--\s*#(region|endregion|md|raw)\b")
VERTICAL_RULER = re.compile(r"^--$")


class SlideNumber(int):
    """A slide's 1-based position in its deck, printed as its tool labels it: reveal.js shows
    a slide of a vertical stack as `h.v` (3.2), every other slide as its number."""

    label: str

    def __new__(cls, number: int, label: str = "") -> SlideNumber:
        made = super().__new__(cls, number)
        made.label = label or str(number)
        return made

    def __str__(self) -> str:
        return self.label

    def __format__(self, spec: str) -> str:
        return format(self.label, spec)

    def __reduce__(self) -> tuple[type, tuple[int, str]]:
        return SlideNumber, (int(self), self.label)


@dataclass(frozen=True)
class Cell:
    """A block as a dialect wrote it: where, its Python code alone, and what its options mean."""

    line: int  # 1-based line of the opening fence
    end_line: int  # 1-based line of the closing fence
    code: str
    info: str  # the fence's info string, with the option lines a dialect writes inside the cell
    options: BlockOptions = field(default_factory=BlockOptions)
    skip: int = 0  # option lines between the fence and the code (MyST's `:tags:`)
    slide_type: str = ""  # RISE's slideshow metadata: slide, subslide, fragment, skip, notes, -
    problem: str = ""  # an option deckcheck cannot use, said at the fence


@dataclass(frozen=True)
class Layout:
    """A non-Marp deck as its tool sees it: where each slide starts, and its blocks."""

    starts: tuple[tuple[int, str], ...]  # (1-based first line, label) per slide, in order
    cells: tuple[Cell, ...]
    ignored: tuple[int, str] | None = None  # the first option ignored (line, what), warned once


def detect(path: Path, front_matter: Mapping[str, object], infos: Iterable[str], lines: list[str]) -> str:
    """The dialect a file is written in, from its front matter, its extension, then its fences."""
    if front_matter.get("marp") is True:
        return "marp"
    formats = front_matter.get("format")
    if path.suffix == ".qmd" or "revealjs" in (formats if isinstance(formats, dict) else [str(formats)]):
        return "quarto"
    jupyter = front_matter.get("jupyter")
    jupytext = front_matter.get("jupytext") or (
        jupyter.get("jupytext") if isinstance(jupyter, dict) else None
    )
    name = _format_name(jupytext)
    if name in ("myst", "md:myst"):
        return "myst"
    if name in ("markdown", "md"):
        return "jupytext"
    if REVEAL_KEYS & set(front_matter):
        return "revealjs"
    if SLIDEV_KEYS & set(front_matter):
        return "slidev"
    return _from_fences(list(infos), lines) or ("jupytext" if isinstance(jupyter, dict) else "marp")


def _format_name(jupytext: object) -> str:
    representation = jupytext.get("text_representation") if isinstance(jupytext, dict) else None
    name = representation.get("format_name") if isinstance(representation, dict) else None
    return str(name or "")


def _from_fences(infos: list[str], lines: list[str]) -> str:
    for info in infos:
        for pattern, _, reader in FOREIGN_CELLS:
            if pattern.match(info.strip()):
                return reader
        if info.strip().startswith("md magic-move"):
            return "slidev"
    if any(JUPYTEXT_REGION.match(line.strip()) for line in lines):
        return "jupytext"
    if any(VERTICAL_RULER.match(line) for line in lines):
        return "revealjs"
    return ""


def foreign_cell(info: str, dialect: str) -> str | None:
    """What a fence that this dialect does not run looks like, if it is another tool's cell."""
    for pattern, what, reader in FOREIGN_CELLS:
        if pattern.match(info.strip()) and reader != dialect:
            setting = f"set `deckcheck: {{dialect: {reader}}}`"
            return f"```{info.strip()} is {what}, and this deck is read as {dialect}: {setting}"
    return None


def looks_like_python(info: str) -> bool:
    """A fence whose language word, braces and dots aside, is Python's (```{.python}, ```ipython)."""
    found = LANGUAGE_WORD.match(info.strip().lower())
    return found is not None and found.group(1) in PYTHON_WORDS


def unread_fence(info: str, dialect: str) -> str:
    names = ", ".join(DIALECTS)
    return (
        f"```{info.strip()} looks like Python, but no fence of this deck is a block when it is read"
        f" as {dialect}: set `deckcheck: {{dialect: NAME}}` ({names}), or write ```python"
    )
