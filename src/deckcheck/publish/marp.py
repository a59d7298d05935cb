"""Running marp-cli: one process renders every deck of a build.

What renders comes from the course when it has it, else from this package: the course's
marp.config.mjs (else the packaged one, with the course's themes/ when it has one, else the
packaged theme), and marp-cli from the course's node_modules, else from PATH, else through
npx at the pinned version. Only `build` and `serve` need Node; `check` never does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deckcheck.text import shorten

ASSETS = Path(__file__).resolve().parents[1] / "assets"  # packaged with deckcheck
CONFIG = "marp.config.mjs"
THEMES = "themes"
PLUGINS = "marp"  # the folder beside a config that holds its plugins
RENDERER = ASSETS / PLUGINS / "render.mjs"
PACKAGE = "@marp-team/marp-cli"
PINNED_LOCK = ASSETS.parent / "course" / "package-lock.json"  # the lock `deckcheck init` writes
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_NODE = "Node.js is not installed: install Node.js 20 or newer to build (deckcheck check needs no Node)"


class MarpError(Exception):
    """marp-cli could not be run or failed; the message says why, in one line."""


@dataclass(frozen=True)
class Styling:
    """The Marp configuration and themes that a course's decks render with."""

    config: Path
    themes: Path | None  # a theme folder that replaces the config's themeSet, or None

    def files(self) -> list[Path]:
        """Every file the rendering depends on: the config, its plugins, the theme CSS."""
        themes = self.themes or self.config.parent / THEMES
        found = [self.config]
        found += sorted(path for path in (self.config.parent / PLUGINS).glob("*.mjs"))
        found += sorted(path for path in themes.glob("*.css"))
        return found


def styling(root: Path) -> Styling:
    """The course's own marp.config.mjs as it is; else the packaged one, with the course's
    themes/ when it has one."""
    if (root / CONFIG).is_file():
        return Styling(root / CONFIG, None)
    own_themes = root / THEMES
    return Styling(ASSETS / CONFIG, own_themes if own_themes.is_dir() else None)


def browser_path() -> str | None:
    """A Chromium for PDF export and the overflow check: CHROME_PATH, else one on PATH."""
    configured = os.environ.get("CHROME_PATH")
    if configured and Path(configured).exists():
        return configured
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def pinned_version(root: Path) -> str:
    """The marp-cli version the course's package-lock.json pins, else the one deckcheck pins."""
    for lock in (root / "package-lock.json", PINNED_LOCK):
        try:
            packages = json.loads(lock.read_text("utf-8"))["packages"]
            return str(packages[f"node_modules/{PACKAGE}"]["version"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    raise MarpError(f"no pinned {PACKAGE} version: the package is incomplete, reinstall deckcheck")


def marp_cli_folder(root: Path) -> Path | None:
    """marp-cli's package folder: in the course's node_modules, else behind a `marp` on PATH."""
    local = root / "node_modules" / PACKAGE
    if (local / "package.json").is_file():
        return local
    found = shutil.which("marp")
    if found is None:
        return None
    folder = Path(found).resolve().parent
    try:
        name = json.loads((folder / "package.json").read_text("utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return folder if name == PACKAGE else None


def renderer_command(root: Path) -> list[str]:
    """How to start render.mjs with a marp-cli: its first argument is marp-cli's folder, or `-`
    under npx (render.mjs then finds the `marp` that npx put on PATH)."""
    node = shutil.which("node")
    if node is None:
        raise MarpError(NO_NODE)
    folder = marp_cli_folder(root)
    if folder is not None:
        return [node, str(RENDERER), str(folder)]
    npx = shutil.which("npx")
    if npx is None:
        raise MarpError(f"marp-cli is not installed and there is no npx: run `npm ci` (or install {PACKAGE})")
    package = f"{PACKAGE}@{pinned_version(root)}"
    return [npx, "--yes", f"--package={package}", "--", node, str(RENDERER), "-"]


def render_folder(root: Path, folder: Path, formats: list[str], timeout: float = 900) -> None:
    """Render every *.md in folder to the render.mjs formats (html, pdf, measure, katex) beside it."""
    style = styling(root)
    env = dict(os.environ)
    browser = browser_path()
    if browser and "pdf" in formats:
        env["CHROME_PATH"] = browser
    command = [
        *renderer_command(root),
        str(style.config),
        str(style.themes or "-"),
        str(folder),
        *formats,
    ]
    try:
        done = subprocess.run(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise MarpError(f"marp-cli did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        reason = _reason(done.stderr + done.stdout)
        raise MarpError(f"marp-cli failed (exit status {done.returncode}): {reason}")


def _reason(output: str) -> str:
    """marp-cli's own error line, or the last short line of its output."""
    lines = [line.strip() for line in output.splitlines() if line.strip() and len(line) < 400]
    reason = next((line for line in lines if "ERROR" in line or "Error" in line), lines[-1] if lines else "")
    return shorten(reason, 1, width=300) or "no output"
