"""The result cache: what invalidates an entry, what does not, and a start that stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import DECKCHECK, deckcheck, env_for

from deckcheck.check import runtime
from deckcheck.check.cache import deck_key
from deckcheck.read.parser import parse_text

DECK = """# Cached

Some prose.

![diagram](diagram.png)

```python
x = 1
```

```python tags=["show-output"]
print(x + 1)
```
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "deck.md").write_text(DECK)
    (tmp_path / "diagram.png").write_bytes(b"first image")
    return tmp_path


def check(project: Path, *args: str):
    return deckcheck("check", "deck.md", *args, cwd=project, cache=project / "cache")


def was_cached(run) -> bool:
    return "deck.md: ok: 2 passed, 0 failed, 0 skipped (cached)" in run.lines


def edit(project: Path, old: str, new: str) -> None:
    deck = project / "deck.md"
    deck.write_text(deck.read_text().replace(old, new))


def test_an_unchanged_deck_is_not_run_again_and_the_report_says_so(project: Path) -> None:
    first = check(project)
    assert first.returncode == 0 and not was_cached(first)
    second = check(project)
    assert second.returncode == 0 and was_cached(second)
    assert second.last_line == "2 passed, 0 failed, 0 skipped"


def test_no_cache_runs_the_deck(project: Path) -> None:
    check(project)
    assert not was_cached(check(project, "--no-cache"))


@pytest.mark.parametrize(
    ("old", "new", "hit"),
    [
        ("Some prose.", "Other prose, **styled**.", True),
        ("# Cached", "# Cached\n\n<!-- _class: lead -->", True),
        ("x = 1", "x = 2", False),
        ('tags=["show-output"]', 'tags=["show-output"] timeout=60', False),
    ],
    ids=["prose", "styling", "block", "option"],
)
def test_what_invalidates_an_entry(project: Path, old: str, new: str, hit: bool) -> None:
    check(project)
    edit(project, old, new)
    assert was_cached(check(project)) is hit


def test_a_changed_image_invalidates_the_entry(project: Path) -> None:
    check(project)
    (project / "diagram.png").write_bytes(b"second image")
    assert not was_cached(check(project))


def test_a_file_the_code_reads_is_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "numbers.txt").write_text("1 2 3")
    text = "# D\n\n```python\ntotal = sum(map(int, open('numbers.txt').read().split()))\n```\n"
    deck = parse_text(tmp_path / "deck.md", text)
    fingerprint = runtime.runtime_fingerprint()
    before = deck_key(deck, fingerprint, {})
    (tmp_path / "numbers.txt").write_text("1 2 4")
    assert deck_key(deck, fingerprint, {}) != before


def test_package_versions_python_standins_and_tool_version_are_part_of_the_key(tmp_path: Path) -> None:
    deck = parse_text(tmp_path / "deck.md", "# D\n\n```python\nx = 1\n```\n")
    fingerprint = runtime.runtime_fingerprint()
    key = deck_key(deck, fingerprint, {})
    for field in ("packages", "python", "deckcheck"):
        assert deck_key(deck, {**fingerprint, field: "something else"}, {}) != key
    assert deck_key(deck, fingerprint, {"/cache/torch/x": "MNIST"}) != key


def test_installing_or_upgrading_a_distribution_changes_the_fingerprint(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "torch-2.14.1.dist-info").mkdir()
    monkeypatch.setattr(runtime.sysconfig, "get_paths", lambda: {"purelib": str(site), "platlib": str(site)})
    before = runtime.installed_fingerprint()
    (site / "torch-2.14.1.dist-info").rename(site / "torch-2.15.0.dist-info")
    assert runtime.installed_fingerprint() != before


def test_entries_are_whole_json_files(project: Path) -> None:
    check(project)
    entries = list((project / "cache" / "results").rglob("*.json"))
    assert len(entries) == 1
    data = json.loads(entries[0].read_text())
    assert [block["status"] for block in data["blocks"]] == ["passed", "passed"]
    assert data["blocks"][1]["output"] == "2\n"
    assert not list((project / "cache").rglob("*.tmp"))


def test_a_failing_deck_is_not_cached(project: Path) -> None:
    edit(project, "x = 1", "x = 1 / 0")
    assert check(project).returncode == 1
    assert not list((project / "cache" / "results").rglob("*.json"))


def test_a_warm_recheck_imports_neither_torch_nor_nbclient(project: Path) -> None:
    check(project)
    probe = (
        "import sys\n"
        "from deckcheck.commands.cli import main\n"
        "status = main(['check', 'deck.md'])\n"
        "heavy = sorted(m for m in ('torch', 'nbclient', 'jupyter_client', 'playwright') if m in sys.modules)\n"
        "print('status', status, 'heavy', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,
        env=env_for(project / "cache", uuid.uuid4().hex),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines()[-1] == "status 0 heavy []", done.stdout + done.stderr
    assert "(cached)" in done.stdout


def test_two_checks_at_once_share_the_cache_safely(project: Path) -> None:
    processes = [
        subprocess.Popen(
            [*DECKCHECK, "check", "deck.md"],
            cwd=project,
            env=env_for(project / "cache", uuid.uuid4().hex),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    assert was_cached(check(project))


def test_a_local_module_that_a_block_imports_is_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("from shapes import square\n")
    (tmp_path / "shapes").mkdir()
    (tmp_path / "shapes" / "__init__.py").write_text("def square(x):\n    return x * x\n")
    (tmp_path / "deck.md").write_text(
        "# D\n\n```python\nfrom helpers import square\nassert square(3) == 9\n```\n"
    )
    first = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert first.returncode == 0, first.stdout
    assert "(cached)" in deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache").lines[-2]
    # a module imported by the imported module changes: the deck runs again, and now fails
    (tmp_path / "shapes" / "__init__.py").write_text("def square(x):\n    return x + x\n")
    again = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache")
    assert again.returncode == 1, again.stdout
    assert again.lines[0] == "deck.md:5: slide 1: AssertionError: assert 6 == 9"


def test_imports_are_read_from_ipython_syntax_too(tmp_path: Path) -> None:
    (tmp_path / "tools.py").write_text("VALUE = 1\n")
    deck = parse_text(tmp_path / "deck.md", "# D\n\n```python\n%time import tools\n>>> x = 1\n```\n")
    before = deck_key(deck, {}, {})
    (tmp_path / "tools.py").write_text("VALUE = 2\n")
    assert deck_key(deck, {}, {}) != before
