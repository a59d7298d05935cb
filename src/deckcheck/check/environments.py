"""Matrix environments: a SPEC's pip requirements installed beside the project's environment.

An environment is a venv in CACHE/matrix/HASH whose own site-packages come before the
project's (a .pth file adds those after its own). pip installs into it what the SPEC needs,
together with the project's requirements, so only what must change is installed: the
project's other packages are used at the versions they have, or resolved anew where the SPEC
demands it; the project's environment itself is never touched (pip leaves what is outside
the venv alone). This machine's pip configuration holds for those installs except its
constraint files, which would cap the very versions a SPEC asks for. `current` is the
project's own environment. An environment is made once and reused; so is pip's verdict that
a SPEC cannot be installed, until --no-cache asks again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

from deckcheck.atomic import write_atomic
from deckcheck.check import runtime
from deckcheck.errors import UsageError

CURRENT = "current"
READY = "deckcheck-env.json"  # written last: the environment is complete
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
ERROR_LINE = re.compile(r"^ERROR: (.+)$", re.M)
FROM_VERSIONS = re.compile(r" \(from versions: [^)]*\)")


@dataclass(frozen=True)
class Environment:
    """Where a matrix run's kernels run: an interpreter and the folders of its packages."""

    spec: str  # as the user wrote it
    python: str = ""  # the kernels' interpreter; "" for this one (CURRENT)
    folders: tuple[str, ...] = ()  # its site-packages, the first first; () for this interpreter's
    names: tuple[str, ...] = ()  # the distributions the SPEC names
    folder: str = ""  # the venv; "" for CURRENT
    setup_seconds: float = 0.0  # how long making it took
    reused: bool = False  # made by an earlier run

    def fingerprint(self) -> dict[str, str]:
        """What the result cache keys this environment's results on."""
        found = runtime.runtime_fingerprint(self.folders)
        return {**found, "environment": " ".join(sorted(requirements(self.spec)))} if self.folder else found

    def versions(self) -> dict[str, str]:
        return runtime.versions(self.names, self.folders)


class NotInstallable(Exception):
    """pip could not install a SPEC; the message is pip's reason, in one line."""


def requirements(spec: str) -> list[str]:
    """The requirements of a SPEC, separated by spaces; none for `current`."""
    return [] if spec.strip() == CURRENT else spec.split()


def check_spec(spec: str) -> str:
    """A SPEC as the command line takes it; UsageError for one that is no list of requirements."""
    wanted = requirements(spec)
    if spec.strip() != CURRENT and not wanted:
        raise UsageError("--with needs pip requirements, like --with 'torch==2.6.0 torchvision==0.21.0'")
    for requirement in wanted:
        if not NAME.match(requirement) or requirement.startswith("-"):
            raise UsageError(f"--with {spec!r}: {requirement!r} is not a pip requirement")
    return spec


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    found = NAME.match(requirement)
    return found.group(1) if found else requirement


def project_requirements(start: Path) -> list[str]:
    """[project].dependencies of the nearest pyproject.toml at or above `start`."""
    for folder in (start.absolute(), *start.absolute().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return []
            found = data.get("project", {}).get("dependencies", [])
            return [str(item) for item in found] if isinstance(found, list) else []
    return []


def environment(
    spec: str,
    matrix: Path,
    project: Sequence[str],
    again: bool = False,
    making: Callable[[str], None] = lambda folder: None,
) -> Environment:
    """The environment for a SPEC, made now (`making` is told where) if no earlier run made it;
    NotInstallable says why not. `again`: ask pip again about a SPEC it could not install before."""
    wanted = requirements(spec)
    if not wanted:
        return Environment(spec)
    names = tuple(_name(requirement) for requirement in wanted)
    named = {canonical(name) for name in names}
    kept = [requirement for requirement in project if canonical(_name(requirement)) not in named]
    base = runtime.site_dirs()
    material = {"spec": sorted(wanted), "project": kept, "python": sys.version, "base": base}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]
    folder = matrix / digest
    with _locked(matrix / f"{digest}.lock"):
        verdict = matrix / f"{digest}.not-installable"
        if verdict.is_file() and not again:
            raise NotInstallable(verdict.read_text("utf-8").strip())
        ready = _ready(folder)
        if ready is None:
            making(str(folder))
            try:
                ready = _make(folder, [*wanted, *kept], base)
            except NotInstallable as error:
                write_atomic(verdict, f"{error}\n")
                raise
            verdict.unlink(missing_ok=True)
            reused = False
        else:
            reused = True
    own = _site_dir(folder)
    _link_base(own, base)  # this deckcheck and the project's packages, wherever they are now
    return Environment(spec, str(folder / "bin" / "python"), (own, *base), names, str(folder), ready, reused)


def _ready(folder: Path) -> float | None:
    """How long the environment took to make, if it is complete."""
    try:
        return float(json.loads((folder / READY).read_text("utf-8"))["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _make(folder: Path, wanted: list[str], base: tuple[str, ...]) -> float:
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)  # an earlier attempt, cut short
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    _link_base(_site_dir(folder), base)
    command = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input", *wanted]
    with _terminate_as_interrupt():  # subprocess.run stops pip on the way out
        done = subprocess.run(
            command, env=pip_environment(), capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise NotInstallable(pip_reason(done.stderr or done.stdout, done.returncode))
    seconds = time.monotonic() - started
    record = {"seconds": round(seconds, 1), "requirements": wanted}
    write_atomic(folder / READY, json.dumps(record, indent=2))
    return seconds


def _site_dir(folder: Path) -> str:
    scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    return sysconfig.get_path("purelib", scheme, vars={"base": str(folder), "platbase": str(folder)})


def _link_base(own: str, base: tuple[str, ...]) -> None:
    """After the environment's own packages: this deckcheck, then the project's packages (with
    their own .pth files: an editable install is one)."""
    import deckcheck

    lines = [str(Path(deckcheck.__file__).parent.parent)]
    lines += [f"import site; site.addsitedir({folder!r})" for folder in base]
    text = "\n".join(lines) + "\n"
    path = Path(own) / "_deckcheck_project.pth"
    with contextlib.suppress(OSError):
        if path.read_text("utf-8") == text:
            return
    write_atomic(path, text)


def pip_environment() -> dict[str, str]:
    """This machine's pip settings (indexes, find-links, certificates) without its constraint
    files: the config files are read here, and passed on as PIP_* variables, and pip is told
    to read none (PIP_CONFIG_FILE=/dev/null)."""
    env = dict(os.environ)
    env.pop("PIP_CONSTRAINT", None)
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    for line in listed.splitlines():
        match = re.match(r"^(global|install)\.([\w-]+)='(.*)'$", line)
        if match and match.group(2) != "constraint":
            env.setdefault("PIP_" + match.group(2).upper().replace("-", "_"), match.group(3))
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip_reason(output: str, status: int) -> str:
    """pip's reason for failing, in one line: its first ERROR line that is not a note about
    versions for other Pythons."""
    errors = [line for line in ERROR_LINE.findall(output) if not line.startswith("Ignored the following")]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not errors or errors[0].strip() == "Exception:":  # pip itself failed: its traceback's last line
        if not lines:
            return f"pip exited with status {status}"
        kind, _, message = lines[-1].partition(": ")
        return f"{kind.rsplit('.', 1)[-1]}: {message}"[:300] if message else lines[-1][:300]
    return FROM_VERSIONS.sub("", errors[0]).strip()[:300]


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt meanwhile, so that no pip outlives the command."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process makes an environment; another that wants it waits, then reuses it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
