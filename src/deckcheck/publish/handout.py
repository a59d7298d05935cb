"""The handout: a deck's slides, a few to an A4 page, each beside its speaker notes.

The slides are the SVGs of Marp's bare-template render, moved into a page layout by
assets/handout.js and printed by the build's Chromium, so their text stays text. Chromium
writes the PDF's outline from the slides' headings: the deck's `#` sections with their slides.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources

from deckcheck.publish.jobs import ProduceJob

LAYOUTS = (1, 2, 3)  # slides per page
RULED_LINES = 40  # beside (or under) a slide without notes: more than fit, the space clips them
_ASSETS = resources.files("deckcheck") / "assets"
# Playwright runs the text as a function only if it starts like one: drop the leading comments.
ARRANGE = "\n".join(
    line for line in (_ASSETS / "handout.js").read_text("utf-8").splitlines() if not line.startswith("//")
)
STYLE = (_ASSETS / "handout.css").read_text("utf-8")


class HandoutError(Exception):
    """The handout could not be made; the message says why, in one line."""


def footer(title: str, versions: dict[str, str], checked_at: str) -> str:
    """Chromium's footer template: the deck's title, what it was checked against, the page."""
    against = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
    checked = f"checked against {against} on {checked_at[:10]}" if against else ""
    return (
        '<div style="font: 8px system-ui, sans-serif; color: #444; width: 100%; margin: 0 12mm;'
        ' display: flex; justify-content: space-between; gap: 4mm">'
        f"<span>{escape(title)}</span><span>{escape(checked)}</span>"
        '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
    )


def write_handout(job: ProduceJob) -> None:
    if job.browser is None:
        raise HandoutError("no Chromium found for the handout (install chromium or set CHROME_PATH)")
    if job.handout_layout not in LAYOUTS:
        raise HandoutError(f"a handout has 1, 2 or 3 slides a page, not {job.handout_layout}")
    notes = json.loads(job.notes.read_text("utf-8"))
    page = job.browser.new_page()
    try:
        page.goto(job.measured.absolute().as_uri(), wait_until="load")
        page.add_style_tag(content=STYLE)
        arranged = page.evaluate(
            ARRANGE,
            {"notes": notes, "perPage": job.handout_layout, "rules": RULED_LINES},
        )
        if arranged != job.generated.slides:
            raise HandoutError(f"the handout has {arranged} slides instead of {job.generated.slides}")
        page.evaluate("document.fonts.ready")
        pdf = page.pdf(
            format="A4",
            print_background=True,
            prefer_css_page_size=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=footer(job.deck.title, job.result.versions, job.checked_at),
            outline=True,
            tagged=True,
        )
    finally:
        page.close()
    job.target.write_bytes(pdf)
