"""Text from a block, made safe to print (clean) and cut to size (shorten)."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _replace_control(match: re.Match) -> str:
    return "\ufffd"


def clean(text: str) -> str:
    """Drop ANSI escapes, resolve carriage returns as a terminal would, mask control bytes."""
    text = ANSI.sub("", text)
    lines = [line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n")]
    return CONTROL.sub(_replace_control, "\n".join(lines))


def shorten(text: str, max_lines: int, width: int = 200) -> str:
    """At most max_lines lines of at most width characters, saying what was left out."""
    lines = text.splitlines()
    shown = [line if len(line) <= width else line[: width - 1] + "…" for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"… {len(lines) - max_lines} more lines")
    return "\n".join(shown)
