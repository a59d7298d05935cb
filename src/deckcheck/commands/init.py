"""`deckcheck init DIR`: a new course, from the files in deckcheck/course/.

The course gets the same two commands as this project (`make`, `make test`), an example deck
that passes, the pinned marp-cli (this project's own package.json and lock), the CI workflow
(this project's own) and a pre-commit configuration. Its requirements.txt is the lectures'
stack (torch, torchvision, NumPy, scikit-learn, matplotlib: this project's own), installed
beside deckcheck, which needs none of it. `DECKCHECK_SPEC` in its Makefile is what it installs
as deckcheck, with the browser extra that `build` needs: `--requirement`, else where this
deckcheck was installed from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from deckcheck import __version__
from deckcheck.errors import UsageError

TEMPLATE = Path(__file__).resolve().parents[1] / "course"


@dataclass(frozen=True)
class CourseFile:
    template: str  # in deckcheck/course/
    target: str  # in the new course
    executable: bool = False


FILES = (
    CourseFile("slides/01-example.md", "slides/01-example.md"),
    CourseFile("Makefile", "Makefile"),
    CourseFile("pyproject.toml", "pyproject.toml"),
    CourseFile("requirements.txt", "requirements.txt"),
    CourseFile("package.json", "package.json"),
    CourseFile("package-lock.json", "package-lock.json"),
    CourseFile("gitignore", ".gitignore"),
    CourseFile("README.md", "README.md"),
    CourseFile("decks.yml", ".github/workflows/decks.yml"),
    CourseFile("pre-commit-config.yaml", ".pre-commit-config.yaml"),
    CourseFile("ensure-browser.sh", "scripts/ensure-browser.sh", executable=True),
)
FOLDERS = ("images",)  # empty, with a .gitkeep so that git keeps them
EXTRA = "browser"  # what `build` needs beside deckcheck itself (Playwright)
NAMED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?(.*)$", re.S)


def installed_requirement() -> str:
    """Where this deckcheck was installed from (a folder, a URL, a VCS commit), as a pip
    requirement; else this version by name."""
    try:
        direct = json.loads(metadata.distribution("deckcheck").read_text("direct_url.json") or "")
    except (metadata.PackageNotFoundError, ValueError):
        return f"deckcheck=={__version__}"
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        url = f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    return f"deckcheck @ {url}" if url else f"deckcheck=={__version__}"


def with_browser(requirement: str) -> str:
    """The requirement with deckcheck's browser extra: `NAME[browser]...` for a name (with a
    version or `@ URL`), `PATH[browser]` for a folder or file, `deckcheck[browser] @ URL` for a URL."""
    text = requirement.strip()
    head = text.split(" @ ")[0]
    if "://" in head:
        return f"deckcheck[{EXTRA}] @ {text}"
    named = NAMED.match(text)
    if named is None or "/" in head or head.startswith((".", "~")):
        return f"{text}[{EXTRA}]"
    name, extras, rest = named.groups()
    wanted = [extra.strip() for extra in (extras or "").split(",") if extra.strip()]
    return f"{name}[{','.join(dict.fromkeys([*wanted, EXTRA]))}]{rest}"


def _make_value(text: str) -> str:
    """A value that make reads back as written: `$` doubled, `#` escaped."""
    return text.replace("$", "$$").replace("#", r"\#")


def _course_name(folder: Path) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", folder.absolute().name.lower()).strip("-._") or "course"


def _package_json(text: str, name: str) -> str:
    data = json.loads(text)
    data["name"] = name
    if "packages" in data and "" in data["packages"]:
        data["packages"][""]["name"] = name
    if "description" in data:
        data["description"] = "Pinned marp-cli for rendering the course's decks"
    return json.dumps(data, indent=2) + "\n"


def _content(file: CourseFile, name: str, requirement: str) -> str:
    text = (TEMPLATE / file.template).read_text("utf-8")
    if file.template.endswith(".json"):
        return _package_json(text, name)
    return text.replace("@DECKCHECK_SPEC@", _make_value(requirement)).replace("@NAME@", name)


def write_course(folder: Path, requirement: str | None = None, force: bool = False) -> list[str]:
    """Write the course's files; refuses a folder with anything in it unless `force` (then the
    course's files are overwritten and nothing else is touched). Returns what to tell the user."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(f"{folder}: the folder is not empty (--force writes the course into it anyway)")
    requirement = with_browser(requirement or installed_requirement())
    name = _course_name(folder)
    for file in FILES:
        target = folder / file.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_content(file, name, requirement), "utf-8")
        if file.executable:
            target.chmod(0o755)
    for empty in FOLDERS:
        (folder / empty).mkdir(parents=True, exist_ok=True)
        (folder / empty / ".gitkeep").touch()
    return [
        f"wrote the course {name} in {folder}: {len(FILES)} files; it installs {requirement}",
        f"next: cd {folder} && make        (then open site/index.html)",
    ]
