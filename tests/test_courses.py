"""Decks in the styles other lecturers write: every problem in one run, doctest sessions,
magics, deck settings, other languages, and data downloaded wherever a deck puts it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, Run, deckcheck, tagged_processes

COURSES = FIXTURES / "courses"
DATA_CACHE = ROOT / ".cache" / "torch"  # filled by `make data` (stand-ins offline)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the course: decks that download write into their own folder."""
    folder = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(COURSES, folder)
    return folder


def check(course: Path, *args: str) -> Run:
    run = deckcheck("check", *args, "--no-cache", cwd=course, cache=course.parent / "cache",
                    timeout=300, TORCH_HOME=str(DATA_CACHE))  # fmt: skip
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert tagged_processes(run.tag) == []
    return run


def problem_lines(run: Run, deck: str) -> list[str]:
    return [line for line in run.lines if line.startswith(f"{deck}:") and ": slide " in line]


def test_every_problem_of_a_deck_is_reported_in_one_run(course: Path) -> None:
    run = check(course, "snippets.md")
    assert run.returncode == 1
    assert problem_lines(run, "snippets.md") == [
        "snippets.md:13: slide 1: NameError: name 'frist' is not defined",
        "snippets.md:29: slide 2: TypeError: unsupported operand type(s) for +: 'int' and 'str' "
        "(after the failure at line 13)",
        "snippets.md:41: slide 3: SyntaxError: expected ':' (after the failure at line 13)",
    ]
    assert run.last_line == "4 passed, 3 failed, 0 skipped"


def test_exitfirst_stops_a_deck_at_its_first_failure(course: Path) -> None:
    run = check(course, "-x", "snippets.md")
    assert run.returncode == 1
    assert problem_lines(run, "snippets.md") == [
        "snippets.md:13: slide 1: NameError: name 'frist' is not defined"
    ]
    assert run.last_line == "1 passed, 1 failed, 5 skipped"


def test_a_syntax_error_in_the_last_block_is_found_before_the_deck_runs(course: Path) -> None:
    """The seed lecture: MNIST downloaded into ./.output, a class whose methods are comments."""
    run = check(course, "seed-style.md")
    assert problem_lines(run, "seed-style.md") == [
        "seed-style.md:35: slide 3: IndentationError: expected an indented block after function "
        "definition on line 32"
    ]
    assert run.last_line == "3 passed, 1 failed, 0 skipped"
    assert (course / ".output" / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_doctest_sessions_compare_their_printed_results(course: Path) -> None:
    run = check(course, "sessions.md")
    assert problem_lines(run, "sessions.md") == ["sessions.md:25: slide 2: output differs"]
    report = run.stdout
    assert "  Expected:\n      torch.float64\n  Got:\n      torch.float32" in report
    assert run.last_line == "2 passed, 1 failed, 0 skipped"


def test_magics_shell_lines_and_setup_from_the_project_run(course: Path) -> None:
    run = check(course, "magics.md", "imports-left-out.md")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "5 passed, 0 failed, 0 skipped"


def test_settings_in_a_leading_comment_and_no_front_matter(course: Path) -> None:
    run = check(course, "comment-settings.md")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "1 passed, 0 failed, 0 skipped"


def test_german_and_japanese_prose_and_identifiers(course: Path) -> None:
    run = check(course, "deutsch-日本語.md")
    assert problem_lines(run, "deutsch-日本語.md") == [
        "deutsch-日本語.md:22: slide 2: AssertionError: 形が違います"
    ]
    assert '  > 22 | assert straße.shape == (3,), "形が違います"' in run.stdout
    assert run.last_line == "1 passed, 1 failed, 0 skipped"


def test_a_download_into_the_decks_own_folder_comes_from_the_data_cache(course: Path) -> None:
    run = check(course, "download-into-data.md")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "1 passed, 0 failed, 0 skipped"
    linked = course / "data" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    assert linked.is_symlink() and linked.resolve().is_relative_to(DATA_CACHE.resolve())
    if (DATA_CACHE / "standins.json").exists():
        assert "ran on stand-in data (MNIST)" in run.stderr


def test_wrong_settings_are_errors_at_their_line(tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text(
        "---\nmarp: true\ndeckcheck:\n  setup: import os\n  timout: 5\n  execute: maybe\n---\n\n"
        "# D\n\n```python\nx = 1\n```\n"
    )
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 1
    assert run.lines[:2] == [
        "deck.md:5: slide 1: unknown deckcheck setting 'timout' (did you mean 'timeout'? known: setup, "
        "execute, timeout, requires, filterwarnings, dialect, output_tolerance, quick)",
        "deck.md:6: slide 1: deckcheck setting execute must be true or false, not 'maybe'",
    ]
    assert run.last_line == "0 passed, 0 failed, 1 skipped"


def test_a_wrong_project_setting_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.deckcheck]\ntimeout = -1\n')
    (tmp_path / "deck.md").write_text("# D\n\n```python\nx = 1\n```\n")
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"deckcheck: error: {tmp_path / 'pyproject.toml'}:5: [tool.deckcheck] deckcheck setting timeout "
        "must be a positive number of seconds, not -1"
    )


def test_a_failing_setup_is_reported_at_the_settings_line(tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text(
        "---\nmarp: true\ndeckcheck:\n  setup: import no_such_module\n---\n\n# D\n\n```python\nx = 1\n```\n"
    )
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 1
    assert run.lines[0] == (
        "deck.md:4: slide 1: setup failed: ModuleNotFoundError: No module named 'no_such_module'"
    )
    assert run.last_line == "0 passed, 0 failed, 1 skipped"


def test_execute_false_shows_the_deck_and_runs_none_of_it(tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text(
        "<!-- deckcheck: {execute: false} -->\n\n# D\n\n```python\nraise SystemExit\n```\n\n```python\ny\n```\n"
    )
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "0 passed, 0 failed, 2 skipped"
