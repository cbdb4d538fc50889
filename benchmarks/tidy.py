"""Benchmark read_pools against its floor and against pandas.json_normalize.

Generates N locations of synthetic responses (default 20,000 files: about 100,000
pools and 1,000,000 numbers), then, in one run and each in a fresh process so that
peak memory is its own, times:

- floor:          list the files, read each (os.open/os.read, no file objects) and
                  parse it with orjson, nothing else
- read_pools:     poolkit.read_pools(folder), validation included
- without_c:      the same where poolkit was installed without a C compiler (files read in
                  Python, parsed by pyarrow.json)
- json_normalize: the same parse, then pandas.json_normalize for pools and numbers
- duckdb:         DuckDB's read_json over the same files, unnested into pools and numbers
                  DataFrames (all cores)

Results are ratios against the floor measured in the same run (machines are noisy).
Run: python benchmarks/tidy.py [--locations N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    """High-water RSS of this address space (VmHWM). Unlike ru_maxrss it is not
    inherited across fork/exec, so each measuring process reports its own peak."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def read_file(path: str) -> bytes:
    """The bytes of a file with the fewest system calls Python offers: the floor's reader."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def make_data(locations: int, folder: Path) -> Path:
    from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

    if (folder / "manifest.json").exists():
        return folder
    spec = SyntheticSpec(locations=locations, pools_per_location=(3, 7),
                         numbers_per_pool=(5, 15), problems=False, seed=11)
    write_snapshot(folder, generate(spec))
    return folder


def measure(kind: str, folder: Path) -> dict:
    """Run one measurement in this process and return seconds and peak memory."""
    import orjson
    import pandas as pd

    import poolkit
    from poolkit.tidy import json_files

    def floor():  # the same file listing as read_pools, the fastest reading, then orjson
        for path in json_files(folder):
            orjson.loads(read_file(path))

    def read_pools():
        tables = poolkit.read_pools(folder)
        return len(tables.pools), len(tables.numbers)

    def without_c():
        from poolkit import tidy

        tidy._fastjson = None
        return read_pools()

    def json_normalize():
        pools = []
        for path in json_files(folder):
            pools.extend(orjson.loads(read_file(path))["data"])
        flat = pd.json_normalize(pools)
        numbers = pd.json_normalize(pools, record_path="numbers", meta=["locationId", "id"])
        return len(flat), len(numbers)

    def duckdb_read_json():
        import duckdb

        files = json_files(folder)
        connection = duckdb.connect()
        connection.execute("CREATE TEMP TABLE pools AS SELECT unnest(data, recursive := true), filename "
                           "FROM read_json(?, filename = true, maximum_object_size = 1073741824)", [files])
        pools = connection.sql("SELECT * EXCLUDE (numbers), len(numbers) AS number_count FROM pools").df()
        numbers = connection.sql("SELECT locationId, id, filename, unnest(numbers, recursive := true) "
                                 "FROM pools").df()
        return len(pools), len(numbers)

    def dask_engine():  # on the LocalCluster of 2 worker processes started below, before the clock
        import dask

        tables = poolkit.read_pools(folder, engine="dask")
        return dask.compute(tables.pools.shape[0], tables.numbers.shape[0])

    run = {"floor": floor, "read_pools": read_pools, "without_c": without_c, "json_normalize": json_normalize,
           "duckdb": duckdb_read_json, "dask": dask_engine}[kind]
    if kind == "dask":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
        Client(cluster)
    before = rss_bytes()
    start = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - start
    peak = peak_rss_bytes()
    return {"kind": kind, "seconds": seconds, "peak_bytes": peak - before, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locations", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help="where the generated responses are kept")
    args = parser.parse_args()
    folder = args.folder or HERE / "out" / f"tidy-{args.locations}"
    if args.measure:
        print(json.dumps(measure(args.measure, folder)))
        return

    make_data(args.locations, folder)
    files = [p for p in folder.glob("*.json") if p.name != "manifest.json"]
    json_bytes = sum(p.stat().st_size for p in files)
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeat):  # interleaved, so drift hits every kind alike
        for kind in ("floor", "read_pools", "without_c", "json_normalize", "duckdb"):
            out = subprocess.run([sys.executable, __file__, "--measure", kind, "--folder", str(folder)],
                                 check=True, capture_output=True, text=True).stdout
            results.setdefault(kind, []).append(json.loads(out))
    best = {kind: min(runs, key=lambda r: r["seconds"]) for kind, runs in results.items()}
    floor, ours, normalize, duck = best["floor"], best["read_pools"], best["json_normalize"], best["duckdb"]
    peak = max(r["peak_bytes"] for r in results["read_pools"])
    print(f"input: {len(files):,} files, {json_bytes / 1e6:.0f} MB, "
          f"{ours['rows'][0]:,} pools, {ours['rows'][1]:,} numbers (best of {args.repeat})")
    for kind, result in best.items():
        print(f"  {kind:15s} {result['seconds']:7.2f} s   peak +{result['peak_bytes'] / 1e6:7.0f} MB")
    print(f"read_pools / floor          = {ours['seconds'] / floor['seconds']:.2f}x  (target <= 1.5x; <= 1.0x)")
    print(f"  without a C compiler      = {best['without_c']['seconds'] / floor['seconds']:.2f}x")
    print(f"json_normalize / read_pools = {normalize['seconds'] / ours['seconds']:.2f}x  (target >= 3x; >= 5x)")
    print(f"duckdb read_json / read_pools = {duck['seconds'] / ours['seconds']:.2f}x  (target >= 5x)")
    print(f"read_pools peak / JSON bytes = {peak / json_bytes:.2f}x  (target < 4x; <= 3x)")


if __name__ == "__main__":
    main()
