"""Blocks run in real Jupyter kernels: state, failures, time limits, crashes, floods, leaks."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import DECKS, Run, deckcheck, tagged_processes


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def check(cache: Path, *decks: str, **extra: str) -> Run:
    run = deckcheck("check", *decks, cwd=DECKS, cache=cache, **extra)
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert tagged_processes(run.tag) == [], "a kernel or one of its children outlived the run"
    return run


def test_blocks_share_state_run_in_the_deck_folder_and_honour_tags(cache: Path) -> None:
    run = check(cache, "passing.md")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "5 passed, 0 failed, 1 skipped"


def test_a_failure_is_reported_at_its_statement_and_later_blocks_still_run(cache: Path) -> None:
    run = check(cache, "failing.md")
    assert run.returncode == 1
    assert run.lines[0] == "failing.md:13: slide 2: AssertionError: y is 42"
    assert '  > 13 | assert y == 43, f"y is {y}"' in run.stdout
    assert run.last_line == "2 passed, 1 failed, 0 skipped"
    stopped = check(cache, "--exitfirst", "failing.md")
    assert stopped.last_line == "1 passed, 1 failed, 1 skipped"


def test_dataloader_worker_processes_work(cache: Path) -> None:
    run = check(cache, "workers.md")
    assert run.returncode == 0, run.stdout
    assert run.last_line == "1 passed, 0 failed, 0 skipped"


def test_a_hanging_block_times_out_at_the_line_it_was_running(cache: Path) -> None:
    started = time.monotonic()
    run = check(cache, "hang.md")
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert run.lines[0] in (
        "hang.md:10: slide 1: timeout after 2 s",
        "hang.md:11: slide 1: timeout after 2 s",
    )
    assert run.last_line == "2 passed, 1 failed, 0 skipped"  # interrupted, the kernel goes on
    assert elapsed < 2 + 15, "the time limit was not enforced"


def test_after_a_timeout_the_next_blocks_run_in_the_same_namespace(cache: Path) -> None:
    run = check(cache, "slow-block.md")
    assert run.lines[0] == "slow-block.md:9: slide 1: timeout after 2 s", run.stdout
    assert run.last_line == "2 passed, 1 failed, 0 skipped", run.stdout


def test_a_block_that_ignores_interrupts_is_killed_at_its_limit(cache: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    run = check(cache, "--junit-xml", str(tmp_path / "junit.xml"), "hang_in_c.md")
    assert run.returncode == 1
    assert run.lines[0].startswith("hang_in_c.md:4: slide 1: timeout after 2 s")
    assert time.monotonic() - started < 2 + 3 + 15
    assert run.last_line == "0 passed, 1 failed, 1 skipped"
    skipped = ET.parse(tmp_path / "junit.xml").find(".//skipped")
    assert skipped is not None
    assert (
        skipped.get("message") == "not run: the kernel did not stop at its time limit (line 4) and was ended"
    )


def test_a_timed_out_block_leaves_no_child_process(cache: Path) -> None:
    run = check(cache, "children.md")
    assert run.returncode == 1
    assert "timeout after 2 s" in run.lines[0]


def test_a_segfault_is_reported_at_the_statement_that_crashed(cache: Path) -> None:
    run = check(cache, "crash.md")
    assert run.returncode == 1
    assert run.lines[0] == "crash.md:12: slide 2: kernel died (killed by SIGSEGV)"
    assert run.last_line == "1 passed, 1 failed, 0 skipped"


def test_a_kernel_that_exits_is_reported_at_the_statement_that_was_running(cache: Path) -> None:
    run = check(cache, "exits.md")
    assert run.returncode == 1
    assert run.lines[0] == "exits.md:5: slide 1: kernel died (exit status 7)"
    assert "  > 5 | os._exit(7)" in run.stdout


def test_standard_input_is_closed(cache: Path) -> None:
    run = check(cache, "stdin.md")
    assert run.returncode == 1
    assert run.lines[0].startswith("stdin.md:4: slide 1: StdinNotImplementedError:")


def test_a_flood_of_output_is_bounded_and_cleaned(cache: Path) -> None:
    run = check(cache, "flood.md")
    assert run.returncode == 1
    assert run.lines[0] == "flood.md:11: slide 1: RuntimeError: after the flood"
    assert len(run.stdout) < 20_000
    assert "red and \ufffd bell \ufffd nul" in run.stdout
    assert "raw \ufffd\ufffd bytes" in run.stdout
    assert "\x1b" not in run.stdout and "\x00" not in run.stdout and "\x07" not in run.stdout
    assert "more characters of output not kept" in run.stdout


def test_blocks_needing_absent_resources_are_skipped_with_the_reason(cache: Path) -> None:
    run = check(cache, "requires.md")
    assert run.returncode == 0, run.stdout
    assert "requires.md:3: slide 1: skipped: requires cuda, not available here" in run.lines
    assert "requires.md:8: slide 1: skipped: requires network, not available here" in run.lines
    assert run.last_line == "1 passed, 0 failed, 2 skipped"


def test_a_raises_exception_block_that_does_not_raise_fails(cache: Path, tmp_path: Path) -> None:
    deck = tmp_path / "raises.md"
    deck.write_text('# R\n\n```python tags=["raises-exception"]\nx = 1\n```\n')
    run = deckcheck("check", str(deck), cwd=tmp_path, cache=cache)
    assert run.returncode == 1
    assert run.lines[0] == f"{deck}:4: slide 1: expected an exception: the block raised none"


def test_the_block_timeout_option_and_the_flag(cache: Path, tmp_path: Path) -> None:
    deck = tmp_path / "slow.md"
    deck.write_text("# S\n\n```python\nimport time\ntime.sleep(30)\n```\n")
    run = deckcheck("check", "--timeout", "1", "slow.md", cwd=tmp_path, cache=cache)
    assert run.lines[0] == "slow.md:5: slide 1: timeout after 1 s"


FREED = """# Freed memory goes back

```python
import psutil
before = psutil.Process().memory_info().rss
chunks = [bytes(100_000) for _ in range(3000)]  # 300 MB in heap-sized pieces
kept = chunks[::10]  # live pieces all over the heap: glibc cannot shrink its top
del chunks
```

```python
grown = psutil.Process().memory_info().rss - before
assert grown < 100e6, f"the kernel still holds {grown / 1e6:.0f} MB"
```
"""


def test_a_kernel_hands_back_what_a_block_freed(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "freed.md").write_text(FREED)
    run = deckcheck("check", "freed.md", cwd=tmp_path, cache=cache)
    assert run.returncode == 0, run.stdout
    assert run.last_line == "2 passed, 0 failed, 0 skipped"


def test_a_kernel_that_is_slow_to_answer_still_connects(cache: Path, tmp_path: Path) -> None:
    """A startup file that takes seconds (a lecturer's IPython profile) delays the kernel's
    first answer; deckcheck must wait for it, not keep asking until its limit."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-slow.py").write_text("import time\ntime.sleep(2)\n")
    (tmp_path / "slow-start.md").write_text("# S\n\n```python\nx = 1\n```\n")
    run = deckcheck("check", "slow-start.md", cwd=tmp_path, cache=cache, IPYTHONDIR=str(tmp_path / "ipython"))
    assert run.returncode == 0, run.stdout
    assert run.last_line == "1 passed, 0 failed, 0 skipped"


def test_a_message_of_several_lines_is_shown_whole_under_its_first(cache: Path) -> None:
    run = check(cache, "long-message.md")
    first = run.lines.index(
        "long-message.md:5: slide 1: RuntimeError: Error downloading train-images-idx3-ubyte.gz:"
    )
    assert run.lines[first + 1 : first + 3] == [
        f"    Tried https://mirror-{n}.example/train-images-idx3-ubyte.gz: <urlopen error [Errno -2] Name or"
        " service not known>"
        for n in range(2)
    ], run.stdout
    second = run.lines.index("long-message.md:9: slide 1: ValueError: line 1 (after the failure at line 5)")
    shown = run.lines[second + 1 : second + 41]
    assert shown == [f"    line {n}" for n in range(2, 41)] + ["    (20 more lines)"], run.stdout


def test_a_failed_assert_shows_the_values_it_compared(cache: Path) -> None:
    run = check(cache, "asserts.md")
    assert "asserts.md:11: slide 1: AssertionError: assert 0.0312 < (0.75 * 0.04)" in run.lines, run.stdout
    second = run.lines.index(
        "asserts.md:16: slide 1: AssertionError: three shapes (after the failure at line 11)"
    )
    assert run.lines[second + 1 : second + 3] == ["    assert 2 == 3", "     +  where 2 = len([1, 2])"], (
        run.stdout
    )
    assert run.last_line == "1 passed, 2 failed, 0 skipped"


def test_rewriting_asserts_changes_nothing_a_block_does(cache: Path, monkeypatch) -> None:
    import asyncio

    from deckcheck.check.checker import Checker, CheckOptions
    from deckcheck.read.parser import read_deck

    monkeypatch.setenv("DECKCHECK_CACHE", str(cache))

    def run() -> list[tuple[str, str, str]]:
        result = asyncio.run(
            Checker(CheckOptions(use_cache=False, jobs=1)).check([read_deck(DECKS / "asserts.md")])
        )
        return [
            (block.status, block.output, block.failure.summary if block.failure else "")
            for block in result[0].blocks
        ]

    monkeypatch.setenv("DECKCHECK_ASSERT_VALUES", "0")
    plain = run()
    monkeypatch.delenv("DECKCHECK_ASSERT_VALUES")
    rewritten = run()
    assert [(status, output) for status, output, _ in plain] == [
        (status, output) for status, output, _ in rewritten
    ]
    assert plain[0][1] == "mse 0.0312\n"
    assert [summary for *_, summary in plain] == ["", "AssertionError", "AssertionError: three shapes"]
    assert rewritten[1][2] == "AssertionError: assert 0.0312 < (0.75 * 0.04)"


def test_under_github_actions_a_failure_is_an_annotation_and_the_job_has_a_summary(
    cache: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    run = check(cache, "failing.md", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert "::error file=failing.md,line=13,title=slide 2::AssertionError: y is 42" in run.lines, run.stdout
    table = summary.read_text()
    assert "| `failing.md` | **FAILED** | 2 | 1 | 0 |" in table, table
    assert table.rstrip().endswith("2 passed, 1 failed, 0 skipped")
    plain = check(cache, "failing.md")
    assert not any(line.startswith("::") for line in plain.lines)
