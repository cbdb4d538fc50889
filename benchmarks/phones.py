"""Benchmark enrich_numbers against calling phonenumbers on each number.

Takes N numbers (default 1,000,000) from synthetic pools (North American numbers with
varied area codes, some toll-free), times the per-row reference (poolkit.phones.describe,
one phonenumbers parse + type + validity + geocoder + format per number) and
enrich_numbers on the same numbers, and checks that every row's answers are identical.
Target: at least 10x faster, identical on every row.
Run: python benchmarks/phones.py [--numbers N]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from poolkit.phones import ENRICH_COLUMNS, describe, enrich_numbers
from poolkit.synthetic import SyntheticSpec, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=1_000_000)
    args = parser.parse_args()
    locations = max(1, args.numbers // 50)
    spec = SyntheticSpec(locations=locations, pools_per_location=(3, 7), numbers_per_pool=(5, 15),
                         problems=False, seed=21)
    numbers = [n["phoneNumber"] for _, body in generate(spec) for pool in body["data"] for n in pool["numbers"]]
    numbers = pd.Series(numbers[: args.numbers], dtype="string")

    start = time.perf_counter()
    enriched = enrich_numbers(numbers)
    fast = time.perf_counter() - start

    start = time.perf_counter()
    reference = [describe(n) for n in numbers.tolist()]
    slow = time.perf_counter() - start

    got = enriched[list(ENRICH_COLUMNS)].astype(object).where(enriched.notna(), None)
    mismatches = sum(tuple(row) != tuple(ref) for row, ref in zip(got.itertuples(index=False), reference))
    print(f"{len(numbers):,} numbers: per-row phonenumbers {slow:.1f} s ({slow / len(numbers) * 1e6:.0f} µs each), "
          f"enrich_numbers {fast:.2f} s")
    print(f"speed-up = {slow / fast:.1f}x  (target >= 10x); rows that differ: {mismatches:,} (target 0)")


if __name__ == "__main__":
    main()
