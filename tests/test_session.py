"""DeckSession, the public way to drive a deck's kernel block by block (what the pytest plugin
and the preview use), without the command line around it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psutil

from deckcheck.check.session import DeckSession, RunOptions
from deckcheck.read.parser import parse_text

DECK = """# Session

```python
import os
numbers = [1, 2]
```

```python tags=["raises-exception", "show-output"]
numbers.append(3)
raise ValueError(f"now {len(numbers)} numbers")
```

```python
assert numbers == [1, 2, 3]
print(os.getpid())
```
"""


def test_a_session_runs_blocks_one_at_a_time_in_one_namespace(tmp_path: Path) -> None:
    deck = parse_text(tmp_path / "deck.md", DECK)

    async def drive() -> tuple[list, int]:
        async with DeckSession(deck, RunOptions(env=dict(os.environ))) as session:
            results = [await session.run(block) for block in deck.blocks]
            return results, session.kernel.pid

    results, pid = asyncio.run(drive())
    assert [r.status for r in results] == ["passed", "passed", "passed"]
    assert results[1].output == "ValueError: now 3 numbers\n"  # the expected error, shown on the slide
    assert results[2].output.strip() == str(pid)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_block_that_fails_does_not_end_the_session(tmp_path: Path) -> None:
    deck = parse_text(tmp_path / "deck.md", "# S\n\n```python\nx = 1 / 0\n```\n\n```python\ny = 2\n```\n")

    async def drive() -> list:
        async with DeckSession(deck, RunOptions(env=dict(os.environ))) as session:
            return [await session.run(block) for block in deck.blocks]

    first, second = asyncio.run(drive())
    assert first.status == "failed" and first.failure.summary == "ZeroDivisionError: division by zero"
    assert (first.failure.line, first.failure.slide) == (4, 1)
    assert second.status == "passed"
