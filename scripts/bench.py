"""`make bench`: how much a check costs over running the code, against a peer, warm and cold.

Measures, each as the median of several runs on this machine:
  (a) the floor: the fundamentals deck's executed blocks run as one plain Python script;
  (b) a cold `deckcheck check --no-cache` of that deck;
  (c) a cold check of all decks, and the peer `jupytext --to ipynb --execute` on each in turn;
  (d) the warm re-check of all decks;
  (e) the peak memory of a cold check of all decks: deckcheck and its kernels, summed as
      proportional set size (a page that several processes share counts once overall), with
      the resident set size summed beside it for reference.
Prints the ratios against their targets and writes them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from deckcheck.deck import Block  # noqa: E402
from deckcheck.parser import read_deck  # noqa: E402

SLIDES = ROOT / "slides"
FUNDAMENTALS = SLIDES / "01-fundamentals.md"
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
    """The decks as the peer sees them: blocks deckcheck would skip here are skip-execution."""
    copies = []
    for deck_path in sorted(SLIDES.glob("*.md")):
        text = deck_path.read_text()
        if not cuda:
            text = text.replace('requires=["cuda"]', 'tags=["skip-execution"]')
        copy = folder / deck_path.name
        copy.write_text(text)
        copies.append(copy)
    return copies


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is kept)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
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
        peer = median_of(
            args.runs, lambda: sum(timed([*peer_command, str(c)], env, peer_dir)[0] for c in copies)
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
    finally:
        shutil.rmtree(work, ignore_errors=True)

    targets = [
        Target("cold check of the fundamentals deck / its floor", cold_one / floor, 1.25),
        Target("cold check of all decks / the peer's total", cold_all / peer, 0.7),
        Target("warm re-check / cold check, all decks", warm / cold_all, 0.1),
        Target("peak memory of a full check", peak, 1.5, " GB"),
    ]
    print()
    for target in targets:
        verdict = "meets" if target.met else "MISSES"
        print(f"{target.name}: {target.value:.2f}{target.unit} ({verdict} ≤ {target.limit}{target.unit})")
    write_report(args.output, args.runs, targets, floor, cold_one, cold_all, peer, warm, peak_rss)
    print(
        f"\nwritten to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    )
    return 0 if all(target.met for target in targets) else 1


def write_report(path: Path, runs: int, targets: list[Target], *seconds: float) -> None:
    floor, cold_one, cold_all, peer, warm, peak_rss = seconds
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

| target | measured | limit | |
| --- | --- | --- | --- |
{rows}

Peak memory is the largest sum of the proportional set size (PSS) of deckcheck and all its
kernels, sampled every 50 ms during {runs} more cold checks of all decks (not the timed ones:
sampling slows what it measures): a page that several
processes share (the torch libraries both kernels map) counts once overall. Summed as
resident set size, which counts every shared page once per process, the same peak was
{peak_rss:.2f} GB.
"""
    )


if __name__ == "__main__":
    raise SystemExit(main())
