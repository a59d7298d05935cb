"""Warnings at the slide, and the warnings gate (-W, deck settings, a block's filterwarnings=)."""

from __future__ import annotations

from pathlib import Path

from helpers import FIXTURES, deckcheck

WARNINGS = FIXTURES / "warnings"
HELPER = "deprecated.md:18: slide 2: warning: DeprecationWarning: old_sum is deprecated; use sum (3 times)"
TORCH = (
    "deprecated.md:28: slide 3: warning: FutureWarning: `torch.cpu.amp.autocast(args...)` is deprecated. "
    "Please use `torch.amp.autocast('cpu', args...)` instead."
)


def check(cache: Path, *args: str):
    return deckcheck("check", *args, cwd=WARNINGS, cache=cache)


def test_warnings_are_reported_at_the_deck_line_that_led_to_them_and_fail_nothing(tmp_path: Path) -> None:
    run = check(tmp_path, "deprecated.md")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.lines
    # the helper beside the deck warns with stacklevel=2: the loop's line, once, with a count
    assert HELPER in lines
    assert lines[lines.index(HELPER) + 1] == "  issued at oldapi.py:7"
    # a real torch deprecation, and a warning issued inside torch, at the statements that led to them
    assert TORCH in lines
    chain = next(
        line for line in lines if line.startswith("deprecated.md:30: slide 3: warning: UserWarning:")
    )
    assert "torch.chain_matmul is deprecated" in chain
    assert lines[lines.index(chain) + 1] == "  issued at torch/functional.py:2104"
    # the same call under filterwarnings=["ignore::UserWarning"] is quiet (line 38)
    assert not any(line.startswith("deprecated.md:38:") for line in lines)
    # inside a doctest session: at the example's `>>> ` line
    assert "deprecated.md:46: slide 5: warning: DeprecationWarning: old_sum is deprecated; use sum" in lines
    assert run.last_line == "5 passed, 0 failed, 0 skipped"

    # cached: the same warnings again, without running
    again = check(tmp_path, "deprecated.md")
    assert "deprecated.md: ok: 5 passed, 0 failed, 0 skipped (cached)" in again.lines
    assert HELPER in again.lines and TORCH in again.lines

    # the filters are part of the cache key: -W error fails the blocks at the lines that warned
    strict = check(tmp_path, "deprecated.md", "-W", "error::DeprecationWarning", "-W", "error::FutureWarning")
    assert strict.returncode == 1
    failures = [
        line for line in strict.lines if line.startswith("deprecated.md:") and ": warning:" not in line
    ]
    assert failures[:3] == [
        "deprecated.md:18: slide 2: DeprecationWarning: old_sum is deprecated; use sum",
        "deprecated.md:28: slide 3: FutureWarning: `torch.cpu.amp.autocast(args...)` is deprecated. "
        "Please use `torch.amp.autocast('cpu', args...)` instead. (after the failure at line 18)",
        "deprecated.md:46: slide 5: DeprecationWarning: old_sum is deprecated; use sum (after the failure at line 18)",
    ]
    # the traceback ends at the library frame that warned, not in the warnings machinery
    assert "    oldapi.py:7, in old_sum" in strict.lines
    assert not any("kernel_warnings" in line or "warnings.py" in line for line in strict.lines)
    assert strict.last_line == "2 passed, 3 failed, 0 skipped"


def test_deck_settings_then_the_command_line_then_the_block_decide(tmp_path: Path) -> None:
    run = check(tmp_path, "settings.md")
    assert run.returncode == 1
    assert "settings.md:11: slide 1: DeprecationWarning: old_sum is deprecated; use sum" in run.lines
    # the block's own filterwarnings=["default::DeprecationWarning"] wins over the deck's error
    assert "settings.md:19: slide 2: warning: DeprecationWarning: old_sum is deprecated; use sum" in run.lines
    assert run.last_line == "1 passed, 1 failed, 0 skipped"

    # -W wins over the deck (block 1 passes, quietly), the block's own filter over -W
    lenient = check(tmp_path, "settings.md", "-W", "ignore::DeprecationWarning")
    assert lenient.returncode == 0 and lenient.last_line == "2 passed, 0 failed, 0 skipped"
    assert [line for line in lenient.lines if "warning:" in line] == [
        "settings.md:19: slide 2: warning: DeprecationWarning: old_sum is deprecated; use sum"
    ]


def test_a_bad_filter_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    for bad in ("bogus::DeprecationWarning", "error::NoSuchWarning"):
        run = check(tmp_path, "deprecated.md", "-W", bad)
        assert run.returncode == 2
        assert run.stdout == "" and "Traceback" not in run.stderr
        assert "warning filter" in run.stderr.splitlines()[-1]
