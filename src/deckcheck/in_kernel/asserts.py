"""Inside the kernel: a failed `assert` says what it compared, as under pytest.

    assert mse < 0.75 * baseline   →   AssertionError: assert 0.0312 < (0.75 * 0.04)

Each cell's asserts are rewritten with pytest's own assertion rewriting (an IPython AST
transformer), which evaluates every sub-expression once, as Python does, and keeps the deck's
message first. pytest is optional here: without it (or with DECKCHECK_ASSERT_VALUES=0) an
assert says what Python says. Its temporaries are names no code can write (`@py_assert1`).
"""

from __future__ import annotations

import ast
import importlib.util
import os
from typing import Any

from deckcheck import env_names


class AssertValues(ast.NodeTransformer):
    """Rewrites the asserts of a cell that has any; pytest is imported on the first (85 ms)."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if any(isinstance(child, ast.Assert) for child in ast.walk(node)):
            from _pytest.assertion.rewrite import rewrite_asserts

            rewrite_asserts(node, b"")
            _whole_line_ranges(node)
        return node


def _whole_line_ranges(module: ast.Module) -> None:
    """pytest places its imports at the first statement's line without an end; IPython, which
    compiles a cell statement by statement, needs one (a cell that starts with a comment
    failed: "AST node line range (2, 1) is not valid")."""
    for node in ast.walk(module):
        lineno = getattr(node, "lineno", None)
        if lineno is not None and (getattr(node, "end_lineno", None) or 0) < lineno:
            node.end_lineno = lineno  # type: ignore[attr-defined]
            node.end_col_offset = getattr(node, "col_offset", 0)  # type: ignore[attr-defined]


def install(shell: Any) -> bool:
    """Rewrite the asserts of every cell the shell runs; whether it could."""
    if os.environ.get(env_names.ASSERT_VALUES) == "0" or importlib.util.find_spec("_pytest") is None:
        return False
    shell.ast_transformers.append(AssertValues())
    return True
