"""Benchmark the audit: every built-in rule over 20,000 locations (about 100,000 pools and
1,000,000 numbers), against reading the same data in the same run.

The data is generated once into benchmarks/out/audit-N (the tidy benchmark's shape, with the
locations' places and the sample's contract problems): synthetic locations across US and
Canadian area codes, with the findings chance gives (numbers repeated, pools active without a
route, inactive pools with numbers, recording in all-party states). Times are best of R in
one process, after one warm-up run:

- read_pools:     poolkit.read_pools(folder), the baseline
- audit:          poolkit.audit(tables), all ten rules
- each rule:      the rule alone
- libphonenumber: phonenumbers.is_valid_number(parse(n)) per number on a sample, scaled to
                  every number: what invalid-number would cost without Arrow

Run: python benchmarks/audit.py [--locations N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from timing import best

HERE = Path(__file__).resolve().parent


def make_data(locations: int) -> Path:
    from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

    folder = HERE / "out" / f"audit-{locations}"
    if not (folder / "manifest.json").exists():
        spec = SyntheticSpec(
            locations=locations, pools_per_location=(3, 7), numbers_per_pool=(5, 15), seed=11
        )
        write_snapshot(folder, generate(spec))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import phonenumbers

    import poolkit

    folder = make_data(args.locations)
    read = best(lambda: poolkit.read_pools(folder), args.repeat, warm_up=True)
    tables = poolkit.read_pools(folder)
    findings = poolkit.audit(tables)
    audit = best(lambda: poolkit.audit(tables), args.repeat, warm_up=True)
    print(
        f"{len(tables.locations):,} locations, {len(tables.pools):,} pools, "
        f"{len(tables.numbers):,} numbers; {len(findings):,} findings"
    )
    print(f"read_pools (baseline)  {read:6.2f} s")
    print(f"audit, ten rules       {audit:6.2f} s   {audit / read:.2f}x read_pools   target <= 2 s")
    for rule in poolkit.RULES:
        alone = best(
            lambda rule=rule: poolkit.audit(tables, select=[rule.id]), args.repeat, warm_up=True
        )
        found = int((findings["rule"] == rule.id).sum())
        print(f"  {rule.id:<28} {alone:6.3f} s  {found:>7,} findings")
    numbers = tables.numbers["phone_number"].dropna().tolist()
    sample = random.Random(1).sample(numbers, min(20_000, len(numbers)))
    start = time.perf_counter()
    for number in sample:
        phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    per_number = (time.perf_counter() - start) / len(sample)
    print(
        f"libphonenumber one number at a time: {per_number * 1e6:.0f} us a number, "
        f"{per_number * len(numbers):.1f} s for every number"
    )


if __name__ == "__main__":
    main()
