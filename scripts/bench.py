"""`make bench`: how much a check costs over running the code, against a peer, warm and cold.

Measures, each as the median of several runs on this machine:
  (a) the floor: the fundamentals deck's executed blocks run as one plain Python script;
  (b) a cold `deckcheck check --no-cache` of that deck;
  (c) a cold check of all decks, and the peer `jupytext --to ipynb --execute` on each in turn;
  (d) the warm re-check of all decks;
  (e) the peak memory of a cold check of all decks: deckcheck and its kernels, summed as
      proportional set size (a page that several processes share counts once overall), with
      the resident set size summed beside it for reference;
  (f) per-deck overhead: a generated course of 30 small decks (scripts/make_course.py), cold,
      with the default jobs and with --jobs 1, against its floor: all 30 decks' code run in one
      warm Python process (torch imported once);
  (g) the edit loop: in `deckcheck serve`, the time from saving an edit of the CNN deck's last
      block to /_deckcheck/status reporting the new result, against a full check of that deck;
      and the peak memory of serve with every deck checkpointed;
  (h) in `deckcheck present` (serve with live blocks): the time from asking to run an edited
      last block of the CNN deck to its answer (what the page then shows), and `deckcheck check`
      of an edited CNN deck answered by that running serve, against a cold standalone check.
  (i) a quick check: a deck that trains for `epochs = 20` (its parameters block), checked with
      `--quick` (its `quick: {epochs: 1}`) against its full check.
Prints the ratios against their targets and writes them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from deckcheck.deck import Block  # noqa: E402
from deckcheck.in_kernel.doctest_sessions import examples  # noqa: E402
from deckcheck.kernel.data_cache import standins  # noqa: E402
from deckcheck.read.parser import read_deck  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from make_course import write_course  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))

SLIDES = ROOT / "slides"
FUNDAMENTALS = SLIDES / "01-fundamentals.md"
CNN = SLIDES / "03-cnn-mnist.md"
COURSE_DECKS = 30
PYTHON = sys.executable


@dataclass
class Memory:
    pss: int = 0
    rss: int = 0


@dataclass
class Target:
    name: str
    value: float
    limit: float
    unit: str = "×"

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DECKCHECK_"))}
    env.update(
        DECKCHECK_CACHE=str(cache),
        TORCH_HOME=str(ROOT / ".cache" / "torch"),
        MPLBACKEND="Agg",
        DECKCHECK_NETWORK="0",
    )
    return env


def timed(
    command: list[str], env: dict[str, str], cwd: Path, sample_memory: bool = False
) -> tuple[float, Memory]:
    """Wall seconds, and (when asked) the peaks of the summed PSS and RSS of the process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = Memory()
    stop = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            pss = rss = 0
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for member in members:
                try:
                    info = member.memory_full_info()
                except psutil.Error:
                    continue
                pss += info.pss
                rss += info.rss
            peak.pss, peak.rss = max(peak.pss, pss), max(peak.rss, rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    if sample_memory:
        sampler.join()
    if process.returncode != 0:
        tail = output.decode(errors="replace")[-4000:]
        raise SystemExit(f"bench: {' '.join(command)} failed ({process.returncode}):\n{tail}")
    return elapsed, peak


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def cuda_available(env: dict[str, str]) -> bool:
    probe = [PYTHON, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"]
    return subprocess.run(probe, env=env, capture_output=True).returncode == 0


def runnable(block: Block, cuda: bool) -> bool:
    if block.options.skip_execution:
        return False
    return all(resource == "cuda" and cuda for resource in block.options.requires)


def floor_script(deck_path: Path, cuda: bool) -> str:
    """The deck's executed blocks as one script; a raises-exception block must raise."""
    parts = []
    for block in read_deck(deck_path).blocks:
        if not runnable(block, cuda):
            continue
        if block.options.raises_exception:
            body = "".join(f"    {line}\n" for line in block.code.splitlines())
            parts.append(
                f"try:\n{body}except Exception:\n    pass\nelse:\n    raise SystemExit('no exception')\n"
            )
        else:
            parts.append(block.code)
    return "\n".join(parts)


def peer_copies(folder: Path, cuda: bool) -> list[Path]:
    """The decks as the peer can run them: blocks deckcheck would skip here are skip-execution,
    a doctest session is plain code (the peer compares no output)."""
    copies = []
    for deck_path in sorted(SLIDES.glob("*.md")):
        deck = read_deck(deck_path)
        lines = deck_path.read_text().splitlines(keepends=True)
        for block in reversed([block for block in deck.blocks if block.session]):
            code = "".join(example.source for example in examples(block.code))
            lines[block.line - 1 : block.end_line] = ["```python\n", code, "```\n"]
        text = "".join(lines)
        if not cuda:
            text = text.replace('requires=["cuda"]', 'tags=["skip-execution"]')
        copy = folder / deck_path.name
        copy.write_text(text)
        copies.append(copy)
    return copies


PEER_STARTUP = """
import json, os
from deckcheck.in_kernel.offline_data import serve_from_cache
serve_from_cache(set(json.loads(os.environ.get("DECKCHECK_STANDINS") or "{}")))
"""


def peer_environment(work: Path, env: dict[str, str]) -> dict[str, str]:
    """The peer's kernels get the data the check's get: stand-ins served as deckcheck serves
    them (torchvision itself rejects a stand-in's checksums)."""
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-data-cache.py").write_text(PEER_STARTUP)
    data = json.dumps(standins(Path(env["TORCH_HOME"]).parent))
    return {**env, "IPYTHONDIR": str(work / "ipython"), "DECKCHECK_STANDINS": data}


COURSE_FLOOR = """import sys, time
from pathlib import Path
sys.path.insert(0, {src!r})
from deckcheck.read.parser import read_deck
for path in sorted(Path(sys.argv[1]).glob("*.md")):
    namespace = {{}}
    for block in read_deck(path).blocks:
        exec(compile(block.code, str(path), "exec"), namespace)
"""


def course_floor_script(folder: Path) -> Path:
    """All the course's decks in one process, each in a namespace of its own, torch imported once."""
    script = folder / "course_floor.py"
    script.write_text(COURSE_FLOOR.format(src=str(ROOT / "src")))
    return script


class Preview:
    """`deckcheck present` (serve, plus live blocks) on some decks, read through its status endpoint."""

    def __init__(self, decks: list[Path], env: dict[str, str], cwd: Path) -> None:
        self.token = ""
        self.process = subprocess.Popen(
            [PYTHON, "-m", "deckcheck", "present", *map(str, decks), "--port", "0"],
            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._port()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _port(self) -> str:
        while True:
            line = self.lines.get(timeout=900)
            found = re.search(r"present: http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
            if found:
                self.token = found.group(2)
                return found.group(1)

    def _get(self, path: str) -> bytes:
        url = f"http://127.0.0.1:{self.port}{path}?token={self.token}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read()

    def status(self) -> dict[str, dict]:
        return {deck["path"]: deck for deck in json.loads(self._get("/_deckcheck/status"))["decks"]}

    def run_live(self, stem: str, index: int, code: str) -> tuple[float, dict]:
        """Seconds from asking present to run a block's code to its answer, and the answer."""
        body = json.dumps({"stem": stem, "index": index, "code": code}).encode()
        ask = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/_deckcheck/run", body, {"X-Deckcheck-Token": self.token}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(ask, timeout=600) as answer:
            return time.perf_counter() - started, json.loads(answer.read())

    def edit_until_checked(self, deck: Path, old: str, new: str) -> tuple[float, dict]:
        """Save an edit; seconds until the status has the deck's new result, and that result."""
        before = self.status()[str(deck)]["finished_at"]
        deck.write_text(deck.read_text().replace(old, new, 1))
        saved = time.perf_counter()
        while (now := self.status()[str(deck)])["finished_at"] == before:
            time.sleep(0.01)
        return time.perf_counter() - saved, now

    def memory(self) -> int:
        """PSS of serve, its fork server and kernels, plus its checkpoints (which it reports:
        they are no children of it)."""
        total = 0
        try:
            root = psutil.Process(self.process.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        for member in members:
            try:
                total += member.memory_full_info().pss
            except psutil.Error:
                continue
        return total + int(
            json.loads(self._get("/_deckcheck/status")).get("checkpoints", {}).get("memory", 0)
        )

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    from importlib import metadata

    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("torch", "torchvision", "nbclient", "jupytext")
    )
    return (
        f"{cpu}; {os.cpu_count()} cores; {memory:.0f} GiB RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {versions}"
    )


def course_overhead(work: Path, env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """(f): the floor, a cold check with the default jobs, and with --jobs 1, of a 30-deck course."""
    course = work / "course"
    write_course(course, COURSE_DECKS)
    floor = median_of(
        runs, lambda: timed([PYTHON, str(course_floor_script(work)), str(course)], env, work)[0]
    )
    print(f"(f) floor, {COURSE_DECKS} small decks in one process: {floor:.2f} s", flush=True)
    check = [PYTHON, "-m", "deckcheck", "check", "--no-cache", str(course)]
    default = median_of(runs, lambda: timed(check, env, ROOT)[0])
    print(f"(f) cold check of the course, default jobs: {default:.2f} s", flush=True)
    one = median_of(runs, lambda: timed([*check, "--jobs", "1"], env, ROOT)[0])
    print(f"(f) cold check of the course, --jobs 1: {one:.2f} s", flush=True)
    return floor, default, one


def edit_loop(work: Path, env: dict[str, str], runs: int) -> tuple[float, ...]:
    """(g): a full check of the CNN deck; in serve, save to status after an edit of its last
    block (the median of `runs` edits); serve's memory with every deck checkpointed."""
    full = median_of(
        runs, lambda: timed([PYTHON, "-m", "deckcheck", "check", "--no-cache", str(CNN)], env, ROOT)[0]
    )
    print(f"(g) full check of {CNN.name}: {full:.2f} s", flush=True)
    course = work / "serve"
    course.mkdir()
    decks = [course / deck.name for deck in sorted(SLIDES.glob("*.md"))]
    for deck in decks:
        shutil.copy(SLIDES / deck.name, deck)
    (course / "images").symlink_to(ROOT / "images")
    env = {**env, "DECKCHECK_CACHE": str(work / "serve-cache")}  # fresh: every deck runs, with checkpoints
    preview = Preview(decks, env, ROOT)
    try:
        cnn = course / CNN.name
        lines = cnn.read_text().splitlines()
        last = max(i for i, line in enumerate(lines) if line.startswith("```python"))
        anchor = lines[last + 1]
        times = []
        for number in range(runs):
            seconds, result = preview.edit_until_checked(cnn, anchor, f"edit_{number} = {number}\n{anchor}")
            if result["run"] != "resumed" or not result["ok"]:
                raise SystemExit(f"bench: the edit was not resumed: {result}")
            times.append(seconds)
            anchor = f"edit_{number} = {number}\n{anchor}"
        resumed = statistics.median(times)
        print(f"(g) serve, save to status after an edit of the last block: {resumed:.2f} s", flush=True)
        memory = preview.memory() / 1e9
        print(f"(g) serve's memory with {len(decks)} decks checkpointed: {memory:.2f} GB (PSS)", flush=True)
        live, through = live_runs(preview, cnn, env, runs, anchor)
    finally:
        preview.stop()
    return full, resumed, memory, live, through


def live_runs(
    preview: Preview, cnn: Path, env: dict[str, str], runs: int, anchor: str
) -> tuple[float, float]:
    """(h): present runs the CNN deck's edited last block; `check` through the running serve."""
    deck = read_deck(cnn)
    last = [block for block in deck.blocks if not block.options.skip_execution][-1]
    times = []
    for number in range(runs):
        seconds, answer = preview.run_live(cnn.stem, last.index, f"live_{number} = {number}\n{last.code}")
        if answer.get("status") != "passed":
            raise SystemExit(f"bench: the live run failed: {answer}")
        times.append(seconds)
    live = statistics.median(times)
    print(f"(h) present, run the edited last block of {cnn.name} → its answer: {live:.2f} s", flush=True)
    checks = []
    for number in range(runs):
        new = f"through_{number} = {number}\n{anchor}"
        preview.edit_until_checked(cnn, anchor, new)  # the edit, as serve sees it on save
        anchor = new
        cnn.write_text(cnn.read_text().replace(anchor, f"again_{number} = {number}\n{anchor}", 1))
        anchor = f"again_{number} = {number}\n{anchor}"
        seconds, _ = timed([PYTHON, "-m", "deckcheck", "check", str(cnn)], env, ROOT)  # saved just now
        checks.append(seconds)
    through = statistics.median(checks)
    print(
        f"(h) `deckcheck check` of the edited {cnn.name} through the running serve: {through:.2f} s",
        flush=True,
    )
    return live, through


QUICK_DECK = """---
marp: true
deckcheck:
  quick: {epochs: 1}
---

# Training, a knob per run

```python tags=["parameters"]
epochs = 20
```

```python
import torch
from torch import nn

torch.manual_seed(0)
x = torch.randn(8192, 128)
y = (x[:, :8].sum(1) > 0).long()
model = nn.Sequential(nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(epochs):
    for batch in range(0, len(x), 64):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch : batch + 64]), y[batch : batch + 64]).backward()
        optimizer.step()
```
"""


def quick_check(work: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    """(i): a cold full check and a cold quick check of a deck that trains for `epochs`."""
    deck = work / "quick" / "training.md"
    deck.parent.mkdir()
    deck.write_text(QUICK_DECK)
    check = [PYTHON, "-m", "deckcheck", "check", "--no-cache", str(deck)]
    full = median_of(runs, lambda: timed(check, env, ROOT)[0])
    print(f"(i) full check of a deck that trains for 20 epochs: {full:.2f} s", flush=True)
    quick = median_of(runs, lambda: timed([*check, "--quick"], env, ROOT)[0])
    print(f"(i) the same deck with --quick (epochs: 1): {quick:.2f} s", flush=True)
    return full, quick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is kept)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--only-quick", action="store_true", help="measure (i) alone, print it, write nothing"
    )
    args = parser.parse_args()
    if args.only_quick:
        work = Path(tempfile.mkdtemp(prefix="deckcheck-bench-"))
        try:
            full, quick = quick_check(work, environment(work / "cache"), args.runs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"quick / full: {quick / full:.2f} (target ≤ 0.25)")
        return 0 if quick / full <= 0.25 else 1
    work = Path(tempfile.mkdtemp(prefix="deckcheck-bench-"))
    try:
        env = environment(work / "cache")
        cuda = cuda_available(env)
        deckcheck = [PYTHON, "-m", "deckcheck", "check"]
        script = work / "floor.py"
        script.write_text(floor_script(FUNDAMENTALS, cuda))
        print(f"bench: {args.runs} runs each; the median is kept", flush=True)

        floor = median_of(args.runs, lambda: timed([PYTHON, str(script)], env, SLIDES)[0])
        print(f"(a) floor, fundamentals as a plain script: {floor:.2f} s", flush=True)
        cold_one = median_of(
            args.runs, lambda: timed([*deckcheck, "--no-cache", str(FUNDAMENTALS)], env, ROOT)[0]
        )
        print(f"(b) cold check, fundamentals: {cold_one:.2f} s", flush=True)

        all_decks = [*deckcheck, "--no-cache", str(SLIDES)]
        cold_all = median_of(args.runs, lambda: timed(all_decks, env, ROOT)[0])
        print(f"(c) cold check, all decks: {cold_all:.2f} s", flush=True)
        peer_dir = work / "peer"
        peer_dir.mkdir()
        copies = peer_copies(peer_dir, cuda)
        peer_command = [PYTHON, "-m", "jupytext", "--set-kernel", "python3", "--to", "ipynb", "--execute"]
        peer_env = peer_environment(work, env)
        peer = median_of(
            args.runs, lambda: sum(timed([*peer_command, str(c)], peer_env, peer_dir)[0] for c in copies)
        )
        print(f"(c) peer, jupytext --execute on each deck in turn: {peer:.2f} s", flush=True)
        timed([*deckcheck, str(SLIDES)], env, ROOT)  # fill the result cache
        warm = median_of(args.runs, lambda: timed([*deckcheck, str(SLIDES)], env, ROOT)[0])
        print(f"(d) warm re-check, all decks: {warm:.2f} s", flush=True)
        # Memory in runs of their own: reading every process's smaps slows the check it measures.
        peaks = [timed(all_decks, env, ROOT, sample_memory=True)[1] for _ in range(args.runs)]
        peak = max(p.pss for p in peaks) / 1e9
        peak_rss = max(p.rss for p in peaks) / 1e9
        print(f"(e) peak memory of a cold check of all decks: {peak:.2f} GB ({peak_rss:.2f} GB RSS summed)")
        course_floor, course_default, course_one = course_overhead(work, env, args.runs)
        cnn_full, cnn_resumed, serve_memory, cnn_live, cnn_through = edit_loop(work, env, args.runs)
        quick_full, quick = quick_check(work, env, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    targets = [
        Target("cold check of the fundamentals deck / its floor", cold_one / floor, 1.25),
        Target("cold check of all decks / the peer's total", cold_all / peer, 0.7),
        Target("warm re-check / cold check, all decks", warm / cold_all, 0.1),
        Target("peak memory of a full check", peak, 1.5, " GB"),
        Target(
            f"{COURSE_DECKS}-deck course, cold, default jobs / its floor", course_default / course_floor, 1.5
        ),
        Target(f"{COURSE_DECKS}-deck course, cold, --jobs 1 / its floor", course_one / course_floor, 2.5),
        Target(
            "serve: an edit of the CNN deck's last block / a full check of it", cnn_resumed / cnn_full, 0.25
        ),
        Target("present: run the CNN deck's edited last block → its answer", cnn_live, 1.0, " s"),
        Target("`check` of the edited CNN deck through serve / a cold check", cnn_through / cnn_full, 0.1),
        Target("check --quick of a 20-epoch deck (epochs: 1) / its full check", quick / quick_full, 0.25),
    ]
    print()
    for target in targets:
        verdict = "meets" if target.met else "MISSES"
        print(f"{target.name}: {target.value:.2f}{target.unit} ({verdict} ≤ {target.limit}{target.unit})")
    write_report(
        args.output, args.runs, targets, floor, cold_one, cold_all, peer, warm, peak_rss,
        course_floor, course_default, course_one, cnn_full, cnn_resumed, serve_memory, cnn_live, cnn_through,
        quick_full, quick,
    )  # fmt: skip
    print(
        f"\nwritten to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    )
    return 0 if all(target.met for target in targets) else 1


def write_report(path: Path, runs: int, targets: list[Target], *seconds: float) -> None:
    floor, cold_one, cold_all, peer, warm, peak_rss = seconds[:6]
    course_floor, course_default, course_one, cnn_full, cnn_resumed, serve_memory, cnn_live, cnn_through = (
        seconds[6:14]
    )
    quick_full, quick = seconds[14:]
    rows = "\n".join(
        f"| {t.name} | {t.value:.2f}{t.unit} | ≤ {t.limit}{t.unit} | {'meets' if t.met else 'MISSES'} |"
        for t in targets
    )
    path.write_text(
        f"""# Benchmarks

Written by `make bench` (`scripts/bench.py`) on {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}.
Each time is the median of {runs} runs.

Machine: {machine()}

| measurement | seconds |
| --- | --- |
| (a) floor: the fundamentals deck's executed blocks as one plain Python script | {floor:.2f} |
| (b) cold `deckcheck check --no-cache slides/01-fundamentals.md` | {cold_one:.2f} |
| (c) cold `deckcheck check --no-cache slides` (all decks, default `--jobs`) | {cold_all:.2f} |
| (c) peer: `jupytext --to ipynb --execute` on each deck in turn | {peer:.2f} |
| (d) warm `deckcheck check slides` (nothing changed) | {warm:.2f} |
| (f) floor: {COURSE_DECKS} small decks (make_course.py), their code in one process | {course_floor:.2f} |
| (f) cold `deckcheck check --no-cache` of that course (default `--jobs`) | {course_default:.2f} |
| (f) the same with `--jobs 1` | {course_one:.2f} |
| (g) cold `deckcheck check --no-cache slides/03-cnn-mnist.md` | {cnn_full:.2f} |
| (g) `deckcheck serve`: an edit of its last block saved → `/_deckcheck/status` has it | {cnn_resumed:.2f} |
| (h) `deckcheck present`: its edited last block run → the answer the slide shows | {cnn_live:.2f} |
| (h) `deckcheck check` of the deck saved with another such edit, through that serve | {cnn_through:.2f} |
| (i) cold `deckcheck check --no-cache` of a deck that trains for `epochs = 20` | {quick_full:.2f} |
| (i) the same with `--quick` (`quick: {{epochs: 1}}`) | {quick:.2f} |

| target | measured | limit | |
| --- | --- | --- | --- |
{rows}

Peak memory is the largest sum of the proportional set size (PSS) of deckcheck and all its
kernels, sampled every 50 ms during {runs} more cold checks of all decks (not the timed ones:
sampling slows what it measures): a page that several
processes share (the torch libraries both kernels map) counts once overall. Summed as
resident set size, which counts every shared page once per process, the same peak was
{peak_rss:.2f} GB.

`deckcheck serve` with every deck checkpointed (each deck run once, a checkpoint after each of
its blocks) used {serve_memory:.2f} GB (PSS of serve, its fork server, and the checkpoints).
"""
    )


if __name__ == "__main__":
    raise SystemExit(main())
