"""Inside the kernel: a deck's inline values (`{python} expr:spec` in its prose), evaluated in
the deck's namespace where they stand; each answer is its text or what went wrong."""

from __future__ import annotations

import json

LIMIT = 2_000  # characters of a value kept: it is a number or a word in a sentence


def evaluate(items: list[list[str]]) -> str:
    """JSON: for each [expr, spec], {"text": str() or format(value, spec)} or {"error": "Type: message"}."""
    from IPython import get_ipython

    namespace = get_ipython().user_ns
    answers = []
    for expr, spec in items:
        try:
            value = eval(compile(expr, "<inline value>", "eval"), namespace)
            text = format(value, spec) if spec else str(value)
            answers.append({"text": text[:LIMIT]})
        except Exception as error:
            message = str(error).splitlines()[0] if str(error) else ""
            answers.append({"error": f"{type(error).__name__}: {message}".rstrip(": ")})
    return json.dumps(answers)
