"""Doctest sessions: a block written as `>>> ` examples with their printed results under them.

Each example runs in the deck's shared namespace (IPython syntax allowed, as in the rest of
the deck) and its output is compared by the standard library's doctest with ELLIPSIS and
NORMALIZE_WHITESPACE on, `# doctest:` directives honoured, and pytest's NUMBER option
(floats equal to the precision written). Imported inside the kernel: standard library only.
"""

from __future__ import annotations

import doctest
import json
import re
import sys
from typing import Any

NUMBER = doctest.register_optionflag("NUMBER")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
FLOAT = re.compile(
    r"(?P<number>(?P<mantissa>(?P<integer1>[+-]?\d*)\.(?P<fraction>\d+)|(?P<integer2>[+-]?\d+)\.)"
    r"(?:[Ee](?P<exponent1>[+-]?\d+))?|(?P<integer3>[+-]?\d+)(?:[Ee](?P<exponent2>[+-]?\d+)))"
)

_last: dict[str, list] = {"problems": [], "outputs": []}


def examples(code: str) -> list[doctest.Example]:
    """The examples of a session, each with its 0-based line in the block's code."""
    return doctest.DocTestParser().get_examples(code)


class _Checker(doctest.OutputChecker):
    """doctest's comparison, plus NUMBER: a float in the output equals the expected one to the
    precision written there (3.14 matches 3.14159), as pytest's doctest plugin has it."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        if not optionflags & NUMBER:
            return False
        return super().check_output(want, _with_written_precision(want, got), optionflags)


def _with_written_precision(want: str, got: str) -> str:
    wanted = list(FLOAT.finditer(want))
    found = list(FLOAT.finditer(got))
    if len(wanted) != len(found):
        return got
    pieces, end = [], 0
    for w, g in zip(wanted, found, strict=True):
        fraction = w.group("fraction")
        exponent = w.group("exponent1") or w.group("exponent2")
        places = len(fraction) if fraction else 0
        if exponent:
            places -= int(exponent)
        if abs(float(w.group()) - float(g.group())) <= 10.0**-places / 2 * 1.0000001:
            pieces += [got[end : g.start()], w.group()]
            end = g.end()
    return "".join(pieces) + got[end:]


class _Recorder(doctest.DocTestRunner):
    """Runs every example, and keeps what each printed and what went wrong with it."""

    def __init__(self, transform: Any) -> None:
        super().__init__(checker=_Checker(), optionflags=FLAGS, verbose=False)
        self.transform = transform
        self.problems: list[dict] = []
        self.outputs: list[str] = []  # what each example printed, in order (a notebook shows it)

    def report_success(self, out: Any, test: Any, example: doctest.Example, got: str) -> None:
        self.outputs.append(got)

    def report_start(self, out: Any, test: Any, example: doctest.Example) -> None:
        if self.transform is not None:
            example.source = self.transform(example.source)

    def report_failure(self, out: Any, test: Any, example: doctest.Example, got: str) -> None:
        self.outputs.append(got)
        self.problems.append({"line": example.lineno, "kind": "differs", "want": example.want, "got": got})

    def report_unexpected_exception(
        self, out: Any, test: Any, example: doctest.Example, exc_info: Any
    ) -> None:
        kind, value, _ = exc_info
        if issubclass(kind, KeyboardInterrupt):
            raise value
        self.outputs.append(f"{kind.__name__}: {value}\n")
        self.problems.append(
            {"line": example.lineno, "kind": "exception", "type": kind.__name__, "message": str(value),
             "want": example.want}
        )  # fmt: skip


def run(code: str, name: str) -> None:
    """Run a session in the kernel's namespace; last_result() tells how it went."""
    from IPython import get_ipython

    shell = get_ipython()
    namespace = shell.user_ns if shell is not None else sys.modules["__main__"].__dict__
    transform = shell.transform_cell if shell is not None else None
    test = doctest.DocTest(examples(code), {}, name, name, 0, code)
    test.globs = namespace  # DocTest copies the globals it is given; the deck's must be shared
    runner = _Recorder(transform)
    _last.update(problems=[], outputs=[])
    try:
        runner.run(test, clear_globs=False)
    finally:
        _last.update(problems=runner.problems, outputs=runner.outputs)


def last_result() -> str:
    """{"problems": [what went wrong, per example], "outputs": [what each example printed]}."""
    return json.dumps(_last)
