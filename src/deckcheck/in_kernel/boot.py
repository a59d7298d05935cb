"""Inside the kernel process: what `python -m deckcheck.in_kernel -f CONNECTION_FILE` runs.

An ordinary ipykernel, prepared before it answers its first request: a memory limit, a
crash log, bounded output, no colours, and a record of which stand-in data files the
deck's code opened. Runs inside the kernel; imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import mmap
import os
import resource
import sys
from pathlib import Path
from typing import Any

from deckcheck import env_names
from deckcheck.in_kernel import asserts, output, standins
from deckcheck.in_kernel.import_hook import after_import
from deckcheck.in_kernel.writes import before_cell, credit_writes, watch_writes
from deckcheck.jupyter_internals import cell_numbers, run_exit_handlers

MEMORY_RESERVE = 64 * 2**20  # bytes, for reporting a MemoryError at the memory limit


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


def _use_show_figures(pyplot: Any) -> None:
    pyplot.show = output.show_figures


def _serve_datasets_from_cache(datasets: Any) -> None:
    from deckcheck.in_kernel import offline_data

    if not getattr(datasets, "_deckcheck_cache", False):  # a resumed kernel prepares again
        offline_data.patch(datasets, standins.names())
        datasets._deckcheck_cache = True


def _serve_texts_from_cache(module: Any) -> None:
    from deckcheck.in_kernel import offline_data

    offline_data.patch_text_downloads(module)


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


def _report_memory_errors(shell: Any) -> None:
    """Keep memory back (reserved, not touched: it counts against RLIMIT_DATA only) and hand it
    over when a block reaches the memory limit, so that its MemoryError can still be reported:
    formatting the traceback needs memory too, and without it the error would go unseen."""
    reserve = [mmap.mmap(-1, MEMORY_RESERVE)]

    def report(self: Any, kind: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        for block in reserve:
            block.close()
        reserve.clear()
        self.showtraceback((kind, value, tb), tb_offset=tb_offset)
        with contextlib.suppress(MemoryError, OSError):
            reserve.append(mmap.mmap(-1, MEMORY_RESERVE))

    shell.set_custom_exc((MemoryError,), report)


def prepare(shell: Any) -> None:
    """Ready a shell for a deck: output bounds, figures, stand-in records, crash log."""
    shell.run_line_magic("colors", "nocolor")
    asserts.install(shell)
    _report_memory_errors(shell)
    cap = output.OutputCap(int(os.environ.get(env_names.OUTPUT_LIMIT) or 1_000_000))
    cap.wrap(sys.stdout)
    cap.wrap(sys.stderr)
    shell.events.register("pre_run_cell", cap.reset)
    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", credit_writes)
    shell.events.register("post_run_cell", standins.credit)
    shell.events.register("post_run_cell", output.show_figures)
    shell.events.register("post_run_cell", cap.report)
    shell.events.register("post_run_cell", release_free_memory)
    after_import("matplotlib.pyplot", _use_show_figures)
    after_import("torchvision.datasets", _serve_datasets_from_cache)
    after_import("urllib.request", _serve_texts_from_cache)
    after_import("requests.sessions", _serve_texts_from_cache)
    crash_log = os.environ.get(env_names.CRASH_LOG)
    if crash_log:
        log = Path(crash_log).open("a", buffering=1)  # noqa: SIM115 - open for the kernel's life
        faulthandler.enable(file=log, all_threads=False)
        _log_cell_files(shell, log)
        _log_statements(shell, log)


def main(argv: list[str] | None = None) -> None:
    _limit_memory()
    standins.watch()
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
