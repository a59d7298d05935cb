"""The report text and the console, without a kernel: the exact lines a reader sees."""

from __future__ import annotations

import io
from pathlib import Path

from deckcheck.deck import Problem
from deckcheck.read.parser import parse_text
from deckcheck.report import lines as report
from deckcheck.report.console import Console
from deckcheck.results import BlockResult, DeckResult, Failure, Frame

TEXT = """# Deck

```python
x = 1
y = 2
z = x / 0
w = 4
```

---

```python requires=["cuda"]
x.cuda()
```
"""


def deck_and_results():
    deck = parse_text(Path("slides/d.md"), TEXT)
    first, second = deck.blocks
    frames = (Frame("slides/d.md", 6, "<module>", "z = x / 0", 1),)
    failure = Failure(6, 1, "ZeroDivisionError: division by zero", frames)
    results = (
        BlockResult(0, first.line, 1, "failed", failure=failure, output="some output\n"),
        BlockResult(1, second.line, 2, "skipped", reason="requires cuda, not available here"),
    )
    return deck, DeckResult("slides/d.md", results, duration=1.25)


def test_a_failure_report_has_the_location_excerpt_traceback_and_output() -> None:
    deck, result = deck_and_results()
    text = report.failure_report(deck, result.blocks[0])
    assert text.splitlines() == [
        "slides/d.md:6: slide 1: ZeroDivisionError: division by zero",
        "    4 | x = 1",
        "    5 | y = 2",
        "  > 6 | z = x / 0",
        "    7 | w = 4",
        "  Traceback (the deck's frames, then the library frame that raised):",
        "    slides/d.md:6 (slide 1), in <module>",
        "        z = x / 0",
        "  Output (last 1 lines):",
        "    some output",
    ]


def test_the_deck_line_and_the_closing_line_count_blocks() -> None:
    _, result = deck_and_results()
    assert report.deck_line(result) == "slides/d.md: FAILED: 0 passed, 1 failed, 1 skipped (1.2 s)"
    assert report.closing_line([result, result]) == "0 passed, 2 failed, 2 skipped"


def test_the_console_prints_problems_failures_skips_and_the_closing_line() -> None:
    deck, result = deck_and_results()
    result = DeckResult(
        result.path, result.blocks, problems=(Problem(1, 1, "missing image x.png", fatal=False),)
    )
    out, err = io.StringIO(), io.StringIO()
    console = Console([deck], out=out, err=err)
    console.deck_done(deck, result)
    console.finish([result])
    lines = out.getvalue().splitlines()
    assert lines[0] == "slides/d.md:1: slide 1: missing image x.png"
    assert lines[1] == "slides/d.md:6: slide 1: ZeroDivisionError: division by zero"
    assert "slides/d.md:12: slide 2: skipped: requires cuda, not available here" in lines
    assert lines[-1] == "0 passed, 1 failed, 1 skipped"
    assert err.getvalue() == ""


def test_an_interrupt_names_the_running_blocks_and_counts_what_finished() -> None:
    deck, _ = deck_and_results()
    out, err = io.StringIO(), io.StringIO()
    console = Console([deck], out=out, err=err)
    console.block_started(deck, deck.blocks[0])
    console.interrupted("SIGINT")
    assert out.getvalue().splitlines() == [
        "slides/d.md:4: slide 1: interrupted (SIGINT)",
        "0 passed, 0 failed, 0 skipped",
    ]
    assert "interrupted (SIGINT)" in err.getvalue()
