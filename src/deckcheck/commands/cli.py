"""The `deckcheck` command. Heavy modules (nbclient, torch, playwright) load only when needed."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
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
from deckcheck.report.progress import COLORS
from deckcheck.results import DeckResult

T = TypeVar("T")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


class NothingSelected(Exception):
    """-k or --lf left no block to check (pytest's exit status 5)."""


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


def _whole(text: str, least: int, says: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {says}: {text!r}")
    return value


def _jobs(text: str) -> int:
    return _whole(text, 1, "at least 1")


def _count(text: str) -> int:
    return _whole(text, 0, "0 or more")


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
        "-x",
        "--exitfirst",
        action="store_true",
        help="stop the whole run at the first failure (the rest skipped)",
    )
    parser.add_argument(
        "--maxfail",
        type=_count,
        default=0,
        metavar="N",
        help="stop the whole run after N failures (0: never)",
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
    check.add_argument("--no-serve", action="store_true", help="never through a running serve")
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
        command.add_argument(
            "--locked-outputs",
            action="store_true",
            help="a shown output or figure that differs from the one locked at the last publish "
            "fails its block (default: a warning)",
        )
        command.add_argument(
            "--update-outputs", action="store_true", help="lock what the decks show now (.deckcheck/outputs/)"
        )
        _run_arguments(command)
    check.add_argument(
        "-k", dest="keyword", type=_keywords, metavar="EXPR",
        help="only blocks whose deck path or slide title matches, pytest's syntax: 'tensor and not cuda'",
    )  # fmt: skip
    check.add_argument(
        "--lf", "--last-failed", dest="last_failed", action="store_true",
        help="only the blocks that failed last time (all, if none did)",
    )  # fmt: skip
    serve = commands.add_parser("serve", help="live preview: saving a deck re-checks it and reloads the page")
    present = commands.add_parser("present", help="the HTML decks, each executed block editable and run live")
    for command, port in ((serve, 8000), (present, 8001)):
        _check_arguments(command)
        command.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default: 127.0.0.1; another lets others on the network reach it)",
        )
        command.add_argument(
            "--port", type=int, default=port, help=f"port (default: {port}; 0 picks a free one)"
        )
        command.add_argument(
            "--checkpoint-memory",
            type=_size,
            default=None,
            metavar="SIZE",
            help="memory for the kernel checkpoints that let a save re-run a deck from the edited block "
            "(default 2G, all decks together; 0 turns them off)",
        )
        command.set_defaults(func=command_serve)
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


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--durations", type=_count, default=None, metavar="N", help="list the N slowest blocks (0: all)"
    )
    parser.add_argument(
        "--color",
        choices=COLORS,
        default="auto",
        help="auto (a terminal, unless NO_COLOR is set), yes or no",
    )


def _keywords(text: str) -> str:
    from deckcheck.check.selection import ExpressionError, parse_keywords

    try:
        parse_keywords(text)
    except ExpressionError as error:
        raise argparse.ArgumentTypeError(f"wrong expression {text!r}: {error}") from None
    return text


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
        maxfail=1 if args.exitfirst else args.maxfail,
        filterwarnings=tuple(args.filterwarnings),
        timings_file=f"timings-{shard.number}-of-{shard.count}.json" if shard else TIMINGS,
        quick=getattr(args, "quick", False),
    )


def run_check(args: argparse.Namespace) -> tuple[list[Deck], list[DeckResult], Console]:
    paths = find_decks(args.paths or ["slides"])
    if not paths:
        raise UsageError(f"no decks (*.md) found in {', '.join(args.paths or ['slides'])}")
    options = _options(args)
    decks = Checker(options).read(paths)
    if getattr(args, "shard", None):
        decks = _shard_decks(decks, args.shard)
    decks, selected = _select(args, decks)
    checker = Checker(replace(options, selected=selected))
    console = Console(decks, timeline=args.timeline, color=args.color, durations=args.durations)
    judged: dict[str, DeckResult] = {}

    def deck_done(deck: Deck, result: DeckResult) -> None:
        judged[str(deck.path)] = _locked_outputs(args, deck, result, console)
        console.deck_done(deck, judged[str(deck.path)])

    served = _through_serve(args, decks, checker.options, console, deck_done)
    checker.on_deck = deck_done
    checker.progress = console
    try:
        results = served if served is not None else run_async(checker.check(decks))
        results = [judged.get(result.path, result) for result in results]
    except Interrupted as interruption:
        console.interrupted(str(interruption))
        raise
    console.stopped = checker.stop.why if checker.stop else ""
    _record_failures(checker, decks, results)
    if checker.cache_problem:
        print(f"deckcheck: warning: {checker.cache_problem}", file=sys.stderr)
    report_to_github(decks, results)
    if args.junit_xml:
        from deckcheck.report.junit import write_junit

        write_junit(args.junit_xml, decks, results)
    return decks, results, console


def _locked_outputs(args: argparse.Namespace, deck: Deck, result: DeckResult, console: Console) -> DeckResult:
    """Compare what the deck shows with its locked outputs: a warning per change, with
    --locked-outputs a failure; --update-outputs locks the new ones instead."""
    from deckcheck.check import output_lock
    from deckcheck.report.lines import location

    if getattr(args, "update_outputs", False):
        written = output_lock.record(deck, result) if result.ok else None
        if written is not None:
            console.say(f"outputs locked: {_shown_path(written)}")
        return result
    locked = getattr(args, "locked_outputs", False)
    entries = output_lock.locked_entries(deck)
    result, changes = output_lock.judge(deck, result, locked, entries)
    apart = output_lock.other_data(deck, result, entries)
    if apart:
        console.say(
            f"{_shown_path(deck.path)}: {len(apart)} shown output(s) locked on other data"
            f" ({', '.join(sorted(set(apart)))}) not compared; --update-outputs locks this run's"
        )
    for change in changes if not locked else ():
        details = "\n".join(f"  {line}" for line in change.details.splitlines())
        console.say(
            f"{location(str(deck.path), change.line, change.slide)} warning: {output_lock.CHANGED}\n{details}"
        )
    return result


def _select(args: argparse.Namespace, decks: list[Deck]) -> tuple[list[Deck], dict[str, frozenset[int]]]:
    """-k and --lf: the decks to check and the blocks of those checked in part; says what it left."""
    from deckcheck.check import selection

    keyword, last = getattr(args, "keyword", None), getattr(args, "last_failed", False)
    if keyword is None and not last:
        return decks, {}
    failed = selection.LastFailed(_cache(decks) / selection.LAST_FAILED) if last else None
    if failed is not None and not failed.failures(decks):
        print("--lf: nothing failed last time: checking everything", flush=True)
    chosen = selection.select(decks, selection.parse_keywords(keyword) if keyword else None, failed)
    if chosen.partial or len(chosen.decks) < len(decks):
        flags = " ".join([*(["-k " + shlex.quote(keyword)] if keyword else []), *(["--lf"] if last else [])])
        print(
            f"{flags}: {chosen.blocks_selected} of {chosen.blocks_total} blocks, "
            f"in {len(chosen.decks)} of {len(decks)} decks",
            flush=True,
        )
    if not chosen.decks:
        raise NothingSelected()
    return chosen.decks, chosen.blocks


def _cache(decks: Sequence[Deck]) -> Path:
    from deckcheck.read.project import cache_root

    return cache_root(*(deck.folder for deck in decks))


def _record_failures(checker: Checker, decks: Sequence[Deck], results: Sequence[DeckResult]) -> None:
    """What failed, for the next --lf (as pytest records it after every run)."""
    from deckcheck.check.selection import LAST_FAILED, LastFailed

    if not decks:
        return
    record = LastFailed(_cache(decks) / LAST_FAILED)
    record.update(decks, results)
    try:
        record.save()
    except OSError as error:
        checker.cache_problem = (
            checker.cache_problem or f"cannot record the failures: {error.strerror or error}"
        )


def _through_serve(
    args: argparse.Namespace,
    decks: list[Deck],
    options: CheckOptions,
    console: Console,
    deck_done: Callable[[Deck, DeckResult], None],
) -> list[DeckResult] | None:
    """The running serve's results (printed as this check's), or None to check here."""
    partial = options.selected or options.maxfail  # serve checks whole decks and never stops early
    if args.command != "check" or args.no_serve or args.no_cache or args.shard or partial or not decks:
        return None
    from deckcheck.commands.check_service import ask_serve, replay
    from deckcheck.read.project import cache_root

    served = ask_serve(decks, options, cache_root(*(deck.folder for deck in decks)))
    if isinstance(served, str):
        print(f"deckcheck: {served}: checking here", file=sys.stderr, flush=True)
        return None
    return None if served is None else replay(served, decks, console, deck_done)


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
    from deckcheck.publish.build import Builder, BuildOptions, require_playwright
    from deckcheck.publish.formats import DEFAULT_FORMATS

    options = BuildOptions(
        site=args.site,
        formats=args.formats or DEFAULT_FORMATS,
        strict=args.strict,
        handout_layout=args.handout_layout,
    )
    require_playwright(options)
    decks, results, console = run_check(args)
    outcome = Builder(options, say=console.say, stage=console.stage).build(decks, results)
    _lock_published(decks, results, outcome.published, console)
    for deck in outcome.published:
        console.say(f"published: {deck}{outcome.notes.get(deck, '')}")
    for deck, why in outcome.withheld:
        console.say(f"withheld: {deck}: {why} (its published files are left as they were)")
    if outcome.published:
        console.say(f"site: {args.site / 'index.html'}")
    console.finish(results)
    return 1 if outcome.withheld or outcome.failed else exit_status(results)


def _lock_published(
    decks: Sequence[Deck], results: Sequence[DeckResult], published: Sequence[str], console: Console
) -> None:
    """What a published deck shows is locked: a later check compares with it."""
    from deckcheck.check.output_lock import record

    for deck, result in zip(decks, results, strict=True):
        if str(deck.path) in published and (written := record(deck, result)) is not None:
            console.say(f"outputs locked: {_shown_path(written)}")


def _shown_path(path: Path) -> str:
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


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
    extension = None
    if args.command == "present":
        from deckcheck.commands.present import present_extension

        extension = present_extension(server, args.host, say)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.serve(args.host, args.port, extension)
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
    except NothingSelected:
        print("0 passed, 0 failed, 0 skipped", flush=True)
        return 5
    except Interrupted as error:
        return 128 + error.signum
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
