"""Decks in other dialects: run at their own slide numbers, or an error, never "ok" for nothing.

The Quarto fixture's slide numbers follow Quarto's reveal.js documentation (checked by hand:
Quarto does not install offline): a title slide from the front matter's `title`, a new slide
at each `#` and `##` heading and at each `---`. The reveal.js and Jupytext fixtures are checked
by hand against reveal.js's Markdown separators and RISE's slide types; the Slidev and MyST
fixtures also against @slidev/parser and mystmd themselves (tests/agreement/, installed with
`npm ci --prefix tests/agreement`, which the agreement tests run when it is missing)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, deckcheck

from deckcheck.check.cache import deck_key
from deckcheck.read.parser import parse_text, read_deck

DIALECTS = FIXTURES / "dialects"
AGREEMENT = ROOT / "tests" / "agreement"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    shutil.copytree(DIALECTS, tmp_path / "decks")
    return tmp_path / "decks"


def test_a_quarto_deck_runs_its_cells_at_quarto_slide_numbers(course: Path) -> None:
    deck = read_deck(course / "tensors.qmd")
    assert [(block.line, block.slide) for block in deck.blocks] == [(8, 2), (24, 4), (29, 4), (38, 6)]
    assert deck.blocks[1].options.skip_execution and deck.blocks[2].options.errors_allowed
    run = deckcheck("check", "tensors.qmd", cwd=course, cache=course / "cache")
    assert run.lines[0] == "tensors.qmd:41: slide 6: ZeroDivisionError: division by zero", run.stdout
    assert run.last_line == "2 passed, 1 failed, 1 skipped"


def test_a_markdown_file_with_format_revealjs_is_read_as_quarto(course: Path) -> None:
    (course / "tensors.md").write_text((course / "tensors.qmd").read_text())
    deck = read_deck(course / "tensors.md")
    assert [(block.line, block.slide) for block in deck.blocks] == [(8, 2), (24, 4), (29, 4), (38, 6)]


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("quarto-in-md.md", 3, "```{python} is a Quarto cell, and this deck is read as marp: set `deckcheck: {dialect: quarto}`"),
        ("myst.md", 11, "```{code-cell} ipython3 is a MyST code cell, and this deck is read as marp: set `deckcheck: {dialect: myst}`"),
        ("slidev.md", 8, "```python {all|1|2} is a Slidev block (its {…} attributes), and this deck is read as marp: set `deckcheck: {dialect: slidev}`"),
    ],
)  # fmt: skip
def test_another_tools_cells_in_a_marp_deck_are_an_error_never_ok(
    course: Path, name: str, line: int, message: str
) -> None:
    text = (course / name).read_text()
    front, body = ("---\nmarp: true\n", text[4:]) if text.startswith("---\n") else ("", text)
    (course / name).write_text(front + body if front else "<!-- deckcheck: {dialect: marp} -->\n" + body)
    line += 1  # the line that says marp
    run = deckcheck("check", name, cwd=course, cache=course / "cache")
    assert run.returncode == 1
    assert run.lines[0] == f"{name}:{line}: slide 1: {message}", run.stdout


def test_a_file_whose_fences_look_like_python_but_none_is_read_fails_naming_the_first(course: Path) -> None:
    (course / "pandoc.md").write_text("# Pandoc\n\n```{.python}\n1 / 0\n```\n\n```ipython\nx\n```\n")
    run = deckcheck("check", "pandoc.md", cwd=course, cache=course / "cache")
    assert run.returncode == 1
    assert run.lines[0] == (
        "pandoc.md:3: slide 1: ```{.python} looks like Python, but no fence of this deck is a block when"
        " it is read as marp: set `deckcheck: {dialect: NAME}` (marp, quarto, myst, jupytext, slidev,"
        " revealjs), or write ```python"
    ), run.stdout


def test_the_dialect_is_told_from_the_front_matter_the_extension_and_the_fences(tmp_path: Path) -> None:
    def dialect(name: str, text: str) -> str:
        return parse_text(tmp_path / name, text).dialect

    assert dialect("a.qmd", "# A\n") == "quarto"
    assert dialect("a.md", "---\nformat: revealjs\n---\n") == "quarto"
    assert dialect("a.md", "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n") == "myst"
    assert dialect("a.md", "---\njupyter:\n  kernelspec:\n    name: python3\n---\n") == "jupytext"
    assert dialect("a.md", "<!-- #region -->\nA\n<!-- #endregion -->\n") == "jupytext"
    assert dialect("a.md", "---\nlayout: cover\n---\n# A\n") == "slidev"
    assert dialect("a.md", "---\nrevealOptions: {}\n---\n# A\n") == "revealjs"
    assert dialect("a.md", "# A\n\n--\n\n# B\n") == "revealjs"
    assert dialect("a.md", "```{code-cell} ipython3\nx\n```\n") == "myst"
    assert dialect("a.md", "---\nmarp: true\nlayout: x\n---\n```{python}\nx\n```\n") == "marp"
    assert dialect("a.md", "---\ntheme: default\n---\n# A\n\n---\n\n```python\nx\n```\n") == "marp"


@pytest.mark.parametrize("name", ["myst", "jupytext", "slidev", "revealjs", "marp", "quarto"])
def test_the_dialect_setting_accepts_every_dialect(tmp_path: Path, name: str) -> None:
    deck = parse_text(tmp_path / "a.md", f"---\ndeckcheck:\n  dialect: {name}\n---\n\n# A\n")
    assert deck.dialect == name and not deck.problems


# (file, the blocks' (line, slide) as each tool numbers them, the check's first line, its last)
FIXTURE_RUNS = [
    (
        "myst-slides.md",
        [(13, "1"), (22, "2.1"), (35, "2.2"), (48, "3")],
        "myst-slides.md:50: slide 3: ZeroDivisionError: division by zero",
        "2 passed, 1 failed, 1 skipped",
    ),
    ("myst.md", [(11, "1")], "myst.md:13: slide 1: ZeroDivisionError: division by zero", "0 passed, 1 failed, 0 skipped"),
    (
        "jupytext.md",
        [(15, "1"), (24, "2.1"), (28, "2.2")],
        "jupytext.md:30: slide 2.2: NameError: name 'undefined_name' is not defined",
        "2 passed, 1 failed, 0 skipped",
    ),
    (
        "slidev.md",
        [(8, "1"), (21, "2"), (34, "3"), (37, "3"), (47, "4")],
        "slidev.md:49: slide 4: ZeroDivisionError: division by zero",
        "3 passed, 1 failed, 1 skipped",
    ),
    (
        "revealjs.md",
        [(9, "1"), (22, "2.2"), (31, "2.3")],
        "revealjs.md:32: slide 2.3: ZeroDivisionError: integer division or modulo by zero",
        "2 passed, 1 failed, 0 skipped",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "blocks", "first", "last"), FIXTURE_RUNS)
def test_each_dialects_failing_block_is_reported_at_its_line_and_its_tools_slide(
    course: Path, name: str, blocks: list[tuple[int, str]], first: str, last: str
) -> None:
    deck = read_deck(course / name)
    assert [(block.line, str(block.slide)) for block in deck.blocks] == blocks
    run = deckcheck("check", name, cwd=course, cache=course / "cache")
    assert run.returncode == 1
    assert run.lines[0] == first, run.stdout
    assert run.last_line == last


def test_myst_options_and_tags_mean_what_myst_nb_makes_of_them(course: Path) -> None:
    deck = read_deck(course / "myst-slides.md")
    hidden, allowed, skipped, failing = deck.blocks
    assert hidden.code == "import math\n" and hidden.options.remove_cell and hidden.first_code_line == 15
    assert allowed.options.errors_allowed and not allowed.options.raises_exception
    assert allowed.code.startswith("raise ValueError") and allowed.first_code_line == 28
    assert skipped.options.skip_execution and ":tags:" in skipped.info
    assert not failing.options.tags


def test_a_slidev_magic_move_runs_the_step_it_ends_on(course: Path) -> None:
    deck = read_deck(course / "slidev.md")
    earlier, last = deck.blocks[2], deck.blocks[3]
    assert earlier.options.skip_execution and "undefined_first_step" in earlier.code
    assert not last.options.tags and last.code == "total = z\nassert total == 4\n"


def test_unknown_attributes_in_a_foreign_dialect_are_one_warning_not_an_invalid_deck(tmp_path: Path) -> None:
    text = "---\nlayout: cover\n---\n\n```python {1} data-x\n1\n```\n\n---\n\n```python foo=1\n2\n```\n"
    deck = parse_text(tmp_path / "a.md", text)
    assert deck.runnable and len(deck.blocks) == 2
    assert [(p.line, p.slide, p.fatal) for p in deck.problems] == [(5, 1, False)]
    assert deck.problems[0].summary.startswith("warning: ignored attributes 'data-x'")


def test_a_vertical_reveal_slide_is_named_h_v_in_every_line(tmp_path: Path) -> None:
    deck = parse_text(tmp_path / "r.md", "# A\n\n--\n\n# B\n\n---\n\n# C\n\n--\n\n# D\n\n--\n\n# E\n")
    assert [str(slide.number) for slide in deck.slides] == ["1.1", "1.2", "2.1", "2.2", "2.3"]
    assert [int(slide.number) for slide in deck.slides] == [1, 2, 3, 4, 5]


def test_a_cached_result_keeps_the_h_v_slide_names(tmp_path: Path) -> None:
    text = "# A\n\n--\n\n# B\n\n```python\nimport warnings\nwarnings.warn('old')\n```\n"
    (tmp_path / "r.md").write_text("---\nrevealOptions: {}\n---\n" + text)
    runs = [deckcheck("check", "r.md", cwd=tmp_path, cache=tmp_path / "cache") for _ in range(2)]
    assert "cached" in runs[1].stdout, runs[1].stdout
    for run in runs:
        assert run.lines[0].startswith("r.md:12: slide 1.2: warning: UserWarning: old"), run.stdout


def test_the_dialect_setting_chooses_quarto(course: Path) -> None:
    text = "---\ndeckcheck:\n  dialect: quarto\n---\n\n## One\n\n```{python}\n1 / 0\n```\n"
    (course / "chosen.md").write_text(text)
    run = deckcheck("check", "chosen.md", cwd=course, cache=course / "cache")
    assert run.lines[0] == "chosen.md:9: slide 1: ZeroDivisionError: division by zero", run.stdout


def test_two_decks_without_blocks_never_share_a_result(tmp_path: Path) -> None:
    one = parse_text(tmp_path / "a.md", "# A\n\nWords.\n")
    other = parse_text(tmp_path / "b.md", "# B\n\nOther words.\n")
    same_text_elsewhere = parse_text(tmp_path / "c.md", "# A\n\nWords.\n")
    keys = {deck_key(deck, {}, {}) for deck in (one, other, same_text_elsewhere)}
    assert len(keys) == 3


def _agreement_modules() -> Path:
    modules = AGREEMENT / "node_modules"
    if not (modules / "@slidev" / "parser").is_dir() or not (modules / "mystmd").is_dir():
        command = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
        try:
            subprocess.run(command, cwd=AGREEMENT, capture_output=True, timeout=300, check=True)
        except (OSError, subprocess.SubprocessError) as error:
            pytest.skip(
                f"@slidev/parser and mystmd do not install here (npm ci --prefix tests/agreement): {error}"
            )
    return modules


def _tool(dialect: str, deck: Path) -> dict:
    _agreement_modules()
    script = AGREEMENT / "slides.mjs"
    run = subprocess.run(
        ["node", str(script), dialect, str(deck)], cwd=AGREEMENT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _random_slidev_deck(seed: int) -> str:
    """A deck of slides with and without front matter, fences holding `---`, comments, blank runs."""
    pick = random.Random(seed)
    parts = ["---\ntheme: default\n---\n"] if pick.random() < 0.5 else []
    for number in range(pick.randint(1, 8)):
        head = pick.choice(["---\n", "---\nlayout: center\nclass: x\n---\n", "----\n", "---\n\n"])
        body = pick.choice(
            [
                f"# Slide {number}\n",
                "```python {1|2}\nx = 1\n---\n```\n",
                "<!--\n---\n-->\n",
                "````md magic-move\n```python\na = 1\n```\n```python\na = 2\n```\n````\n",
                "\n\ntext\n",
            ]
        )
        parts.append((head if parts or pick.random() < 0.5 else "") + body)
    return "\n".join(parts)


def test_slidev_slides_start_where_slidevs_own_parser_starts_them(tmp_path: Path) -> None:
    decks = [DIALECTS / "slidev.md"]
    for seed in range(6):
        decks.append(tmp_path / f"random-{seed}.md")
        decks[-1].write_text("<!-- deckcheck: {dialect: slidev} -->\n" + _random_slidev_deck(seed))
    for deck in decks:
        ours = [slide.start_line for slide in read_deck(deck).slides]
        assert ours == _tool("slidev", deck)["starts"], deck.read_text()


def test_myst_cells_and_slides_agree_with_mystmd(course: Path) -> None:
    deck = read_deck(course / "myst-slides.md")
    tool = _tool("myst", course / "myst-slides.md")
    assert [[block.code.rstrip("\n"), str(block.slide)] for block in deck.blocks] == tool["cells"]
    assert len(deck.slides) == tool["count"]


def test_build_publishes_a_non_marp_decks_notebook_alone_and_says_so(course: Path) -> None:
    (course / "slidev.md").write_text((course / "slidev.md").read_text().replace("w / 0", "w / 1"))
    run = deckcheck("build", "slidev.md", "--site", "site", cwd=course, cache=course / "cache")
    assert run.returncode == 0, run.stdout
    assert (
        "published: slidev.md (notebook only: build publishes slides for Marp decks, this one is slidev's)"
        in run.lines
    )
    assert run.last_line == "4 passed, 0 failed, 1 skipped"
    assert [path.name for path in (course / "site").glob("slidev*")] == ["slidev.ipynb"]
    run = deckcheck(
        "build", "slidev.md", "--site", "html", "--formats", "html", cwd=course, cache=course / "cache"
    )
    assert run.returncode == 0, run.stdout
    assert (
        "deckcheck: slidev.md: not published: build publishes Marp decks, this one is slidev's" in run.lines
    )
    assert not list((course / "html").glob("slidev*"))


def test_a_quarto_cell_tagged_parameters_holds_the_decks_knobs(tmp_path: Path) -> None:
    text = "---\nformat: revealjs\n---\n\n## Knobs\n\n```{python}\n#| tags: [parameters]\nepochs = 20\n```\n"
    deck = parse_text(tmp_path / "k.qmd", text)
    assert [block.options.parameters for block in deck.blocks] == [True]
