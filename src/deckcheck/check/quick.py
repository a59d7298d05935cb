"""Quick checks (`deckcheck check --quick`, serve): papermill's convention. A block tagged
`parameters` holds the deck's knobs (`epochs = 20`); it runs as written, then the deck's
`quick` values are set after it (as papermill injects a cell after the parameters cell), so
the rest of the deck runs with `epochs = 1`. `build` runs decks as written."""

from __future__ import annotations

import ast
from dataclasses import replace

from deckcheck.check.syntax import python_source
from deckcheck.deck import Block, Deck, Problem


def quickened(deck: Deck) -> Deck:
    """The deck as a quick check runs it: marked to set its quick values after its parameters
    block; or with a problem for each quick name that block does not assign. A deck without
    quick values, or without a parameters block, runs as written."""
    blocks = [block for block in deck.blocks if block.options.parameters]
    if not deck.settings.quick or not blocks:
        return deck
    assigned = {name for block in blocks for name in _assigned(block)}
    unknown = [name for name, _ in deck.settings.quick if name not in assigned]
    if unknown:
        where = ", ".join(sorted(assigned)) or "nothing"
        problems = tuple(
            Problem(blocks[0].line, blocks[0].slide,
                    f"quick value {name!r} is not assigned in the parameters block (it assigns: {where})")
            for name in unknown
        )  # fmt: skip
        return replace(deck, problems=deck.problems + problems)
    return replace(deck, settings=replace(deck.settings, quick_run=True))


def quick_code(deck: Deck) -> str:
    """What is run after the parameters block: the quick values, one assignment a line."""
    return "".join(f"{name} = {value}\n" for name, value in deck.settings.quick)


def _assigned(block: Block) -> set[str]:
    """The names the block's top-level statements assign (`epochs = 20`, `lr: float = 0.1`)."""
    try:
        statements = ast.parse(python_source(block.code)).body
    except Exception:  # code that does not parse assigns nothing (its syntax error is reported)
        return set()
    found: set[str] = set()
    for statement in statements:
        targets = (
            statement.targets if isinstance(statement, ast.Assign)
            else [statement.target] if isinstance(statement, ast.AnnAssign | ast.AugAssign)
            else []
        )  # fmt: skip
        for target in targets:
            found |= {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}
    return found
