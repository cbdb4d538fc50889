"""Benchmark enrich_numbers against calling phonenumbers on each number, on four inputs:

- clustered:     numbers in a few exchanges (5 NPA-NXX, random last four digits)
- random:        random numbers over 300 North American area codes (nearly all distinct)
- international: numbers of 12 countries, about 3% of them malformed strings
- history:       30 snapshots of the same numbers (what read_history gives)

For each, the per-row reference (poolkit.phones.describe on every row) and enrich_numbers
(one process, and two) are timed on the same numbers, and every row's answers are compared.
Targets: enrich_numbers at least as fast as the reference on every input, at least 20x on
the history input, identical answers everywhere.
Run: python benchmarks/phones.py [--numbers N]
"""

from __future__ import annotations

import argparse
import random
import time

import pandas as pd

from poolkit.phones import ENRICH_COLUMNS, describe, enrich_numbers

COUNTRIES = [
    "+1415",
    "+44207",
    "+49301",
    "+33142",
    "+61291",
    "+81312",
    "+91226",
    "+55113",
    "+52558",
    "+34915",
    "+39066",
    "+27215",
]
MALFORMED = [
    "(512) 555-0134",
    "555-0100",
    "+1",
    "",
    "+0123456",
    "tel:+14155550100",
    "+1 415 555 01",
]


def numbers_for(kind: str, count: int, rng: random.Random) -> list[str]:
    if kind == "clustered":
        exchanges = [f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}" for _ in range(5)]
        return [f"{rng.choice(exchanges)}{rng.randint(0, 9999):04d}" for _ in range(count)]
    if kind == "random":
        areas = rng.sample(range(201, 990), 300)
        return [
            f"+1{rng.choice(areas)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            for _ in range(count)
        ]
    if kind == "international":
        return [
            rng.choice(MALFORMED)
            if rng.random() < 0.03
            else f"{rng.choice(COUNTRIES)}{rng.randint(0, 10**6 - 1):06d}"
            for _ in range(count)
        ]
    once = numbers_for("random", count // 30, rng)
    return once * 30


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--numbers", type=int, default=300_000)
    args = parser.parse_args()
    rng = random.Random(5)
    print(
        f"{'input':14s} {'rows':>9s} {'distinct':>9s} {'per-row':>9s} {'enrich':>8s} "
        f"{'2 procs':>8s} "
        f"{'speed-up':>9s} {'differ':>7s}"
    )
    for kind in ("clustered", "random", "international", "history"):
        numbers = pd.Series(numbers_for(kind, args.numbers, rng), dtype="string")
        start = time.perf_counter()
        enriched = enrich_numbers(numbers)
        fast = time.perf_counter() - start
        start = time.perf_counter()
        enrich_numbers(numbers, workers=2)
        two = time.perf_counter() - start
        start = time.perf_counter()
        reference = [describe(n) for n in numbers.tolist()]
        slow = time.perf_counter() - start
        got = enriched[list(ENRICH_COLUMNS)].astype(object).where(enriched.notna(), None)
        differ = sum(
            tuple(row) != tuple(ref) for row, ref in zip(got.itertuples(index=False), reference)
        )
        print(
            f"{kind:14s} {len(numbers):9,d} {numbers.nunique():9,d} {slow:8.1f}s {fast:7.2f}s "
            f"{two:7.2f}s "
            f"{slow / min(fast, two):8.1f}x {differ:7,d}"
        )


if __name__ == "__main__":
    main()
