"""YAML from a deck or its settings, bounded: a small text whose aliases expand to billions of
values (a "billion laughs") is refused before anything walks it, and messages quote values
through a bounded repr.

PyYAML builds an alias as a reference to the same object, so loading such a text is cheap;
what explodes is every later walk of the value (printing it, checking it, hashing it).
"""

from __future__ import annotations

import reprlib

import yaml

MAX_VALUES = 10_000  # scalars, lists and mappings, each alias counted as what it expands to
MAX_TEXT = 1_000_000  # characters of YAML

_quoting = reprlib.Repr()
_quoting.maxstring = _quoting.maxother = 60
_quoting.maxlist = _quoting.maxtuple = _quoting.maxdict = 4
_quoting.maxlevel = 2


class YAMLTooBig(yaml.YAMLError):
    """A text that is, or expands to, more than a deck has any use for; `line` is 0-based."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def load(text: str) -> object:
    """yaml.safe_load, refusing texts longer than MAX_TEXT or expanding past MAX_VALUES."""
    if len(text) > MAX_TEXT:
        raise YAMLTooBig(f"longer than {MAX_TEXT:,} characters", 0)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_size(root: yaml.Node) -> None:
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise YAMLTooBig(
                f"its aliases expand to more than {MAX_VALUES:,} values (a YAML alias bomb?)",
                node.start_mark.line,
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)


def quoted(value: object) -> str:
    """A value as a message quotes it: its repr, cut short at every level."""
    return _quoting.repr(value)
