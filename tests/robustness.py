"""Counts what the robustness tests tried, for the README's figures (see conftest's summary),
and how many they try: ``make fuzz`` (``POOLKIT_FUZZ=1``) five times what ``make test`` does."""

import os
from collections import Counter

COUNTS: Counter = Counter()
#: How many times the usual number of generated inputs a run tries.
SCALE = 5 if os.environ.get("POOLKIT_FUZZ") == "1" else 1


def tally(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def examples(usual: int) -> int:
    """How many generated inputs a property test tries in this run."""
    return usual * SCALE
