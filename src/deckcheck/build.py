"""Publish the decks that passed: generated copies → marp-cli → overflow check → site/."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .deck import Deck
from .formats import FORMATS, ProduceJob
from .generated_copy import GeneratedDeck, RenderError, generated_copy
from .manifest import SiteEntry
from .marp import MarpError, browser_path, render_folder, renderer_command
from .overflow import LONG_BLOCK_ADVICE, MAX_SHOWN_LINES, long_blocks
from .project import project_root
from .publish import Site
from .report import location
from .results import DeckResult

COMMENT_OR_BLANK = re.compile(r"^\s*(<!--.*-->\s*)?$")


@dataclass(frozen=True)
class BuildOptions:
    site: Path = Path("site")
    formats: tuple[str, ...] = ("html", "pdf")  # names in formats.FORMATS
    strict: bool = False
    check_fit: bool = True  # lay every slide out in Chromium and report what does not fit
    preview: bool = False  # render failing decks too (deckcheck serve shows their failures)


@dataclass
class BuildOutcome:
    published: list[str] = field(default_factory=list)
    withheld: list[tuple[str, str]] = field(default_factory=list)  # (deck, why)
    failed: bool = False  # something other than a deck's own failure stopped the build


def deck_stems(paths: Sequence[Path]) -> dict[str, str]:
    """A file name stem in the site for each deck, unique even when two decks share a name."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for path in paths:
        parts = path.with_suffix("").parts
        for depth in range(1, len(parts) + 1):
            stem = "-".join(parts[-depth:]).lstrip(".-") or "deck"
            if stem not in taken:
                break
        taken.add(stem)
        stems[str(path)] = stem
    return stems


def _why_not(result: DeckResult) -> str:
    failed = result.count("failed")
    if failed:
        return f"{failed} failing block{'s' if failed > 1 else ''}"
    problem = next(iter(result.problems), None)
    return problem.summary if problem else "not checked"


def _first_content_line(deck: Deck, slide: int) -> int:
    bounds = deck.slides[slide - 1]
    lines = deck.lines
    for number in range(bounds.start_line, min(bounds.end_line, len(lines)) + 1):
        if not COMMENT_OR_BLANK.match(lines[number - 1]):
            return number
    return bounds.start_line


class Builder:
    def __init__(self, options: BuildOptions, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.site = Site(options.site)

    def build(
        self, decks: Sequence[Deck], results: Sequence[DeckResult], stems: dict[str, str] | None = None
    ) -> BuildOutcome:
        """Publish the decks that passed; `stems` names their files (by default from their paths)."""
        outcome = BuildOutcome()
        stems = stems or deck_stems([deck.path for deck in decks])
        ready: list[tuple[Deck, DeckResult, GeneratedDeck]] = []
        for deck, result in zip(decks, results, strict=True):
            if not result.ok and not (self.options.preview and deck.runnable):
                outcome.withheld.append((str(deck.path), _why_not(result)))
                continue
            try:
                ready.append((deck, result, generated_copy(deck, result, stems[str(deck.path)])))
            except (RenderError, OSError) as error:
                outcome.withheld.append((str(deck.path), f"cannot render: {error}"))
        root = None
        if self._marp_formats():
            root = project_root(*(deck.folder for deck in decks)) or Path.cwd()
            try:
                renderer_command(root)  # Node and a marp-cli are there, or one line says what to install
            except MarpError as error:
                self.say(f"deckcheck: {error}")
                outcome.failed = True
                return outcome
        with self.site.staging() as staged:
            published = self._render(root, staged, ready, outcome)
            previous = self.site.entries()
            updates = [self._entry(d, r, g, previous.get(str(d.path))) for d, r, g in published]
            updates += [
                SiteEntry(deck=d, stem=stems[d], title=Path(d).stem, withheld=why)
                for d, why in outcome.withheld
            ]
            files = [name for _, _, generated in published for name in self._files(staged, generated)]
            with self.site.lock():
                self.site.publish(staged, files, updates)
        outcome.published = [str(deck.path) for deck, _, _ in published]
        return outcome

    def _marp_formats(self) -> list[str]:
        return [FORMATS[name].marp for name in self.options.formats if FORMATS[name].marp]

    def _render(
        self,
        root: Path | None,
        staged: Path,
        ready: list[tuple[Deck, DeckResult, GeneratedDeck]],
        outcome: BuildOutcome,
    ) -> list[tuple[Deck, DeckResult, GeneratedDeck]]:
        if not ready:
            return []
        (staged / "assets").mkdir()
        for _, _, generated in ready:
            (staged / f"{generated.stem}.md").write_text(generated.markdown, "utf-8")
            for asset in generated.assets:
                (staged / asset.name).parent.mkdir(parents=True, exist_ok=True)
                (staged / asset.name).write_bytes(asset.data)
        if root is not None:
            try:
                self._render_marp(root, staged, ready)
            except MarpError as error:
                outcome.withheld += [(str(deck.path), str(error)) for deck, _, _ in ready]
                outcome.failed = True
                return []
        rendered = []
        for deck, result, generated in ready:
            try:
                self._produce(staged, deck, result, generated)
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
                rendered.append((deck, result, generated))
        return self._check_overflow(staged, self._check_line_limit(rendered, outcome), outcome)

    def _render_marp(
        self, root: Path, staged: Path, ready: list[tuple[Deck, DeckResult, GeneratedDeck]]
    ) -> None:
        formats = self._marp_formats()
        if any("katex" in generated.markdown for _, _, generated in ready):
            formats.insert(0, "katex")  # render.mjs copies KaTeX's fonts from marp-cli's own
        if self.options.check_fit and "html" in self.options.formats and browser_path() is not None:
            formats.append("measure")
            (staged / ".measure").mkdir()
            (staged / ".measure" / "assets").symlink_to(staged / "assets", target_is_directory=True)
        render_folder(root, staged, formats)

    def _produce(self, staged: Path, deck: Deck, result: DeckResult, generated: GeneratedDeck) -> None:
        """The formats that Python makes, for one deck."""
        for name in self.options.formats:
            row = FORMATS[name]
            if row.produce is not None:
                target = staged / row.file_name(generated.stem)
                row.produce(ProduceJob(deck, result, generated, staged, target))

    def _check_line_limit(
        self, rendered: list[tuple[Deck, DeckResult, GeneratedDeck]], outcome: BuildOutcome
    ) -> list[tuple[Deck, DeckResult, GeneratedDeck]]:
        """Shown blocks longer than a slide read from the back row can hold."""
        kept = []
        kind = "error" if self.options.strict else "warning"
        for deck, result, generated in rendered:
            long = long_blocks(deck)
            for block, lines in long:
                where = location(str(deck.path), block.line, block.slide)
                self.say(f"{where} {lines} lines of code shown\n  {kind}: {LONG_BLOCK_ADVICE}")
            if long and self.options.strict:
                outcome.withheld.append(
                    (str(deck.path), f"{len(long)} block(s) longer than {MAX_SHOWN_LINES} lines")
                )
            else:
                kept.append((deck, result, generated))
        return kept

    def _check_overflow(
        self, staged: Path, rendered: list[tuple[Deck, DeckResult, GeneratedDeck]], outcome: BuildOutcome
    ) -> list[tuple[Deck, DeckResult, GeneratedDeck]]:
        if not self.options.check_fit or "html" not in self.options.formats or not rendered:
            return rendered
        executable = browser_path()
        if executable is None:
            self.say(
                "deckcheck: overflow check skipped: no Chromium found (install chromium or set CHROME_PATH)"
            )
            return rendered
        from .overflow import browser, slide_fits

        kept = []
        kind = "error" if self.options.strict else "warning"
        with browser(executable) as chromium:
            for deck, result, generated in rendered:
                fits = slide_fits(chromium, staged / ".measure" / f"{generated.stem}.html")
                for fit in fits:
                    where = location(str(deck.path), _first_content_line(deck, fit.slide), fit.slide)
                    self.say(f"{where} {fit.summary}\n  {kind}: {fit.detail}")
                if fits and self.options.strict:
                    outcome.withheld.append((str(deck.path), f"{len(fits)} slide(s) do not fit"))
                else:
                    kept.append((deck, result, generated))
        return kept

    def _files(self, staged: Path, generated: GeneratedDeck) -> list[str]:
        names = [FORMATS[name].file_name(generated.stem) for name in self.options.formats]
        names += [asset.name for asset in generated.assets]
        if (staged / "assets" / "katex").is_dir() and "katex" in generated.markdown:
            names += [
                str(p.relative_to(staged)) for p in (staged / "assets" / "katex").rglob("*") if p.is_file()
            ]
        return names

    def _entry(
        self, deck: Deck, result: DeckResult, generated: GeneratedDeck, previous: SiteEntry | None
    ) -> SiteEntry:
        files = dict(previous.files) if previous else {}
        files.update({name: FORMATS[name].file_name(generated.stem) for name in self.options.formats})
        return SiteEntry(
            deck=str(deck.path),
            stem=generated.stem,
            title=deck.title,
            slides=generated.slides,
            files=files,
            passed=result.count("passed"),
            skipped=result.count("skipped"),
            checked_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            versions=dict(result.versions),
            standins=list(result.standins),
        )
