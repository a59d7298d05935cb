"""The `deckcheck` command. Heavy modules (nbclient, torch, playwright) load only when needed."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from deckcheck import __version__
from deckcheck.atomic import write_atomic
from deckcheck.check.cache import TIMINGS, Timings
from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.shards import Shard, parse_shard, shard_of
from deckcheck.commands import data
from deckcheck.deck import Deck
from deckcheck.errors import UsageError
from deckcheck.kernel.env import default_memory_limit
from deckcheck.read.discover import find_decks
from deckcheck.report.console import Console
from deckcheck.report.lines import closing_line
from deckcheck.results import DeckResult

T = TypeVar("T")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _size(text: str) -> int:
    match = SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (write e.g. 4G or 512M, 0 for no limit)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _warning_filter(text: str) -> str:
    from deckcheck.read.fences import OptionError, check_warning_filter

    try:
        check_warning_filter(text)
    except OptionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _check_arguments(parser: argparse.ArgumentParser, junit: bool = True) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="deck files or folders of decks (default: slides/)"
    )
    parser.add_argument("--no-cache", action="store_true", help="run every deck, ignoring cached results")
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=0,
        metavar="N",
        help="decks checked at once (default: one per core)",
    )
    if junit:
        parser.add_argument(
            "--junit-xml", type=Path, metavar="FILE", help="also write one JUnit testcase per block"
        )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="time limit per block (default: the deck's timeout setting, else 300; a block's timeout= wins)",
    )
    parser.add_argument(
        "-x", "--exitfirst", action="store_true", help="stop a deck at its first failure, the rest skipped"
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="print where each deck's time went (kernel start, connection, blocks, teardown)",
    )
    parser.add_argument(
        "-W",
        "--filterwarnings",
        type=_warning_filter,
        action="append",
        default=[],
        metavar="FILTER",
        help="a warning filter, pytest's action:message:category:module syntax, e.g. "
        "error::DeprecationWarning (repeatable; later ones win)",
    )
    parser.add_argument(
        "--memory-limit",
        type=_size,
        default=None,
        metavar="SIZE",
        help="memory limit per kernel, e.g. 4G; 0 for none (default: 3/4 of RAM shared by the jobs)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deckcheck",
        description="Run every Python block of every Marp deck in a Jupyter kernel; "
        "publish the decks that pass.",
    )
    parser.add_argument("--version", action="version", version=f"deckcheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="run every block and report failures at their line and slide")
    _check_arguments(check)
    check.add_argument(
        "--quick", action="store_true", help="set each deck's quick values after its block tagged parameters"
    )
    check.set_defaults(func=command_check)
    build = commands.add_parser(
        "build", help="check, then publish the passing decks (HTML, PDF, handout, notebook) in the site"
    )
    _check_arguments(build)
    build.add_argument(
        "--site", type=Path, default=Path("site"), metavar="DIR", help="where to publish (default: site/)"
    )
    build.add_argument(
        "--formats",
        type=_formats,
        default=None,
        metavar="LIST",
        help="comma-separated formats from the format table (default: html,pdf,handout,ipynb)",
    )
    build.add_argument(
        "--handout-layout",
        type=int,
        choices=(1, 2, 3),
        default=3,
        metavar="N",
        help="slides per handout page: 1 (notes below), 2 or 3 (notes beside); default 3",
    )
    build.add_argument(
        "--strict",
        action="store_true",
        help="a slide that does not fit or an accessibility problem withholds its deck",
    )
    build.set_defaults(func=command_build)
    for command in (check, build):
        command.add_argument("--shard", type=_shard, metavar="K/N", help="only shard K of N (1-based)")
    serve = commands.add_parser("serve", help="live preview: saving a deck re-checks it and reloads the page")
    _check_arguments(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; another lets anyone reaching it read the previews)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve.add_argument(
        "--checkpoint-memory",
        type=_size,
        default=None,
        metavar="SIZE",
        help="memory for the kernel checkpoints that let a save re-run a deck from the edited block "
        "(default 2G, all decks together; 0 turns them off)",
    )
    serve.set_defaults(func=command_serve)
    matrix = commands.add_parser(
        "matrix", help="check the decks against other versions of their packages, each in its own environment"
    )
    _check_arguments(matrix, junit=False)
    matrix.add_argument(
        "--with",
        dest="specs",
        action="append",
        required=True,
        type=_spec,
        metavar="SPEC",
        help='pip requirements, e.g. "torch==2.6.0 torchvision==0.21.0", or current (repeatable)',
    )
    matrix.add_argument("--markdown", type=Path, metavar="FILE", help="also write the table, e.g. MATRIX.md")
    matrix.set_defaults(func=command_matrix)
    init = commands.add_parser("init", help="write a new course: slides, Makefile, pyproject, workflow")
    init.add_argument("folder", type=Path, metavar="DIR", help="where to write it (empty, unless --force)")
    init.add_argument("--requirement", metavar="SPEC", help="what the course installs as deckcheck")
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    init.set_defaults(func=command_init)
    data.add_parser(commands)
    assemble = commands.add_parser("assemble", help="one site from the sites that shards built")
    assemble.add_argument("sources", nargs="+", type=Path, metavar="SITE", help="a shard's site folder")
    assemble.add_argument("--site", type=Path, default=Path("site"), help="where (default: site/)")
    assemble.set_defaults(func=command_assemble)
    return parser


def _options(args: argparse.Namespace) -> CheckOptions:
    jobs = args.jobs or 0
    shard = getattr(args, "shard", None)
    memory = args.memory_limit
    if memory is None:
        memory = default_memory_limit(jobs or CheckOptions().job_count)
    return CheckOptions(
        use_cache=not args.no_cache,
        jobs=jobs,
        timeout=args.timeout,
        memory_limit=memory,
        exitfirst=args.exitfirst,
        filterwarnings=tuple(args.filterwarnings),
        timings_file=f"timings-{shard.number}-of-{shard.count}.json" if shard else TIMINGS,
        quick=getattr(args, "quick", False),
    )


def run_check(args: argparse.Namespace) -> tuple[list[Deck], list[DeckResult], Console]:
    paths = find_decks(args.paths or ["slides"])
    if not paths:
        raise UsageError(f"no decks (*.md) found in {', '.join(args.paths or ['slides'])}")
    checker = Checker(_options(args))
    decks = checker.read(paths)
    if getattr(args, "shard", None):
        decks = _shard_decks(decks, args.shard)
    console = Console(decks, timeline=args.timeline)
    checker.on_deck = console.deck_done
    checker.on_block = console.block_done
    checker.on_block_start = console.block_started
    try:
        results = run_async(checker.check(decks))
    except Interrupted as interruption:
        console.interrupted(str(interruption))
        raise
    if checker.cache_problem:
        print(f"deckcheck: warning: {checker.cache_problem}", file=sys.stderr)
    report_to_github(decks, results)
    if args.junit_xml:
        from deckcheck.report.junit import write_junit

        write_junit(args.junit_xml, decks, results)
    return decks, results, console


def report_to_github(decks: Sequence[Deck], results: Sequence[DeckResult]) -> None:
    """Under GitHub Actions: annotations on the decks' lines, and the job summary."""
    from deckcheck.report import github

    if github.in_github_actions():
        for line in github.annotation_lines(decks, results):
            print(line, flush=True)
        github.write_summary(decks, results)


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _shard_decks(decks: list[Deck], shard: Shard) -> list[Deck]:
    from deckcheck.read.project import cache_root

    timings = Timings(cache_root(*(deck.folder for deck in decks)) / TIMINGS)
    chosen = shard_of(decks, shard, timings.estimate)
    print(f"shard {shard}: {len(chosen)} of {len(decks)} decks", flush=True)
    return chosen


def exit_status(results: Sequence[DeckResult]) -> int:
    return 0 if all(result.ok for result in results) else 1


def command_check(args: argparse.Namespace) -> int:
    _, results, console = run_check(args)
    console.finish(results)
    return exit_status(results)


def _formats(text: str) -> tuple[str, ...]:
    from deckcheck.publish.formats import parse_formats

    try:
        return parse_formats(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def command_build(args: argparse.Namespace) -> int:
    from deckcheck.publish.build import Builder, BuildOptions
    from deckcheck.publish.formats import DEFAULT_FORMATS

    decks, results, console = run_check(args)
    options = BuildOptions(
        site=args.site,
        formats=args.formats or DEFAULT_FORMATS,
        strict=args.strict,
        handout_layout=args.handout_layout,
    )
    outcome = Builder(options, say=console.say).build(decks, results)
    for deck in outcome.published:
        console.say(f"published: {deck}")
    for deck, why in outcome.withheld:
        console.say(f"withheld: {deck}: {why} (its published files are left as they were)")
    if outcome.published:
        console.say(f"site: {args.site / 'index.html'}")
    console.finish(results)
    return 1 if outcome.withheld or outcome.failed else exit_status(results)


def _spec(text: str) -> str:
    from deckcheck.check.environments import check_spec

    try:
        return check_spec(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def command_matrix(args: argparse.Namespace) -> int:
    from deckcheck.commands import matrix
    from deckcheck.read.project import cache_root
    from deckcheck.report.lines import standin_warning

    paths = find_decks(args.paths or ["slides"])
    if not paths:
        raise UsageError(f"no decks (*.md) found in {', '.join(args.paths or ['slides'])}")
    options = _options(args)
    decks = Checker(options).read(paths)
    cache = cache_root(*(deck.folder for deck in decks))

    def say(text: str) -> None:
        print(text, flush=True)

    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def check(checker: Checker, decks: Sequence[Deck]) -> list[DeckResult]:
        return run_async(checker.check(decks))

    runs = []
    for spec in dict.fromkeys(args.specs):
        run = matrix.run_spec(decks, spec, options, cache, check, note)
        runs.append(run)
        for index, deck in enumerate(decks):
            result = run.results[index] if run.results else None
            for line in matrix.run_lines(deck, run, result):
                say(line)
    results = [result for run in runs for result in run.results]
    matrix.record(cache, decks, runs)
    if args.markdown:
        command = "deckcheck " + " ".join(shlex.quote(arg) for arg in args.argv)
        write_atomic(args.markdown, matrix.markdown(decks, runs, command))
    warning = standin_warning(results)
    if warning:
        note(warning)
    say(closing_line(results))
    return 0 if all(run.ok for run in runs) else 1


def command_init(args: argparse.Namespace) -> int:
    from deckcheck.commands.init import write_course

    for line in write_course(args.folder, args.requirement, force=args.force):
        print(line)
    return 0


def command_assemble(args: argparse.Namespace) -> int:
    from deckcheck.publish.assemble import assemble
    from deckcheck.publish.site import cannot_publish

    try:
        added = assemble(args.site, args.sources, say=print)
    except OSError as error:
        print(f"deckcheck: {cannot_publish(args.site, error)}", file=sys.stderr)
        return 1
    for deck in added:
        print(f"assembled: {deck}")
    print(f"site: {args.site / 'index.html'}")
    return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def command_serve(args: argparse.Namespace) -> int:
    from deckcheck.check.checkpoint_store import DEFAULT_BUDGET
    from deckcheck.commands.serve import PreviewServer
    from deckcheck.read.project import cache_root

    paths = find_decks(args.paths or ["slides"])
    if not paths:
        raise UsageError(f"no decks (*.md) found in {', '.join(args.paths or ['slides'])}")
    folder = cache_root(*(path.parent for path in paths)) / "preview"

    def say(text: str) -> None:
        print(text, flush=True)

    budget = DEFAULT_BUDGET if args.checkpoint_memory is None else args.checkpoint_memory
    roots = args.paths or ["slides"]
    options = dataclasses.replace(_options(args), quick=True)  # a preview is quick; build never is
    server = PreviewServer(paths, options, folder, say, checkpoint_memory=budget, roots=roots)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.serve(args.host, args.port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    except KeyboardInterrupt:
        say("deckcheck: preview stopped")
        return 130
    return 0


def run_async(work: Awaitable[T]) -> T:
    """Run a coroutine; SIGINT and SIGTERM cancel it (its cleanup runs) and raise Interrupted."""
    received: list[int] = []

    async def main() -> T:
        task = asyncio.ensure_future(work)
        loop = asyncio.get_running_loop()

        def stop(signum: int) -> None:
            received.append(signum)
            task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await task
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as error:
        print(f"deckcheck: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        return 128 + error.signum
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
