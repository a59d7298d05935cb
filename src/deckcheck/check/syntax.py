"""Every block compiled as the kernel will compile it, before anything runs.

IPython syntax is Python here: magics, `!shell` lines and `>>> ` prompts are transformed the
way the kernel transforms them; the body of a `%%time`-style cell magic is compiled too.
A doctest session is compiled example by example. Every syntax error of a deck is found in
one pass, at its deck line and slide, however late in the deck it is.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import Any

from deckcheck.check.failures import deck_lines_in, one_line
from deckcheck.deck import Block, Deck
from deckcheck.in_kernel.doctest_sessions import examples
from deckcheck.results import Failure

PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")  # magics whose body is Python
CELL_MAGIC = re.compile(r"^%%(\w+)")


@cache
def _transformer() -> Any:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def syntax_failures(deck: Deck) -> dict[int, Failure]:
    """Block index → the failure of each block that would not compile."""
    failures = {}
    for block in deck.blocks:
        if block.options.skip_execution or block.options.raises_exception:
            continue
        failure = _session_failure(deck, block) if block.session else _block_failure(deck, block)
        if failure is not None:
            failures[block.index] = failure
    return failures


def _block_failure(deck: Deck, block: Block) -> Failure | None:
    code, offset = block.code, 0
    magic = CELL_MAGIC.match(code)
    if magic:
        if magic.group(1) not in PYTHON_CELL_MAGICS:
            return None  # %%bash, %%writefile, ...: not Python
        code, offset = code.split("\n", 1)[1] if "\n" in code else "", 1
    error = _compile_error(code, "exec")
    if error is None:
        return None
    line = block.deck_line((error.lineno or 1) + offset)
    return _failure(deck, block, error, line)


def _session_failure(deck: Deck, block: Block) -> Failure | None:
    try:
        found = examples(block.code)
    except ValueError as error:  # a prompt without its space, inconsistent indentation
        return Failure(block.first_code_line, block.slide, one_line(f"ValueError: {error}"))
    for example in found:
        wrong = _compile_error(example.source, "single")
        if wrong is not None:
            line = block.deck_line(example.lineno + (wrong.lineno or 1))
            return _failure(deck, block, wrong, line)
    return None


def python_source(code: str) -> str:
    """Code as the kernel compiles it: magics, shell lines and prompts made Python."""
    return _transformer().transform_cell(code)


def _compile_error(code: str, mode: str) -> SyntaxError | None:
    try:
        source = python_source(code)
    except SyntaxError as error:
        return error
    except Exception:  # a transformer that chokes: leave it to the kernel to say
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are not errors
            compile(source, "<block>", mode, dont_inherit=True)
    except SyntaxError as error:
        return error
    except (ValueError, MemoryError, RecursionError):
        return None
    return None


def _failure(deck: Deck, block: Block, error: SyntaxError, line: int) -> Failure:
    line = min(max(line, block.first_code_line), max(block.end_line - 1, block.first_code_line))
    message = deck_lines_in(error.msg, block)
    return Failure(line, deck.slide_at(line), one_line(f"{type(error).__name__}: {message}"))
