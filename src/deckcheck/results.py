"""What running a deck produced: plain data, serialisable for the result cache."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from deckcheck.deck import Problem

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Frame:
    """One traceback frame; path is the deck's for frames inside its blocks."""

    path: str
    line: int
    name: str
    code: str = ""
    slide: int | None = None  # set for frames inside the deck


@dataclass(frozen=True)
class Figure:
    """A figure a block drew: a base64 PNG and what it shows, in words."""

    png: str
    alt: str


@dataclass(frozen=True)
class Failure:
    line: int  # 1-based deck line of the failing statement
    slide: int
    summary: str  # starts with what went wrong: `ValueError: ...`, `timeout after 5 s`
    frames: tuple[Frame, ...] = ()
    details: str = ""  # more to show under the excerpt: a doctest's expected and actual output
    after: int | None = None  # the line of the deck's first failure, when this one came later
    more: str = ""  # the message's lines after the first (a bounded number), shown under the summary


@dataclass(frozen=True)
class DeckWarning:
    """A warning the deck's code triggered, at the deck line whose statement led to it."""

    line: int
    slide: int
    category: str  # DeprecationWarning, FutureWarning, UserWarning, ...
    message: str  # its first line
    location: str = ""  # where it was raised, when that is outside the deck: torch/functional.py:504
    count: int = 1  # how many times that line triggered it


@dataclass(frozen=True)
class InlineValue:
    """What an inline value of the deck (Deck.inline, in the same order) came to."""

    expr: str
    spec: str = ""
    text: str | None = None  # str() or format(value, spec); None when it was not evaluated
    error: str = ""  # `NameError: name 'acc' is not defined` when evaluating it failed


@dataclass(frozen=True)
class BlockResult:
    index: int
    line: int  # the block's fence line
    slide: int
    status: Status
    reason: str = ""  # why it was skipped
    failure: Failure | None = None
    output: str = ""  # printed output, bounded and cleaned
    figures: tuple[Figure, ...] = ()  # what it drew (a show-output block shows them on its slide)
    duration: float = 0.0
    standins: tuple[str, ...] = ()  # stand-in data sets its result rests on (see standin_flow)
    examples: tuple[str, ...] = ()  # a doctest session: what each of its examples printed
    warnings: tuple[DeckWarning, ...] = ()


@dataclass(frozen=True)
class DeckResult:
    path: str
    blocks: tuple[BlockResult, ...]
    problems: tuple[Problem, ...] = ()
    standins: tuple[str, ...] = ()  # stand-in data sets the deck's code opened
    device: str = ""  # what torch computed on: "CPU", "CUDA", "MPS" ("" without torch)
    timeline: tuple[tuple[str, float], ...] = ()  # seconds per phase of the run (timeline.PHASES)
    resumed_from: int = 0  # the 1-based block a resumed run started at (serve); 0 for a full run
    no_resume: str = ""  # serve: why a later edit cannot resume from every block (a checkpoint refused)
    cached: bool = False
    duration: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    values: tuple[InlineValue, ...] = ()  # the deck's inline values, in the order of Deck.inline
    quick: bool = False  # run with the deck's quick values (check/quick.py)

    def count(self, status: Status) -> int:
        return sum(1 for block in self.blocks if block.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and not self.problems

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DeckResult:
        blocks = tuple(_block_from_dict(block) for block in data["blocks"])
        return cls(
            path=data["path"],
            blocks=blocks,
            problems=tuple(Problem(**problem) for problem in data.get("problems", ())),
            standins=tuple(data.get("standins", ())),
            cached=bool(data.get("cached", False)),
            duration=float(data.get("duration", 0.0)),
            device=str(data.get("device", "")),
            resumed_from=int(data.get("resumed_from", 0)),
            no_resume=str(data.get("no_resume", "")),
            timeline=tuple((str(name), float(seconds)) for name, seconds in data.get("timeline", ())),
            versions=dict(data.get("versions", {})),
            values=tuple(InlineValue(**value) for value in data.get("values", ())),
            quick=bool(data.get("quick", False)),
        )


def _block_from_dict(data: dict) -> BlockResult:
    failure = data.get("failure")
    if failure:
        frames = tuple(Frame(**frame) for frame in failure.get("frames", ()))
        failure = Failure(**{**failure, "frames": frames})
    figures = tuple(Figure(**figure) for figure in data.get("figures", ()))
    standins = tuple(data.get("standins", ()))
    warned = tuple(DeckWarning(**warning) for warning in data.get("warnings", ()))
    examples = tuple(data.get("examples", ()))
    return BlockResult(
        **{**data, "failure": failure, "figures": figures, "standins": standins, "warnings": warned,
           "examples": examples}
    )  # fmt: skip
