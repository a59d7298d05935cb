"""site/index.html: one row per deck, plain and readable, no scripts, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .formats import FORMATS
from .manifest import SiteEntry

STYLE = """
body { font: 18px/1.5 system-ui, sans-serif; color: #1f2328; }
body { margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
p.lead { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d1d9e0; padding: 0.5rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warn { color: #9a6700; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.ok { color: #1a7f37; }
"""


def _link(href: str | None, label: str) -> str:
    return f'<a href="{escape(href)}">{escape(label)}</a>' if href else "—"


def _row(entry: SiteEntry) -> str:
    data = "no stand-ins"
    data_class = "ok"
    if entry.standins:
        data, data_class = f"stand-ins: {', '.join(entry.standins)}", "warn"
    status = '<span class="ok">published</span>'
    if entry.withheld:
        status = f'<span class="bad">withheld: {escape(entry.withheld)}</span> (last good version shown)'
    versions = ", ".join(f"{name} {version}" for name, version in sorted(entry.versions.items()))
    links = " · ".join(_link(entry.files.get(name), row.label) for name, row in FORMATS.items())
    cells = [
        _link(entry.files.get("html"), entry.title),
        f'<td class="num">{entry.slides}</td>',
        f"<td>{links}</td>",
        f'<td class="num">{entry.passed} passed, {entry.skipped} skipped</td>',
        f"<td>{escape(entry.checked_at)}</td>",
        f"<td>{escape(versions)}{''.join(f'<br>passed on {escape(v)}' for v in entry.passed_on)}</td>",
        f'<td class="{data_class}">{escape(data)}</td>',
        f"<td>{status}</td>",
    ]
    return f"<tr><td>{cells[0]}</td>{''.join(cells[1:])}</tr>"


def index_html(entries: Sequence[SiteEntry]) -> str:
    rows = "\n".join(_row(entry) for entry in entries)
    standins = [entry for entry in entries if entry.standins]
    notice = ""
    if standins:
        names = ", ".join(escape(entry.title) for entry in standins)
        notice = (
            f'<p class="warn">Stand-in data: {names} ran on data made offline (no network when the '
            "cache was filled), not the real downloads.</p>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lectures</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Lectures</h1>
<p class="lead">Every Python block of every deck below ran and passed before it was published.</p>
{notice}
<table>
<thead><tr><th>Deck</th><th>Slides</th><th>Files</th><th>Blocks</th><th>Checked</th>
<th>Checked against</th><th>Data</th><th>Status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
