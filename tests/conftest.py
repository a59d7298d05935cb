"""Shared test set-up: the helper modules beside the tests, and the project's paths."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests run bounded in `make test`; `make fuzz` runs them longer (--hypothesis-profile=long).
settings.register_profile(
    "bounded", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("bounded")
