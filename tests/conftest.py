"""Shared test set-up: the helper modules beside the tests, and the project's paths."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
# The fixture decks are Marp decks: deckcheck's pytest plugin would collect them as tests.
collect_ignore = ["fixtures"]

from hypothesis import HealthCheck, settings  # noqa: E402

# Every property test follows the profile: "bounded" (300 examples) in `make test`, "long"
# (20,000) in `make fuzz` (--hypothesis-profile=long). No test sets its own count.
settings.register_profile(
    "bounded", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("bounded")
