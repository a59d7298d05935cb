"""Results → text for people, pytest-style: `PATH:LINE: slide N: SUMMARY`, then details."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from deckcheck.deck import Deck, Problem
from deckcheck.results import BlockResult, DeckResult, DeckWarning, Failure
from deckcheck.text import shorten

EXCERPT_BEFORE = 3
OUTPUT_LINES = 12


def location(path: str, line: int, slide: int) -> str:
    return f"{path}:{line}: slide {slide}:"


def problem_line(path: str, problem: Problem) -> str:
    return f"{location(path, problem.line, problem.slide)} {problem.summary}"


def failure_report(deck: Deck, result: BlockResult) -> str:
    """The failure's `PATH:LINE: slide N: SUMMARY` line, its excerpt, trimmed traceback, output."""
    failure = result.failure
    assert failure is not None
    parts = [f"{location(str(deck.path), failure.line, failure.slide)} {failure_summary(failure)}"]
    if failure.more:
        parts.append(_indented(failure.more, "    "))
    parts.append(_excerpt(deck, result, failure))
    if failure.details:
        parts.append(_indented(failure.details))
    if failure.frames:
        parts.append(_traceback(failure))
    if result.output.strip():
        parts.append(_output(result.output))
    return "\n".join(part for part in parts if part)


def failure_summary(failure: Failure) -> str:
    """The summary, and when an earlier block of the deck failed, which one (this may follow)."""
    after = f" (after the failure at line {failure.after})" if failure.after else ""
    return failure.summary + after


def _indented(text: str, indent: str = "  ") -> str:
    return "\n".join(f"{indent}{line}" if line else "" for line in text.rstrip("\n").splitlines())


def _excerpt(deck: Deck, result: BlockResult, failure: Failure) -> str:
    block = deck.blocks[result.index] if result.index < len(deck.blocks) else None
    lines = deck.lines
    if block is None or not (block.line <= failure.line <= max(block.end_line, block.line + 1)):
        first, last = failure.line, failure.line
    else:
        first = max(block.first_code_line, failure.line - EXCERPT_BEFORE)
        last = min(failure.line + 1, max(block.end_line - 1, block.first_code_line))
    width = len(str(last))
    shown = []
    for number in range(first, last + 1):
        if 1 <= number <= len(lines):
            marker = ">" if number == failure.line else " "
            shown.append(f"  {marker} {number:>{width}} | {shorten(lines[number - 1], 1, width=160)}")
    return "\n".join(shown)


def _traceback(failure: Failure) -> str:
    lines = ["  Traceback (the deck's frames, then the library frame that raised):"]
    for frame in failure.frames:
        where = f"{frame.path}:{frame.line}"
        if frame.slide is not None:
            where += f" (slide {frame.slide})"
        lines.append(f"    {where}, in {frame.name}")
        if frame.code.strip():
            lines.append(f"        {shorten(frame.code.strip(), 1, width=150)}")
    return "\n".join(lines)


def _output(output: str) -> str:
    tail = output.rstrip("\n").splitlines()[-OUTPUT_LINES:]
    body = shorten("\n".join(tail), OUTPUT_LINES, width=160)
    indented = "\n".join(f"    {line}" for line in body.splitlines())
    return f"  Output (last {len(tail)} lines):\n{indented}"


def warning_line(path: str, warning: DeckWarning) -> str:
    """`PATH:LINE: slide N: warning: Category: message`, how often that line triggered it."""
    times = f" ({warning.count} times)" if warning.count > 1 else ""
    return (
        f"{location(path, warning.line, warning.slide)} warning: {warning.category}: {warning.message}{times}"
    )


def warning_report(path: str, warning: DeckWarning) -> str:
    """The warning's line, then where it was raised when that is outside the deck."""
    where = f"\n  issued at {warning.location}" if warning.location else ""
    return warning_line(path, warning) + where


def skip_line(path: str, result: BlockResult) -> str:
    return f"{location(path, result.line, result.slide)} skipped: {result.reason}"


def deck_line(result: DeckResult, stopped: bool = False) -> str:
    """`PATH: ok: COUNTS (TIME)`, FAILED when it failed, `stopped` when -x kept blocks from running."""
    counts = (
        f"{result.count('passed')} passed, {result.count('failed')} failed, {result.count('skipped')} skipped"
    )
    timing = ("cached" if result.cached else f"{result.duration:.1f} s") + (", quick" if result.quick else "")
    status = "FAILED" if not result.ok else "stopped" if stopped else "ok"
    return f"{result.path}: {status}: {counts} ({timing})"


def closing_line(results: Iterable[DeckResult]) -> str:
    results = list(results)
    passed = sum(r.count("passed") for r in results)
    failed = sum(r.count("failed") for r in results)
    skipped = sum(r.count("skipped") for r in results)
    return f"{passed} passed, {failed} failed, {skipped} skipped"


def standin_warning(results: Sequence[DeckResult]) -> str | None:
    used = [r for r in results if r.standins]
    if not used:
        return None
    names = sorted({name for r in used for name in r.standins})
    decks = ", ".join(dict.fromkeys(r.path for r in used))  # once each, though a matrix runs it again
    return (
        f"WARNING: ran on stand-in data ({', '.join(names)}), not the real downloads: {decks}. "
        "The cache was filled without network access; `deckcheck data fetch --retry-standins` "
        "(or `make data`) downloads the real data."
    )
