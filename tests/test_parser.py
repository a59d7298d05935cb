"""Deck parsing: blocks, options, images, front matter, and properties over any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deckcheck.read.fences import OptionError, parse_options
from deckcheck.read.parser import parse_deck, parse_text


def parse(text: str, name: str = "deck.md"):
    return parse_text(Path(name), text)


def test_blocks_record_fence_line_slide_code_and_options() -> None:
    deck = parse(
        "---\nmarp: true\n---\n\n# One\n\n```python\nx = 1\ny = 2\n```\n\n---\n\n"
        '```py tags=["show-output"] timeout=30\nprint(x)\n```\n\n```bash\nls\n```\n'
    )
    assert [(b.line, b.slide, b.code) for b in deck.blocks] == [
        (7, 1, "x = 1\ny = 2\n"),
        (14, 2, "print(x)\n"),
    ]
    assert deck.blocks[1].options.show_output and deck.blocks[1].options.timeout == 30
    assert deck.blocks[0].deck_line(2) == 9


def test_python3_and_nested_fences_are_blocks() -> None:
    deck = parse("- item\n\n  ```python3\n  z = 3\n  ```\n\n> ```python\n> q = 1\n> ```\n")
    assert [(b.line, b.code) for b in deck.blocks] == [(3, "z = 3\n"), (7, "q = 1\n")]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ('python tags=["skip-execution"]', ("skip-execution",)),
        ("python tags=['remove-cell', 'show-output']", ("remove-cell", "show-output")),
        ('python tags=["raises-exception"] timeout=5', ("raises-exception",)),
    ],
)
def test_options_read_jupytext_style_values(info: str, expected: tuple[str, ...]) -> None:
    assert parse_options(info).tags == expected


def test_options_requires_and_timeout() -> None:
    options = parse_options('python requires=["cuda", "network"] timeout=2.5')
    assert options.requires == ("cuda", "network") and options.timeout == 2.5


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ('python tags=["skip-exec"]', "unknown tag 'skip-exec' (did you mean 'skip-execution'?"),
        ('python tag=["show-output"]', "unknown block option 'tag' (did you mean 'tags'?"),
        ("python timeout=-1", "timeout must be a positive number"),
        ('python requires=["tpu"]', "unknown resource 'tpu'"),
        ("python hello", "cannot read block option 'hello'"),
        ("python timeout=1 timeout=2", "given twice"),
    ],
)
def test_bad_options_say_what_is_wrong(info: str, message: str) -> None:
    with pytest.raises(OptionError, match=None) as caught:
        parse_options(info)
    assert message in str(caught.value)


def test_an_unknown_tag_is_a_problem_at_its_line_and_stops_the_deck() -> None:
    deck = parse('# A\n\n---\n\n```python tags=["skip-exectuion"]\nx = 1\n```\n')
    assert [(p.line, p.slide, p.fatal) for p in deck.problems] == [(5, 2, True)]
    assert "unknown tag 'skip-exectuion'" in deck.problems[0].summary
    assert not deck.runnable


def test_front_matter_yaml_error_is_reported_at_its_line() -> None:
    deck = parse("---\nmarp: true\ntitle: [unclosed\nx: 1\n---\n# A\n")
    assert len(deck.problems) == 1
    assert deck.problems[0].line == 4 and deck.problems[0].summary.startswith("invalid front matter:")


@pytest.mark.parametrize("body", ["- a\n- b", "just a string", "42"])
def test_front_matter_that_is_not_a_mapping_is_invalid(body: str) -> None:
    deck = parse(f"---\n{body}\n---\n# A\n")
    assert deck.problems and "expected key: value pairs" in deck.problems[0].summary


def test_front_matter_values_are_read() -> None:
    deck = parse("---\ntitle: PyTorch Fundamentals\nmarp: true\n---\n# A\n")
    assert deck.title == "PyTorch Fundamentals" and not deck.problems


def test_non_utf8_names_the_line_of_the_bad_byte() -> None:
    deck = parse_deck(Path("x.md"), b"# A\n\n---\n\ncaf\xe9\n")
    assert [(p.line, p.slide) for p in deck.problems] == [(5, 2)]
    assert "not UTF-8" in deck.problems[0].summary


def test_missing_local_images_are_problems_that_do_not_stop_the_deck(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "there.png").write_bytes(b"png")
    text = (
        "# A\n\n![ok](images/there.png)\n\n---\n\nText ![gone](images/x.png) and\n"
        '<img src="images/y.png">\n\n![web](https://example.org/a.png)\n\n```python\n![not](an-image.png)\n```\n'
    )
    deck = parse_text(tmp_path / "deck.md", text)
    assert [(p.line, p.slide, p.summary) for p in deck.problems] == [
        (7, 2, "missing image images/x.png"),
        (8, 2, "missing image images/y.png"),
    ]
    assert deck.runnable
    assert [image.src for image in deck.images] == ["images/there.png", "images/x.png", "images/y.png"]


def test_slide_at_maps_lines_to_slides() -> None:
    deck = parse("# A\n\n---\n\n# B\n\n---\n\n# C\n")
    assert [deck.slide_at(line) for line in (1, 3, 4, 6, 8, 9)] == [1, 1, 2, 2, 3, 3]


# Properties over arbitrary text

deck_text = st.text(
    alphabet=st.sampled_from(list("`~-*_#>$<!:= \t\nabcpythonx()[]\"'")) | st.characters(),
    max_size=400,
)


@given(deck_text)
def test_any_text_parses_without_crashing_and_blocks_point_at_their_fences(text: str) -> None:
    deck = parse(text)
    lines = deck.lines
    assert deck.slides and deck.slides[0].number == 1
    for block in deck.blocks:
        fence_line = lines[block.line - 1]
        assert "```" in fence_line or "~~~" in fence_line
        assert 1 <= block.slide <= len(deck.slides)


piece = st.one_of(
    st.sampled_from(["# Title", "## Sub", "Prose.", "---", "***", "- item", "> quote", "<!-- note -->"]),
    st.builds(
        lambda code: ("fence", code), st.lists(st.sampled_from(["x = 1", "", "  y = x", "---", "# c"]))
    ),
)


@given(st.lists(piece, max_size=12))
def test_blocks_have_the_line_of_their_fence_and_exactly_its_content(pieces: list) -> None:
    lines: list[str] = ["# Deck", ""]  # a first line of dashes would open front matter
    expected = []
    for part in pieces:
        if isinstance(part, tuple):
            expected.append((len(lines) + 1, "".join(f"{line}\n" for line in part[1])))
            lines += ["```python", *part[1], "```", ""]
        else:
            lines += [part, ""]
    deck = parse("\n".join(lines))
    assert [(block.line, block.code) for block in deck.blocks] == expected
