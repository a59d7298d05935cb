"""`deckcheck matrix`: a deck against several environments, on a cheap axis that needs no
network: two versions of a tiny library whose wheels the test writes itself (pip installs them
from a local folder), the second without a function the first deprecated. The environments
live in each test's own folder. Each test runs with pip and with uv (when uv is installed),
which make the environments alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import FIXTURES, deckcheck

from deckcheck.check import environments
from deckcheck.check.matrix_passes import passed_on
from deckcheck.publish.index_page import index_html
from deckcheck.publish.manifest import SiteEntry
from deckcheck.read.parser import read_deck

REMOVED = "lecturekit.md:17: slide 2: AttributeError: module 'lecturekit' has no attribute 'product'"
DEPRECATED = (
    "lecturekit.md:17: slide 2: warning: DeprecationWarning: product() is deprecated since lecturekit 1.1; "
    "use prod()"
)
VERSION_1 = """import math, warnings
def prod(values):
    return math.prod(values)
def product(values):
    warnings.warn("product() is deprecated since lecturekit 1.1; use prod()", DeprecationWarning, stacklevel=2)
    return prod(values)
"""
UNPARSED = {  # each installer's reason, in one line
    "pip": "Invalid requirement: 'lecturekit=2'",
    "uv": 'Couldn\'t parse requirement: no such comparison operator "=", must be one of ~= == != <= >= < > ===',
}
VERSION_2 = "import math\ndef prod(values):\n    return math.prod(values)\n"


def write_wheel(folder: Path, version: str, source: str) -> None:
    """A pure-Python wheel of `lecturekit`, as pip expects one (metadata and a RECORD)."""
    info = f"lecturekit-{version}.dist-info"
    files = {
        "lecturekit/__init__.py": source.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: lecturekit\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(folder / f"lecturekit-{version}-py3-none-any.whl", "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)


@pytest.fixture(params=["pip", "uv"])
def installer(request: pytest.FixtureRequest) -> str:
    if request.param == "uv" and environments.installer() is None:
        pytest.skip("uv is not installed (make installs it with the dev extra)")
    return request.param


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "1.1", VERSION_1)
    write_wheel(folder, "2.0", VERSION_2)
    return folder


def matrix(folder: Path, wheels: Path, installer: str, *args: str):
    return deckcheck(
        "matrix", *args, cwd=folder, cache=folder / "cache", timeout=600,
        DECKCHECK_MATRIX=str(folder / "environments"), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
        DECKCHECK_INSTALLER=installer,
    )  # fmt: skip


def test_a_deck_passes_on_one_version_and_fails_on_the_other_at_its_line(
    tmp_path: Path, wheels: Path, installer: str
) -> None:
    shutil.copy(FIXTURES / "matrix" / "lecturekit.md", tmp_path)
    run = matrix(
        tmp_path, wheels, installer, "lecturekit.md", "--with", "lecturekit<2", "--with", "lecturekit>=2"
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.lines == [
        "lecturekit.md: lecturekit<2: ok",
        DEPRECATED,
        "lecturekit.md: lecturekit>=2: FAILED (1 passed, 1 failed, 0 skipped)",
        REMOVED,
        "3 passed, 1 failed, 0 skipped",
    ]
    assert "lecturekit<2: 0 of 1 decks from the result cache" in run.stderr
    made = [
        json.loads(ready.read_text()) for ready in (tmp_path / "environments").glob("*/deckcheck-env.json")
    ]
    assert [record["installer"] for record in made] == [installer, installer]

    # nothing changed: every result comes from the cache, environments reused
    again = matrix(
        tmp_path, wheels, installer, "lecturekit.md", "--with", "lecturekit<2", "--with", "lecturekit>=2"
    )
    assert again.lines == run.lines and again.returncode == 1
    assert "lecturekit<2: 1 of 1 decks from the result cache" in again.stderr
    assert "lecturekit>=2: 1 of 1 decks from the result cache" in again.stderr
    assert "lecturekit<2: environment reused" in again.stderr

    # the site knows what the deck passed on, as long as the deck is unchanged
    deck = read_deck(tmp_path / "lecturekit.md")
    versions = passed_on(tmp_path / "cache", deck)
    assert len(versions) == 1 and versions[0].startswith("lecturekit 1.1") and "torch " in versions[0]
    page = index_html(
        [SiteEntry(deck="lecturekit.md", stem="lecturekit", title="Lecturekit", passed_on=versions)]
    )
    assert f"passed on {versions[0]}" in page
    (tmp_path / "lecturekit.md").write_text(deck.text.replace("lecturekit.product", "lecturekit.prod"))
    assert passed_on(tmp_path / "cache", read_deck(tmp_path / "lecturekit.md")) == []
    (tmp_path / "lecturekit.md").write_text(deck.text)

    # the gate in an environment: version 1's deprecation, as an error, fails that line there too
    strict = matrix(
        tmp_path,
        wheels,
        installer,
        "lecturekit.md",
        "--with",
        "lecturekit<2",
        "-W",
        "error::DeprecationWarning",
    )
    assert strict.returncode == 1
    assert strict.lines == [
        "lecturekit.md: lecturekit<2: FAILED (1 passed, 1 failed, 0 skipped)",
        DEPRECATED.replace(" warning: DeprecationWarning:", " DeprecationWarning:"),
        "1 passed, 1 failed, 0 skipped",
    ]
    assert passed_on(tmp_path / "cache", deck) == []  # its latest run there failed


def test_current_and_a_spec_pip_cannot_install(tmp_path: Path, wheels: Path, installer: str) -> None:
    shutil.copy(FIXTURES / "matrix" / "lecturekit.md", tmp_path)
    run = matrix(tmp_path, wheels, installer, "lecturekit.md", "--with", "current", "--with", "lecturekit=2")
    assert run.returncode == 1
    assert run.lines == [
        "lecturekit.md: current: FAILED (0 passed, 2 failed, 0 skipped)",
        "lecturekit.md:8: slide 1: ModuleNotFoundError: No module named 'lecturekit'",
        "lecturekit.md:17: slide 2: NameError: name 'lecturekit' is not defined (after the failure at line 8)",
        f"lecturekit.md: lecturekit=2: not installable ({UNPARSED[installer]})",
        "0 passed, 2 failed, 0 skipped",
    ]
    usage = matrix(tmp_path, wheels, installer, "lecturekit.md")
    assert usage.returncode == 2 and "--with" in usage.stderr


def test_the_project_requirements_are_its_dependencies_and_the_requirements_file_beside(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "course"\ndependencies = ["rich>=13"]\n')
    (tmp_path / "requirements.txt").write_text(
        "# the lectures\ntorch>=2.6  # CPU is enough\n\n-r more.txt\nnumpy\n"
    )
    (tmp_path / "slides").mkdir()
    assert environments.project_requirements(tmp_path / "slides") == ["rich>=13", "torch>=2.6", "numpy"]
    (tmp_path / "pyproject.toml").write_text("[tool.deckcheck]\n")  # a course: no [project]
    assert environments.project_requirements(tmp_path / "slides") == ["torch>=2.6", "numpy"]
