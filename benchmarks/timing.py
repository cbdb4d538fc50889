"""What the benchmarks share: the best time of a few runs."""

from __future__ import annotations

import time


def best(run, repeat: int, *, warm_up: bool = False) -> float:
    """The shortest of ``repeat`` timed calls of ``run`` (after an untimed one if
    ``warm_up``)."""
    if warm_up:
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
