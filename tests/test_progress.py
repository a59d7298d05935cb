"""Progress: on a terminal a live status (each running deck at its block and slide, each build
stage with its elapsed time); plain lines otherwise; `--color` and NO_COLOR honoured."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from helpers import deckcheck

from deckcheck.publish.build import Builder, BuildOptions
from deckcheck.read.parser import parse_text
from deckcheck.report.console import Console
from deckcheck.report.progress import color_wanted
from deckcheck.results import BlockResult, DeckResult

DECK = "# Alpha\n\n```python\nx = 1\n```\n\n---\n\n## Tensors\n\n```python\nassert x == 2\n```\n"
STYLE = re.compile(r"\x1b\[[0-9;]*m")  # a colour or another style (SGR)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def live_console(color: str) -> tuple[Console, io.StringIO]:
    deck = parse_text(Path("slides/a.md"), DECK)
    out = io.StringIO()
    console = Console([deck], out=out, err=io.StringIO(), color=color, live=True)
    assert console.live is not None
    console.deck_started(deck)
    console.block_done(deck, BlockResult(0, 3, 1, "passed"))
    console.block_started(deck, deck.blocks[1])
    with console.stage("rendering html, pdf (1 deck)"):
        console.live.progress.refresh()
    return console, out


def test_the_live_status_shows_each_deck_at_its_block_and_slide_and_each_stage() -> None:
    console, out = live_console("yes")
    shown = STYLE.sub("", out.getvalue())
    assert "slides/a.md: block 2/2, line 11, slide 2" in shown
    assert "1/2" in shown and "0:00:00" in shown  # blocks done, elapsed
    assert "build: rendering html, pdf (1 deck)" in shown
    assert STYLE.search(out.getvalue())  # in colour
    console.finish([])
    assert out.getvalue().endswith("\x1b[32m0 passed, 0 failed, 0 skipped\x1b[0m\n")


def test_color_no_and_no_color_write_no_style_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    console, out = live_console("no")
    console.finish([])
    assert "slides/a.md: block 2/2" in out.getvalue()  # still live, in plain text
    assert not STYLE.search(out.getvalue())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted("auto", Terminal())
    assert color_wanted("yes", Terminal())
    monkeypatch.delenv("NO_COLOR")
    assert color_wanted("auto", Terminal()) and not color_wanted("auto", io.StringIO())
    console, out = live_console("auto")  # a buffer is no terminal: no colour, though forced live
    assert not STYLE.search(out.getvalue())


def test_off_a_terminal_each_build_stage_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(DECK.replace("x == 2", "x == 1"))
    deck = parse_text(tmp_path / "a.md", (tmp_path / "a.md").read_text())
    result = DeckResult(
        str(deck.path), tuple(BlockResult(b.index, b.line, b.slide, "passed") for b in deck.blocks)
    )
    out = io.StringIO()
    console = Console([deck], out=out, err=io.StringIO())
    assert console.live is None
    options = BuildOptions(site=tmp_path / "site", formats=("ipynb",), check_fit=False)
    outcome = Builder(options, say=console.say, stage=console.stage).build([deck], [result])
    assert outcome.published == [str(deck.path)]
    assert out.getvalue().splitlines() == ["build: making ipynb (1 deck)"]


def test_the_command_colours_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(DECK)

    def check(*args: str, **env: str) -> str:
        run = deckcheck("check", "a.md", *args, cwd=tmp_path, cache=tmp_path / ".cache", **env)
        assert run.returncode == 1
        return run.stdout

    coloured = check("--color", "yes")
    assert coloured.splitlines()[-1] == "\x1b[31m1 passed, 1 failed, 0 skipped\x1b[0m"
    assert "\x1b[31ma.md: FAILED: 1 passed, 1 failed, 0 skipped" in coloured
    for plain in (check(), check("--color", "no"), check(NO_COLOR="1")):
        assert "\x1b" not in plain
        assert plain.splitlines()[-1] == "1 passed, 1 failed, 0 skipped"
