"""Marp's own answer: render decks with the pinned marp-cli and read slides and blocks back."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARP = ROOT / "node_modules" / ".bin" / "marp"
SECTION = re.compile(r'<section\b[^>]*\bid="(\d+)"')
PYTHON_CODE = re.compile(r'<code class="language-(?:python|py|python3)">(.*?)</code>', re.S)
MARKER = re.compile(r"\bm(\d+)z\b")


def render_html(decks: dict[str, str], workdir: Path) -> dict[str, str]:
    """Render every deck with one marp-cli process; returns each deck's HTML."""
    source = workdir / "src"
    output = workdir / "out"
    shutil.rmtree(workdir, ignore_errors=True)
    source.mkdir(parents=True)
    for name, text in decks.items():
        (source / f"{name}.md").write_text(text, "utf-8")
    subprocess.run(
        [str(MARP), "--no-config", "--template", "bare", "-I", str(source), "-o", str(output)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )
    return {name: (output / f"{name}.html").read_text("utf-8") for name in decks}


def slides_of(html: str) -> list[str]:
    """Each rendered slide's HTML, in order."""
    starts = [match.start() for match in SECTION.finditer(html)]
    return [html[start:end] for start, end in zip(starts, [*starts[1:], len(html)], strict=True)]


def marker_slides(html: str) -> dict[int, int]:
    """Marker number → 1-based slide, for every marker inside a rendered Python code block."""
    found = {}
    for number, slide in enumerate(slides_of(html), 1):
        for code in PYTHON_CODE.findall(slide):
            for marker in MARKER.findall(re.sub(r"<[^>]+>", "", code)):
                found[int(marker)] = number
    return found
