"""`deckcheck data fetch [PATH|NAME ...]`: fill the data cache (TORCH_HOME) with the data sets
the decks load, or the ones named: the real downloads where the network allows, else
stand-ins that the decks' unchanged loading code reads (kernel/data_sets.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deckcheck.errors import UsageError
from deckcheck.kernel import data_sets
from deckcheck.kernel.data_cache import torch_home
from deckcheck.read.discover import find_decks
from deckcheck.read.parser import read_deck
from deckcheck.read.project import cache_root


def add_parser(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="the data sets decks download: fetch them into the data cache")
    actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser(
        "fetch", help="download the data sets the decks load (offline: make stand-ins the same code loads)"
    )
    names = ", ".join(data.name for data in data_sets.DATA_SETS)
    fetch.add_argument(
        "targets",
        nargs="*",
        metavar="PATH|NAME",
        help=f"decks, folders of decks (default: slides/) or names: {names}",
    )
    fetch.add_argument("--all", action="store_true", help="every data set deckcheck knows")
    fetch.add_argument(
        "--retry-standins",
        action="store_true",
        help="try the real downloads again for what is a stand-in now",
    )
    fetch.set_defaults(func=command_fetch)


def command_fetch(args: argparse.Namespace) -> int:
    wanted, folders = _wanted(args.targets, args.all)
    root = torch_home(cache_root(*folders))
    if not wanted:
        print(
            f"no data set to fetch (the decks load none of: {', '.join(d.name for d in data_sets.DATA_SETS)})"
        )
        return 0
    return data_sets.fetch_and_report(root, wanted, retry=args.retry_standins)


def _wanted(targets: list[str], everything: bool) -> tuple[list[data_sets.DataSet], list[Path]]:
    """The data sets named or loaded by the decks named (slides/ when nothing is), and the
    decks' folders (the course whose cache it is)."""
    named = []
    for target in targets:
        data = data_sets.by_name(target) if not Path(target).exists() else None
        if data is None and not Path(target).exists():
            known = ", ".join(data.name for data in data_sets.DATA_SETS)
            raise UsageError(f"no such deck or data set: {target} (data sets: {known})")
        named += [data] if data else []
    paths = [target for target in targets if Path(target).exists()]
    if not targets and not everything:
        paths = ["slides"]
    decks = [read_deck(path) for path in find_decks(paths)]
    if paths and not decks:
        raise UsageError(f"no decks (*.md) found in {', '.join(paths)}")
    code = [deck.settings.setup for deck in decks] + [block.code for deck in decks for block in deck.blocks]
    found = {data.name for data in [*named, *data_sets.named_in(code)]}
    chosen = data_sets.DATA_SETS if everything else [d for d in data_sets.DATA_SETS if d.name in found]
    return list(chosen), [deck.folder for deck in decks]
