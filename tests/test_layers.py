"""The architecture, enforced: packages import only the ones below them, the kernel side
imports nothing heavy, the import graph has no circle, and every module imports.

Layers, lowest first: the vocabulary (deckcheck's own top-level modules) < read, in_kernel
(peers: neither imports the other) < kernel < check < report < publish < commands. The shims
beside the vocabulary (`python -m deckcheck.pre_commit`, ...) are entry points above commands.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import deckcheck

SRC = Path(deckcheck.__file__).parent
RANK = {"read": 1, "in_kernel": 1, "kernel": 2, "check": 3, "report": 4, "publish": 5, "commands": 6}
SHIMS = {"deckcheck.__main__", "deckcheck.pre_commit", "deckcheck.workflow_lint"}
KERNEL_SIDE_ALLOWED = {"IPython", "ipykernel", "_pytest"}  # besides the standard library; pytest optional
KERNEL_SIDE_VOCABULARY = {"deckcheck.env_names", "deckcheck.jupyter_internals"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def imports_of(name: str, source: str, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported name) for every import in the source, at any depth, resolved to a module
    of deckcheck where it names one (`from deckcheck.kernel import launch` → deckcheck.kernel.launch)."""
    package = name if name in known and (SRC / Path(*name.split(".")[1:]) / "__init__.py").exists() else ""
    package = package or name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if full in known else base))
    return found


def layer(name: str) -> tuple[str, int]:
    """(the layer's name, its rank) of a deckcheck module."""
    if name in SHIMS:
        return "entry", 7
    parts = name.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK):
        return parts[1], RANK[parts[1]]
    return "vocabulary", 0


def violations(name: str, source: str, known: set[str]) -> list[str]:
    """What this module imports that its layer may not."""
    own, rank = layer(name)
    found = []
    for line, imported in imports_of(name, source, known):
        top = imported.split(".")[0]
        if own == "in_kernel":
            allowed = (
                top in sys.stdlib_module_names
                or top in KERNEL_SIDE_ALLOWED
                or imported in KERNEL_SIDE_VOCABULARY
                or imported.startswith("deckcheck.in_kernel")
            )
            if not allowed:
                found.append(f"{name}:{line}: the kernel side imports {imported}")
            continue
        if top != "deckcheck" or imported == "deckcheck":
            continue
        other, other_rank = layer(imported)
        if other == own:
            continue
        if other_rank > rank or (other_rank == rank and other != own):
            found.append(f"{name}:{line}: {own} imports {imported} ({other}, not below it)")
    return found


def test_every_package_imports_only_the_layers_below_it():
    found = modules()
    problems = [
        problem for name, path in found.items() for problem in violations(name, path.read_text(), set(found))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("deckcheck.read.parser", "from deckcheck.publish.build import Builder", "read imports"),
        ("deckcheck.check.session", "def f():\n    from deckcheck.report import lines", "check imports"),
        ("deckcheck.read.parser", "from deckcheck.in_kernel import boot", "read imports"),
        ("deckcheck.deck", "from deckcheck.read import parser", "vocabulary imports"),
        ("deckcheck.in_kernel.boot", "import torch", "the kernel side imports torch"),
        ("deckcheck.in_kernel.boot", "from deckcheck.text import clean", "the kernel side imports"),
    ],
)
def test_the_layer_rule_fails_on_an_import_from_below(module, source, expected):
    problems = violations(module, source, set(modules()) | {"deckcheck.report.lines"})
    assert len(problems) == 1 and expected in problems[0]


def test_the_layer_rule_passes_imports_from_below():
    known = set(modules())
    assert violations("deckcheck.publish.build", "from deckcheck.check.checker import Checker", known) == []
    assert violations("deckcheck.in_kernel.boot", "import json\nfrom IPython import get_ipython", known) == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {
        name: {imported for _, imported in imports_of(name, path.read_text(), known) if imported in known}
        - {name}
        for name, path in found.items()
    }


def test_the_import_graph_has_no_circle():
    """Imports inside functions count too: a lazy import hides a circle, it does not break it."""
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_at_most_ten_modules_beside_the_subpackages():
    beside = [path.name for path in SRC.glob("*.py") if path.name != "__init__.py"]
    assert len(beside) <= 10, beside


def test_every_module_imports():
    names = [info.name for info in pkgutil.walk_packages(deckcheck.__path__, "deckcheck.")]
    assert len(names) >= 60
    for name in names:
        if name.endswith("__main__"):
            continue
        importlib.import_module(name)


def test_every_kernel_call_is_a_function_of_the_kernel_side_found_by_its_name():
    from deckcheck.kernel.calls import KERNEL_CALLS

    for function in KERNEL_CALLS:
        assert function.__module__.startswith("deckcheck.in_kernel.")
        module = importlib.import_module(function.__module__)
        assert getattr(module, function.__qualname__) is function


def test_a_function_outside_the_table_is_not_sent_to_a_kernel():
    from deckcheck.in_kernel import queries
    from deckcheck.kernel.calls import call_code

    assert (
        call_code(queries.device) == "__import__('deckcheck.in_kernel.queries', fromlist=['_']).device(*())"
    )
    with pytest.raises(ValueError, match="not a function the checker calls"):
        call_code(print)


def test_the_old_entry_points_still_run():
    """Courses made by an older `deckcheck init` call these by name."""
    import subprocess

    for module in ("deckcheck.pre_commit", "deckcheck.in_kernel"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
        )
        assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("package", sorted(RANK))
def test_each_package_lists_its_modules_and_says_what_it_may_import(package: str) -> None:
    module = importlib.import_module(f"deckcheck.{package}")
    found = {info.name for info in pkgutil.iter_modules(module.__path__) if info.name != "__main__"}
    assert sorted(module.__all__) == sorted(found)
    assert module.__doc__ and "import" in module.__doc__
