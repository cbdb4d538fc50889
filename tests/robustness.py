"""Counts what the robustness tests tried, for the README's figures (see conftest's summary)."""

from collections import Counter

COUNTS: Counter = Counter()


def tally(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n
