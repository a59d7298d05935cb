"""Inside the kernel: what the checker asks between blocks, each answer JSON text."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from deckcheck.jupyter_internals import cell_numbers


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


def device() -> str:
    """What the deck's torch computes on ("CPU", "CUDA", "MPS"), without importing torch."""
    torch = sys.modules.get("torch")
    if torch is None:
        return json.dumps("")
    if torch.cuda.is_available():
        return json.dumps("CUDA")
    mps = getattr(torch.backends, "mps", None)
    return json.dumps("MPS" if mps is not None and mps.is_available() else "CPU")
