"""Inside the kernel: the warnings a block's code triggers, each at the deck frame that led to it.

The session calls begin(filters) before a block and collected() after it. While a block runs,
every warning reaches showwarning (a catch-all "always" under the block's own filters, which
keep pytest's syntax and order: later filters win), and each is kept once per place with a
count, instead of being printed to stderr. Only warnings with a deck frame on the stack are
kept: the kernel's own machinery warns too. `error` is applied here rather than by the warnings
module, for the same reason: it raises only into deck code. Standard library only.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import json
import re
import warnings
from typing import Any

DOCTEST_FILE = re.compile(r"^<doctest .*\[(\d+)\]>$")
KEPT = 100  # distinct warnings kept per block; a loop that warns with a new text each time stops here

_saved: Any = None  # the warnings.catch_warnings() that begin() entered: it restores filters and showwarning
_rules: list[tuple[str, Any, type, Any, int]] = []  # the block's filters, compiled, the one that wins first
_kept: dict[tuple, dict] = {}


def _category(name: str) -> type:
    if not name:
        return Warning
    if "." in name:
        module, _, attribute = name.rpartition(".")
        found = getattr(importlib.import_module(module), attribute, None)
    else:
        found = getattr(builtins, name, None)
    if not (isinstance(found, type) and issubclass(found, Warning)):
        raise ValueError(f"{name!r} is not a warning category")
    return found


def _rule(text: str, literal: bool) -> tuple[str, str, type, str, int]:
    """pytest's parse_warning_filter: message and module are regular expressions, except on the
    command line, where they are literal text (as Python's own -W)."""
    action, message, category, module, line = (text.split(":") + [""] * 5)[:5]
    message, module = message.strip(), module.strip()
    if literal:
        message = re.escape(message)
        module = re.escape(module) + r"\Z" if module else ""
    re.compile(message)
    re.compile(module)
    return action.strip(), message, _category(category.strip()), module, int(line) if line.strip() else 0


def _compiled(rule: tuple[str, str, type, str, int]) -> tuple[str, Any, type, Any, int]:
    action, message, category, module, line = rule
    return (
        action,
        re.compile(message, re.I) if message else None,
        category,
        re.compile(module) if module else None,
        line,
    )


def begin(filters: list[tuple[str, bool]]) -> str:
    """Start collecting under these filters (text, literal); JSON: "" or what is wrong with one."""
    global _saved
    end()
    rules = []
    for text, literal in filters:
        try:
            rules.append(_rule(text, literal))
        except (ValueError, ImportError, re.error) as error:
            return json.dumps(f"warning filter {text!r}: {error}")
    _saved = warnings.catch_warnings()
    _saved.__enter__()
    warnings.simplefilter("always")
    for action, message, category, module, line in rules:  # each goes first: the last one wins
        kept = "always" if action == "error" else action  # `error` is raised by _show, at the deck line
        warnings.filterwarnings(kept, message, category, module, line)  # type: ignore[arg-type]
    _rules[:] = [_compiled(rule) for rule in reversed(rules)]
    warnings.showwarning = _show  # type: ignore[assignment]
    _kept.clear()
    return json.dumps("")


def end() -> None:
    global _saved
    if _saved is not None:
        _saved.__exit__(None, None, None)
        _saved = None


def collected() -> str:
    """Stop collecting; the block's warnings as JSON, in the order they first came."""
    end()
    return json.dumps(list(_kept.values()))


def _deck_frame(cells: dict[str, int]) -> tuple[Any, Any]:
    """The innermost frame of deck code, and the innermost frame outside it (the caller of warn)."""
    frame = inspect.currentframe()
    caller = None
    while frame is not None:
        name = frame.f_code.co_filename
        if name in cells or DOCTEST_FILE.match(name):
            return frame, caller
        if caller is None and name not in (__file__, warnings.__file__):
            caller = frame
        frame = frame.f_back
    return None, caller


def _matches(rule: tuple, text: str, category: type, module: str, line: int) -> bool:
    _, message, wanted, pattern, only = rule
    return (
        (message is None or message.match(text) is not None)
        and issubclass(category, wanted)
        and (pattern is None or pattern.match(module) is not None)
        and only in (0, line)
    )


def _show(message: Any, category: type, filename: str, lineno: int, *_: Any) -> None:
    from IPython import get_ipython

    from deckcheck.jupyter_internals import cell_numbers

    cells = cell_numbers(get_ipython())
    deck, caller = _deck_frame(cells)
    if deck is None:
        return
    text = str(message)
    module = _module(filename, lineno) if _rules else ""
    rule = next((rule for rule in _rules if _matches(rule, text, category, module, lineno)), None)
    if rule is not None and rule[0] == "error":
        raise message if isinstance(message, Warning) else category(text)
    name = deck.f_code.co_filename
    doctest = DOCTEST_FILE.match(name)
    where = {"cell": None, "example": int(doctest.group(1))} if doctest else {"cell": cells[name]}
    if filename in cells or DOCTEST_FILE.match(filename):  # stacklevel pointed into the deck
        location = f"{caller.f_code.co_filename}:{caller.f_lineno}" if caller is not None else ""
    else:
        location = f"{filename}:{lineno}"
    key = (name, deck.f_lineno, category.__name__, text, location)
    if key in _kept:
        _kept[key]["count"] += 1
    elif len(_kept) < KEPT:
        _kept[key] = {
            **where, "line": deck.f_lineno, "category": category.__name__, "message": text,
            "location": location, "count": 1,
        }  # fmt: skip


def _module(filename: str, lineno: int) -> str:
    """The module a warning is attributed to, as the warnings module names it: the __name__ of
    the frame at the warning's place."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_filename == filename and frame.f_lineno == lineno:
            return str(frame.f_globals.get("__name__", ""))
        frame = frame.f_back
    return filename.removesuffix(".py")
