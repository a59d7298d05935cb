"""The `deckcheck` command as a user meets it: exit status, output lines, JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import FIXTURES, deckcheck, tagged_processes
from marp_reference import marker_slides, render_html

LECTURE = FIXTURES / "lecture"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_the_lecture_with_comment_only_methods_fails_at_the_line_python_names(cache: Path, tmp_path) -> None:
    run = deckcheck("check", "custom-dataset.md", cwd=LECTURE, cache=cache)
    assert run.returncode == 1
    header = run.lines[0]
    assert header == (
        "custom-dataset.md:40: slide 4: IndentationError: "
        "expected an indented block after function definition on line 37"  # deck lines, not the cell's
    )
    assert (
        "custom-dataset.md:50: slide 5: NameError: name 'SquaresDataset' is not defined (after the failure at line 40)"
        in run.lines
    )
    assert run.last_line == "2 passed, 2 failed, 0 skipped"
    assert tagged_processes(run.tag) == []

    # the slide number is the one Marp shows: render the deck and find the block
    text = (
        (LECTURE / "custom-dataset.md")
        .read_text()
        .replace("class SquaresDataset", "m1z = 0\nclass SquaresDataset")
    )
    html = render_html({"lecture": text}, tmp_path / "marp")["lecture"]
    assert marker_slides(html) == {1: 4}


def test_unknown_flag_is_a_usage_error(cache: Path, tmp_path: Path) -> None:
    run = deckcheck("check", "--frobnicate", cwd=tmp_path, cache=cache)
    assert run.returncode == 2
    assert "unrecognized arguments: --frobnicate" in run.stderr


def test_missing_path_is_a_usage_error(cache: Path, tmp_path: Path) -> None:
    run = deckcheck("check", "nowhere.md", cwd=tmp_path, cache=cache)
    assert run.returncode == 2
    assert run.stderr.strip() == "deckcheck: error: no such file or directory: nowhere.md"


def test_an_empty_folder_is_a_usage_error(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "slides").mkdir()
    run = deckcheck("check", cwd=tmp_path, cache=cache)
    assert run.returncode == 2 and "no decks" in run.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"# A\n\xff\xfe\n", "bad.md:2: slide 1: not UTF-8: invalid byte 0xff"),
        (b"---\ntitle: [x\n---\n```python\nx = 1\n```\n", "bad.md:2: slide 1: invalid front matter:"),
        (
            b"---\n- a\n---\n",
            "bad.md:2: slide 1: invalid front matter: expected key: value pairs, got a list",
        ),
        (b'# A\n```python tags=["nope"]\nx = 1\n```\n', "bad.md:2: slide 1: unknown tag 'nope'"),
    ],
)
def test_invalid_decks_get_one_line_and_exit_1(
    cache: Path, tmp_path: Path, content: bytes, expected: str
) -> None:
    (tmp_path / "bad.md").write_bytes(content)
    run = deckcheck("check", "bad.md", cwd=tmp_path, cache=cache)
    assert run.returncode == 1
    assert run.lines[0].startswith(expected), run.stdout
    assert run.stderr == ""
    assert re.fullmatch(r"0 passed, 0 failed, \d+ skipped", run.last_line)


def test_unreadable_file_is_reported(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "gone.md").symlink_to(tmp_path / "nowhere.md")
    run = deckcheck("check", "gone.md", cwd=tmp_path, cache=cache)
    assert run.returncode == 1
    assert run.lines[0] == "gone.md:1: slide 1: cannot read gone.md: No such file or directory"


def test_a_folder_named_like_a_deck_is_searched_not_read(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "folder.md" / "inner.md").write_text("# fine\n")
    run = deckcheck("check", ".", cwd=tmp_path, cache=cache)
    assert run.returncode == 0, run.stdout
    assert run.last_line == "0 passed, 0 failed, 0 skipped"


def test_missing_image_fails_the_deck_but_its_blocks_still_run(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text("# A\n\n```python\nx = 1\n```\n\n---\n\n![diagram](images/graph.png)\n")
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=cache)
    assert run.returncode == 1
    assert run.lines[0] == "deck.md:9: slide 2: missing image images/graph.png"
    assert run.last_line == "1 passed, 0 failed, 0 skipped"


def test_junit_xml_has_one_testcase_per_block(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text(
        "# A\n\n```python\nx = 1\n```\n\n```python\nassert x == 2\n```\n\n```python\ny = 3\n```\n"
    )
    report = tmp_path / "out.xml"
    run = deckcheck("check", "deck.md", "--junit-xml", str(report), cwd=tmp_path, cache=cache)
    assert run.returncode == 1
    cases = ET.parse(report).getroot().findall(".//testcase")
    assert [case.get("name") for case in cases] == ["deck.md:3", "deck.md:7", "deck.md:11"]
    assert cases[0].find("failure") is None and cases[0].find("skipped") is None
    assert cases[1].find("failure").get("message") == "AssertionError: assert 1 == 2"
    assert cases[2].find("failure") is None and cases[2].find("skipped") is None
    run = deckcheck("check", "deck.md", "-x", "--junit-xml", str(report), cwd=tmp_path, cache=cache)
    assert ET.parse(report).getroot().findall(".//testcase")[2].find("skipped") is not None


def test_several_decks_report_in_a_stable_order(cache: Path, tmp_path: Path) -> None:
    for name, code in [("b.md", "import time\ntime.sleep(1)"), ("a.md", "assert False"), ("c.md", "x = 1")]:
        (tmp_path / name).write_text(f"# {name}\n\n```python\n{code}\n```\n")
    run = deckcheck("check", ".", "--jobs", "3", cwd=tmp_path, cache=cache)
    summaries = [line.split(":")[0] for line in run.lines if ": ok:" in line or ": FAILED:" in line]
    assert summaries == ["a.md", "b.md", "c.md"]
    assert run.lines[0] == "a.md:4: slide 1: AssertionError: assert False"
    assert run.last_line == "2 passed, 1 failed, 0 skipped", run.stdout
