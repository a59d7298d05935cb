"""`deckcheck matrix`: every deck against each SPEC's environment, one line per deck and SPEC.

    PATH: SPEC: ok
    PATH: SPEC: FAILED (N passed, N failed, N skipped)      then that run's problem lines
    PATH: SPEC: not installable (pip's reason)

Each SPEC's run goes through the Checker with its environment, so results land in the result
cache (failures too: an environment is pinned) and a second run with nothing changed is
instant. The decks that passed, and on which versions, are kept in CACHE/matrix-passed.json
for the site's index; `--markdown FILE` writes the whole table (MATRIX.md).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deckcheck import env_names
from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.environments import Environment, NotInstallable, environment, project_requirements
from deckcheck.check.matrix_passes import record_passes, versions_text
from deckcheck.check.output_lock import CHANGED, compare
from deckcheck.deck import Deck
from deckcheck.report.lines import closing_line, failure_summary, location, problem_line, warning_line
from deckcheck.results import DeckResult


@dataclass(frozen=True)
class MatrixRun:
    """One SPEC's run over every deck: its results, or why pip could not install it."""

    spec: str
    results: tuple[DeckResult, ...] = ()
    not_installable: str = ""
    environment: Environment | None = None

    @property
    def ok(self) -> bool:
        return not self.not_installable and all(result.ok for result in self.results)


def environments_folder(cache: Path) -> Path:
    """Where the environments live: DECKCHECK_MATRIX, else CACHE/matrix."""
    configured = os.environ.get(env_names.MATRIX)
    return Path(configured).absolute() if configured else cache / "matrix"


def run_spec(
    decks: Sequence[Deck],
    spec: str,
    options: CheckOptions,
    cache: Path,
    check: Callable[[Checker, Sequence[Deck]], list[DeckResult]],
    note: Callable[[str], None],
) -> MatrixRun:
    """Make (or reuse) the SPEC's environment, then check every deck in it with `check`."""
    project = project_requirements(decks[0].folder) if decks else []
    matrix = environments_folder(cache)

    def making(folder: str) -> None:
        note(f"deckcheck: {spec}: installing into {folder} (the first time, pip may download for a while)")

    try:
        found = environment(spec, matrix, project, not options.use_cache, making)
    except NotInstallable as error:
        note(f"deckcheck: {spec}: not installable: {error}")
        return MatrixRun(spec, not_installable=str(error))
    if found.folder:
        how = "reused (it was set up" if found.reused else "set up (this time"
        note(f"deckcheck: {spec}: environment {how} in {found.setup_seconds:.1f} s): {found.folder}")
    checker = Checker(replace(options, environment=found if found.folder else None, keep_failures=True))
    results = tuple(check(checker, decks))
    note(f"deckcheck: {spec}: {sum(r.cached for r in results)} of {len(results)} decks from the result cache")
    return MatrixRun(spec, results, environment=found)


def run_lines(deck: Deck, run: MatrixRun, result: DeckResult | None) -> list[str]:
    """The deck's line for this run, then its problem lines and warnings."""
    path = str(deck.path)
    if run.not_installable or result is None:
        return [f"{path}: {run.spec}: not installable ({run.not_installable})"]
    counts = closing_line([result])
    lines = [f"{path}: {run.spec}: {'ok' if result.ok else f'FAILED ({counts})'}"]
    lines += [problem_line(path, problem) for problem in sorted(result.problems, key=lambda p: p.line)]
    for block in result.blocks:
        failure = block.failure
        if block.status == "failed" and failure is not None:
            lines.append(f"{location(path, failure.line, failure.slide)} {failure_summary(failure)}")
        lines += [warning_line(path, warning) for warning in block.warnings]
    return lines + output_changes(deck, run, result)


def output_changes(deck: Deck, run: MatrixRun, result: DeckResult) -> list[str]:
    """A shown output that differs, on these versions, from the one locked at the last publish:
    `PATH:LINE: slide N: warning: output changed on torch 2.15.0: prints 0.0231, was 0.0218`."""
    torch = result.versions.get("torch")
    where = run.spec
    if torch:
        where = f"torch {torch}" if "torch" in run.spec else f"{run.spec}, torch {torch}"
    lines = []
    for change in compare(deck, result):
        what = f"prints {change.now}, was {change.was}" if change.now else change.details.splitlines()[0]
        lines.append(
            f"{location(str(deck.path), change.line, change.slide)} warning: {CHANGED} on {where}: {what}"
        )
    return lines


def markdown(decks: Sequence[Deck], runs: Sequence[MatrixRun], command: str) -> str:
    """MATRIX.md: the table of decks and SPECs, the environments, and every problem line."""
    heads = " | ".join(f"`{run.spec}`" for run in runs)
    lines = [
        "# Version matrix",
        "",
        f"Written by `{command}`.",
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}.",
        "",
        f"| deck | {heads} |",
        "| --- |" + " --- |" * len(runs),
    ]
    for index, deck in enumerate(decks):
        cells = [_cell(run, index) for run in runs]
        lines.append(f"| `{deck.path}` | {' | '.join(cells)} |")
    lines += ["", "| SPEC | installed | environment |", "| --- | --- | --- |"]
    for run in runs:
        lines.append(f"| `{run.spec}` | {_installed(run)} | {_made(run)} |")
    problems = [
        line for index, deck in enumerate(decks) for run in runs for line in _problems(deck, run, index)
    ]
    if problems:
        lines += ["", "Problems, per deck and SPEC:", "", "```text", *problems, "```"]
    lines += ["", closing_line(result for run in runs for result in run.results), ""]
    return "\n".join(lines)


def record(cache: Path, decks: Sequence[Deck], runs: Sequence[MatrixRun]) -> None:
    """What each deck passed on, for the site (a SPEC that could not be installed is forgotten)."""
    found = {
        run.spec: (run.results if run.results else None) for run in runs if run.results or run.not_installable
    }
    record_passes(cache, decks, found)


def _cell(run: MatrixRun, index: int) -> str:
    if run.not_installable:
        return f"not installable ({run.not_installable})".replace("|", "\\|")
    result = run.results[index]
    return "ok" if result.ok else f"**FAILED** ({closing_line([result])})"


def _installed(run: MatrixRun) -> str:
    if run.not_installable or not run.results:
        return "—"
    return versions_text(run.results[0].versions)


def _made(run: MatrixRun) -> str:
    found = run.environment
    if found is None:
        return "—"
    if not found.folder:
        return "the project's own"
    when = "by an earlier run" if found.reused else "by this run"
    return f"`{Path(found.folder).name}`, set up in {found.setup_seconds:.0f} s {when}"


def _problems(deck: Deck, run: MatrixRun, index: int) -> list[str]:
    if run.not_installable:
        return []
    lines = run_lines(deck, run, run.results[index])
    return lines if len(lines) > 1 else []
