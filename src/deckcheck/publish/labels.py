"""What the build writes on the slides about the check itself, generated, never by hand:
the title slide's footer (what ran, on what, what was skipped and why) and a note on every
slide whose code rests on stand-in data or weights."""

from __future__ import annotations

import json

from deckcheck.results import BlockResult, DeckResult

SKIP_LABELS = (  # a skip reason's start → how the footer says it
    ("requires cuda", "CUDA only"),
    ("requires mps", "MPS only"),
    ("requires network", "needs the network"),
    ("skip-execution", "shown, not run"),
)


def skip_label(reason: str) -> str:
    return next((label for start, label in SKIP_LABELS if reason.startswith(start)), "not run")


def check_footer(result: DeckResult) -> str:
    """`34 blocks ran and passed on CPU; 2 skipped: CUDA only, shown, not run · torch 2.14.1`."""
    passed, failed = result.count("passed"), result.count("failed")
    where = f" on {result.device}" if result.device else ""
    if failed:
        text = f"{passed} blocks passed and {failed} failed{where}"
    else:
        text = f"{passed} block{'s' if passed != 1 else ''} ran and passed{where}"
    skipped = [block for block in result.blocks if block.status == "skipped"]
    if skipped:
        labels = list(dict.fromkeys(skip_label(block.reason) for block in skipped))
        text += f"; {len(skipped)} skipped: {', '.join(labels)}"
    torch = result.versions.get("torch")
    if torch and torch != "not installed":
        text += f" · torch {torch}"
    return text


def footer_directive(result: DeckResult) -> str:
    """A local `_footer` directive for the title slide (a footer the deck sets itself wins)."""
    return f"<!-- _footer: {json.dumps(check_footer(result), ensure_ascii=False)} -->"


def standin_note(blocks: list[BlockResult]) -> str:
    names = sorted({name for block in blocks for name in block.standins})
    listed = " and ".join(names)
    return (
        f'<p class="standin-note">Ran on a stand-in for {listed}, made offline: not the real data. '
        "See the index.</p>"
    )
