"""Deck file → Deck: front matter, slides as Marp numbers them, Python blocks, local images."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, partial
from pathlib import Path
from urllib.parse import unquote

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from deckcheck.deck import Block, Deck, DeckSettings, ImageRef, Problem, Slide, source_lines
from deckcheck.read import bounded_yaml
from deckcheck.read.dialects import Layout, SlideNumber, detect, foreign_cell, looks_like_python, unread_fence
from deckcheck.read.fences import OptionError, is_block, is_session, parse_options
from deckcheck.read.inline_values import find_inline
from deckcheck.read.marp_markdown import heading_levels, insert_heading_rulers, marp_parser
from deckcheck.read.notebooks import jupytext_layout, myst_layout
from deckcheck.read.project import course_root
from deckcheck.read.quarto import quarto_layout
from deckcheck.read.revealjs import revealjs_layout
from deckcheck.read.settings import (
    DECK_KEYS,
    ProjectSettings,
    check_values,
    merged,
    project_settings,
    yaml_key_lines,
)
from deckcheck.read.slidev import slidev_layout

SETTINGS_KEY = "deckcheck"

SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#")
HTML_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
HTML_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


@cache
def _markdown() -> MarkdownIt:
    return marp_parser()


def read_deck(path: Path) -> Deck:
    """Read and parse a deck, with the settings of its project (a UsageError when those are
    wrong); a file that cannot be read becomes a deck with one problem."""
    project = project_settings(path.parent)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        return _broken(path, "", Problem(1, 1, f"cannot read {path}: {reason}"))
    return parse_deck(path, data, project)


def parse_deck(path: Path, data: bytes, project: ProjectSettings | None = None) -> Deck:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        text = data.decode("utf-8", errors="replace")
        deck = parse_text(path, text, project)
        problem = Problem(
            line, deck.slide_at(line), f"not UTF-8: invalid byte 0x{byte} (save the file as UTF-8)"
        )
        return _broken(path, text, problem, deck)
    return parse_text(path, text, project)


def _broken(path: Path, text: str, problem: Problem, deck: Deck | None = None) -> Deck:
    return Deck(
        path=path,
        text=text,
        front_matter=deck.front_matter if deck else {},
        slides=deck.slides if deck else (Slide(1, 1, 1),),
        blocks=deck.blocks if deck else (),
        images=deck.images if deck else (),
        problems=(problem,),
    )


def parse_text(path: Path, text: str, project: ProjectSettings | None = None) -> Deck:
    parsed = _markdown().parse(text)
    front_text, front_start = _front_matter_text(text, parsed)
    tokens = insert_heading_rulers(parsed, heading_levels(front_text, parsed))
    front_matter, problems = _read_front_matter(front_text, front_start)
    settings, settings_lines, settings_problems = _settings(
        front_matter, front_text, front_start, tokens, project or ProjectSettings()
    )
    problems.extend(settings_problems)
    lines = source_lines(text)
    fences = [token for token in parsed if token.type == "fence" and token.map]
    dialect = settings.dialect or detect(path, front_matter, (token.info for token in fences), lines)
    if dialect == "marp":
        slides, blocks, images, found = _marp_deck(tokens, lines)
    else:
        slides, blocks, images, found = _other_deck(dialect, parsed, lines, front_matter)
    problems.extend(found)
    problems.extend(_missing_images(path, images))
    lookalike = next((token for token in fences if looks_like_python(token.info)), None)
    line = (lookalike.map or [0])[0] + 1 if lookalike else 0
    if not blocks and lookalike is not None and not any(problem.line == line for problem in found):
        problems.append(Problem(line, _slide_of(slides, line), unread_fence(lookalike.info, dialect)))
    return Deck(
        path=path,
        text=text,
        front_matter=front_matter,
        slides=tuple(slides),
        blocks=tuple(blocks),
        images=tuple(images),
        problems=tuple(problems),
        settings=settings,
        settings_lines=settings_lines,
        front_matter_end=parsed[0].map[1]
        if parsed and parsed[0].type == "front_matter" and parsed[0].map
        else 0,
        dialect=dialect,
        inline=find_inline(text, _code_lines(parsed), partial(_slide_of, slides), blocks),
    )


def _code_lines(tokens: list[Token]) -> Iterator[int]:
    """The 0-based lines that hold code or the front matter, where no inline value is read."""
    for token in tokens:
        if token.type in ("fence", "code_block", "front_matter") and token.map:
            yield from range(*token.map)


Found = tuple[list[Slide], list[Block], list[ImageRef], list[Problem]]


def _marp_deck(tokens: list[Token], lines: list[str]) -> Found:
    """Slides, blocks and images as Marp reads them; another tool's cell is an error."""
    slides = _slides(tokens, len(lines))
    blocks: list[Block] = []
    images: list[ImageRef] = []
    problems: list[Problem] = []
    foreign: list[Problem] = []
    for slide, token in _tokens_with_slides(tokens):
        if token.type == "fence" and (why := foreign_cell(token.info, "marp")) is not None:
            foreign.append(Problem((token.map or [0])[0] + 1, slide, why))
        elif token.type == "fence" and is_block(token.info, token.content):
            block, problem = _block(len(blocks), slide, token)
            blocks.append(block)
            problems.extend([problem] if problem else [])
        else:
            images.extend(_token_images(token, slide, lines))
    return slides, blocks, images, problems + foreign[:1]  # the first says what to do


def _other_deck(dialect: str, tokens: list[Token], lines: list[str], front_matter: dict) -> Found:
    """Slides and blocks as another tool reads them (read/dialects.py), images where they are."""
    layout = _layout(dialect, tokens, lines, front_matter)
    ends = [line - 1 for line, _ in layout.starts[1:]] + [len(lines)]
    slides = [
        Slide(SlideNumber(number, label), start, max(start, end))
        for number, ((start, label), end) in enumerate(zip(layout.starts, ends, strict=True), 1)
    ]
    blocks: list[Block] = []
    problems: list[Problem] = []
    for cell in layout.cells:
        slide = _slide_of(slides, cell.line)
        blocks.append(
            Block(
                index=len(blocks),
                line=cell.line,
                slide=slide,
                code=cell.code,
                info=cell.info,
                options=cell.options,
                end_line=cell.end_line,
                session=is_session(cell.code),
                skip=cell.skip,
            )
        )
        problems.extend([Problem(cell.line, slide, cell.problem)] if cell.problem else [])
    if layout.ignored is not None:
        line, what = layout.ignored
        why = f"warning: ignored {what} and any other option deckcheck does not read in a {dialect} deck"
        problems.append(Problem(line, _slide_of(slides, line), why, fatal=False))
    cell_lines = {cell.line for cell in layout.cells}
    foreign = [
        Problem(token.map[0] + 1, _slide_of(slides, token.map[0] + 1), other)
        for token in tokens
        if token.type == "fence" and token.map and token.map[0] + 1 not in cell_lines
        if (other := foreign_cell(token.info, dialect)) is not None
    ]
    images = [
        image
        for token in tokens
        for image in _token_images(token, _slide_of(slides, (token.map or [0])[0] + 1), lines)
    ]
    return slides, blocks, images, problems + foreign[:1]


def _layout(dialect: str, tokens: list[Token], lines: list[str], front_matter: dict) -> Layout:
    if dialect == "quarto":
        return quarto_layout(tokens, front_matter)
    if dialect == "myst":
        return myst_layout(tokens, lines)
    if dialect == "jupytext":
        return jupytext_layout(tokens, lines)
    if dialect == "slidev":
        return slidev_layout(tokens, lines)
    return revealjs_layout(tokens, lines)


def _slide_of(slides: list[Slide], line: int) -> int:
    return next((slide.number for slide in reversed(slides) if slide.start_line <= line), slides[0].number)


def _token_images(token: Token, slide: int, lines: list[str]) -> Iterator[ImageRef]:
    if token.type == "inline":
        yield from _images(token, slide, lines)
    elif token.type == "html_block":
        yield from _html_images(token.content, token.map, slide, lines)


def _settings(
    front_matter: dict,
    front_text: str | None,
    front_start: int,
    tokens: list[Token],
    project: ProjectSettings,
) -> tuple[DeckSettings, tuple[int, int], list[Problem]]:
    """The deck's settings over its project's: from the front matter's `deckcheck:` key, or
    from a comment on the first slide that holds one (for decks without front matter)."""
    found: list[tuple[object, dict[str, int], int, tuple[int, int]]] = []
    if SETTINGS_KEY in front_matter and front_text is not None:
        keys = yaml_key_lines(front_text, (SETTINGS_KEY,))
        line = front_start + yaml_key_lines(front_text, ()).get(SETTINGS_KEY, 0)
        found.append(
            (front_matter[SETTINGS_KEY], {k: front_start + v for k, v in keys.items()}, line, (0, 0))
        )
    for comment in _first_slide_comments(tokens):
        inner = comment.markup[comment.markup.find("<!--") + 4 : comment.markup.rfind("-->")]
        first = (comment.map or [0])[0] + 1
        try:
            data = bounded_yaml.load(inner)
        except (yaml.YAMLError, RecursionError):
            continue
        if isinstance(data, dict) and SETTINGS_KEY in data:
            keys = {k: first + v for k, v in yaml_key_lines(inner, (SETTINGS_KEY,)).items()}
            span = (first, (comment.map or [0, 1])[1])
            found.append(
                (data[SETTINGS_KEY], keys, first + yaml_key_lines(inner, ()).get(SETTINGS_KEY, 0), span)
            )
    if not found:
        return merged({}, 1, project), (0, 0), []
    mapping, keys, line, span = found[0]
    values, errors = check_values(mapping, DECK_KEYS, keys, line)
    problems = [Problem(where, 1, message) for where, message in errors]
    problems += [
        Problem(other[2], 1, f"deck settings given twice: here and at line {line}; keep one")
        for other in found[1:]
    ]
    return merged(values, keys.get("setup", line), project), span, problems


def _first_slide_comments(tokens: list[Token]) -> list[Token]:
    comments = []
    for token in tokens:
        if _is_ruler(token):
            break
        if token.type == "marpit_comment":
            comments.append(token)
    return comments


def _front_matter_text(text: str, tokens: list[Token]) -> tuple[str | None, int]:
    """The front matter's YAML and the 1-based line it starts at."""
    if not tokens or tokens[0].type != "front_matter" or not tokens[0].map:
        return None, 0
    start, end = tokens[0].map
    lines = source_lines(text)
    closed = bool(tokens[0].meta.get("closed"))
    body = lines[start + 1 : end - 1 if closed else end]
    return "\n".join(body), start + 2


def _read_front_matter(front_text: str | None, first_line: int) -> tuple[dict, list[Problem]]:
    if front_text is None or not front_text.strip():
        return {}, []
    try:
        data = bounded_yaml.load(front_text)
    except bounded_yaml.YAMLTooBig as error:
        return {}, [Problem(first_line + error.line, 1, f"invalid front matter: {error.problem}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return {}, [Problem(line, 1, f"invalid front matter: {reason}")]
    except RecursionError:
        return {}, [Problem(first_line, 1, "invalid front matter: nested too deeply")]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        return {}, [Problem(first_line, 1, f"invalid front matter: expected key: value pairs, got {kind}")]
    return {str(key): value for key, value in data.items()}, []


def _is_ruler(token: Token) -> bool:
    return token.type == "hr" and token.level == 0


def _slides(tokens: list[Token], line_count: int) -> list[Slide]:
    starts = [1]
    for token in tokens:
        if _is_ruler(token) and token.map:
            from_heading = bool(token.meta and token.meta.get("heading_divider"))
            starts.append(token.map[0] + 1 if from_heading else token.map[1] + 1)
    ends = [start - 1 for start in starts[1:]] + [line_count]
    return [
        Slide(number, start, max(start, end))
        for number, (start, end) in enumerate(zip(starts, ends, strict=True), 1)
    ]


def _tokens_with_slides(tokens: list[Token]) -> Iterator[tuple[int, Token]]:
    slide = 1
    for token in tokens:
        if _is_ruler(token):
            slide += 1
        else:
            yield slide, token


def _block(index: int, slide: int, token: Token) -> tuple[Block, Problem | None]:
    start, end = token.map or (0, 1)
    problem = None
    try:
        options = parse_options(token.info)
    except OptionError as error:
        options = parse_options("python")
        problem = Problem(start + 1, slide, str(error))
    block = Block(
        index=index,
        line=start + 1,
        slide=slide,
        code=token.content,
        info=token.info,
        options=options,
        end_line=end,
        session=is_session(token.content),
    )
    return block, problem


def _locate(needle: str, lines: list[str], span: list[int] | None) -> int:
    """The 1-based line within span that mentions needle (the span's first line otherwise)."""
    start, end = span or (0, 1)
    for number in range(start, min(end, len(lines))):
        if needle and needle in lines[number]:
            return number + 1
    return start + 1


def _images(inline: Token, slide: int, lines: list[str]) -> Iterator[ImageRef]:
    for child in inline.children or []:
        if child.type == "image":
            src = str(child.attrGet("src") or "")
            if src and not SCHEME.match(src):
                line = _locate(unquote(src), lines, inline.map)
                if line == (inline.map or [0])[0] + 1:
                    line = _locate(src, lines, inline.map)
                yield ImageRef(src=unquote(src), line=line, slide=slide, alt=child.content, markdown=True)
        elif child.type in ("html_inline",):
            yield from _html_images(child.content, inline.map, slide, lines)


def _html_images(html: str, span: list[int] | None, slide: int, lines: list[str]) -> Iterator[ImageRef]:
    for match in HTML_IMG.finditer(html):
        src = next(group for group in match.groups() if group is not None)
        if src and not SCHEME.match(src):
            tag = html[match.start() : html.find(">", match.end()) + 1 or len(html)]
            alt = HTML_ALT.search(tag)
            text = next((group for group in alt.groups() if group is not None), "") if alt else None
            yield ImageRef(src=unquote(src), line=_locate(src, lines, span), slide=slide, alt=text)


def image_path(deck_folder: Path, src: str) -> Path:
    return deck_folder / src.split("#", 1)[0].split("?", 1)[0]


def _missing_images(path: Path, images: list[ImageRef]) -> list[Problem]:
    problems = []
    root = course_root(path)
    for image in images:
        file = image_path(path.parent, image.src)
        try:
            exists = file.is_file()
            outside = exists and not is_inside(file, root)
        except (OSError, ValueError):
            exists, outside = False, False
        if outside:
            why = f"image {image.src} is outside the course ({root}): only files inside it are published"
            problems.append(Problem(image.line, image.slide, why))
        elif not exists:
            problems.append(Problem(image.line, image.slide, f"missing image {image.src}", fatal=False))
    return problems


def is_inside(file: Path, root: Path) -> bool:
    """Whether the file, its links followed, lies inside the folder (its links followed too)."""
    return file.resolve().is_relative_to(root.resolve())
