"""Benchmark the weekly dataset: a year of weeks of 1,000 locations (about 2.3 million
number rows), the cost of adding a week and of reading it back.

The data is generated once into benchmarks/out/weekly-L-W (L locations, W weeks, each a
snapshot folder added with ``poolkit.weekly.add_to_dataset``, CSVs included). Then, best of
R in one process, each against a baseline measured in the same run:

- add a week:    ``add_to_dataset`` of one more week's snapshot folder to a copy of the
                 dataset (Parquet, the CSVs of every week, the marker), against
                 ``read_pools`` of that folder alone (parsing it, which any add needs)
- read it all:   ``read_dataset`` of the W weeks, against pyarrow reading every part
- newest week:   ``read_dataset(..., snapshots=[newest])``, against pyarrow reading its parts

Targets (issue 27): add <= 2 s beyond the fetch, read all <= 3 s, newest week <= 0.5 s.

Run: python benchmarks/weekly.py [--locations L] [--weeks W] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from timing import best

HERE = Path(__file__).resolve().parent


def make_data(locations: int, weeks: int) -> tuple[Path, Path]:
    """The dataset of ``weeks`` weeks, and the folder of the week after (not added)."""
    from history import evolve

    import poolkit
    from poolkit.snapshot import snapshot_name
    from poolkit.synthetic import SyntheticSpec, generate, write_snapshot
    from poolkit.weekly import add_to_dataset

    root = HERE / "out" / f"weekly-{locations}-{weeks}"
    dataset, raw = root / "dataset", root / "raw"
    start = datetime(2025, 12, 1, 8, tzinfo=timezone.utc)
    extra = raw / snapshot_name(start + timedelta(weeks=weeks))
    if poolkit.schemas.is_dataset(dataset) and extra.is_dir():
        return dataset, extra
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(5)
    spec = SyntheticSpec(
        locations=locations, pools_per_location=(3, 6), numbers_per_pool=(5, 12), seed=9
    )
    state = generate(spec)
    for week in range(weeks + 1):
        taken = start + timedelta(weeks=week)
        folder = write_snapshot(raw / snapshot_name(taken), state, taken_at=taken)
        if week < weeks:
            add_to_dataset(folder, dataset)
        state = evolve(state, rng)
    return dataset, extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import pyarrow.parquet as pq

    import poolkit
    from poolkit.weekly import add_to_dataset

    dataset, extra = make_data(args.locations, args.weeks)
    held = poolkit.dataset.dataset_snapshots(dataset)
    whole = poolkit.read_dataset(dataset)
    print(
        f"{len(held)} weeks of {args.locations:,} locations: {len(whole.pools):,} pool rows, "
        f"{len(whole.numbers):,} number rows"
    )
    del whole

    def floor(snapshots) -> None:
        for table in poolkit.PoolTables.TABLES:
            for label in snapshots:
                for part in (dataset / table / f"snapshot={label}").glob("*.parquet"):
                    pq.read_table(part).to_pandas()

    copy = dataset.parent / "scratch"

    def fresh() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(dataset, copy)

    times = []
    for _ in range(args.repeat):
        fresh()
        times.append(best(lambda: add_to_dataset(extra, copy), 1))
    added = min(times)
    parse = best(lambda: poolkit.read_pools(extra, errors="record"), args.repeat)
    print(
        f"add a week: {added:.2f} s ({added / parse:.1f}x parsing the week alone, "
        f"{parse:.2f} s; {added - parse:.2f} s beyond it)   target <= 2 s beyond the fetch"
    )
    shutil.rmtree(copy, ignore_errors=True)

    base = best(lambda: floor(held), args.repeat)
    took = best(lambda: poolkit.read_dataset(dataset), args.repeat)
    print(
        f"read {len(held)} weeks: {took:.2f} s ({took / base:.1f}x pyarrow reading every "
        f"part, {base:.2f} s)   target <= 3 s"
    )
    base = best(lambda: floor(held[-1:]), args.repeat)
    took = best(lambda: poolkit.read_dataset(dataset, snapshots=held[-1:]), args.repeat)
    print(
        f"read the newest week: {took:.2f} s ({took / base:.1f}x pyarrow reading its parts, "
        f"{base:.2f} s)   target <= 0.5 s"
    )


if __name__ == "__main__":
    main()
