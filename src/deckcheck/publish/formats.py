"""The output formats of a build, in one table: a new format is one row and its producer.

A format is made either by marp-cli (`marp` names the format in marp/render.mjs, and every
deck of a build is rendered by one marp-cli process) or by a Python function that writes
the deck's file from what the build already has: `needs` names the marp-cli renders it reads
(render.mjs's `measure` and `notes`), and `browser` asks for the build's Chromium.
"""

from __future__ import annotations

from dataclasses import dataclass

from deckcheck.publish.jobs import ProduceJob, Producer


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as --formats names it
    suffix: str  # appended to the deck's stem: ".html", "-handout.pdf"
    label: str  # the link text on the index page
    marp: str | None = None  # made by marp-cli with this render.mjs format, or else by `produce`
    produce: Producer | None = None
    needs: tuple[str, ...] = ()  # marp-cli renders that `produce` reads
    browser: bool = False  # `produce` drives the build's Chromium

    def file_name(self, stem: str) -> str:
        return f"{stem}{self.suffix}"


def _handout(job: ProduceJob) -> None:
    from deckcheck.publish.handout import write_handout

    write_handout(job)


def _notebook(job: ProduceJob) -> None:
    from deckcheck.publish.notebook import write_notebook

    write_notebook(job)


FORMATS: dict[str, OutputFormat] = {
    row.name: row
    for row in (
        OutputFormat("html", ".html", "HTML", marp="html"),
        OutputFormat("pdf", ".pdf", "PDF", marp="pdf"),
        OutputFormat(
            "handout", "-handout.pdf", "handout", produce=_handout, needs=("measure", "notes"), browser=True
        ),
        OutputFormat("ipynb", ".ipynb", "notebook", produce=_notebook),
        OutputFormat("pptx", ".pptx", "PowerPoint", marp="pptx"),  # off by default: --formats
    )
}
DEFAULT_FORMATS = ("html", "pdf", "handout", "ipynb")


def add_format(row: OutputFormat) -> None:
    """Add a row to the table (a format defined outside this module, e.g. by a plugin or a test)."""
    if (row.marp is None) == (row.produce is None):
        raise ValueError(f"format {row.name!r} needs exactly one of marp= and produce=")
    FORMATS[row.name] = row


def parse_formats(text: str) -> tuple[str, ...]:
    """A comma-separated list of format names, checked against the table; ValueError says why."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise ValueError(f"formats are {', '.join(FORMATS)}, comma-separated: not {text!r}")
    return names
