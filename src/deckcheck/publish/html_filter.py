"""Raw HTML in a deck's prose, filtered as the HTML slides filter it, for the notebook's cells.

marp.config.mjs sets no `html` option, so marp-core (4.4) uses its default allowlist through
js-xss: a tag not on the list is escaped (it shows as text), an attribute not on its tag's list
is dropped, and href/src values with a scheme other than http(s) (src: also data:image/) are
emptied. markdown-it, under it, refuses links to javascript:, vbscript:, file: and data: (bar
data:image/gif|png|jpeg|webp); such a link shows as text. Code (fences, indented code, code
spans) and math are not HTML and are left as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from deckcheck.deck import source_lines_with_ends
from deckcheck.read.marp_markdown import marp_parser

Check = Callable[[str], str]

ALIGN = ("align", "valign")


def _scheme_check(*allowed: str) -> Check:
    def check(value: str) -> str:
        if ":" not in value:
            return value
        lowered = value.strip().lower()
        scheme = lowered.split(":", 1)[0]
        ok = any(scheme == name or (":" in name and lowered.startswith(name)) for name in allowed)
        return value if ok else ""

    return check


LINK = _scheme_check("http", "https")
SOURCE = _scheme_check("http", "https", "data:image/")


def _srcset(value: str) -> str:
    return value if all(SOURCE(part) for part in value.split(",")) else ""


def _dir(value: str) -> str:
    return value.lower() if value.lower() in ("rtl", "ltr", "auto") else ""


GLOBAL_ATTRIBUTES: dict[str, Check | None] = {"class": None, "dir": _dir, "lang": None, "title": None}


def _tag(*plain: str, **checked: Check) -> dict[str, Check | None]:
    return {**GLOBAL_ATTRIBUTES, **dict.fromkeys(plain), **checked}


# marp-core's defaultHTMLAllowList (src/html/allowlist.ts), tag → attribute → value check
PLAIN_TAGS = (  # only the global attributes
    "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "br", "caption", "center",
    "cite", "code", "dd", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "mark", "nav", "p", "picture", "pre", "rp", "rt", "ruby", "s",
    "section", "small", "span", "sub", "summary", "sup", "strong", "strike", "u", "ul", "wbr",
)  # fmt: skip
ALLOWED: dict[str, dict[str, Check | None]] = {
    **{name: _tag() for name in PLAIN_TAGS},
    "a": _tag("name", "rel", "target", href=LINK),
    "audio": _tag("autoplay", "controls", "loop", "muted", "preload", src=LINK),
    "blockquote": _tag(cite=LINK),
    "col": _tag(*ALIGN, "span", "width"),
    "colgroup": _tag(*ALIGN, "span", "width"),
    "del": _tag("datetime", cite=LINK),
    "details": _tag("open"),
    "img": _tag(
        "align", "alt", "decoding", "height", "loading", "title", "width", src=SOURCE, srcset=_srcset
    ),
    "ins": _tag("datetime", cite=LINK),
    "li": _tag("type", "value"),
    "ol": _tag("reversed", "start", "type"),
    "q": _tag(cite=LINK),
    "source": {
        **dict.fromkeys(("height", "media", "sizes", "type", "width")),
        "src": SOURCE,
        "srcset": _srcset,
    },
    "table": _tag("width", "border", *ALIGN),
    "tbody": _tag(*ALIGN),
    "td": _tag("width", "rowspan", "colspan", *ALIGN),
    "tfoot": _tag(*ALIGN),
    "th": _tag("width", "rowspan", "colspan", *ALIGN),
    "thead": _tag(*ALIGN),
    "time": _tag("datetime"),
    "tr": _tag("rowspan", *ALIGN),
    "video": _tag(
        "autoplay",
        "controls",
        "loop",
        "muted",
        "playsinline",
        "preload",
        "height",
        "width",
        src=LINK,
        poster=SOURCE,
    ),
}

# CommonMark's raw HTML and autolinks (what markdown-it, and Jupyter's renderers, read as such)
ATTRIBUTE = re.compile(r"""\s+([A-Za-z_:][\w.:-]*)(?:\s*=\s*([^\s"'=<>`]+|'[^']*'|"[^"]*"))?""")
INLINE = re.compile(
    r"""(?P<escape>\\[\s\S])"""
    r"""|(?P<ticks>`+)"""
    r"""|(?P<autolink><(?P<url>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>)"""
    r"""|(?P<open><(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attributes>(?:"""
    + ATTRIBUTE.pattern
    + r""")*)\s*(?P<slash>/?)>)"""
    r"""|(?P<close></(?P<closing>[A-Za-z][A-Za-z0-9-]*)\s*>)"""
    r"""|(?P<link>\]\()"""
)
REFERENCE = re.compile(r"^( {0,3}\[[^\]]+\]):(?=[ \t]*<?(.*))", re.MULTILINE)
BAD_PROTOCOL = re.compile(r"(?:vbscript|javascript|file|data):", re.IGNORECASE)
GOOD_DATA = re.compile(r"data:image/(?:gif|png|jpeg|webp);", re.IGNORECASE)
VERBATIM = ("fence", "code_block", "marp_math_block")


def filter_html(markdown: str) -> str:
    """Markdown with its raw HTML and link targets filtered as the slides filter them."""
    lines = source_lines_with_ends(markdown)
    kinds = _line_kinds(markdown, len(lines))
    out: list[str] = []
    start = 0
    for index in range(1, len(lines) + 1):
        if index == len(lines) or kinds[index] != kinds[start]:
            out.append(_filter_run("".join(lines[start:index]), kinds[start]))
            start = index
    return "".join(out)


def _line_kinds(markdown: str, count: int) -> list[str]:
    """Each line's kind: "code" (fenced, indented, math), "html" (an HTML block) or "prose"."""
    kinds = ["prose"] * count
    for token in marp_parser().parse(markdown):
        if token.map and (token.type in VERBATIM or token.type == "html_block"):
            kind = "html" if token.type == "html_block" else "code"
            for line in range(*token.map):
                kinds[line] = kind
    return kinds


def _filter_run(text: str, kind: str) -> str:
    if kind == "code":
        return text
    if kind == "html":  # inside an HTML block, backticks are text, not code spans
        return _filter_inline(text, code_spans=False)
    paragraphs = re.split(r"(\n[ \t]*\n)", text)  # no code span crosses a blank line
    return "".join(_filter_inline(_filter_references(part), code_spans=True) for part in paragraphs)


def _filter_references(text: str) -> str:
    return REFERENCE.sub(lambda m: f"{m[1]}&#58;" if _refused_link(m[2]) else m[0], text)


def _filter_inline(text: str, code_spans: bool) -> str:
    out: list[str] = []
    position = 0
    while (match := INLINE.search(text, position)) is not None:
        out.append(text[position : match.start()])
        position = match.end()
        if match["ticks"] is not None:
            closing = re.compile(rf"(?<!`){match['ticks']}(?!`)").search(text, position)
            if code_spans and closing:
                position = closing.end()
            out.append(text[match.start() : position])
        elif match["autolink"] is not None:
            out.append(("&lt;" + match[0][1:]) if _refused_link(match["url"]) else match[0])
        elif match["open"] is not None:
            out.append(_open_tag(match))
        elif match["close"] is not None:
            name = match["closing"].lower()
            out.append(f"</{name}>" if name in ALLOWED else _escaped(match[0]))
        elif match["link"] is not None:
            out.append("]&#40;" if _refused_link(text[position:].lstrip().removeprefix("<")) else "](")
        else:
            out.append(match[0])
    out.append(text[position:])
    return "".join(out)


def _open_tag(match: re.Match[str]) -> str:
    name = match["name"].lower()
    allowed = ALLOWED.get(name)
    if allowed is None:
        return _escaped(match[0])
    kept = []
    for attribute in ATTRIBUTE.finditer(match["attributes"]):
        key = attribute[1].lower()
        if key not in allowed:
            continue
        check = allowed[key]
        value = _friendly(attribute[2] or "")
        value = check(value) if check else value
        kept.append(f'{key}="{html.escape(value)}"' if value else key)
    slash = " /" if match["slash"] else ""
    return f"<{' '.join([name, *kept])}{slash}>"


def _friendly(value: str) -> str:
    """An attribute's value as a browser reads it (js-xss's friendlyAttrValue)."""
    if value[:1] in "'\"" and value[-1:] == value[:1]:
        value = value[1:-1]
    value = html.unescape(value)
    return "".join(" " if ord(char) < 32 else char for char in value).strip()


def _escaped(tag: str) -> str:
    return tag.replace("<", "&lt;").replace(">", "&gt;")


def _refused_link(destination: str) -> bool:
    """markdown-it's validateLink: no javascript:, vbscript:, file:, data: but images."""
    url = html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", destination)).strip()
    return bool(BAD_PROTOCOL.match(url)) and not GOOD_DATA.match(url)
