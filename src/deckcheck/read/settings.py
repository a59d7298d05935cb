"""Deck settings: what a deck (or every deck of a course) says about how to run it.

A `deckcheck:` mapping in a deck's front matter, or in an HTML comment on its first slide
(`<!-- deckcheck: {setup: import torch} -->`, for decks without front matter), and the same
keys under `[tool.deckcheck]` in the nearest pyproject.toml above the deck, as defaults. The
command line wins over the deck, the deck over pyproject. Each key is checked here, and a
wrong one is reported at its own line.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

from deckcheck.deck import DeckSettings
from deckcheck.errors import UsageError
from deckcheck.read.bounded_yaml import quoted
from deckcheck.read.fences import OptionError, check_warning_filter, resource_names, tolerance

PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class ProjectSettings:
    """[tool.deckcheck] of one pyproject.toml: defaults for the decks below it, and the keys
    that only a project has."""

    path: Path | None = None
    defaults: dict[str, object] = field(default_factory=dict)  # deck-setting keys → checked values
    lines: dict[str, int] = field(default_factory=dict)  # key → its line in the file
    paths: tuple[str, ...] = ()  # where the course's decks are (the pytest plugin collects those)
    repository: str = ""  # "owner/name" on GitHub: an "Open in Colab" link per notebook


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{key} must be a positive number of seconds, not {quoted(value)}")
    return float(value)


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {quoted(value)}")
    return value


def _code(key: str, value: object) -> str:
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "\n".join(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be Python code as a string, not {quoted(value)}")
    return value


def _resources(key: str, value: object) -> tuple[str, ...]:
    try:
        return resource_names(key, value)
    except OptionError as error:
        raise ValueError(str(error)) from None


def _strings(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'{key} must be a list of strings, like {key}=["..."]')
    return tuple(value)


def _filters(key: str, value: object) -> tuple[str, ...]:
    filters = _strings(key, value)
    for text in filters:
        try:
            check_warning_filter(text)
        except OptionError as error:
            raise ValueError(f"{key}: {error}") from None
    return filters


def _tolerance(key: str, value: object) -> float:
    try:
        return tolerance(key, value)
    except OptionError as error:
        raise ValueError(str(error)) from None


def _name(key: str, value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        raise ValueError(f'{key} must be a GitHub repository as "owner/name", not {quoted(value)}')
    return value


def _dialect(key: str, value: object) -> str:
    from deckcheck.read.dialects import DIALECTS

    if value not in DIALECTS:
        raise ValueError(f"{key} must be one of {', '.join(DIALECTS)}, not {quoted(value)}")
    return str(value)


QUICK_VALUES = (bool, int, float, str, type(None))


def _literal(value: object) -> bool:
    if isinstance(value, list):
        return all(_literal(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _literal(item) for k, item in value.items())
    return isinstance(value, QUICK_VALUES) and not (isinstance(value, float) and not math.isfinite(value))


def _quick(key: str, value: object) -> tuple[tuple[str, str], ...]:
    """{epochs: 1} → (("epochs", "1"),): each name's value as the Python source that sets it."""
    if not isinstance(value, dict):
        raise ValueError(
            f"{key} must be a mapping of parameter names to values, like {{epochs: 1}}, not {quoted(value)}"
        )
    for name, item in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{key}: {quoted(name)} is not a Python name")
        if not _literal(item):
            raise ValueError(f"{key}: the value of {name} must be a number, string, boolean, list or mapping")
    return tuple((name, repr(item)) for name, item in value.items())


DECK_KEYS: dict[str, Callable[[str, object], object]] = {
    "setup": _code,
    "execute": _flag,
    "timeout": _number,
    "requires": _resources,
    "filterwarnings": _filters,
    "dialect": _dialect,
    "output_tolerance": _tolerance,
    "quick": _quick,
}
PROJECT_KEYS: dict[str, Callable[[str, object], object]] = {
    **DECK_KEYS,
    "paths": _strings,
    "repository": _name,
}


def _unknown(key: str, known: dict) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown deckcheck setting {key!r} ({hint}known: {', '.join(known)})"


def check_values(
    mapping: object, known: dict[str, Callable[[str, object], object]], lines: dict[str, int], line: int
) -> tuple[dict[str, object], list[tuple[int, str]]]:
    """The checked values of a settings mapping, and (line, message) for every wrong key."""
    if not isinstance(mapping, dict):
        return {}, [(line, f"deckcheck settings must be a mapping of keys to values, not {quoted(mapping)}")]
    values: dict[str, object] = {}
    errors: list[tuple[int, str]] = []
    for key, value in mapping.items():
        where = lines.get(str(key), line)
        if key not in known:
            errors.append((where, _unknown(str(key), known)))
            continue
        try:
            values[key] = known[key](key, value)
        except ValueError as error:
            errors.append((where, f"deckcheck setting {error}"))
    return values, errors


def yaml_key_lines(text: str, path: tuple[str, ...]) -> dict[str, int]:
    """The 0-based line of each key of the mapping at `path` inside a YAML text."""
    try:
        node = yaml.compose(text)
    except (yaml.YAMLError, RecursionError):
        return {}
    for step in path:
        if not isinstance(node, yaml.MappingNode):
            return {}
        node = next((value for key, value in node.value if key.value == step), None)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line for key, _ in node.value}


def _toml_key_lines(text: str) -> tuple[int, dict[str, int]]:
    """The 1-based line of [tool.deckcheck] and of each key under it."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"\s*\[tool\.deckcheck\]\s*(#.*)?$", line)), None
    )
    if start is None:
        return 0, {}
    found: dict[str, int] = {}
    for number in range(start + 1, len(lines)):
        if re.match(r"\s*\[", lines[number]):
            break
        match = re.match(r"""\s*["']?([\w-]+)["']?\s*=""", lines[number])
        if match:
            found.setdefault(match.group(1), number + 1)
    return start + 1, found


@cache
def _project_settings(path: Path, mtime: float) -> ProjectSettings:
    try:
        text = path.read_text("utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read it: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: invalid TOML: {error}") from None
    table = data.get("tool", {}).get("deckcheck")
    if table is None:
        return ProjectSettings(path)
    start, lines = _toml_key_lines(text)
    values, errors = check_values(table, PROJECT_KEYS, lines, start)
    if errors:
        line, message = errors[0]
        raise UsageError(f"{path}:{line}: [tool.deckcheck] {message}")
    defaults = {key: value for key, value in values.items() if key in DECK_KEYS}
    return ProjectSettings(
        path,
        defaults,
        lines,
        paths=tuple(values.get("paths", ())),  # type: ignore[arg-type]
        repository=str(values.get("repository", "")),
    )


def project_settings(deck_folder: Path) -> ProjectSettings:
    """[tool.deckcheck] of the nearest pyproject.toml at or above the deck's folder (the
    nearest pyproject.toml decides, whether it has the table or not)."""
    here = deck_folder.absolute()
    for folder in (here, *here.parents):
        candidate = folder / PYPROJECT
        try:
            mtime = candidate.stat().st_mtime
        except OSError:
            continue
        return _project_settings(candidate, mtime)
    return ProjectSettings()


def merged(deck_values: dict[str, object], setup_line: int, project: ProjectSettings) -> DeckSettings:
    """The deck's own settings over the project's defaults."""
    settings = DeckSettings()
    for key, value in project.defaults.items():
        settings = replace(settings, **{key: value})  # type: ignore[arg-type]  # checked: check_values
    if "setup" in project.defaults and project.path is not None:
        settings = replace(settings, setup_origin=f"{project.path.name}:{project.lines.get('setup', 1)}")
    for key, value in deck_values.items():
        settings = replace(settings, **{key: value})  # type: ignore[arg-type]  # checked: check_values
    if "setup" in deck_values:
        settings = replace(settings, setup_origin="", setup_line=setup_line)
    return settings
