"""Shared test set-up: the helper modules beside the tests, and the project's paths."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
