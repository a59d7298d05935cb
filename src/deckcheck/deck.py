"""The plain data that flows through the pipeline: a Deck of Slides holding Blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LINE_BREAK = re.compile(r"\r\n|\r|\n")
LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def source_lines(text: str) -> list[str]:
    """A deck's lines as markdown-it counts them: only \\n, \\r\\n and \\r end a line
    (str.splitlines would also split at form feeds, U+2028 and others, and shift every line)."""
    return LINE_BREAK.split(text)


def source_lines_with_ends(text: str) -> list[str]:
    """source_lines(text), each line with its own line ending."""
    return LINE_WITH_END.findall(text)


@dataclass(frozen=True)
class BlockOptions:
    """What the fence info string says about a block (jupytext's `key=value` form)."""

    tags: tuple[str, ...] = ()
    timeout: float | None = None
    requires: tuple[str, ...] = ()
    alt: str | None = None  # the alt text of the block's figures
    filterwarnings: tuple[str, ...] = ()  # pytest-style warning filters for this block
    errors_allowed: bool = False  # an exception is shown, not a failure (Quarto's `error: true`)
    output_tolerance: float | None = None  # relative tolerance of numbers in its locked output

    @property
    def skip_execution(self) -> bool:
        return "skip-execution" in self.tags

    @property
    def raises_exception(self) -> bool:
        return "raises-exception" in self.tags

    @property
    def remove_cell(self) -> bool:
        return "remove-cell" in self.tags

    @property
    def show_output(self) -> bool:
        return "show-output" in self.tags

    @property
    def parameters(self) -> bool:
        """The deck's knobs (papermill's convention): `--quick` sets its quick values after it."""
        return "parameters" in self.tags


@dataclass(frozen=True)
class Block:
    """One fenced Python block: its code exactly as the fence holds it."""

    index: int  # 0-based position among the deck's Python blocks
    line: int  # 1-based line of the opening fence
    slide: int  # 1-based slide number, as Marp numbers the rendered slides
    code: str
    info: str  # the whole fence info string
    options: BlockOptions = field(default_factory=BlockOptions)
    end_line: int = 0  # 1-based line of the closing fence (or the last line)
    session: bool = False  # a doctest session (`>>> ` prompts, expected output under them)
    skip: int = 0  # option lines between the fence and the code (MyST's `:tags:`), not in code

    @property
    def first_code_line(self) -> int:
        return self.line + self.skip + 1

    def deck_line(self, code_line: int) -> int:
        """The deck file's line for a 1-based line of this block's code."""
        return self.line + self.skip + max(code_line, 1)


@dataclass(frozen=True)
class ImageRef:
    """A local image the deck shows, with the line that references it."""

    src: str
    line: int
    slide: int
    alt: str | None = None  # as written (Marp's keywords included); None: an <img> without alt
    markdown: bool = False  # ![alt](src), whose alt text Marp reads for keywords (w:900, bg)


@dataclass(frozen=True)
class Slide:
    number: int  # 1-based
    start_line: int  # 1-based first line of the slide's source
    end_line: int  # 1-based last line


@dataclass(frozen=True)
class InlineExpr:
    """`{python} expr` or `{python} expr:spec` in a deck's prose or speaker notes (Quarto's
    inline syntax): a value computed where it stands, after the blocks above it."""

    line: int  # 1-based
    slide: int
    column: int  # 0-based offset of its opening backtick in the line
    source: str  # the code span as written, backticks included
    expr: str
    spec: str = ""  # a format spec: `acc:.1%` → format(acc, ".1%")
    note: bool = False  # inside an HTML comment (a speaker note), not the prose
    before: int = 0  # the index of the first block below it (len(blocks): below them all)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a deck that is found without running it."""

    line: int
    slide: int
    summary: str
    fatal: bool = True  # a fatal problem stops the deck from being executed


@dataclass(frozen=True)
class DeckSettings:
    """How to run a deck's blocks, from its settings and its project's (see settings.py)."""

    setup: str = ""  # code run before the first block, never shown
    setup_origin: str = ""  # where setup was written, for its failure: "" (the deck) or "pyproject.toml:4"
    setup_line: int = 1  # the deck line a setup failure is reported at
    execute: bool = True
    timeout: float | None = None  # seconds per block, unless the block or the command line says
    requires: tuple[str, ...] = ()  # resources every block needs
    filterwarnings: tuple[str, ...] = ()  # pytest-style warning filters for every block
    dialect: str = ""  # how slides and blocks are written (read/dialects.py); "" to tell from the file
    output_tolerance: float | None = None  # relative tolerance of numbers in locked outputs
    quick: tuple[tuple[str, str], ...] = ()  # parameter name → its value for --quick, as Python source
    quick_run: bool = False  # this run sets the quick values after the parameters block (check/quick.py)


@dataclass(frozen=True)
class Deck:
    path: Path  # as the user named it (or relative to the current folder)
    text: str
    front_matter: dict[str, object]
    slides: tuple[Slide, ...]
    blocks: tuple[Block, ...]
    images: tuple[ImageRef, ...]
    problems: tuple[Problem, ...] = ()
    settings: DeckSettings = field(default_factory=DeckSettings)
    settings_lines: tuple[int, int] = (0, 0)  # 1-based first and last line of a settings comment
    front_matter_end: int = 0  # 1-based line that closes the front matter (0: none)
    dialect: str = "marp"  # the tool whose deck this is (read/dialects.py); build publishes Marp's
    inline: tuple[InlineExpr, ...] = ()  # inline values, in file order

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def title(self) -> str:
        title = self.front_matter.get("title")
        return str(title) if title else self.path.stem

    @property
    def lines(self) -> list[str]:
        return source_lines(self.text)

    @property
    def runnable(self) -> bool:
        return not any(problem.fatal for problem in self.problems)

    def slide_at(self, line: int) -> int:
        """The slide that holds a 1-based line of the deck."""
        for slide in reversed(self.slides):
            if slide.start_line <= line:
                return slide.number
        return 1
