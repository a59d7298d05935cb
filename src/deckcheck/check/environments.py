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

With uv installed (beside this Python or on PATH; DECKCHECK_INSTALLER=pip or uv chooses), uv
makes the environment instead, with the same pip settings: uv does not see the project's
packages through the .pth file, so it resolves the SPEC and the project's requirements
preferring the versions the project has (`uv pip compile` with them as its earlier output),
then installs, without their dependencies, only the pins that differ.
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

from deckcheck import env_names
from deckcheck.atomic import write_atomic
from deckcheck.check import runtime
from deckcheck.errors import UsageError

CURRENT = "current"
READY = "deckcheck-env.json"  # written last: the environment is complete
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
ERROR_LINE = re.compile(r"^ERROR: (.+)$", re.M)
FROM_VERSIONS = re.compile(r" \(from versions: [^)]*\)")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
# pip's settings as uv reads them (find-links: pip separates by spaces, uv by commas)
UV_SETTINGS = {
    "PIP_INDEX_URL": "UV_INDEX_URL",
    "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS": "UV_FIND_LINKS",
    "PIP_NO_INDEX": "UV_NO_INDEX",
    "PIP_CERT": "SSL_CERT_FILE",
    "PIP_DEFAULT_TIMEOUT": "UV_HTTP_TIMEOUT",
}


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
    """[project].dependencies of the nearest pyproject.toml at or above `start`, then the
    requirements.txt beside it (the lectures' own packages, in a course)."""
    for folder in (start.absolute(), *start.absolute().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                data = {}
            found = data.get("project", {}).get("dependencies", [])
            declared = [str(item) for item in found] if isinstance(found, list) else []
            return declared + _requirements_file(folder / "requirements.txt")
    return []


def _requirements_file(path: Path) -> list[str]:
    """Its requirements, one a line; comments, blank lines and pip's options left out."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = [line.split(" #", 1)[0].strip() for line in lines]
    return [line for line in found if line and not line.startswith(("#", "-"))]


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


def installer() -> str | None:
    """uv's path when uv makes the environments, else None (pip does): DECKCHECK_INSTALLER says
    which, else uv if it is installed beside this Python or on PATH."""
    chosen = os.environ.get(env_names.INSTALLER, "").strip().lower()
    if chosen not in ("", "pip", "uv"):
        raise UsageError(f"{env_names.INSTALLER}={chosen!r}: pip or uv")
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if chosen == "uv" and found is None:
        raise UsageError(f"{env_names.INSTALLER}=uv, but uv is not installed (pip install uv)")
    return None if chosen == "pip" else found


def _make(folder: Path, wanted: list[str], base: tuple[str, ...]) -> float:
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)  # an earlier attempt, cut short
    uv = installer()
    if uv is None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    else:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], check=True)
    _link_base(_site_dir(folder), base)
    try:
        with _terminate_as_interrupt():  # subprocess.run stops pip (or uv) on the way out
            if uv is None:
                _pip_install(folder, wanted)
            else:
                _uv_install(uv, folder, wanted, base)
    except NotInstallable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    seconds = time.monotonic() - started
    record = {
        "seconds": round(seconds, 1),
        "requirements": wanted,
        "installer": "pip" if uv is None else "uv",
    }
    write_atomic(folder / READY, json.dumps(record, indent=2))
    return seconds


def _pip_install(folder: Path, wanted: list[str]) -> None:
    command = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input", *wanted]
    done = subprocess.run(
        command, env=pip_environment(), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise NotInstallable(pip_reason(done.stderr or done.stdout, done.returncode))


def _uv_install(uv: str, folder: Path, wanted: list[str], base: tuple[str, ...]) -> None:
    """Resolve with the project's versions as uv's preferences, then install what differs."""
    python = str(folder / "bin" / "python")
    have = installed_pins(base)
    resolved = folder / "deckcheck-resolved.txt"
    resolved.write_text("".join(f"{canonical(name)}=={version}\n" for name, version in have.items()), "utf-8")
    env = uv_environment()
    command = [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python", python,
               "--output-file", str(resolved), "-"]  # fmt: skip
    done = subprocess.run(command, env=env, input="\n".join(wanted) + "\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise NotInstallable(uv_reason(done.stderr or done.stdout, done.returncode))
    pins = [found.group(0) for line in resolved.read_text("utf-8").splitlines() if (found := PIN.match(line))]
    changed = [pin for pin in pins if have.get(canonical(_name(pin))) != pin.split("==", 1)[1]]
    if not changed:
        return
    command = [uv, "pip", "install", "--quiet", "--no-deps", "--python", python, *changed]
    done = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise NotInstallable(uv_reason(done.stderr or done.stdout, done.returncode))


def installed_pins(folders: Sequence[str]) -> dict[str, str]:
    """The distributions in these folders that an index can serve, by canonical name: version
    (the first folder's wins; editable and local installs are left out)."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions(path=list(folders)):
        name = dist.metadata["Name"]
        if name and dist.read_text("direct_url.json") is None:
            found.setdefault(canonical(name), dist.version)
    return found


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


def uv_environment() -> dict[str, str]:
    """pip's settings (pip_environment) as uv's variables, where the caller set none of uv's own;
    across indexes the best version wins, as with pip (uv's default takes the first index that
    has the package)."""
    env = pip_environment()
    env.pop("UV_CONSTRAINT", None)
    for pip_name, uv_name in UV_SETTINGS.items():
        value = env.get(pip_name)
        if value and uv_name not in env:
            env[uv_name] = ",".join(value.split()) if uv_name == "UV_FIND_LINKS" else value
    if env.get("UV_NO_INDEX", "").lower() in ("0", "false", "no", "off"):
        env.pop("UV_NO_INDEX")
    env.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    return env


def uv_reason(output: str, status: int) -> str:
    """uv's reason for failing, in one line: its error and the first cause under it."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    heads = [i for i, line in enumerate(lines) if line.startswith(("error:", "×"))]
    if not heads:
        return lines[-1][:300] if lines else f"uv exited with status {status}"
    head = lines[heads[0]].removeprefix("error:").removeprefix("×").strip()
    head = re.sub(r" in `-` at position \d+", "", head)  # the requirements come on stdin
    causes = [
        line[len(prefix) :].strip()
        for line in lines[heads[0] + 1 :]
        for prefix in ("cause:", "Caused by:", "╰─▶")
        if line.startswith(prefix)
    ]
    cause = causes[0] if causes else ""
    return (f"{head.rstrip(':')}: {cause}" if cause else head)[:300]


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
