"""Inside the kernel process: what `python -m deckcheck.in_kernel -f CONNECTION_FILE` runs.

An ordinary ipykernel, prepared before it answers its first request: a memory limit, a
crash log, bounded output, no colours, and a record of which stand-in data files the
deck's code opened. Runs inside the kernel; imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import importlib.abc
import io
import json
import os
import resource
import sys
import traceback
from pathlib import Path
from typing import Any

from deckcheck import env_names
from deckcheck.in_kernel.checkpoints import before_cell, credit_writes, watch_writes
from deckcheck.jupyter_internals import cell_numbers, run_exit_handlers

FIGURE_DPI = 150

_standins: dict[str, str] = {}
_standins_used: dict[str, set[int]] = {}  # stand-in name → the cells (execution counts) that opened it
_opened_now: set[str] = set()  # stand-ins opened by the cell that is running


def _limit_memory() -> None:
    """RLIMIT_DATA; a kernel forked from the fork server does not count the libraries it was
    born with (the zygote imported them once for every kernel)."""
    limit = int(os.environ.get(env_names.MEMORY_LIMIT) or 0)
    if limit > 0:
        limit += int(os.environ.get(env_names.MEMORY_SHARED) or 0)
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _watch_standins() -> None:
    _standins.update(json.loads(os.environ.get(env_names.STANDINS) or "{}"))
    if not _standins:
        return
    names = tuple({os.path.basename(path) for path in _standins})

    def audit(event: str, args: tuple) -> None:
        if event != "open" or isinstance(args[0], int):
            return
        path = os.fsdecode(args[0]) if isinstance(args[0], str | bytes | os.PathLike) else ""
        if path.endswith(names):
            name = _standins.get(os.path.realpath(path))
            if name:
                _opened_now.add(name)

    sys.addaudithook(audit)


def _credit_standins(result: Any) -> None:
    """After a cell: the stand-ins it opened belong to its execution count."""
    count = getattr(result, "execution_count", None)
    for name in _opened_now:
        _standins_used.setdefault(name, set()).add(int(count or 0))
    _opened_now.clear()


def standins_used() -> str:
    """{stand-in name: [the execution counts of the cells that opened its files]}."""
    return json.dumps({name: sorted(cells) for name, cells in sorted(_standins_used.items())})


def device() -> str:
    """What the deck's torch computes on ("CPU", "CUDA", "MPS"), without importing torch."""
    torch = sys.modules.get("torch")
    if torch is None:
        return json.dumps("")
    if torch.cuda.is_available():
        return json.dumps("CUDA")
    mps = getattr(torch.backends, "mps", None)
    return json.dumps("MPS" if mps is not None and mps.is_available() else "CPU")


class _OutputCap:
    """Keeps a block's printed output to a bounded size, across stdout and stderr."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.dropped = 0

    def wrap(self, stream: Any) -> None:
        write = stream.write

        def capped_write(text: str) -> int:
            if not isinstance(text, str):
                return write(text)
            room = self.limit - self.used
            if len(text) > room:
                self.dropped += len(text) - max(room, 0)
                text = text[: max(room, 0)]
            self.used += len(text)
            if text:
                write(text)
            return len(text)

        stream.write = capped_write
        self._notice = write

    def reset(self, *_: object) -> None:
        self.used = 0
        self.dropped = 0

    def report(self, *_: object) -> None:
        if self.dropped:
            self._notice(f"\n[deckcheck: {self.dropped:,} more characters of output not kept]\n")
        self.reset()


def show_figures(*_: object, **__: object) -> None:
    """Send every open matplotlib figure to the notebook as a PNG, then close it.

    The kernel keeps matplotlib's Agg backend (MPLBACKEND=Agg), on which plt.show() shows
    nothing; this stands in for it, as Jupyter's inline backend would."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not pyplot.get_fignums():
        return
    from IPython.display import Image, display

    for number in pyplot.get_fignums():
        figure = pyplot.figure(number)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
        alt = figure_alt(figure)
        display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt} if alt else None))
    pyplot.close("all")


def figure_alt(figure: Any) -> str:
    """What a figure shows, in words, from its own labels: the suptitle, else each axes'
    title, else its axis labels ("accuracy against epoch"); empty when it has none."""
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return suptitle.get_text().strip()
    parts = []
    for axes in figure.get_axes():
        title = axes.get_title().strip()
        x, y = axes.get_xlabel().strip(), axes.get_ylabel().strip()
        if title:
            parts.append(title)
        elif x and y:
            parts.append(f"{y} against {x}")
        elif x or y:
            parts.append(x or y)
    return "; ".join(parts)


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

        spec.loader.exec_module = exec_module
        return spec


def after_import(name: str, then: Any) -> None:
    """Run `then(module)` on the module now if it is imported already (the fork server
    imports the heavy libraries ahead of time), else when the deck imports it."""
    if name in sys.modules:
        then(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, then))


def _use_show_figures(pyplot: Any) -> None:
    pyplot.show = show_figures


def _serve_datasets_from_cache(datasets: Any) -> None:
    from deckcheck.in_kernel import offline_data

    if not getattr(datasets, "_deckcheck_cache", False):  # a resumed kernel prepares again
        offline_data.patch(datasets, set(_standins))
        datasets._deckcheck_cache = True


def _log_cell_files(shell: Any, log: Any) -> None:
    """List each cell's file name, so a crash traceback can be mapped back to its block."""
    compiler = shell.compile
    cache = compiler.cache

    def logged_cache(*args: Any, **kwargs: Any) -> str:
        name = cache(*args, **kwargs)
        number = cell_numbers(shell).get(name)
        log.write(f"deckcheck-cell {number} {name}\n")
        return name

    compiler.cache = logged_cache


def _log_statements(shell: Any, log: Any) -> None:
    """Before each top-level statement of a cell runs (IPython runs them one at a time), write
    its cell file and line: a kernel that dies without a traceback (os._exit, SIGKILL) is then
    reported at the statement that was running."""
    run_code = shell.run_code

    async def logged_run_code(code: Any, *args: Any, **kwargs: Any) -> Any:
        lines = [line for _, _, line in code.co_lines() if line]
        log.write(f"deckcheck-running {min(lines) if lines else 0} {code.co_filename}\n")
        return await run_code(code, *args, **kwargs)

    shell.run_code = logged_run_code


def last_error() -> str:
    """The last exception as JSON: type, message, frames (with their cell), syntax position."""
    from IPython import get_ipython

    shell = get_ipython()
    value = getattr(sys, "last_value", None)
    if value is None:
        return "null"
    cells = cell_numbers(shell)
    frames = [
        {
            "file": frame.filename,
            "line": frame.lineno,
            "name": frame.name,
            "code": frame.line or "",
            "cell": cells.get(frame.filename),
        }
        for frame in traceback.extract_tb(getattr(sys, "last_traceback", None))
    ]
    error: dict[str, Any] = {
        "type": type(value).__name__,
        "bases": [cls.__name__ for cls in type(value).__mro__],
        "message": str(value),
        "frames": frames,
    }
    if isinstance(value, SyntaxError):
        error["syntax"] = {
            "cell": cells.get(value.filename or ""),
            "line": value.lineno,
            "offset": value.offset,
            "text": value.text,
            "msg": value.msg,
        }
    return json.dumps(error)


def _malloc_trim() -> Any:
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None).malloc_trim  # glibc's; other C libraries have none
    return None


_trim = _malloc_trim()


def release_free_memory(result: Any = None) -> None:
    """Hand back to the system the memory that a block freed: glibc keeps freed heap pages for
    later, so a kernel would otherwise hold its largest block's memory to the end of the deck."""
    if _trim is not None:
        _trim(0)


def prepare(shell: Any) -> None:
    """Ready a shell for a deck: output bounds, figures, stand-in records, crash log."""
    shell.run_line_magic("colors", "nocolor")
    cap = _OutputCap(int(os.environ.get(env_names.OUTPUT_LIMIT) or 1_000_000))
    cap.wrap(sys.stdout)
    cap.wrap(sys.stderr)
    shell.events.register("pre_run_cell", cap.reset)
    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", credit_writes)
    shell.events.register("post_run_cell", _credit_standins)
    shell.events.register("post_run_cell", show_figures)
    shell.events.register("post_run_cell", cap.report)
    shell.events.register("post_run_cell", release_free_memory)
    after_import("matplotlib.pyplot", _use_show_figures)
    after_import("torchvision.datasets", _serve_datasets_from_cache)
    crash_log = os.environ.get(env_names.CRASH_LOG)
    if crash_log:
        log = Path(crash_log).open("a", buffering=1)  # noqa: SIM115 - open for the kernel's life
        faulthandler.enable(file=log, all_threads=False)
        _log_cell_files(shell, log)
        _log_statements(shell, log)


def main(argv: list[str] | None = None) -> None:
    _limit_memory()
    _watch_standins()
    watch_writes()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:] if argv is None else argv)
    prepare(app.shell)
    app.start()
    exit_now()


def exit_now() -> None:
    """Run the atexit handlers (temporary folders, ...) and leave without tearing down every
    module: with torch loaded that teardown takes a second or two, and nothing depends on it."""
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)
