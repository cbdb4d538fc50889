"""Counts what the robustness tests tried, for the README's figures (see conftest's summary),
and how many they try: ``make fuzz`` (``POOLKIT_FUZZ=1``) runs the larger count."""

import os
from collections import Counter

COUNTS: Counter = Counter()
FUZZ = os.environ.get("POOLKIT_FUZZ") == "1"


def tally(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def examples(usual: int, fuzz: int) -> int:
    """How many generated inputs a property test tries: ``usual`` under ``make test``,
    ``fuzz`` under ``make fuzz`` (more of the cheap inputs, fewer of the costly ones, so that
    the whole run stays within ten minutes)."""
    return fuzz if FUZZ else usual
