"""Inside the kernel: a failed `assert` says what it compared, as under pytest.

    assert mse < 0.75 * baseline   →   AssertionError: assert 0.0312 < (0.75 * 0.04)

Each cell's asserts are rewritten with pytest's own assertion rewriting (an IPython AST
transformer), which evaluates every sub-expression once, as Python does, and keeps the deck's
message first. pytest is optional here: without it (or with DECKCHECK_ASSERT_VALUES=0) an
assert says what Python says. Its temporaries are names no code can write (`@py_assert1`).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from typing import Any

from deckcheck import env_names


class AssertValues(ast.NodeTransformer):
    def __init__(self, rewrite: Callable[[ast.Module, bytes], None]) -> None:
        self.rewrite = rewrite

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if any(isinstance(child, ast.Assert) for child in ast.walk(node)):
            self.rewrite(node, b"")
        return node


def install(shell: Any) -> bool:
    """Rewrite the asserts of every cell the shell runs; whether it could."""
    if os.environ.get(env_names.ASSERT_VALUES) == "0":
        return False
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:
        return False
    shell.ast_transformers.append(AssertValues(rewrite_asserts))
    return True
