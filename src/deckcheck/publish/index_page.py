"""site/index.html: one card per deck (its title slide, what it is about, its files, how it was
checked) and a search over every deck's text. Nothing is fetched from outside the site."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from deckcheck.publish.formats import FORMATS
from deckcheck.publish.manifest import SiteEntry

COLAB = "https://colab.research.google.com/github/{repository}/blob/gh-pages/{file}"
STYLE = """
body { font: 18px/1.5 system-ui, sans-serif; color: #1f2328; background: #fff; }
body { margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
p.lead { color: #59636e; margin-top: 0; }
label.search-label { display: block; margin-top: 1.5rem; font-weight: 600; }
#search { margin: 0.4rem 0 1.5rem; }
ul.decks { list-style: none; padding: 0; margin: 0; }
li.deck { display: flex; gap: 1.5rem; padding: 1.25rem 0; border-bottom: 1px solid #d1d9e0; }
li.deck img { width: 240px; height: 135px; border: 1px solid #d1d9e0; flex: none; }
li.deck .thumb-missing { width: 240px; height: 135px; flex: none; background: #f6f8fa; }
li.deck h2 { font-size: 1.3rem; margin: 0 0 0.3rem; }
li.deck p { margin: 0.2rem 0; }
p.files a { margin-right: 0.8rem; }
p.meta { color: #59636e; font-size: 0.9rem; }
.warn { color: #7d4e00; font-weight: 600; }
.bad { color: #b3261e; font-weight: 600; }
.ok { color: #116329; }
a { color: #0550ae; }
"""
SEARCH = """
<link href="pagefind/pagefind-ui.css" rel="stylesheet">
<script src="pagefind/pagefind-ui.js"></script>
<script>
window.addEventListener("DOMContentLoaded", () => {
  if (location.protocol === "file:") {
    document.getElementById("search").innerHTML = '<p class="lead">Search needs the site served, '
      + 'e.g. <code>python3 -m http.server -d site</code>, then open http://localhost:8000/.</p>';
    return;
  }
  const here = location.pathname.replace(/[^/]*$/, "");
  new PagefindUI({ element: "#search", baseUrl: here, showSubResults: true, showImages: false });
  const input = document.querySelector("#search input");  // named by the visible label above it
  if (input) { input.id = "search-input"; }
});
</script>
"""


def _link(href: str | None, label: str) -> str:
    return f'<a href="{_url(href)}">{escape(label)}</a>' if href else ""


def _url(name: str) -> str:
    """A file name of the site as a link: URL-encoded (a deck named `a#1` is `a%231.html`)."""
    return escape(quote(name))


def _files(entry: SiteEntry, repository: str) -> str:
    links = [_link(entry.files.get(name), row.label) for name, row in FORMATS.items()]
    notebook = entry.files.get("ipynb")
    if repository and notebook:
        colab = COLAB.format(repository=repository, file=quote(notebook))
        links.append(f'<a href="{escape(colab)}">Open in Colab</a>')
    return " ".join(link for link in links if link) or "no files yet"


def _card(entry: SiteEntry, repository: str) -> str:
    title = escape(entry.title)
    heading = _link(entry.files.get("html"), entry.title) or title
    picture = '<div class="thumb-missing"></div>'
    if entry.thumbnail:
        picture = f'<img src="{_url(entry.thumbnail)}" alt="Title slide of {title}" width="240" height="135">'
        if entry.files.get("html"):
            picture = f'<a href="{_url(entry.files["html"])}" tabindex="-1">{picture}</a>'
    versions = ", ".join(f"{name} {version}" for name, version in sorted(entry.versions.items()))
    status = '<span class="ok">published</span>'
    if entry.withheld:
        status = f'<span class="bad">withheld: {escape(entry.withheld)}</span> (last good version shown)'
    data = '<span class="ok">no stand-in data</span>'
    if entry.standins:
        data = f'<span class="warn">stand-in data: {escape(", ".join(entry.standins))}</span>'
    checked = f"{entry.passed} blocks passed, {entry.skipped} skipped"
    if entry.checked_at:
        checked += f" on {escape(entry.checked_at)}"
    if versions:
        checked += f" against {escape(versions)}"
    passed_on = "".join(f"<br>passed on {escape(version)}" for version in entry.passed_on)
    description = f"<p>{escape(entry.description)}</p>" if entry.description else ""
    return f"""<li class="deck">
{picture}
<div>
<h2>{heading}</h2>
{description}
<p class="files">{_files(entry, repository)}</p>
<p class="meta">{entry.slides} slides · {checked} · {data} · {status}{passed_on}</p>
</div>
</li>"""


def index_html(entries: Sequence[SiteEntry], search: bool = False, repository: str = "") -> str:
    cards = "\n".join(_card(entry, repository) for entry in entries)
    standins = [entry for entry in entries if entry.standins]
    notice = ""
    if standins:
        names = ", ".join(escape(entry.title) for entry in standins)
        notice = (
            f'<p class="warn">Stand-in data: {names} ran on data made offline (no network when the '
            "cache was filled), not the real downloads.</p>"
        )
    search_box = ""
    if search:
        search_box = '<label for="search-input" class="search-label">Search every slide</label><div id="search" role="search"></div>'  # noqa: E501
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lectures</title>
<style>{STYLE}</style>{SEARCH if search else ""}
</head>
<body>
<main>
<h1>Lectures</h1>
<p class="lead">Every Python block of every deck below ran and passed before it was published.</p>
{notice}
{search_box}
<ul class="decks">
{cards}
</ul>
</main>
</body>
</html>
"""
