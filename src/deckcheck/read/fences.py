"""The fence vocabulary: which fences are blocks, and their options (tags, keys, resources).

```python tags=["show-output"] timeout=30``` → BlockOptions, in jupytext's `key=value` form.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import json
import re

from deckcheck.deck import BlockOptions
from deckcheck.read.bounded_yaml import quoted

PYTHON_LANGUAGES = ("python", "py", "python3")
KNOWN_KEYS = ("tags", "timeout", "requires", "alt", "filterwarnings", "output_tolerance")
KNOWN_TAGS = ("skip-execution", "raises-exception", "remove-cell", "show-output", "parameters")
KNOWN_RESOURCES = ("cuda", "mps", "network")
SESSION_LANGUAGES = ("pycon",)  # a block only when it is a doctest session
WARNING_ACTIONS = ("error", "ignore", "always", "default", "module", "once")
PROMPT = ">>>"

# key=value, where value is a [list], a "string", a 'string' or a bare word
OPTION = re.compile(
    r"""\s*(?P<key>[^\s=]+)=(?P<value>\[(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^\]"'])*\]"""
    r"""|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\S+)"""
)


class OptionError(ValueError):
    """A fence option that cannot be understood; the message is the user's one line."""


def language(info: str) -> str:
    words = info.split(maxsplit=1)
    return words[0] if words else ""


def is_python(info: str) -> bool:
    return language(info) in PYTHON_LANGUAGES


def is_session(code: str) -> bool:
    """A doctest session: the first line that is not blank starts with a `>>> ` prompt."""
    first = next((line.strip() for line in code.splitlines() if line.strip()), "")
    return first == PROMPT or first.startswith(PROMPT + " ")


def is_block(info: str, code: str) -> bool:
    """Whether a fence is a block deckcheck runs: Python, or a `pycon` doctest session."""
    return is_python(info) or (language(info) in SESSION_LANGUAGES and is_session(code))


def check_warning_filter(text: str) -> None:
    """pytest's -W syntax, action:message:category:module:lineno; OptionError says what is wrong."""
    parts = text.split(":")
    if len(parts) > 5:
        raise OptionError(
            f"too many fields in warning filter {quoted(text)} (action:message:category:module:line)"
        )
    action = parts[0].strip()
    if action not in WARNING_ACTIONS:
        known = ", ".join(WARNING_ACTIONS)
        raise OptionError(
            f"unknown action {quoted(action)} in warning filter {quoted(text)} (known: {known})"
        )
    if len(parts) == 5 and parts[4].strip() and not parts[4].strip().isdigit():
        raise OptionError(f"the line of warning filter {quoted(text)} must be a number")
    category = parts[2].strip() if len(parts) > 2 else ""
    builtin = getattr(builtins, category, None)
    if category and "." not in category and not (isinstance(builtin, type) and issubclass(builtin, Warning)):
        raise OptionError(f"unknown warning category {quoted(category)} in warning filter {quoted(text)}")


def _filters(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        example = 'filterwarnings=["ignore::UserWarning"]'
        raise OptionError(f"block option filterwarnings must be a list of strings, like {example}")
    for text in value:
        check_warning_filter(text)
    return tuple(value)


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _suggest(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}known: {', '.join(known)}"


def resource_names(key: str, value: object) -> tuple[str, ...]:
    """A requires= list (a fence option or a deck setting), each name a known resource."""
    return _names(key, value, KNOWN_RESOURCES, "resource")


def _names(key: str, value: object, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise OptionError(f'block option {key} must be a list of strings, like {key}=["{known[0]}"]')
    for name in value:
        if name not in known:
            raise OptionError(f"unknown {what} {quoted(name)} ({_suggest(name, known)})")
    return tuple(value)


def _timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise OptionError(f"block option timeout must be a positive number of seconds, not {quoted(value)}")
    return float(value)


def tolerance(key: str, value: object) -> float:
    """A relative tolerance (output_tolerance=1e-3): a number from 0 up to 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise OptionError(f"{key} must be a relative tolerance from 0 to 1, like 1e-3, not {quoted(value)}")
    return float(value)


def _alt(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OptionError(
            f'block option alt must be a non-empty string, like alt="the loss falling": {quoted(value)}'
        )
    return value.strip()


def parse_options(info: str) -> BlockOptions:
    """The options after the language word; raises OptionError for anything unknown."""
    words = info.split(maxsplit=1)
    rest = words[1] if len(words) > 1 else ""
    found: dict[str, object] = {}
    pos = 0
    while pos < len(rest):
        if not rest[pos:].strip():
            break
        match = OPTION.match(rest, pos)
        if not match:
            stray = rest[pos:].split()[0]
            raise OptionError(
                f'cannot read block option {quoted(stray)}: write key=value, like tags=["show-output"]'
            )
        key = match.group("key")
        if key not in KNOWN_KEYS:
            raise OptionError(f"unknown block option {quoted(key)} ({_suggest(key, KNOWN_KEYS)})")
        if key in found:
            raise OptionError(f"block option {quoted(key)} given twice")
        found[key] = _value(match.group("value"))
        pos = match.end()
    return BlockOptions(
        tags=_names("tags", found["tags"], KNOWN_TAGS, "tag") if "tags" in found else (),
        timeout=_timeout(found["timeout"]) if "timeout" in found else None,
        requires=resource_names("requires", found["requires"]) if "requires" in found else (),
        alt=_alt(found["alt"]) if "alt" in found else None,
        filterwarnings=_filters(found["filterwarnings"]) if "filterwarnings" in found else (),
        output_tolerance=tolerance("block option output_tolerance", found["output_tolerance"])
        if "output_tolerance" in found
        else None,
    )
