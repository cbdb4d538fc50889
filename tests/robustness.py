"""Counts what the robustness tests tried, for the README's figures (see conftest's summary),
and how many they try: ``make fuzz`` (``POOLKIT_FUZZ=1``) runs the larger count."""

import os
from collections import Counter

from hypothesis import HealthCheck, settings

COUNTS: Counter = Counter()
FUZZ = os.environ.get("POOLKIT_FUZZ") == "1"


def tally(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def examples(usual: int, fuzz: int) -> int:
    """How many generated inputs a property test tries: ``usual`` under ``make test``,
    ``fuzz`` under ``make fuzz`` (more of the cheap inputs, fewer of the costly ones, so that
    the whole run stays within ten minutes)."""
    return fuzz if FUZZ else usual


def fuzz(usual: int, more: int) -> settings:
    """Hypothesis settings: ``usual`` examples (``more`` under ``make fuzz``), no deadline."""
    return settings(
        max_examples=examples(usual, more),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
