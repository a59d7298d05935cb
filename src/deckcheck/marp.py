"""Running the project's pinned marp-cli: one process renders every deck of a build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from . import project
from .text import shorten

CONFIG = project.PROJECT_MARKER  # the project root is the folder that holds it
RENDERER = Path("marp") / "render.mjs"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class MarpError(Exception):
    """marp-cli could not be run or failed; the message says why, in one line."""


def project_root(*starts: Path) -> Path:
    """The project's root (see project.project_root), or a MarpError saying it is missing."""
    root = project.project_root(*starts)
    if root is None:
        raise MarpError(f"no {CONFIG} in this folder, a deck's folder or above: run deckcheck in the project")
    return root


def browser_path() -> str | None:
    """A Chromium for PDF export and the overflow check: CHROME_PATH, else one on PATH."""
    configured = os.environ.get("CHROME_PATH")
    if configured and Path(configured).exists():
        return configured
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def render_folder(root: Path, folder: Path, formats: list[str], timeout: float = 900) -> None:
    """Render every *.md in folder to HTML and/or PDF beside it."""
    node = shutil.which("node")
    marp = root / "node_modules" / "@marp-team" / "marp-cli"
    if node is None:
        raise MarpError("node is not installed: install Node.js 20 or newer, then run make")
    if not marp.is_dir():
        raise MarpError("marp-cli is not installed: run make (it runs npm ci)")
    env = dict(os.environ)
    browser = browser_path()
    if browser and "pdf" in formats:
        env["CHROME_PATH"] = browser
    command = [node, str(root / RENDERER), str(root / CONFIG), str(folder), *formats]
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
