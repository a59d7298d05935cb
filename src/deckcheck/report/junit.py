"""Results → JUnit XML for CI: one testsuite per deck, one testcase per block or problem."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from deckcheck.atomic import write_atomic
from deckcheck.deck import Deck
from deckcheck.report.lines import failure_report, problem_line
from deckcheck.results import DeckResult


def write_junit(path: Path, decks: Sequence[Deck], results: Sequence[DeckResult]) -> None:
    suites = ET.Element("testsuites", name="deckcheck")
    for deck, result in zip(decks, results, strict=True):
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=str(deck.path),
            tests=str(len(result.blocks) + len(result.problems)),
            failures=str(result.count("failed") + len(result.problems)),
            skipped=str(result.count("skipped")),
            time=f"{result.duration:.3f}",
        )
        if result.timeline:
            properties = ET.SubElement(suite, "properties")
            for phase, seconds in result.timeline:
                ET.SubElement(properties, "property", name=f"time.{phase}", value=f"{seconds:.3f}")
        for problem in result.problems:
            case = ET.SubElement(
                suite, "testcase", name=f"{deck.path}:{problem.line}", classname=str(deck.path)
            )
            ET.SubElement(case, "failure", message=problem.summary).text = problem_line(
                str(deck.path), problem
            )
        for block in result.blocks:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{deck.path}:{block.line}",
                classname=str(deck.path),
                time=f"{block.duration:.3f}",
            )
            if block.status == "failed" and block.failure:
                failure = ET.SubElement(case, "failure", message=block.failure.summary)
                failure.text = failure_report(deck, block)
            elif block.status == "skipped":
                ET.SubElement(case, "skipped", message=block.reason)
    ET.indent(suites)
    write_atomic(path, ET.tostring(suites, encoding="utf-8", xml_declaration=True))
