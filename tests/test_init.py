"""deckcheck for any course: `deckcheck init`, what the package carries, where marp-cli comes
from, and the CI workflow (ours and the one init writes) linted with actionlint.

The full run in a new course (`make`, `make test` there, a fresh .venv) is `make course-check`
(scripts/course_check.sh), not part of `make test`: it installs torch into a new venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, deckcheck

from deckcheck.commands.init import FILES, with_browser
from deckcheck.commands.workflow_lint import lint
from deckcheck.publish import marp
from deckcheck.read.project import project_root

WORKFLOW = ROOT / ".github" / "workflows" / "decks.yml"
needs_actionlint = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir(),
    reason="needs Node and npm ci (make installs both)",
)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "my course"
    run = deckcheck("init", str(folder), "--requirement", "deckcheck @ file:///src/deck#check", cwd=ROOT,
                    cache=folder.parent / "cache")  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "make" in run.stdout
    return folder


def test_init_writes_a_whole_course(course: Path) -> None:
    written = sorted(str(p.relative_to(course)) for p in course.rglob("*") if p.is_file())
    assert written == sorted([file.target for file in FILES] + ["images/.gitkeep"])
    makefile = (course / "Makefile").read_text()
    # with the browser extra that `build` needs; make reads # as a comment
    assert r"DECKCHECK_SPEC ?= deckcheck[browser] @ file:///src/deck\#check" in makefile
    ours = (ROOT / "Makefile").read_text()
    for target in ("all", "setup", "python", "node", "browser", "data", "check", "build", "html", "pdf",
                   "serve", "test", "lint", "assemble", "clean"):  # fmt: skip
        assert f"\n{target}:" in makefile and f"\n{target}:" in ours, target
    assert "TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1" in makefile
    package = json.loads((course / "package.json").read_text())
    lock = json.loads((course / "package-lock.json").read_text())
    assert package["name"] == lock["name"] == lock["packages"][""]["name"] == "my-course"
    assert package["devDependencies"] == json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert lock["packages"]["node_modules/@marp-team/marp-cli"]["version"] == marp.pinned_version(ROOT)
    assert (course / ".github/workflows/decks.yml").read_text() == WORKFLOW.read_text()
    assert os.access(course / "scripts/ensure-browser.sh", os.X_OK)
    assert "[tool.deckcheck]" in (course / "pyproject.toml").read_text()
    # the lectures' stack is the course's requirement, installed beside deckcheck (which needs none of it)
    assert (course / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    assert "-r requirements.txt" in makefile


@pytest.mark.parametrize(
    ("given", "installed"),
    [
        ("deckcheck", "deckcheck[browser]"),
        ("deckcheck==0.1.0", "deckcheck[browser]==0.1.0"),
        ("deckcheck[dev] @ file:///src/deckcheck", "deckcheck[dev,browser] @ file:///src/deckcheck"),
        ("../deckcheck", "../deckcheck[browser]"),
        (
            "git+https://example.org/deckcheck@abc",
            "deckcheck[browser] @ git+https://example.org/deckcheck@abc",
        ),
    ],
)
def test_the_course_installs_deckcheck_with_the_browser_extra(given: str, installed: str) -> None:
    assert with_browser(given) == installed


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    run = deckcheck("init", str(tmp_path), cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 2 and "not empty" in run.stderr and not (tmp_path / "Makefile").exists()
    run = deckcheck("init", str(tmp_path), "--force", cwd=tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 0 and (tmp_path / "Makefile").is_file()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (
        "DECKCHECK_SPEC ?= deckcheck[browser]" in (tmp_path / "Makefile").read_text()
    )  # where this one came from


def test_the_example_deck_passes(course: Path) -> None:
    run = deckcheck("check", "slides", cwd=course, cache=course.parent / "cache", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.last_line.endswith("0 failed, 0 skipped") and not run.last_line.startswith("0 passed")


@needs_actionlint
def test_actionlint_finds_nothing_in_either_workflow(course: Path) -> None:
    assert lint([WORKFLOW, course / ".github/workflows/decks.yml"], ROOT) == (0, "")
    broken = course / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.x }}\n"
    )
    status, output = lint([broken], ROOT)
    assert status == 1 and f"{broken}:6:" in output and "[expression]" in output


ZIZMOR = shutil.which("zizmor", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(ZIZMOR is None, reason="zizmor is not installed (it is in the dev extras)")
def test_zizmor_finds_nothing_in_the_workflow() -> None:
    assert ZIZMOR is not None
    done = subprocess.run([ZIZMOR, "--offline", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sdist_and_wheel_carry_what_check_build_and_serve_need(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT, tree, symlinks=True,
        ignore=shutil.ignore_patterns(".git", "node_modules", ".cache", ".venv", "site", "build", "*.egg-info"),
    )  # fmt: skip
    script = "from setuptools import build_meta as b; print(b.build_sdist('dist'))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tree, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sdist = tree / "dist" / done.stdout.split()[-1]
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    unpacked = next((tmp_path / "unpacked").iterdir())
    script = "from setuptools import build_meta as b; print(b.build_wheel('wheels'))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=unpacked, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = zipfile.ZipFile(unpacked / "wheels" / done.stdout.split()[-1])
    names = set(wheel.namelist())
    for name in ("assets/themes/deckcheck.css", "assets/marp/render.mjs", "assets/marp/alerts.mjs",
                 "assets/marp.config.mjs", "assets/measure_overflow.js", "assets/lint_workflows.cjs",
                 *(f"course/{file.template}" for file in FILES)):  # fmt: skip
        assert f"deckcheck/{name}" in names, name
    assert wheel.read("deckcheck/assets/themes/deckcheck.css") == (ROOT / "themes/deckcheck.css").read_bytes()
    assert wheel.read("deckcheck/course/package-lock.json") == (ROOT / "package-lock.json").read_bytes()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "[pytest11]\ndeckcheck = deckcheck.commands.pytest_plugin" in wheel.read(entry_points).decode()


def test_a_course_without_its_own_styling_renders_with_the_packaged_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert project_root(tmp_path) is None
    packaged = marp.styling(tmp_path)
    assert packaged.config == marp.ASSETS / "marp.config.mjs" and packaged.themes is None
    assert marp.ASSETS / "themes" / "deckcheck.css" in packaged.files()
    (tmp_path / "themes").mkdir()
    assert marp.styling(tmp_path).themes == tmp_path / "themes"
    (tmp_path / "marp.config.mjs").write_text("export default {}\n")
    assert marp.styling(tmp_path) == marp.Styling(tmp_path / "marp.config.mjs", None)
    assert project_root(tmp_path) == tmp_path


def test_marp_cli_comes_from_node_modules_then_path_then_npx(tmp_path: Path, monkeypatch) -> None:
    if shutil.which("node") is None or not (ROOT / "node_modules" / marp.PACKAGE).is_dir():
        pytest.skip("needs Node and npm ci (make installs both)")
    node = Path(shutil.which("node")).parent
    assert marp.renderer_command(ROOT)[2] == str(ROOT / "node_modules" / marp.PACKAGE)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "node").symlink_to(node / "node")
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(marp.MarpError, match="no npx"):
        marp.renderer_command(tmp_path)
    (tools / "marp").symlink_to(ROOT / "node_modules" / ".bin" / "marp")
    assert marp.renderer_command(tmp_path)[2] == str((ROOT / "node_modules" / marp.PACKAGE).resolve())
    (tools / "marp").unlink()
    (tools / "npx").symlink_to(shutil.which("npx", path=str(node)) or shutil.which("npx"))
    command = marp.renderer_command(tmp_path)
    assert command[1:3] == ["--yes", f"--package={marp.PACKAGE}@{marp.pinned_version(ROOT)}"]
    assert command[-1] == "-"


def test_build_without_node_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "deck.md").write_text("---\nmarp: true\n---\n\n# A deck\n")
    run = deckcheck("build", "deck.md", cwd=tmp_path, cache=tmp_path / "cache", PATH=str(tmp_path / "empty"))
    problems = [line for line in run.stdout.splitlines() if "Node.js" in line]
    assert run.returncode == 1 and problems == [f"deckcheck: {marp.NO_NODE}"], run.stdout + run.stderr
    run = deckcheck("check", "deck.md", cwd=tmp_path, cache=tmp_path / "cache", PATH=str(tmp_path / "empty"))
    assert run.returncode == 0 and "Node" not in run.stdout + run.stderr
