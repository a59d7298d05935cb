"""`deckcheck build`: real marp-cli, real headless Chromium, real PDFs."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import shutil
import subprocess
import threading
import time
import uuid
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from helpers import (
    DECKCHECK,
    FIXTURES,
    ROOT,
    Run,
    deckcheck,
    env_for,
    notebook_differences,
    search,
    site_page,
)
from pypdf import PdfReader

from deckcheck.publish.accessibility import AXE
from deckcheck.publish.fit import browser
from deckcheck.publish.marp import browser_path

SITE_FIXTURES = FIXTURES / "site"
EXPECTED_SLIDES = {"deck-a": 4, "deck-b": 2, "deck-c": 1}
FILES = ("{}.html", "{}.pdf", "{}-handout.pdf", "{}.ipynb")
NOTES = {
    "deck-a": {
        2: "A speaker note on the second slide.",
        4: "The three figures come from the check's own run.",
    }
}

pytestmark = pytest.mark.skipif(browser_path() is None, reason="needs Chromium (make installs it)")


def build(decks: Path, site: Path, cache: Path, *args: str) -> Run:
    return deckcheck("build", str(decks), "--site", str(site), *args, cwd=ROOT, cache=cache, timeout=300)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    work = tmp_path_factory.mktemp("build")
    shutil.copytree(SITE_FIXTURES, work / "decks")
    run = build(work / "decks", work / "site", work / "cache")
    return work / "site", run


def test_every_passing_deck_is_published_with_an_index(built) -> None:
    site, run = built
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.last_line == "7 passed, 0 failed, 0 skipped"
    index = (site / "index.html").read_text()
    for stem in EXPECTED_SLIDES:
        for name in (pattern.format(stem) for pattern in FILES):
            assert (site / name).is_file() and f'href="{name}"' in index, name
    assert "Fixture A" in index and "torch " in index
    assert "A deck that carries an image, math, hidden set-up and figures." in index
    thumbnails = re.findall(
        r'<img src="(assets/[0-9a-f]{16}-deck-a-title.png)" alt="Title slide of Fixture A"', index
    )
    assert len(thumbnails) == 1 and (site / thumbnails[0]).is_file()
    assert '<html lang="en">' in (site / "deck-a.html").read_text()
    assert list((site / "assets" / "katex").glob("KaTeX_Main-Regular.*")), "KaTeX's fonts were not copied"


def test_pdfs_have_a_page_per_slide_an_outline_and_the_notes(built) -> None:
    site, _ = built
    for stem, slides in EXPECTED_SLIDES.items():
        pdf = PdfReader(site / f"{stem}.pdf")
        assert len(pdf.pages) == slides
    pdf = PdfReader(site / "deck-a.pdf")
    assert pdf.outline, "no outline"
    notes = [a.get_object() for page in pdf.pages for a in page.get("/Annots", [])]
    assert any("speaker note on the second slide" in str(note.get("/Contents", "")) for note in notes)


def test_hidden_blocks_are_not_shown_and_outputs_are(built) -> None:
    site, _ = built
    html = (site / "deck-a.html").read_text()
    text = "".join(page.extract_text() for page in PdfReader(site / "deck-a.pdf").pages)
    for rendered in (html, text):
        assert "secret_setup_value = 41" not in rendered
        assert "the answer is 42" in rendered
    figures = re.findall(r'<img class="figure" src="assets/[0-9a-f]{16}-figure.png" alt="([^"]*)"', html)
    assert figures == ["n squared against n", "A falling line", "A rising line, drawn without labels"]
    assert 'class="callout callout-note"' in html and "[!NOTE]" not in html
    assert "tags=" not in html


class References(HTMLParser):
    """Every resource a page loads: src, stylesheet and icon hrefs, srcset, CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if values.get("src"):
            self.found.append(values["src"])
        if tag == "link" and values.get("href"):
            self.found.append(values["href"])
        for candidate in (values.get("srcset") or "").split(","):
            if candidate.strip():
                self.found.append(candidate.split()[0])
        for url in re.findall(r"url\(['\"]?([^'\")]+)", values.get("style") or ""):
            self.found.append(url)


def test_the_site_is_self_contained(built) -> None:
    site, _ = built
    checked = 0
    for page in site.glob("*.html"):
        text = page.read_text()
        parser = References()
        parser.feed(text)
        references = parser.found + re.findall(r"url\(['\"]?([^'\")]+)", text)
        for reference in references:
            if reference.startswith(("data:", "#")):
                continue
            parsed = urlparse(reference)
            assert not parsed.scheme and not parsed.netloc, f"{page.name} loads {reference}"
            target = (site / unquote(parsed.path)).resolve()
            assert target.is_relative_to(site.resolve()) and target.exists(), f"{page.name}: {reference}"
            checked += 1
    assert checked >= 2  # at least deck A's image and figure were looked at


def test_pages_load_in_chromium_with_every_image_and_no_errors(built) -> None:
    site, _ = built
    with browser(browser_path()) as chromium:
        for stem, slides in EXPECTED_SLIDES.items():
            page = chromium.new_page()
            errors: list[str] = []
            page.on("console", lambda msg, errors=errors: msg.type == "error" and errors.append(msg.text))
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.on("requestfailed", lambda request, errors=errors: errors.append(request.url))
            page.goto((site / f"{stem}.html").as_uri(), wait_until="load")
            assert page.evaluate("document.querySelectorAll('svg[data-marpit-svg]').length") == slides
            images = page.evaluate("[...document.images].map(i => [i.src, i.complete && i.naturalWidth > 0])")
            assert all(ok for _, ok in images), images
            if stem == "deck-a":
                assert len(images) == 4  # the diagram and the three figures
            assert errors == []
            page.close()


def test_a_failing_deck_keeps_its_files_and_the_others_republish(tmp_path: Path) -> None:
    shutil.copytree(SITE_FIXTURES, tmp_path / "decks")
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert build(tmp_path / "decks", site, cache).returncode == 0
    before = {name: digest(site / name) for name in (pattern.format("deck-a") for pattern in FILES)}

    deck_a = tmp_path / "decks" / "deck-a.md"
    deck_a.write_text(
        deck_a.read_text().replace("answer = secret_setup_value + 1", "answer = undefined_name")
    )
    deck_b = tmp_path / "decks" / "deck-b.md"
    deck_b.write_text(deck_b.read_text().replace("Version one", "Version two"))
    run = build(tmp_path / "decks", site, cache)

    assert run.returncode == 1
    assert any(line.startswith("withheld: ") and "deck-a.md" in line for line in run.lines)
    assert {name: digest(site / name) for name in before} == before
    assert "Version two" in (site / "deck-b.html").read_text()
    assert "withheld" in (site / "index.html").read_text()


def test_two_builds_at_once_both_succeed_and_readers_never_see_a_torn_site(tmp_path: Path) -> None:
    shutil.copytree(SITE_FIXTURES, tmp_path / "decks")
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert build(tmp_path / "decks", site, cache, "--formats", "html,pdf").returncode == 0  # warm the cache
    torn: list[str] = []
    stop = threading.Event()

    def read_site() -> None:
        while not stop.is_set():
            for name in ("index.html", "deck-a.html", "deck-b.html"):
                try:
                    text = (site / name).read_text()
                except FileNotFoundError:
                    torn.append(f"{name} missing")
                    continue
                if not text.rstrip().endswith("</html>"):
                    torn.append(f"{name} half-written")

    reader = threading.Thread(target=read_site)
    reader.start()
    processes = [
        subprocess.Popen(
            [*DECKCHECK, "build", str(tmp_path / "decks"), "--site", str(site), "--formats", "html,pdf"],
            cwd=ROOT,
            env=env_for(cache, uuid.uuid4().hex),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    time.sleep(0.2)
    stop.set()
    reader.join()
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert torn == []
    assert not list(site.glob(".staging-*"))


def test_an_overflowing_slide_is_a_warning_or_with_strict_an_error(tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    shutil.copy(SITE_FIXTURES / "images" / "line.png", decks / "line.png")
    words = "word " * 500
    hidden = "\n".join(f"h{i} = {i}" for i in range(20))
    shown = "\n".join(f"s{i} = {i}" for i in range(14))
    wide = "x = " + " + ".join(["1"] * 60)
    (decks / "long.md").write_text(
        f"---\ntheme: deckcheck\n---\n\n# Fine\n\n---\n\n## Too much\n\n{words}\n\n---\n\n"
        f'## Too long\n\n```python tags=["remove-cell"]\n{hidden}\n```\n\n```python\n{shown}\n```\n\n---\n\n'
        f"## Too wide\n\n```python\n{wide}\n```\n\n---\n\n## Hard to see\n\n"
        "<style scoped>p { color: #eee; }</style>\n\npale text\n\n![w:200](line.png)\n"
    )
    site, cache = tmp_path / "site", tmp_path / "cache"
    run = build(decks, site, cache, "--formats", "html,handout", "--handout-layout", "1")
    assert run.returncode == 0
    assert f"{decks / 'long.md'}:9: slide 2: content overflows the slide" in run.lines
    assert f"{decks / 'long.md'}:40: slide 3: 14 lines of code shown" in run.lines  # not the hidden block
    assert sum(": 14 lines of code shown" in line or "lines of code shown" in line for line in run.lines) == 1
    assert any(
        line.startswith(f"{decks / 'long.md'}:") and "slide 4: code shrunk to" in line for line in run.lines
    )
    long = decks / "long.md"
    assert f"{long}:73: slide 5: image without alt text: line.png" in run.lines
    contrast = [line for line in run.lines if line.startswith(f"{long}:67: slide 5: accessibility: ")]
    assert contrast and "color-contrast, serious" in contrast[0]
    assert len(PdfReader(site / "long-handout.pdf").pages) == 5  # one slide a page
    strict = build(decks, tmp_path / "strict-site", cache, "--formats", "html", "--strict")
    assert strict.returncode == 1
    assert not (tmp_path / "strict-site" / "long.html").exists()


def _words(text: str) -> str:
    return " ".join(text.split())


def test_handouts_have_three_slides_a_page_their_notes_a_footer_and_an_outline(built) -> None:
    site, _ = built
    torch = metadata.version("torch")
    for stem, slides in EXPECTED_SLIDES.items():
        pdf = PdfReader(site / f"{stem}-handout.pdf")
        assert len(pdf.pages) == math.ceil(slides / 3)
        for page in pdf.pages:
            assert f"checked against torch {torch}, torchvision " in _words(page.extract_text())
        for slide, note in NOTES.get(stem, {}).items():
            assert note in _words(pdf.pages[(slide - 1) // 3].extract_text()), (stem, slide)
    pdf = PdfReader(site / "deck-a-handout.pdf")
    assert pdf.outline[0].title == "Fixture A"
    assert [item.title for item in pdf.outline[1]] == [
        "An image and math",
        "Hidden set-up",
        "Output on the slide",
    ]
    assert "answer = secret_setup_value + 1" in pdf.pages[0].extract_text()  # slides are text, not pictures


def test_notebooks_carry_the_checks_outputs_and_run_alone_with_the_same(built) -> None:
    site, _ = built
    notebook = nbformat.read(site / "deck-a.ipynb", 4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert [cell.metadata.get("tags", []) for cell in code] == [["remove-cell"], [], [], ["remove-cell"], []]
    assert code[2].outputs[0]["text"] == "the answer is 42\n"
    assert [output.output_type for output in code[2].outputs] == ["stream", "display_data"]
    assert "speaker note" not in prose and "<!--" not in prose and "marp:" not in prose and "---" not in prose
    image = re.search(r"!\[A straight line rising to the right\]\(attachment:([^)]+)\)", prose)
    assert image
    [cell] = [cell for cell in notebook.cells if image[0] in cell.source]
    attached = base64.b64decode(cell.attachments[image[1]]["image/png"])
    assert attached == (site / "assets" / image[1]).read_bytes()  # the site's image, inside the notebook
    session = [cell for cell in nbformat.read(site / "deck-b.ipynb", 4).cells if cell.cell_type == "code"][1:]
    assert [cell.source for cell in session] == ["value * 10", 'print("twice", value * 2)', "[1, 2][5]"]
    assert [cell.outputs[0].get("text") or cell.outputs[0]["ename"] for cell in session] == [
        "40\n",
        "twice 8\n",
        "IndexError",
    ]  # a doctest session: a cell per example, with what it printed
    assert session[2].metadata["tags"] == ["raises-exception"]
    env = env_for(site.parent / "cache", uuid.uuid4().hex)
    for stem in EXPECTED_SLIDES:
        assert notebook_differences(site / f"{stem}.ipynb", site.parent / "decks", env) == []


def test_no_image_in_the_site_has_an_alt_text_that_says_nothing(built) -> None:
    site, run = built
    generic = {"", "figure", "image", "img"}
    checked = 0
    for page in site.glob("*.html"):
        for tag in re.findall(r"<img\b[^>]*>", page.read_text()):
            alt = re.search(r'\balt="([^"]*)"', tag)
            src = re.search(r'\bsrc="([^"]*)"', tag)
            assert alt and src, f"{page.name}: {tag}"
            assert alt[1].strip().lower() not in generic | {Path(src[1]).name.lower()}, f"{page.name}: {tag}"
            checked += 1
    assert checked >= 7  # deck A's image and three figures, the index's three title slides
    problems = [line for line in run.lines if not line.startswith("build: ")]  # not the stage lines
    assert not [line for line in problems if "accessibility" in line or "alt text" in line], run.stdout


def test_a_word_on_one_slide_is_found_by_the_sites_search(built) -> None:
    site, _ = built

    with site_page(site) as page:
        links = search(page, "Version")
        page.add_script_tag(path=str(ROOT / AXE))
        violations = page.evaluate("axe.run().then(r => r.violations.map(v => [v.id, v.impact]))")
    assert links == ["/deck-b.html#2"]
    assert [v for v in violations if v[1] in ("serious", "critical")] == []  # the search box's too


def test_pptx_is_a_format_off_by_default_with_a_slide_per_slide_and_the_notes(tmp_path: Path) -> None:
    import zipfile

    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "talk.md").write_text(
        "---\nmarp: true\n---\n\n# One\n\n<!-- Say one. -->\n\n---\n\n# Two\n\n```python\nprint(2)\n```\n"
    )
    run = build(decks, tmp_path / "site", tmp_path / "cache", "--formats", "html,pptx")
    assert run.returncode == 0, run.stdout + run.stderr
    with zipfile.ZipFile(tmp_path / "site" / "talk.pptx") as pptx:
        names = pptx.namelist()
        assert len([n for n in names if n.startswith("ppt/slides/slide") and n.endswith(".xml")]) == 2
        notes = [
            pptx.read(n).decode() for n in names if n.startswith("ppt/notesSlides/") and n.endswith(".xml")
        ]
    assert any("Say one." in text for text in notes)
    assert 'href="talk.pptx">PowerPoint</a>' in (tmp_path / "site" / "index.html").read_text()
