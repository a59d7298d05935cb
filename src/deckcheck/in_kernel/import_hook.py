"""Inside the kernel: run code once a module is imported (by the fork server or the deck)."""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls `then(module)` once the module `name` has been imported (by the deck's code)."""

    def __init__(self, name: str, then: Any) -> None:
        self.name = name
        self.then = then

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != self.name:
            return None
        spec = next(
            (found for finder in sys.meta_path if finder is not self and hasattr(finder, "find_spec")
             for found in [finder.find_spec(name, path, target)] if found is not None),
            None,
        )  # fmt: skip
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            self.then(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def after_import(name: str, then: Any) -> None:
    """Run `then(module)` on the module now if it is imported already (the fork server
    imports the heavy libraries ahead of time), else when the deck imports it."""
    if name in sys.modules:
        then(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, then))
