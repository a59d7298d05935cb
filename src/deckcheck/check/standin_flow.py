"""Which blocks' results rest on stand-in data: those that opened a stand-in's files (the
kernel saw them do it), and those that use what such a block made.

"What a block made" is read from the code, statement by statement: the names a statement
binds, and the names whose methods it calls (`model.train()`, `optimizer.step()` change
them), carry the stand-ins of everything the statement read; a name bound again from
something else carries nothing any more. Imported modules and builtins carry nothing.
"""

from __future__ import annotations

import ast
import builtins

from deckcheck.check.syntax import python_source
from deckcheck.deck import Block, Deck
from deckcheck.in_kernel.doctest_sessions import examples

BUILTINS = frozenset(dir(builtins))


def spread(deck: Deck, opened: dict[int, set[str]]) -> dict[int, tuple[str, ...]]:
    """Block index → the stand-ins its result rests on, given the blocks that opened them."""
    blocks = [block for block in deck.blocks if not block.options.skip_execution]
    statements = {block.index: _statements(block) for block in blocks}
    modules = _imported([*_parse(deck.settings.setup), *(s for b in blocks for s in statements[b.index])])
    carriers: dict[str, set[str]] = {}  # variable → the stand-ins it was made from
    found: dict[int, tuple[str, ...]] = {}
    for block in blocks:
        carried_by_block = set(opened.get(block.index, ()))
        for statement in statements[block.index]:
            read, made = _reads_and_makes(statement)
            carried = set(opened.get(block.index, ()))
            for name in read:
                carried |= carriers.get(name, set())
            for name in made - modules - BUILTINS:
                if carried:
                    carriers.setdefault(name, set()).update(carried)
                else:
                    carriers.pop(name, None)
            carried_by_block |= carried
        if carried_by_block:
            found[block.index] = tuple(sorted(carried_by_block))
    return found


def _statements(block: Block) -> list[ast.stmt]:
    sources = [example.source for example in examples(block.code)] if block.session else [block.code]
    return [statement for source in sources for statement in _parse(source)]


def _parse(source: str) -> list[ast.stmt]:
    try:
        return ast.parse(python_source(source)).body
    except Exception:  # code that does not parse made nothing that runs
        return []


def _imported(statements: list[ast.stmt]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return found


def _reads_and_makes(statement: ast.stmt) -> tuple[set[str], set[str]]:
    read: set[str] = set()
    made: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            (made if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            made.add(node.name)
        elif _method_call_on_name(node):
            made.add(node.func.value.id)  # type: ignore[attr-defined]
    return read, made


def _method_call_on_name(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    )
