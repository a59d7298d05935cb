"""What a piece of deck code imports, read without running it (IPython syntax allowed)."""

from __future__ import annotations

import ast
import re

IMPORT_LINE = re.compile(  # an import line, after a `>>> ` prompt or a magic such as `%time ` if any
    r"^[ \t]*(?:(?:>>>|\.\.\.)[ \t]+)?(?:%%?\w+[ \t]+)?"
    r"(?:from[ \t]+(\.*[\w.]*)[ \t]+import\b|import[ \t]+([\w., \t]+))",
    re.M,
)


def imported_names(code: str) -> set[str]:
    """Dotted module names a piece of code imports: by its syntax tree when it parses as Python,
    else (IPython magics, `>>>` prompts) from its import lines."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        names = set()
        for match in IMPORT_LINE.finditer(code):
            if match.group(1) is not None:
                names.add(match.group(1))
            else:
                names.update(part.split()[0] for part in match.group(2).split(",") if part.strip())
        return {name for name in names if name and not name.startswith(".")}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names
