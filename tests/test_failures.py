"""FailureReader: the kernel's cells and lines, told as deck lines and slides."""

from __future__ import annotations

from pathlib import Path

from deckcheck.check.failures import FailureReader
from deckcheck.read.parser import parse_text

DECK = """# One

```python
def helper(v):
    return 10 / v
```

---

```python
import torch
z = helper(0)
```
"""


def reader(memory_limit: int = 0) -> tuple[FailureReader, list]:
    deck = parse_text(Path("deck.md"), DECK)
    failures = FailureReader(deck, memory_limit)
    failures.remember(3, deck.blocks[0])
    failures.remember(4, deck.blocks[1])
    return failures, list(deck.blocks)


def frame(file: str, line: int, name: str, cell: int | None, code: str = "") -> dict:
    return {"file": file, "line": line, "name": name, "cell": cell, "code": code}


def test_an_error_is_reported_at_the_deepest_deck_frame_with_the_library_frame_last() -> None:
    failures, blocks = reader()
    details = {
        "type": "ZeroDivisionError",
        "message": "division by zero",
        "bases": ["ZeroDivisionError", "ArithmeticError", "Exception"],
        "frames": [
            frame("/site-packages/IPython/core/interactiveshell.py", 3823, "run_code", None),
            frame("/tmp/ipykernel_1/b.py", 2, "<module>", 4, "z = helper(0)"),
            frame("/tmp/ipykernel_1/a.py", 2, "helper", 3, "return 10 / v"),
            frame("/x/site-packages/torch/ops.py", 7, "div", None, "raise"),
        ],
    }
    failure = failures.error(blocks[1], {"ename": "ZeroDivisionError"}, details)
    assert (failure.line, failure.slide, failure.summary) == (5, 1, "ZeroDivisionError: division by zero")
    assert [(f.path, f.line, f.slide) for f in failure.frames] == [
        ("deck.md", 12, 2),
        ("deck.md", 5, 1),
        ("torch/ops.py", 7, None),
    ]


def test_a_syntax_error_names_deck_lines_in_its_message() -> None:
    failures, blocks = reader()
    details = {
        "type": "IndentationError",
        "message": "expected an indented block (x.py, line 2)",
        "bases": ["IndentationError", "SyntaxError"],
        "frames": [],
        "syntax": {"cell": 4, "line": 2, "msg": "expected an indented block after 'if' statement on line 1"},
    }
    failure = failures.error(blocks[1], {}, details)
    assert failure.line == 12 and failure.slide == 2
    assert failure.summary == "IndentationError: expected an indented block after 'if' statement on line 11"


def test_memory_errors_say_the_limit() -> None:
    failures, blocks = reader(memory_limit=3 * 2**30)
    details = {
        "type": "RuntimeError",
        "message": "DefaultCPUAllocator: can't allocate memory",
        "bases": [],
        "frames": [],
    }
    assert failures.error(blocks[1], {}, details).summary.startswith(
        "memory limit exceeded (3.0 GB): RuntimeError"
    )


def test_without_details_the_notebook_error_is_used_at_the_first_code_line() -> None:
    failures, blocks = reader()
    failure = failures.error(blocks[1], {"ename": "KeyError", "evalue": "'x'\nmore"}, None)
    assert (failure.line, failure.summary) == (11, "KeyError: 'x'")


def test_a_crash_log_points_at_the_running_statement() -> None:
    failures, blocks = reader()
    log = (
        "deckcheck-cell 3 /tmp/ipykernel_1/a.py\n"
        "deckcheck-cell 5 /tmp/ipykernel_1/c.py\n"
        "Fatal Python error: Segmentation fault\n\n"
        '  File "/usr/lib/python3.11/ctypes/__init__.py", line 519 in string_at\n'
        '  File "/tmp/ipykernel_1/c.py", line 2 in <module>\n'
    )
    failure = failures.crash(blocks[1], "killed by SIGSEGV", log)
    assert (failure.line, failure.slide, failure.summary) == (12, 2, "kernel died (killed by SIGSEGV)")
    assert failures.crash(blocks[1], "exit status 3", "").line == 11


def test_a_timeout_without_a_traceback_is_at_the_first_code_line() -> None:
    failures, blocks = reader()
    assert failures.timeout(blocks[0], 2.5, None).summary == "timeout after 2.5 s"
    assert failures.timeout(blocks[0], 2.5, None).line == 4
