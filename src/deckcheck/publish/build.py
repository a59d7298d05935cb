"""Publish the decks that passed: generated copies → marp-cli → Python producers → the page
checks (fit, accessibility) → site/ and its search index. One Chromium serves the whole build.

Another tool's deck (Quarto, MyST, Jupytext, Slidev, reveal.js: read/dialects.py) is checked
like any deck, but Marp would not render its slides: when `ipynb` is among the formats its
notebook alone is published, listed in the index with a link to it (no slides, no thumbnail,
not in the search index, which reads the slides' HTML); otherwise it is not published."""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from deckcheck.check.matrix_passes import passed_on
from deckcheck.check.selection import STOPPED
from deckcheck.deck import Deck
from deckcheck.errors import UsageError
from deckcheck.publish.accessibility import AXE, Finding, Violation, alt_text_findings, audit
from deckcheck.publish.fit import LONG_BLOCK_ADVICE, MAX_SHOWN_LINES, long_blocks
from deckcheck.publish.formats import DEFAULT_FORMATS, FORMATS
from deckcheck.publish.generated_copy import (
    ASSETS,
    GeneratedDeck,
    RenderError,
    asset_name,
    generated_copy,
    notebook_copy,
)
from deckcheck.publish.jobs import ProduceJob
from deckcheck.publish.manifest import SiteEntry
from deckcheck.publish.marp import MarpError, browser_path, render_folder, renderer_command
from deckcheck.publish.search import SearchError, build_search
from deckcheck.publish.site import Site, cannot_publish
from deckcheck.publish.thumbnail import title_slide_png
from deckcheck.read.project import DECKS_FOLDER, cache_root, course_root, project_root
from deckcheck.read.settings import project_settings
from deckcheck.report.lines import location
from deckcheck.results import DeckResult
from deckcheck.text import shorten

COMMENT_OR_BLANK = re.compile(r"^\s*(<!--.*-->\s*)?$")

# A build's stages (rendering, producing, the page checks, the search index), for a live status:
# `with stage("rendering html, pdf (3 decks)"):` around each.
Stage = Callable[[str], AbstractContextManager[object]]


def _no_stage(name: str) -> AbstractContextManager[object]:
    return contextlib.nullcontext()


@dataclass(frozen=True)
class BuildOptions:
    site: Path = Path("site")
    formats: tuple[str, ...] = DEFAULT_FORMATS  # names in formats.FORMATS
    strict: bool = False
    check_fit: bool = True  # lay every slide out in Chromium: what does not fit, what axe-core finds
    preview: bool = False  # render failing decks too (deckcheck serve shows their failures)
    handout_layout: int = 3  # slides per handout page: 1, 2 or 3


# Playwright is an extra: `check` never needs it, and a build asks for it before checking anything.
NO_PLAYWRIGHT = (
    "this build drives Chromium with Playwright (page checks, handouts), which is not installed: "
    "pip install 'deckcheck[browser]'"
)


def wants_browser(options: BuildOptions) -> bool:
    """Whether the build drives Chromium: the page checks of the HTML, or a format that asks for it."""
    checks = options.check_fit and "html" in options.formats
    return checks or any(FORMATS[name].browser for name in options.formats)


def require_playwright(options: BuildOptions) -> None:
    """UsageError, in one line that says what to install, when the build needs Playwright and it
    is not there."""
    if wants_browser(options) and importlib.util.find_spec("playwright") is None:
        raise UsageError(NO_PLAYWRIGHT)


@dataclass
class BuildOutcome:
    published: list[str] = field(default_factory=list)
    withheld: list[tuple[str, str]] = field(default_factory=list)  # (deck, why)
    failed: bool = False  # something other than a deck's own failure stopped the build
    notes: dict[str, str] = field(default_factory=dict)  # deck → what its `published:` line adds


def deck_stem(path: Path) -> str:
    """A deck's file name stem in the site, from its path in the course alone (never from the
    other decks of a run): the path below the course's folder, less a leading `slides/`, its
    parts joined by "-": slides/01-intro.md → 01-intro, slides/b/intro.md → b-intro."""
    full = path.absolute()
    root = course_root(full)
    parts = full.relative_to(root).with_suffix("").parts
    if len(parts) > 1 and parts[0] == DECKS_FOLDER:
        parts = parts[1:]
    return "-".join(parts).lstrip(".-") or "deck"


def deck_stems(paths: Sequence[Path]) -> dict[str, str]:
    return {str(path): deck_stem(path) for path in paths}


def name_clashes(decks: Sequence[Deck], stems: dict[str, str], site: dict[str, SiteEntry]) -> dict[str, str]:
    """Decks that would publish under a name another deck has, in this run or in the site:
    deck → why, naming the other deck."""
    owners: dict[str, str] = {entry.stem: deck for deck, entry in site.items()}
    clashes: dict[str, str] = {}
    for deck in decks:
        path, stem = str(deck.path), stems[str(deck.path)]
        owner = owners.setdefault(stem, path)
        if owner != path and Path(owner).absolute() != deck.path.absolute():
            clashes[path] = f"its name in the site, {stem}, is {owner}'s: rename one of the two decks"
    return clashes


def _why_not(result: DeckResult) -> str:
    stopped = next((b.reason for b in result.blocks if b.reason.startswith(STOPPED)), "")
    if stopped:
        return stopped  # -x or --maxfail stopped the run before this deck was checked in full
    failed = result.count("failed")
    if failed:
        return f"{failed} failing block{'s' if failed > 1 else ''}"
    problem = next(iter(result.problems), None)
    return problem.summary if problem else "not checked"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return shorten(text.splitlines()[0], 120) if text else type(error).__name__


def _first_content_line(deck: Deck, slide: int) -> int:
    bounds = deck.slides[slide - 1]
    lines = deck.lines
    for number in range(bounds.start_line, min(bounds.end_line, len(lines)) + 1):
        if not COMMENT_OR_BLANK.match(lines[number - 1]):
            return number
    return bounds.start_line


@dataclass(frozen=True)
class DeckInBuild:
    """A deck on its way through a build: its check result and its generated copy."""

    deck: Deck
    result: DeckResult
    generated: GeneratedDeck


class Builder:
    """Publishes decks into one site, build after build (serve keeps one)."""

    def __init__(self, options: BuildOptions, say: Callable[[str], None], stage: Stage = _no_stage) -> None:
        self.options = options
        self.say = say
        self.stage = stage
        self.site = Site(options.site)

    def build(
        self, decks: Sequence[Deck], results: Sequence[DeckResult], stems: dict[str, str] | None = None
    ) -> BuildOutcome:
        """Publish the decks that passed; `stems` names their files (by default from their paths)."""
        return _Build(self.options, self.say, self.site, self.stage).run(decks, results, stems)


class _Build:
    """One build: what it learns on the way (the project's root, when it was checked, thumbnails)."""

    def __init__(
        self, options: BuildOptions, say: Callable[[str], None], site: Site, stage: Stage = _no_stage
    ) -> None:
        self.options = options
        self.say = say
        self.site = site
        self.stage = stage
        self.root: Path | None = None
        self.checked_at = ""
        self.thumbnails: dict[str, str] = {}  # deck → its title slide's file in the site

    def run(
        self, decks: Sequence[Deck], results: Sequence[DeckResult], stems: dict[str, str] | None
    ) -> BuildOutcome:
        outcome = BuildOutcome()
        stems = stems or deck_stems([deck.path for deck in decks])
        clashes = name_clashes(decks, stems, self.site.entries())
        ready: list[DeckInBuild] = []
        notebooks: list[DeckInBuild] = []  # other tools' decks: their notebook only
        for deck, result in zip(decks, results, strict=True):
            if deck.dialect != "marp" and "ipynb" not in self.options.formats:  # its own tool publishes it
                self.say(
                    f"deckcheck: {deck.path}: not published: build publishes Marp decks,"
                    f" this one is {deck.dialect}'s"
                )
                continue
            if str(deck.path) in clashes:
                outcome.withheld.append((str(deck.path), clashes[str(deck.path)]))
                continue
            stopped = any(b.reason.startswith(STOPPED) for b in result.blocks) and not self.options.preview
            if stopped or (not result.ok and not (self.options.preview and deck.runnable)):
                outcome.withheld.append((str(deck.path), _why_not(result)))
                continue
            if deck.dialect != "marp":
                notebooks.append(DeckInBuild(deck, result, notebook_copy(deck, stems[str(deck.path)])))
                continue
            try:
                ready.append(DeckInBuild(deck, result, generated_copy(deck, result, stems[str(deck.path)])))
            except (RenderError, OSError) as error:
                outcome.withheld.append((str(deck.path), f"cannot render: {error}"))
        self.root = None
        if self._renders() and (ready or not notebooks):  # a build of notebooks alone needs no marp-cli
            self.root = project_root(*(deck.folder for deck in decks)) or Path.cwd()
            try:
                renderer_command(self.root)  # Node and a marp-cli are there, or one line says what to install
            except MarpError as error:
                self.say(f"deckcheck: {error}")
                outcome.failed = True
                return outcome
        self.checked_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        try:
            published = self._publish(decks, ready, notebooks, stems, outcome)
        except OSError as error:  # a full disk, a site folder that cannot be written
            self.say(f"deckcheck: {cannot_publish(self.site.folder, error)}")
            outcome.failed = True
            return outcome
        outcome.published = [str(item.deck.path) for item in published]
        for item in published:
            if (dialect := item.deck.dialect) != "marp":
                why = f"build publishes slides for Marp decks, this one is {dialect}'s"
                outcome.notes[str(item.deck.path)] = f" (notebook only: {why})"
        return outcome

    def _publish(
        self,
        decks: Sequence[Deck],
        ready: list[DeckInBuild],
        notebooks: list[DeckInBuild],
        stems: dict[str, str],
        outcome: BuildOutcome,
    ) -> list[DeckInBuild]:
        """Render the ready decks (and write the notebooks of the notebook-only ones) into a
        staging folder, then publish them with the site's next generation."""
        with self.site.staging() as staged, self._chromium(ready) as chromium:
            published = self._render(staged, ready, outcome, chromium)
            published += self._notebooks(staged, notebooks, outcome)
            previous = self.site.entries()
            updates = [self._entry(item, previous.get(str(item.deck.path))) for item in published]
            updates += [
                SiteEntry(deck=d, stem=stems[d], title=Path(d).stem, withheld=why)
                for d, why in outcome.withheld
            ]
            files = [name for item in published for name in self._files(staged, item)]
            files += [
                self.thumbnails[p] for item in published if (p := str(item.deck.path)) in self.thumbnails
            ]
            with self.site.lock():
                self.site.publish(staged, files, updates, self._search, self._repository(decks))
                if chromium is not None and published and self._audits():
                    self._audit_index(chromium)
        return published

    def _notebooks(
        self, staged: Path, notebooks: list[DeckInBuild], outcome: BuildOutcome
    ) -> list[DeckInBuild]:
        """The notebook of each deck that Marp does not render: its only file in the site."""
        if not notebooks:
            return []
        written = []
        row = FORMATS["ipynb"]
        with self.stage(f"making ipynb ({_decks(len(notebooks))})"):
            for item in notebooks:
                target = staged / row.file_name(item.generated.stem)
                job = ProduceJob(
                    item.deck, item.result, item.generated, staged, target, checked_at=self.checked_at
                )
                try:
                    if row.produce is not None:
                        row.produce(job)
                except Exception as error:  # a producer's failure withholds its deck, with the reason
                    outcome.withheld.append((str(item.deck.path), f"cannot produce its files: {error}"))
                    continue
                written.append(item)
        return written

    def _marp_formats(self) -> list[str]:
        return [marp for name in self.options.formats if (marp := FORMATS[name].marp)]

    def _renders(self) -> list[str]:
        """What marp/render.mjs makes: the marp-cli formats, then what the producers and the page
        checks read (the bare-template render, the speaker notes)."""
        renders = self._marp_formats()
        needs = [need for name in self.options.formats for need in FORMATS[name].needs]
        if "html" in self.options.formats and browser_path() is not None and self._audits():
            needs.append("measure")
        return [*renders, *dict.fromkeys(need for need in needs if need not in renders)]

    def _audits(self) -> bool:
        return self.options.check_fit and not self.options.preview

    @contextlib.contextmanager
    def _chromium(self, ready: list) -> Iterator[Any]:
        """The build's one Chromium, when something needs it and one is installed; else None."""
        executable = browser_path()
        if not ready or executable is None or not wants_browser(self.options):
            yield None
            return
        from deckcheck.publish.fit import BrowserFailed, browser

        with contextlib.ExitStack() as stack:
            try:
                chromium = stack.enter_context(browser(executable))
            except BrowserFailed as error:
                self.say(
                    f"deckcheck: cannot start Chromium ({executable}): the page checks are skipped ({error})"
                )
                chromium = None
            yield chromium

    def _repository(self, decks: Sequence[Deck]) -> str:
        return project_settings(decks[0].folder).repository if decks else ""

    def _search(self, site: Path, pages: list[tuple[str, str]]) -> bool:
        """Index the published decks for the site's search; whether an index is there."""
        if self.options.preview:
            return False
        if self.root is None or not pages:  # nothing to index this time: keep the index there is
            return (site / "pagefind" / "pagefind-ui.js").is_file()
        try:
            with self.stage(f"indexing the search ({_decks(len(pages))})"):
                build_search(self.root, site, pages)
        except (SearchError, OSError) as error:
            self.say(f"deckcheck: search index not updated: {error}")
        return (site / "pagefind" / "pagefind-ui.js").is_file()

    def _render(
        self,
        staged: Path,
        ready: list[DeckInBuild],
        outcome: BuildOutcome,
        chromium: Any,
    ) -> list[DeckInBuild]:
        if not ready:
            return []
        (staged / "assets").mkdir()
        for item in ready:
            generated = item.generated
            (staged / f"{generated.stem}.md").write_text(generated.markdown, "utf-8")
            for asset in generated.assets:
                (staged / asset.name).parent.mkdir(parents=True, exist_ok=True)
                (staged / asset.name).write_bytes(asset.data)
        if self.root is not None:
            try:
                self._render_marp(self.root, staged, ready)
            except MarpError as error:
                outcome.withheld += [(str(item.deck.path), str(error)) for item in ready]
                outcome.failed = True
                return []
        rendered = []
        produced = [name for name in self.options.formats if FORMATS[name].produce is not None]
        producing = self.stage(f"making {', '.join(produced)} ({_decks(len(ready))})") if produced else None
        with producing or contextlib.nullcontext():
            rendered = self._produce_all(staged, ready, outcome, chromium)
        return self._check_pages(staged, self._check_line_limit(rendered, outcome), outcome, chromium)

    def _produce_all(
        self, staged: Path, ready: list[DeckInBuild], outcome: BuildOutcome, chromium: Any
    ) -> list[DeckInBuild]:
        rendered = []
        for item in ready:
            deck, generated = item.deck, item.generated
            try:
                self._produce(staged, item, chromium)
            except Exception as error:  # a producer's failure withholds its deck, with the reason
                outcome.withheld.append((str(deck.path), f"cannot produce its files: {error}"))
                continue
            missing = [
                name
                for name in self.options.formats
                if not (staged / FORMATS[name].file_name(generated.stem)).is_file()
            ]
            if missing:
                outcome.withheld.append((str(deck.path), f"no {', '.join(missing)} was written"))
            else:
                rendered.append(item)
        return rendered

    def _render_marp(self, root: Path, staged: Path, ready: list[DeckInBuild]) -> None:
        renders = self._renders()
        if any("katex" in item.generated.markdown for item in ready):
            renders.insert(0, "katex")  # render.mjs copies KaTeX's fonts from marp-cli's own
        if "measure" in renders:
            (staged / ".measure").mkdir()
            (staged / ".measure" / "assets").symlink_to(staged / "assets", target_is_directory=True)
        shown = ", ".join(self._marp_formats()) or "the slides"  # not the renders only the checks read
        with self.stage(f"rendering {shown} ({_decks(len(ready))})"):
            render_folder(root, staged, renders)

    def _produce(self, staged: Path, item: DeckInBuild, chromium: Any) -> None:
        """The formats that Python makes, for one deck."""
        for name in self.options.formats:
            row = FORMATS[name]
            if row.produce is not None:
                target = staged / row.file_name(item.generated.stem)
                job = ProduceJob(
                    item.deck,
                    item.result,
                    item.generated,
                    staged,
                    target,
                    browser=chromium if row.browser else None,
                    checked_at=self.checked_at,
                    handout_layout=self.options.handout_layout,
                )
                row.produce(job)

    def _check_line_limit(self, rendered: list[DeckInBuild], outcome: BuildOutcome) -> list[DeckInBuild]:
        """Shown blocks longer than a slide read from the back row can hold."""
        kept = []
        kind = "error" if self.options.strict else "warning"
        for item in rendered:
            deck = item.deck
            long = long_blocks(deck)
            for block, lines in long:
                where = location(str(deck.path), block.line, block.slide)
                self.say(f"{where} {lines} lines of code shown\n  {kind}: {LONG_BLOCK_ADVICE}")
            if long and self.options.strict:
                outcome.withheld.append(
                    (str(deck.path), f"{len(long)} block(s) longer than {MAX_SHOWN_LINES} lines")
                )
            else:
                kept.append(item)
        return kept

    def _check_pages(
        self,
        staged: Path,
        rendered: list[DeckInBuild],
        outcome: BuildOutcome,
        chromium: Any,
    ) -> list[DeckInBuild]:
        """Lay every slide out and audit it: warnings, or with --strict errors that withhold the deck."""
        if not self.options.check_fit or "html" not in self.options.formats or not rendered:
            return rendered
        if chromium is None:
            self.say(
                "deckcheck: page checks skipped: no Chromium found (install chromium or set CHROME_PATH)"
            )
            return rendered
        if self._audits() and not (self.root is not None and (self.root / AXE).is_file()):
            self.say("deckcheck: accessibility audit skipped: axe-core is not installed (run make)")
        checks = "fit, accessibility" if self._audits() else "fit"
        with self.stage(f"checking the slides: {checks} ({_decks(len(rendered))})"):
            return self._check_each(staged, rendered, outcome, chromium)

    def _check_each(
        self, staged: Path, rendered: list[DeckInBuild], outcome: BuildOutcome, chromium: Any
    ) -> list[DeckInBuild]:
        kept = []
        for item in rendered:
            deck = item.deck
            try:
                problems = self._page_problems(chromium, staged, deck, item.result, item.generated.stem)
            except Exception as error:  # Chromium gone mid-build: the checks stop, the decks go on
                self.say(
                    f"deckcheck: page checks of {deck.path} stopped: Chromium failed ({_first_line(error)})"
                )
                problems = []
            for problem in problems:
                self._report(deck, problem)
            if problems and self.options.strict:
                outcome.withheld.append((str(deck.path), f"{len(problems)} problem(s) on its slides"))
            else:
                kept.append(item)
        return kept

    def _page_problems(
        self, chromium: Any, staged: Path, deck: Deck, result: DeckResult, stem: str
    ) -> list[Finding]:
        """What does not fit and what is hard to use, on one page per render: the bare one
        (every slide laid out: the fit, axe on the slides, the title slide's picture) and the
        presentation (axe on the page around the slides)."""
        from deckcheck.publish.fit import loaded, slide_fits

        axe = self.root / AXE if self.root is not None and self._audits() else None
        audits = axe if axe is not None and axe.is_file() else None
        problems: list[Finding] = []
        violations: list[Violation] = []
        with loaded(chromium, staged / ".measure" / f"{stem}.html") as page:
            for fit in slide_fits(page):
                problems.append(
                    Finding(_first_content_line(deck, fit.slide), fit.slide, fit.summary, fit.detail)
                )
            if audits:
                violations += audit(page, audits, slides=True)
            if self._audits():
                problems += alt_text_findings(deck, result)
                self._keep_thumbnail(deck, title_slide_png(page), staged, stem)
        if audits:
            with loaded(chromium, staged / f"{stem}.html") as page:
                violations += audit(page, audits, slides=False)
        return problems + [self._locate(deck, violation) for violation in violations]

    @staticmethod
    def _locate(deck: Deck, violation: Violation) -> Finding:
        """A violation at its slide's first line; one outside the slides at the deck's first."""
        if violation.slide:
            return Finding(
                _first_content_line(deck, violation.slide),
                violation.slide,
                violation.summary,
                violation.detail,
            )
        return Finding(1, 1, violation.summary, violation.detail)

    def _keep_thumbnail(self, deck: Deck, data: bytes, staged: Path, stem: str) -> None:
        name = asset_name(data, f"{stem}-title.png")
        (staged / ASSETS).mkdir(exist_ok=True)
        (staged / name).write_bytes(data)
        self.thumbnails[str(deck.path)] = name

    def _report(self, deck: Deck, problem: Finding) -> None:
        kind = "error" if self.options.strict else "warning"
        where = location(str(deck.path), problem.line, problem.slide)
        self.say(f"{where} {problem.summary}\n  {kind}: {problem.detail}")

    def _audit_index(self, chromium: Any) -> None:
        from deckcheck.publish.fit import loaded

        axe = self.root / AXE if self.root is not None else None
        index = self.site.folder / "index.html"
        if axe is None or not axe.is_file() or not index.is_file():
            return
        kind = "error" if self.options.strict else "warning"
        with loaded(chromium, index) as page:
            violations = audit(page, axe, slides=False)
        for violation in violations:
            self.say(f"{index}: {violation.summary}\n  {kind}: {violation.detail}")

    def _files(self, staged: Path, item: DeckInBuild) -> list[str]:
        generated = item.generated
        if item.deck.dialect != "marp":  # its notebook alone, the images inside it
            return [FORMATS["ipynb"].file_name(generated.stem)]
        names = [FORMATS[name].file_name(generated.stem) for name in self.options.formats]
        names += [asset.name for asset in generated.assets]
        if (staged / "assets" / "katex").is_dir() and "katex" in generated.markdown:
            names += [
                str(p.relative_to(staged)) for p in (staged / "assets" / "katex").rglob("*") if p.is_file()
            ]
        return names

    def _entry(self, item: DeckInBuild, previous: SiteEntry | None) -> SiteEntry:
        deck, result, generated = item.deck, item.result, item.generated
        files = dict(previous.files) if previous else {}
        files.update({name: FORMATS[name].file_name(generated.stem) for name in self.options.formats})
        if deck.dialect != "marp":  # no slides of an earlier Marp version of it stay listed
            files = {"ipynb": FORMATS["ipynb"].file_name(generated.stem)}
            previous = None
        return SiteEntry(
            deck=str(deck.path),
            stem=generated.stem,
            title=deck.title,
            slides=generated.slides,
            files=files,
            passed=result.count("passed"),
            skipped=result.count("skipped"),
            checked_at=self.checked_at,
            versions=dict(result.versions),
            standins=list(result.standins),
            passed_on=passed_on(cache_root(deck.folder), deck),
            description=str(deck.front_matter.get("description") or ""),
            thumbnail=self.thumbnails.get(str(deck.path), previous.thumbnail if previous else ""),
        )


def _decks(count: int) -> str:
    return f"{count} deck{'s' if count != 1 else ''}"
