"""The executed notebook of a deck: its prose as Markdown cells, its blocks as code cells that
carry what the check's own run printed and drew, so it opens with its outputs and runs alone.

Cells are cut where the parser (Marp-exact) found the blocks, so every code cell is one block;
jupytext's cell metadata conventions (`tags`) say how each is meant: `remove-cell` for hidden
set-up, `skip-execution` for blocks the check did not run, `raises-exception` kept as written.
"""

from __future__ import annotations

import re

import jupytext
import nbformat
from nbformat import v4

from deckcheck.deck import Block, Deck
from deckcheck.in_kernel.doctest_sessions import examples
from deckcheck.publish.generated_copy import GeneratedDeck
from deckcheck.publish.jobs import ProduceJob
from deckcheck.read.alt_text import marp_alt
from deckcheck.results import BlockResult, DeckResult

COMMENT = re.compile(r"<!--[\s\S]*?-->")
STYLE = re.compile(r"<style[\s\S]*?</style>", re.IGNORECASE)
RULER = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)")
BLANK_RUNS = re.compile(r"\n{3,}")


def write_notebook(job: ProduceJob) -> None:
    notebook = deck_notebook(job.deck, job.result, job.generated)
    job.target.write_text(jupytext.writes(notebook, fmt="ipynb"), "utf-8")


def deck_notebook(deck: Deck, result: DeckResult, generated: GeneratedDeck) -> nbformat.NotebookNode:
    lines = _with_site_images(deck, dict(generated.image_assets))
    results = {block.index: block for block in result.blocks}
    cells = []
    if deck.settings.setup.strip():
        cells.append(v4.new_code_cell(deck.settings.setup, metadata={"tags": ["remove-cell"]}))
    start = deck.front_matter_end  # the 0-based index of the line after it
    for block in deck.blocks:
        cells += _markdown_cells(deck, lines, start, block.line - 1)
        cells += _code_cells(block, results.get(block.index))
        start = block.end_line
    cells += _markdown_cells(deck, lines, start, len(lines))
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


def _with_site_images(deck: Deck, assets: dict[str, str]) -> list[str]:
    """The deck's lines, each local image pointing at its file in the site's assets/ and its
    Markdown alt text without Marp's keywords (w:900, bg)."""
    lines = deck.lines
    for image in deck.images:
        asset = assets.get(image.src)
        if asset is None:
            continue
        line = lines[image.line - 1]
        for candidate in dict.fromkeys((image.src, image.src.replace(" ", "%20"))):
            line = line.replace(f"({candidate}", f"({asset}").replace(f'"{candidate}"', f'"{asset}"')
        lines[image.line - 1] = line
    return [MARKDOWN_IMAGE.sub(lambda m: f"![{marp_alt(m['alt'])}]({m['src']}", line) for line in lines]


def _markdown_cells(deck: Deck, lines: list[str], start: int, end: int) -> list[nbformat.NotebookNode]:
    """Markdown cells for lines[start:end], one per slide, without directives, notes and the
    rulers between slides."""
    cells = []
    for slide in deck.slides:
        first, last = max(start, slide.start_line - 1), min(end, slide.end_line)
        if first >= last:
            continue
        kept = [
            line
            for index, line in enumerate(lines[first:last], first)
            if not (RULER.match(line) and (index == 0 or not lines[index - 1].strip()))
        ]
        text = COMMENT.sub("", STYLE.sub("", "\n".join(kept)))
        text = BLANK_RUNS.sub("\n\n", text).strip()
        if text:
            cells.append(v4.new_markdown_cell(text))
    return cells


def _code_cells(block: Block, result: BlockResult | None) -> list[nbformat.NotebookNode]:
    """A block as a code cell; a doctest session as one cell per example, each with what it
    printed when the check ran it (an expected exception: the cell is tagged raises-exception)."""
    tags = [tag for tag in block.options.tags if tag != "show-output"]
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
