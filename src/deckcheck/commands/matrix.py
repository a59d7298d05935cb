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

import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deckcheck import env_names
from deckcheck.atomic import write_atomic
from deckcheck.check.cache import deck_key
from deckcheck.check.checker import Checker, CheckOptions
from deckcheck.check.environments import Environment, NotInstallable, environment, project_requirements
from deckcheck.deck import Deck
from deckcheck.report.lines import closing_line, failure_summary, location, problem_line, warning_line
from deckcheck.results import DeckResult

PASSED = "matrix-passed.json"  # in the cache folder


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
    return lines


def record_passes(cache: Path, decks: Sequence[Deck], runs: Sequence[MatrixRun]) -> None:
    """For the site: per deck (as it is now), the versions of each environment it passed on."""
    path = cache / PASSED
    known = _read(path)
    for index, deck in enumerate(decks):
        entry = known.get(str(deck.path.absolute()), {})
        if entry.get("deck") != _digest(deck):
            entry = {"deck": _digest(deck), "runs": {}}
        for run in runs:
            if run.results:
                result = run.results[index]
                entry["runs"][run.spec] = dict(result.versions) if result.ok else None
            elif run.not_installable:
                entry["runs"].pop(run.spec, None)
        known[str(deck.path.absolute())] = entry
    write_atomic(path, json.dumps(known, indent=2, sort_keys=True))


def passed_on(cache: Path, deck: Deck) -> list[str]:
    """The versions this deck, unchanged since, passed a matrix run on: "torch 2.6.0, ..."."""
    entry = _read(cache / PASSED).get(str(deck.path.absolute()), {})
    if entry.get("deck") != _digest(deck):
        return []
    found = [_versions(versions) for versions in entry.get("runs", {}).values() if versions]
    return sorted(dict.fromkeys(found), key=_version_order)


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


def _cell(run: MatrixRun, index: int) -> str:
    if run.not_installable:
        return f"not installable ({run.not_installable})".replace("|", "\\|")
    result = run.results[index]
    return "ok" if result.ok else f"**FAILED** ({closing_line([result])})"


def _installed(run: MatrixRun) -> str:
    if run.not_installable or not run.results:
        return "—"
    return _versions(run.results[0].versions)


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


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())


def _version_order(text: str) -> list:
    return [
        int(part) if part.isdigit() else part for part in text.replace(",", " ").replace(".", " ").split()
    ]


def _digest(deck: Deck) -> str:
    return deck_key(deck, {}, {})


def _read(path: Path) -> dict:
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
