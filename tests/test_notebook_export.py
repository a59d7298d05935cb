"""The exported notebook (publish/notebook.py) as Jupyter, JupyterLab, VS Code and Colab run it:
"Run all" in a fresh kernel on a CPU runtime, tags ignored, the file opened alone."""

from __future__ import annotations

import ast
import base64
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT
from nbclient import NotebookClient

from deckcheck.publish import notebook as exporter
from deckcheck.publish.generated_copy import generated_copy
from deckcheck.publish.jobs import ProduceJob
from deckcheck.publish.labels import standin_note
from deckcheck.publish.notebook import deck_notebook, write_notebook
from deckcheck.read.parser import parse_text
from deckcheck.results import BlockResult, DeckResult

DECK = """---
title: Run all
marp: true
deckcheck:
  setup: |
    import torch
    torch.manual_seed(0)
---

# Run all

Prose with <b onclick="alert(1)">bold</b> words.

![w:300 A straight line rising to the right](line.png)

```python
x = 1 + 1
print(x)
```

---

## The loop, in outline

```python tags=["skip-execution"]
for epoch in range(num_epochs):
    train(model)
```

---

## Only on a GPU

```python requires=["cuda"]
a = torch.ones(2, device="cuda")
print(a.sum().item())
```

---

## Data

```python
loaded = x * 3
print(loaded)
```
"""

NEVER = "a tag no cell has: Run all runs every cell"
CUDA_SKIP = "Skipped: this cell needs CUDA, which this runtime does not have."


def make_deck(folder: Path):
    path = folder / "run-all.md"
    path.write_text(DECK)
    shutil.copy(ROOT / "images" / "autograd-forward.png", folder / "line.png")
    deck = parse_text(path, path.read_text())
    block = {b.index: b for b in deck.blocks}
    result = DeckResult(
        str(path),
        (
            BlockResult(0, block[0].line, block[0].slide, "passed", output="2\n"),
            BlockResult(1, block[1].line, block[1].slide, "skipped", reason="skip-execution"),
            BlockResult(
                2, block[2].line, block[2].slide, "skipped", reason="requires cuda, not available here"
            ),
            BlockResult(3, block[3].line, block[3].slide, "passed", output="6\n", standins=("MNIST",)),
        ),
    )
    return deck, result, generated_copy(deck, result, "run-all")


@pytest.fixture
def exported(tmp_path: Path):
    deck, result, generated = make_deck(tmp_path)
    return deck_notebook(deck, result, generated), generated


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_shown_not_run_blocks_are_markdown_with_the_code_fenced(exported) -> None:
    notebook, _ = exported
    assert not [cell for cell in code_cells(notebook) if "num_epochs" in cell.source]
    shown = [cell for cell in notebook.cells if "num_epochs" in cell.source]
    assert [cell.cell_type for cell in shown] == ["markdown"]
    assert shown[0].source == "```python\nfor epoch in range(num_epochs):\n    train(model)\n```"


def test_a_hidden_block_shown_not_run_stays_hidden(tmp_path: Path) -> None:
    path = tmp_path / "hidden.md"
    path.write_text('# Hidden\n\n```python tags=["remove-cell", "skip-execution"]\nundefined_name\n```\n')
    deck = parse_text(path, path.read_text())
    result = DeckResult(
        str(path), (BlockResult(0, deck.blocks[0].line, 1, "skipped", reason="skip-execution"),)
    )
    cells = deck_notebook(deck, result, generated_copy(deck, result, "hidden")).cells
    assert [(cell.cell_type, cell.metadata.get("tags")) for cell in cells] == [
        ("markdown", None),
        ("markdown", ["remove-cell"]),
    ]


def test_a_fence_inside_shown_code_does_not_end_its_markdown_fence() -> None:
    assert exporter.fenced('print("```")') == '````python\nprint("```")\n````'


def test_cuda_cells_are_guarded_and_keep_their_code(exported) -> None:
    notebook, _ = exported
    [cell] = [cell for cell in code_cells(notebook) if 'device="cuda"' in cell.source]
    assert cell.source.startswith("import torch\n\nif torch.cuda.is_available():\n")
    assert CUDA_SKIP in cell.source
    assert [c.source for c in code_cells(notebook)].count(cell.source) == 1


def test_the_guard_keeps_every_statement_and_multiline_string_as_written() -> None:
    code = 'def f():\n    return """two\nlines"""\n\nclass A:\n    pass\nprint(f())'
    tree = ast.parse(exporter.guarded(code, ("cuda", "mps")))
    branch = tree.body[-1]
    assert isinstance(branch, ast.If)
    assert ast.dump(ast.Module(branch.body, [])) == ast.dump(ast.parse(code))
    assert "torch.backends.mps.is_available()" in ast.unparse(branch.test)
    assert "needs CUDA and MPS" in ast.unparse(branch.orelse[0])


def test_the_guard_goes_under_a_cell_magic_and_keeps_indented_magics() -> None:
    code = "%%time\nfor i in range(2):\n    %time x = i\n"
    lines = exporter.guarded(code, ("cuda",)).splitlines()
    assert lines[0] == "%%time" and "        %time x = i" in lines


def test_the_guard_of_a_block_with_only_comments_is_valid_python() -> None:
    compile(exporter.guarded("# nothing to run yet", ("cuda",)), "cell", "exec")


def test_images_are_cell_attachments_with_the_files_bytes(exported, tmp_path: Path) -> None:
    notebook, _ = exported
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "assets/" not in text
    [cell] = [cell for cell in notebook.cells if "attachment:" in cell.source]
    name = re.search(r"!\[A straight line rising to the right\]\(attachment:([^)]+)\)", cell.source)[1]
    assert name.endswith(".png") and "/" not in name
    data = cell.attachments[name]["image/png"]
    assert base64.b64decode(data) == (tmp_path / "line.png").read_bytes()
    nbformat.validate(notebook)


def test_an_html_image_is_an_attachment_too(tmp_path: Path) -> None:
    path = tmp_path / "html.md"
    path.write_text('# Picture\n\n<img src="line.png" alt="A line" onerror="alert(1)">\n')
    shutil.copy(ROOT / "images" / "autograd-forward.png", tmp_path / "line.png")
    deck = parse_text(path, path.read_text())
    result = DeckResult(str(path), ())
    notebook = deck_notebook(deck, result, generated_copy(deck, result, "html"))
    [cell] = notebook.cells
    name = re.search(r'<img src="attachment:([^"]+)" alt="A line">', cell.source)[1]
    assert set(cell.attachments[name]) == {"image/png"}


def test_a_cell_on_stand_in_data_is_followed_by_the_slides_note(exported) -> None:
    notebook, generated = exported
    index = next(i for i, cell in enumerate(notebook.cells) if "loaded = x * 3" in cell.source)
    note = notebook.cells[index + 1]
    words = re.sub(r"<[^>]+>", "", standin_note([BlockResult(3, 1, 1, "passed", standins=("MNIST",))]))
    assert note.cell_type == "markdown" and note.source == words
    assert words in generated.markdown  # the slide says the same
    assert sum("stand-in" in cell.source for cell in notebook.cells) == 1


def test_prose_html_is_filtered_as_the_slides_filter_it(exported) -> None:
    notebook, _ = exported
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "<b>bold</b>" in text and "onclick" not in text


def test_the_setup_cell_shows_no_value(exported) -> None:
    notebook, _ = exported
    setup = code_cells(notebook)[0]
    assert setup.metadata["tags"] == ["remove-cell"]
    assert setup.source == "import torch\ntorch.manual_seed(0);"


@pytest.mark.parametrize(
    ("code", "quiet"),
    [
        ("torch.manual_seed(0)", "torch.manual_seed(0);"),
        ("x = 1  # one\nx  # shown", "x = 1  # one\nx;  # shown"),
        ("f(1,\n  2)\n\n", "f(1,\n  2);\n\n"),
        ("x = 1", "x = 1"),
        ("for i in range(2):\n    i", "for i in range(2):\n    i"),
        ("x;", "x;"),
        ("%matplotlib inline", "%matplotlib inline"),
    ],
)
def test_a_setup_ending_in_an_expression_gets_a_semicolon(code: str, quiet: str) -> None:
    assert exporter.quiet_setup(code) == quiet


def run_all(notebook_path: Path) -> nbformat.NotebookNode:
    """Jupyter's Run all: a fresh kernel, every cell in order, tags ignored, stop at an error."""
    notebook = nbformat.read(notebook_path, 4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=False,
        skip_cells_with_tag=NEVER,
        resources={"metadata": {"path": str(notebook_path.parent)}},
    ).execute()
    return notebook


def test_run_all_on_a_cpu_runtime_runs_to_the_end(tmp_path: Path) -> None:
    import torch

    deck, result, generated = make_deck(tmp_path)
    target = tmp_path / "site" / "run-all.ipynb"
    target.parent.mkdir()
    write_notebook(ProduceJob(deck, result, generated, staged=target.parent, target=target))
    ran = code_cells(run_all(target))
    printed = ["".join(out.get("text", "") for out in cell.outputs) for cell in ran]
    gpu = "2.0\n" if torch.cuda.is_available() else CUDA_SKIP + "\n"
    assert printed == ["", "2\n", gpu, "6\n"]  # the setup shows nothing


@pytest.mark.parametrize(
    ("hostile", "filtered"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a <SCRIPT src=x.js></SCRIPT> b", "a &lt;SCRIPT src=x.js&gt;&lt;/SCRIPT&gt; b"),
        ('<b onclick="alert(1)" class="x">bold</b>', '<b class="x">bold</b>'),
        ("<img src=x.png OnError=alert(1) alt='pic'>", '<img src="x.png" alt="pic">'),
        ('<a href="javascript:alert(1)">x</a>', "<a href>x</a>"),
        ('<a href="JaVa&#115;cript&colon;alert(1)">x</a>', "<a href>x</a>"),
        ('<a href=" java\tscript:alert(1)">x</a>', "<a href>x</a>"),
        (
            '<a href="https://pytorch.org" target="_blank">x</a>',
            '<a href="https://pytorch.org" target="_blank">x</a>',
        ),
        ('<img src="data:text/html,<b>">', "<img src>"),
        ('<img src="data:image/png;base64,AAAA">', '<img src="data:image/png;base64,AAAA">'),
        ('<p style="color:red" id="x" dir="RTL">t</p>', '<p dir="rtl">t</p>'),
        (
            "<iframe src=https://example.org></iframe>",
            "&lt;iframe src=https://example.org&gt;&lt;/iframe&gt;",
        ),
        ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
        ('<div\nonmouseover="alert(1)">x</div>', "<div>x</div>"),
        ("[x](javascript:alert(1))", "[x]&#40;javascript:alert(1))"),
        ("[x]( <JAVASCRIPT:alert(1)>)", "[x]&#40; &lt;JAVASCRIPT:alert(1)>)"),
        ("![x](data:image/svg+xml;base64,AAAA)", "![x]&#40;data:image/svg+xml;base64,AAAA)"),
        ("[x]: javascript:alert(1)", "[x]&#58; javascript:alert(1)"),
        ("<javascript:alert(1)>", "&lt;javascript:alert(1)>"),
    ],
)
def test_hostile_html_in_prose_is_filtered(hostile: str, filtered: str) -> None:
    from deckcheck.publish.html_filter import filter_html

    assert filter_html(hostile) == filtered


@pytest.mark.parametrize(
    "kept",
    [
        "- PyTorch tensors: <https://pytorch.org/docs/stable/tensors.html>",
        "Mail <someone@example.org>",
        "A repr in code: `<class 'torch.Tensor'>` and ``<script>`` too",
        "```html\n<script>alert(1)</script>\n```",
        "    <script>indented code</script>",
        "x < y and a<b",
        "[docs](https://pytorch.org) and ![pic](line.png) and [rel](other.html#x)",
        "<br>",
        "![png](data:image/png;base64,AAAA)",
    ],
)
def test_code_links_and_plain_text_are_left_as_they_are(kept: str) -> None:
    from deckcheck.publish.html_filter import filter_html

    assert filter_html(kept) == kept


def test_html_in_a_block_of_html_is_filtered_even_between_backticks() -> None:
    from deckcheck.publish.html_filter import filter_html

    hostile = "<div>\n`<img src=x onerror=alert(1)>`\n</div>"
    assert filter_html(hostile) == '<div>\n`<img src="x">`\n</div>'
