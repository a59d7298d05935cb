"""The executed notebook of a deck: its prose as Markdown cells, its blocks as code cells that
carry what the check's own run printed and drew, so it opens with its outputs and runs alone.

Cells are cut where the parser (Marp-exact) found the blocks, so every code cell is one block;
jupytext's cell metadata conventions (`tags`) say how each is meant: `remove-cell` for hidden
set-up, `skip-execution` for blocks the check did not run, `raises-exception` kept as written.

Every dialect deckcheck reads exports the same way (for another tool's deck, `build` publishes
this notebook alone): its structure is no prose, so the lines that only say where a slide or a
cell starts are dropped from the Markdown cells (MyST's `+++`, Jupytext's region comments,
Slidev's per-slide front matter and magic-move wrappers, reveal.js's `---` and `--`), a
Quarto deck's `title` is its first cell, and a cell its dialect lets raise (MyST's
`raises-exception`, Quarto's `error: true`) is tagged `raises-exception`.

Jupyter, JupyterLab, VS Code and Colab ignore those tags, so "Run all" must work without them:
a block shown but not meant to run is a Markdown cell holding its code, a block that needs CUDA
or MPS checks for it first and says why it skips, and the images travel inside the file.
"""

from __future__ import annotations

import ast
import base64
import io
import mimetypes
import re
import tokenize
from pathlib import PurePosixPath
from urllib.parse import quote

import jupytext
import nbformat
from nbformat import v4

from deckcheck.deck import Block, Deck, source_lines, source_lines_with_ends
from deckcheck.in_kernel.doctest_sessions import examples
from deckcheck.publish.generated_copy import GeneratedDeck, with_values
from deckcheck.publish.html_filter import filter_html
from deckcheck.publish.jobs import ProduceJob
from deckcheck.publish.labels import standin_note
from deckcheck.read.alt_text import marp_alt
from deckcheck.read.marp_markdown import marp_parser
from deckcheck.read.quarto import QUARTO_OPTION
from deckcheck.results import BlockResult, DeckResult

COMMENT = re.compile(r"<!--[\s\S]*?-->")
STYLE = re.compile(r"<style[\s\S]*?</style>", re.IGNORECASE)
RULER = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)")
BLANK_RUNS = re.compile(r"\n{3,}")
TAG = re.compile(r"<[^>]+>")
MYST_BREAK = re.compile(r"^ {0,3}\+\+\+")
MAGIC_MOVE = re.compile(r"^\s*md magic-move")
COMPONENT = re.compile(
    r"^\s*</?(?:[A-Z][\w.-]*|[a-z][\w]*-[\w-]*)(?:\s[^<>]*)?/?>\s*$"
)  # Vue's, a custom element's
PROBES = {  # a resource → how a notebook asks for it, and its name in the skip message
    "cuda": ("torch.cuda.is_available()", "CUDA"),
    "mps": ("torch.backends.mps.is_available()", "MPS"),
}

Images = dict[str, str]  # a deck image's src → its attachment name
Attachments = dict[str, dict[str, str]]  # an attachment name → its MIME bundle


def write_notebook(job: ProduceJob) -> None:
    notebook = deck_notebook(job.deck, job.result, job.generated)
    job.target.write_text(jupytext.writes(notebook, fmt="ipynb"), "utf-8")


def deck_notebook(deck: Deck, result: DeckResult, generated: GeneratedDeck) -> nbformat.NotebookNode:
    lines = _plain_alt(source_lines(with_values(deck, result)))
    images, attachments = _attachments(generated)
    results = {block.index: block for block in result.blocks}
    cells = []
    if deck.settings.setup.strip():
        cells.append(v4.new_code_cell(quiet_setup(deck.settings.setup), metadata={"tags": ["remove-cell"]}))
    if deck.dialect == "quarto" and deck.front_matter.get("title"):  # Quarto's title slide
        cells.append(v4.new_markdown_cell(f"# {deck.title}"))
    markup = _markup(deck, lines)
    start = deck.front_matter_end  # the 0-based index of the line after it
    for block in deck.blocks:
        cells += _markdown_cells(deck, lines, (start, block.line - 1), markup, (images, attachments))
        needs = (*deck.settings.requires, *block.options.requires)
        cells += _block_cells(deck, block, results.get(block.index), needs)
        start = block.end_line
    cells += _markdown_cells(deck, lines, (start, len(lines)), markup, (images, attachments))
    count = 0
    for cell in cells:
        if cell.cell_type == "code" and cell.outputs is not None and _ran(cell):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = count
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "title": deck.title,
        }
    )
    return notebook


def _ran(cell: nbformat.NotebookNode) -> bool:
    return "skip-execution" not in cell.metadata.get("tags", [])


def _plain_alt(lines: list[str]) -> list[str]:
    """The lines with Markdown alt text without Marp's keywords (w:900, bg)."""
    return [MARKDOWN_IMAGE.sub(lambda m: f"![{marp_alt(m['alt'])}]({m['src']}", line) for line in lines]


def _attachments(generated: GeneratedDeck) -> tuple[Images, Attachments]:
    """Each local image as a cell attachment, so that a notebook opened alone (Colab) shows it."""
    data = {asset.name: asset.data for asset in generated.assets}
    images: Images = {}
    attachments: Attachments = {}
    for src, asset in generated.image_assets:
        name = PurePosixPath(asset).name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        images[src] = name
        attachments[name] = {mime: base64.b64encode(data[asset]).decode("ascii")}
    return images, attachments


def _attached(text: str, images: Images, attachments: Attachments) -> tuple[str, Attachments]:
    """The text with each image it shows pointing at its attachment, and those attachments."""
    used: Attachments = {}
    for src, name in images.items():
        for candidate in dict.fromkeys((src, quote(src, safe="/:._-~"), src.replace(" ", "%20"))):
            for before, after in (
                (f"({candidate}", f"(attachment:{name}"),
                (f'"{candidate}"', f'"attachment:{name}"'),
            ):
                if before in text:
                    text = text.replace(before, after)
                    used[name] = attachments[name]
    return text, used


def _markup(deck: Deck, lines: list[str]) -> set[int]:
    """The 0-based lines that only say where a slide or a cell starts, in the deck's dialect."""
    if deck.dialect == "slidev":
        return _slidev_markup(deck, lines)
    if deck.dialect == "revealjs":
        return {
            slide.start_line - 2
            for slide in deck.slides[1:]
            if slide.start_line >= 2 and lines[slide.start_line - 2] in ("---", "--")
        }
    rulers = {
        index
        for index, line in enumerate(lines)
        if RULER.match(line) and (index == 0 or not lines[index - 1].strip())
    }
    if deck.dialect == "myst":
        fenced = _fenced_lines(deck)
        rulers |= {
            index for index, line in enumerate(lines) if MYST_BREAK.match(line) and index not in fenced
        }
    return rulers


def _fenced_lines(deck: Deck) -> set[int]:
    tokens = marp_parser().parse(deck.text)
    return {n for token in tokens if token.type == "fence" and token.map for n in range(*token.map)}


def _slidev_markup(deck: Deck, lines: list[str]) -> set[int]:
    """Slidev's separators, each slide's own front matter (`---`, YAML, `---`), the wrappers of
    magic-move blocks (their steps are the blocks), and lines that hold only a component's tag."""
    markup: set[int] = set()
    for slide in deck.slides[1:]:
        first = slide.start_line - 1
        if first >= 1 and lines[first - 1].startswith("---"):
            markup.add(first - 1)
        if lines[first].startswith("---") and first + 1 < len(lines) and lines[first + 1].strip():
            close = next((n for n in range(first + 1, len(lines)) if lines[n].rstrip() == "---"), first)
            markup.update(range(first, close + 1))
    for token in marp_parser().parse(deck.text):
        if token.type == "fence" and token.map and MAGIC_MOVE.match(token.info):
            markup.update((token.map[0], token.map[1] - 1))
    markup.update(index for index, line in enumerate(lines) if COMPONENT.match(line))
    return markup


def _markdown_cells(
    deck: Deck,
    lines: list[str],
    span: tuple[int, int],
    markup: set[int],
    images: tuple[Images, Attachments],
) -> list[nbformat.NotebookNode]:
    """Markdown cells for lines[start:end], one per slide, without directives, notes and the
    lines that mark slides and cells, their raw HTML filtered as the slides filter it."""
    start, end = span
    cells = []
    for slide in deck.slides:
        first, last = max(start, slide.start_line - 1), min(end, slide.end_line)
        if first >= last:
            continue
        kept = [line for index, line in enumerate(lines[first:last], first) if index not in markup]
        text = COMMENT.sub("", STYLE.sub("", "\n".join(kept)))
        text = filter_html(BLANK_RUNS.sub("\n\n", text).strip())
        if text:
            text, attachments = _attached(text, *images)
            cell = v4.new_markdown_cell(text)
            if attachments:
                cell.attachments = attachments
            cells.append(cell)
    return cells


def _block_cells(
    deck: Deck, block: Block, result: BlockResult | None, needs: tuple[str, ...]
) -> list[nbformat.NotebookNode]:
    """A block shown but not meant to run: its code as Markdown (Run all ignores the tag that
    says so). Else its code cells, guarded when it needs CUDA or MPS, and after them the
    slide's note when its result rests on stand-in data."""
    if block.options.skip_execution:
        tags = [tag for tag in block.options.tags if tag not in ("skip-execution", "show-output")]
        code = _without_quarto_options(block.code) if deck.dialect == "quarto" else block.code
        return [v4.new_markdown_cell(fenced(code), metadata={"tags": tags} if tags else {})]
    cells = _code_cells(block, result)
    for cell in cells:
        cell.source = guarded(cell.source, needs)
    if result is not None and result.standins:
        cells.append(v4.new_markdown_cell(TAG.sub("", standin_note([result]))))
    return cells


def _without_quarto_options(code: str) -> str:
    """A Quarto cell's code less its leading `#|` option lines (`#| eval: false` says nothing
    once the code is shown as Markdown)."""
    lines = source_lines_with_ends(code)
    first = next((n for n, line in enumerate(lines) if not QUARTO_OPTION.match(line.strip())), len(lines))
    return "".join(lines[first:])


def fenced(code: str) -> str:
    """Code as a Markdown fence that no run of backticks inside it closes."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}"


def guarded(code: str, needs: tuple[str, ...]) -> str:
    """The cell's code under a check for the devices it needs: on a runtime without them it
    prints one line instead of failing. A cell magic stays first; lines inside a multi-line
    string keep their indentation, so the string stays the same."""
    probes = [PROBES[need] for need in dict.fromkeys(needs) if need in PROBES]
    if not probes:
        return code
    magic, body = ("", code)
    if code.startswith("%%"):
        first, _, body = code.partition("\n")
        magic = first + "\n"
    names = " and ".join(name for _, name in probes)
    reason = f"Skipped: this cell needs {names}, which this runtime does not have."
    test = " and ".join(probe for probe, _ in probes)
    return f'{magic}import torch\n\nif {test}:\n{_indented(body)}\nelse:\n    print("{reason}")'


def _indented(code: str) -> str:
    inside = _inside_strings(code)
    lines = [
        line if number in inside or not line.strip() else f"    {line}"
        for number, line in enumerate(code.rstrip().split("\n"), 1)  # as tokenize counts lines
    ]
    if not _has_statements(code):
        lines.append("    pass")
    return "\n".join(lines)


def _inside_strings(code: str) -> set[int]:
    """1-based lines that start inside a multi-line string literal."""
    inside: set[int] = set()
    starts: list[int] = []
    fstring_start, fstring_end = getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "FSTRING_END", -1)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == fstring_start:
                starts.append(token.start[0])
            elif token.type in (tokenize.STRING, fstring_end):
                first = starts.pop() if token.type == fstring_end else token.start[0]
                inside.update(range(first + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass  # IPython syntax (! commands) that tokenize refuses: the strings found so far
    return inside


def _has_statements(code: str) -> bool:
    try:
        return bool(ast.parse(code).body)
    except SyntaxError:
        return True  # IPython syntax: a magic is a statement


def quiet_setup(code: str) -> str:
    """The setup with a `;` after a last expression: the check shows nothing of the setup, and
    a notebook would show that value (`<torch._C.Generator at 0x…>`)."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return code
    last = body[-1] if body else None
    if not isinstance(last, ast.Expr) or last.end_lineno is None or last.end_col_offset is None:
        return code
    lines = source_lines_with_ends(code)
    line = lines[last.end_lineno - 1].encode()
    before, after = line[: last.end_col_offset].decode(), line[last.end_col_offset :].decode()
    if after.lstrip().startswith(";"):
        return code
    lines[last.end_lineno - 1] = f"{before};{after}"
    return "".join(lines)


def _code_cells(block: Block, result: BlockResult | None) -> list[nbformat.NotebookNode]:
    """A block as a code cell; a doctest session as one cell per example, each with what it
    printed when the check ran it (an expected exception: the cell is tagged raises-exception)."""
    tags = [tag for tag in block.options.tags if tag != "show-output"]
    if block.options.errors_allowed and "raises-exception" not in tags:
        tags.append("raises-exception")  # the dialect lets it raise; nbclient and nbval read this tag
    ran = result is not None and result.status != "skipped"
    if not ran and "skip-execution" not in tags:
        tags.append("skip-execution")
    if not block.session:
        cell = v4.new_code_cell(block.code.rstrip("\n"), metadata={"tags": tags} if tags else {})
        if ran and result is not None:
            cell.outputs = _outputs(result)
        return [cell]
    cells = []
    printed = result.examples if ran and result is not None else ()
    for number, example in enumerate(examples(block.code)):
        own = [*tags, "raises-exception"] if example.exc_msg is not None else tags
        cell = v4.new_code_cell(example.source.rstrip("\n"), metadata={"tags": own} if own else {})
        if number < len(printed):
            cell.outputs = _example_outputs(printed[number], example.exc_msg is not None)
        cells.append(cell)
    return cells


def _example_outputs(got: str, raised: bool) -> list[nbformat.NotebookNode]:
    if not got:
        return []
    if raised:  # doctest's text of the traceback: its last line says what was raised
        last = got.rstrip("\n").splitlines()[-1]
        name, _, value = last.partition(": ")
        return [v4.new_output("error", ename=name, evalue=value, traceback=got.rstrip("\n").splitlines())]
    return [v4.new_output("stream", name="stdout", text=got)]


def _outputs(result: BlockResult) -> list[nbformat.NotebookNode]:
    outputs = []
    if result.output:
        outputs.append(v4.new_output("stream", name="stdout", text=result.output))
    for figure in result.figures:
        outputs.append(
            v4.new_output(
                "display_data",
                data={"image/png": figure.png, "text/plain": f"<Figure: {figure.alt}>"},
                metadata={"image/png": {"alt": figure.alt}},
            )
        )
    return outputs
