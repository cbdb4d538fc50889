"""Benchmark the history: 52 weekly snapshots of 1,000 locations (about 5M number rows) in
one Parquet dataset; ``changes`` between two snapshots and ``trend`` over all of them.

The data is generated once into benchmarks/out/history-L-W (L locations, W weeks): week
after week a few locations gain or lose a pool, move numbers between pools and switch
settings, and three locations' fetches fail (a different three each week). Each week is
written as a snapshot folder and added to the dataset with ``to_parquet(append=True)``.
Times are best of R in one process:

- floor, two:   pyarrow reads the two snapshots' partitions of every table (no pandas)
- changes:      read_history(dataset, snapshots=[a, b]) then changes(history, a, b), for
                pairs of snapshots far apart and next to each other
- floor, all:   pyarrow reads the whole dataset
- trend:        trend(dataset): the per-pool tables read, the numbers counted from the
                Parquet metadata (and, for comparison, trend(read_history(dataset)))

Run: python benchmarks/history.py [--locations L] [--weeks W] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from timing import best

HERE = Path(__file__).resolve().parent


def evolve(responses: list, rng: random.Random) -> list:
    """Next week's pools: about 2% of locations gain or lose a pool, move a number between
    pools or switch settings."""
    week = json.loads(json.dumps(responses))
    for index in rng.sample(range(len(week)), max(1, len(week) // 50)):
        location, body = week[index]
        pools = body["data"]
        if not pools:
            continue
        kind = rng.choice(["move", "settings", "add", "remove"])
        if kind == "move" and len(pools) > 1 and pools[0]["numbers"]:
            pools[1]["numbers"].append(pools[0]["numbers"].pop())
        elif kind == "settings":
            pools[0].update(callRecording=not pools[0]["callRecording"], isActive=True)
        elif kind == "add":
            new_id = f"{location['id'][:10]}{rng.getrandbits(40):010x}"
            pools.append(dict(pools[0], id=new_id, numbers=[]))  # a new pool, empty so far
        elif kind == "remove" and len(pools) > 1:
            pools.pop()
        body["total"] = len(pools)
    return week


def make_data(locations: int, weeks: int) -> tuple[Path, list[str]]:
    import poolkit
    from poolkit.snapshot import snapshot_name
    from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

    root = HERE / "out" / f"history-{locations}-{weeks}"
    dataset = root / "dataset"
    if not poolkit.schemas.is_dataset(dataset):
        rng = random.Random(5)
        spec = SyntheticSpec(
            locations=locations, pools_per_location=(3, 7), numbers_per_pool=(10, 30), seed=9
        )
        state = generate(spec)
        start = datetime(2025, 12, 1, 8, tzinfo=timezone.utc)
        for week in range(weeks):
            taken = start + timedelta(weeks=week)
            failing = set(rng.sample(range(len(state)), 3))  # their fetch fails this week
            answers = [(loc, None if i in failing else body) for i, (loc, body) in enumerate(state)]
            folder = write_snapshot(root / "raw" / snapshot_name(taken), answers, taken_at=taken)
            poolkit.read_pools(folder, errors="record").to_parquet(dataset, append=True)
            state = evolve(state, rng)
    return dataset, poolkit.dataset.dataset_snapshots(dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from poolkit.history import changes, read_history, trend
    from poolkit.tables import PoolTables

    dataset, labels = make_data(args.locations, args.weeks)

    def floor(snapshots) -> None:
        for table in PoolTables.TABLES:
            for label in snapshots:
                for part in (dataset / table / f"snapshot={label}").glob("*.parquet"):
                    pq.read_table(part)

    history = read_history(dataset)
    print(
        f"{len(labels)} snapshots, {len(history.locations):,} location rows, "
        f"{len(history.pools):,} pool rows, {len(history.numbers):,} number rows"
    )

    def diff(before: str, after: str):
        return changes(read_history(dataset, snapshots=[before, after]), before, after)

    for before, after in ((labels[0], labels[-1]), (labels[-2], labels[-1])):
        base = best(lambda pair=(before, after): floor(pair), args.repeat)
        took = best(lambda pair=(before, after): diff(*pair), args.repeat)
        found = diff(before, after)
        print(
            f"changes {before} -> {after}: {took:.2f} s ({len(found):,} changes; "
            f"{took / base:.1f}x pyarrow reading the two, {base:.2f} s)   target <= 2 s"
        )
    base = best(lambda: floor(labels), 3)
    took = best(lambda: trend(dataset), 3)
    whole = best(lambda: trend(read_history(dataset)), 1)
    print(
        f"trend over {len(labels)} snapshots: {took:.2f} s "
        f"({took / base:.1f}x pyarrow reading them all, {base:.2f} s)   target <= 10 s; "
        f"from the whole history read first: {whole:.2f} s"
    )


if __name__ == "__main__":
    main()
