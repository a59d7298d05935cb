"""Other tools' decks (read/dialects.py) through `deckcheck build`: their notebook alone is
published, its prose as Markdown cells without the dialect's markup, its blocks as code cells
with the check's outputs, and it runs as Jupyter's "Run all" (nbclient) to the end.

One build of the dialect fixtures, fixed to pass, and of one that fails (withheld)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURES, ROOT, Run, deckcheck
from nbclient import NotebookClient

DIALECTS = FIXTURES / "dialects"
PASSING = {  # fixture → (its failing line, the same line passing)
    "myst-slides.md": ("1 / 0", "1 / 1"),
    "tensors.qmd": ("1 / 0", "1 / 1"),
    "jupytext.md": ("x.sum() / 0 + undefined_name", "x.sum() / 1"),
    "slidev.md": ("w / 0", "w / 1"),
    "revealjs.md": ("int(y.sum()) // 0", "int(y.sum()) // 1"),
}
DIALECT_OF = {"myst-slides": "myst", "tensors": "quarto", "jupytext": "jupytext", "slidev": "slidev"}
DIALECT_OF["revealjs"] = "revealjs"
CODE = {  # each notebook's code cells, in order
    "myst-slides": ["import math", 'raise ValueError("shown, allowed by the tag")', "x = math.pi\n1 / 1"],
    "tensors": [
        "#| label: setup\nimport torch\nx = torch.ones(3)",
        '#| error: true\nraise ValueError("shown, not a failure")',
        '#| fig-alt: "nothing drawn"\nassert x.sum() == 3\n1 / 1',
    ],
    "slidev": ["x = 1\ny = x + 1", "z = y * 2", "total = z\nassert total == 4", "w = total\nw / 1"],
}
MARKUP = re.compile(  # what no Markdown cell may hold: a dialect's cells, separators, slide settings
    r"```\{|^\+\+\+|#region|#endregion|^#\||^---|^--$|^layout:|magic-move|<v-click|<MyComponent|slideshow",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    course = tmp_path_factory.mktemp("dialect-notebooks") / "decks"
    shutil.copytree(DIALECTS, course)
    for name, (failing, passing) in PASSING.items():
        text = (course / name).read_text()
        assert failing in text
        (course / name).write_text(text.replace(failing, passing))
    shutil.copy(ROOT / "images" / "autograd-forward.png", course / "graph.png")
    myst = course / "myst-slides.md"
    myst.write_text(
        myst.read_text().replace("# Tensors in MyST\n", "# Tensors in MyST\n\n![A graph](graph.png)\n")
    )
    decks = [*PASSING, "myst.md"]  # myst.md: 1/0 in its one cell
    run = deckcheck(
        "build", *decks, "--site", "site", "--formats", "ipynb", cwd=course, cache=course / "cache"
    )
    return course, run


def notebook(course: Path, stem: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "site" / f"{stem}.ipynb", 4)


def test_only_the_notebook_is_published_and_its_line_says_so(built: tuple[Path, Run]) -> None:
    course, run = built
    assert run.returncode == 1, run.stdout  # myst.md fails, and is withheld
    for stem, dialect in DIALECT_OF.items():
        name = next(name for name in PASSING if name.startswith(stem))
        line = f"published: {name} (notebook only: build publishes slides for Marp decks, this one is {dialect}'s)"
        assert line in run.lines, run.stdout
    assert "withheld: myst.md: 1 failing block (its published files are left as they were)" in run.lines
    published = sorted(path.name for path in (course / "site").iterdir() if not path.name.startswith("."))
    assert published == sorted([*(f"{stem}.ipynb" for stem in DIALECT_OF), "index.html", "manifest.json"])


def test_the_index_links_each_notebook_and_no_slides(built: tuple[Path, Run]) -> None:
    course, _ = built
    index = (course / "site" / "index.html").read_text()
    for stem in DIALECT_OF:
        assert f'<a href="{stem}.ipynb">notebook</a>' in index
        assert f"{stem}.html" not in index and f"{stem}.pdf" not in index


@pytest.mark.parametrize("stem", list(DIALECT_OF))
def test_no_dialect_markup_is_left_in_the_markdown_cells(built: tuple[Path, Run], stem: str) -> None:
    course, _ = built
    for cell in notebook(course, stem).cells:
        if cell.cell_type == "markdown":
            assert not MARKUP.search(cell.source), cell.source


@pytest.mark.parametrize("stem", list(CODE))
def test_the_code_cells_are_the_blocks_with_the_checks_outputs(built: tuple[Path, Run], stem: str) -> None:
    course, _ = built
    cells = [cell for cell in notebook(course, stem).cells if cell.cell_type == "code"]
    assert [cell.source for cell in cells] == CODE[stem]
    last = cells[-1]
    printed = "".join(output.get("text", "") for output in last.outputs)
    assert printed == ("4.0\n" if stem == "slidev" else "1.0\n")
    assert last.execution_count == len(cells)


def test_cells_the_dialect_lets_raise_are_tagged_and_shown_code_is_markdown(built: tuple[Path, Run]) -> None:
    course, _ = built
    myst, quarto = notebook(course, "myst-slides"), notebook(course, "tensors")
    assert [c.metadata.get("tags") for c in myst.cells if c.cell_type == "code"][:2] == [
        ["remove-cell"],
        ["raises-exception"],
    ]
    assert ["raises-exception"] in [c.metadata.get("tags") for c in quarto.cells if c.cell_type == "code"]
    sources = [c.source for c in quarto.cells if c.cell_type == "markdown"]
    assert sources[0] == "# Tensors in Quarto"  # Quarto's title slide
    assert "```python\nundefined_name_never_run\n```" in sources  # `#| eval: false`: shown, not run
    assert "```python\nnever_run()\n```" in [c.source for c in myst.cells if c.cell_type == "markdown"]


def test_local_images_are_attached(built: tuple[Path, Run]) -> None:
    course, _ = built
    cell = next(c for c in notebook(course, "myst-slides").cells if "![A graph]" in c.source)
    (name,) = cell.attachments
    assert f"](attachment:{name})" in cell.source
    assert name.endswith("graph.png")


@pytest.mark.parametrize("stem", ["myst-slides", "tensors", "slidev"])
def test_run_all_runs_to_the_end_with_the_published_outputs(built: tuple[Path, Run], stem: str) -> None:
    course, _ = built
    path = course / "site" / f"{stem}.ipynb"
    published = nbformat.read(path, 4)
    ran = nbformat.read(path, 4)
    NotebookClient(
        ran,
        timeout=120,
        kernel_name="python3",
        allow_errors=False,  # but a cell tagged raises-exception may raise, as nbclient reads it
        skip_cells_with_tag="a tag no cell has: Run all runs every cell",
        resources={"metadata": {"path": str(course)}},
    ).execute()
    for before, after in zip(published.cells, ran.cells, strict=True):
        if before.cell_type == "code" and "raises-exception" not in before.metadata.get("tags", []):
            assert printed(after) == printed(before)


def printed(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed, its value included (the check keeps a value as printed text)."""
    return "".join(
        output.get("text") or output.get("data", {}).get("text/plain", "") + "\n" for output in cell.outputs
    )
