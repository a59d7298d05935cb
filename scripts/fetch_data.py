"""Fill the shared data cache so that every deck of this repository runs offline.

Cache root: ``--root DIR``, else ``$TORCH_HOME``, else ``.cache/torch`` under the current
folder. Fetches what our decks load: MNIST, CIFAR-10 and the ResNet-18 weights; the real
downloads where the network allows, else stand-ins that the unchanged torchvision code
loads, each announced by a WARNING line and listed in ROOT/standins.json. A second run with
the cache filled does nothing. The work is deckcheck's own (deckcheck.kernel.data_sets), as
`deckcheck data fetch` does it in any course.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deckcheck.kernel.data_sets import by_name, fetch_and_report

OUR_DATA = ("MNIST", "CIFAR-10", "ResNet-18 weights")


def resolve_root(arg: str | None) -> Path:
    if arg:
        return Path(arg).expanduser().resolve()
    env = os.environ.get("TORCH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / ".cache" / "torch").resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--root", help="cache root (default: $TORCH_HOME or .cache/torch)")
    parser.add_argument(
        "--retry-standins",
        action="store_true",
        help="try the real downloads again for what is a stand-in now",
    )
    args = parser.parse_args(argv)
    wanted = [data for data in map(by_name, OUR_DATA) if data is not None]
    return fetch_and_report(resolve_root(args.root), wanted, retry=args.retry_standins)


if __name__ == "__main__":
    sys.exit(main())
