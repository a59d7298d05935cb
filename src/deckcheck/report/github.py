"""Results → GitHub Actions: each problem an annotation on the deck's line in the pull request,
and a job summary (a table of decks, counts, durations and versions).

Used when GITHUB_ACTIONS=true (GitHub sets it in every job); nothing changes elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from deckcheck.deck import Deck
from deckcheck.report.lines import closing_line, failure_summary
from deckcheck.results import DeckResult


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotation_lines(decks: Sequence[Deck], results: Sequence[DeckResult]) -> list[str]:
    """`::error file=PATH,line=N,title=slide S::MESSAGE` per failure and deck problem,
    `::warning ...` per warning."""
    found = []
    for deck, result in zip(decks, results, strict=True):
        path = str(deck.path)
        for problem in result.problems:
            found.append(_command("error", path, problem.line, problem.slide, problem.summary))
        for block in result.blocks:
            if block.failure is not None:
                failure = block.failure
                found.append(_command("error", path, failure.line, failure.slide, failure_summary(failure)))
            for warning in block.warnings:
                text = f"{warning.category}: {warning.message}"
                found.append(_command("warning", path, warning.line, warning.slide, text))
    return found


def summary(decks: Sequence[Deck], results: Sequence[DeckResult]) -> str:
    """The job summary: one row per deck, then the closing line."""
    rows = [
        "| deck | result | passed | failed | skipped | seconds | versions |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for deck, result in zip(decks, results, strict=True):
        versions = ", ".join(f"{name} {version}" for name, version in sorted(result.versions.items()))
        state = "ok" if result.ok else "**FAILED**"
        cached = " (cached)" if result.cached else ""
        rows.append(
            f"| `{deck.path}` | {state}{cached} | {result.count('passed')} | {result.count('failed')} "
            f"| {result.count('skipped')} | {result.duration:.1f} | {_cell(versions)} |"
        )
    return "\n".join(["## deckcheck", "", *rows, "", closing_line(results), ""])


def write_summary(decks: Sequence[Deck], results: Sequence[DeckResult]) -> None:
    """Append the summary to the file GitHub names in GITHUB_STEP_SUMMARY, if it names one."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(summary(decks, results))


def _command(kind: str, path: str, line: int, slide: int, message: str) -> str:
    properties = f"file={_property(path)},line={line},title={_property(f'slide {slide}')}"
    return f"::{kind} {properties}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"
