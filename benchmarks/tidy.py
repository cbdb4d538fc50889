"""Benchmark read_pools against its floor, against pandas.json_normalize and DuckDB, and on
responses that differ from the documentation's example.

Generates N locations of synthetic one-line responses (default 20,000 files: about 100,000
pools and 1,000,000 numbers) in four forms:

- documented:  ``{"success", "data", "total"}`` as the reference page shows it
- extra_field: the same with an undocumented ``dateAdded`` on every pool
- total_off:   ``total`` one more than the pools in every response (the docs' own example)
- v3:          the v3-style ``{"status", "statusCode", "message", "data"}`` wrapper

then, in one run, interleaved, each in a fresh process so that peak memory is its own, times:

- floor:          list the files, read each (os.open/os.read) and parse it with orjson,
                  keeping nothing
- read_pools:     poolkit.read_pools(folder) on each form, validation included
- json_normalize: the same parse, then pandas.json_normalize for pools and numbers
- duckdb:         DuckDB's read_json over the same files, unnested into pools and numbers
                  DataFrames (all cores)

Results are ratios against the floor (or the documented form) measured in the same run.
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
FORMS = ("documented", "extra_field", "total_off", "v3")


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


def reshape(form: str, body: dict) -> dict:
    """A documented response in another of the forms real answers take."""
    if form == "extra_field":
        return dict(
            body, data=[dict(pool, dateAdded="2026-10-02T14:11:09.000Z") for pool in body["data"]]
        )
    if form == "total_off":
        return dict(body, total=body["total"] + 1)
    if form == "v3":
        return {"status": "success", "statusCode": 200, "message": "OK", "data": body["data"]}
    return body


def make_data(locations: int, root: Path) -> dict[str, Path]:
    from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

    folders = {form: root / form for form in FORMS}
    if all((folder / "manifest.json").exists() for folder in folders.values()):
        return folders
    spec = SyntheticSpec(
        locations=locations,
        pools_per_location=(3, 7),
        numbers_per_pool=(5, 15),
        problems=False,
        seed=11,
    )
    responses = generate(spec)
    for form, folder in folders.items():
        write_snapshot(folder, [(location, reshape(form, body)) for location, body in responses])
    return folders


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
        connection.execute(
            "CREATE TEMP TABLE pools AS SELECT unnest(data, recursive := true), filename "
            "FROM read_json(?, filename = true, maximum_object_size = 1073741824)",
            [files],
        )
        pools = connection.sql(
            "SELECT * EXCLUDE (numbers), len(numbers) AS number_count FROM pools"
        ).df()
        numbers = connection.sql(
            "SELECT locationId, id, filename, unnest(numbers, recursive := true) FROM pools"
        ).df()
        return len(pools), len(numbers)

    run = {
        "floor": floor,
        "read_pools": read_pools,
        "json_normalize": json_normalize,
        "duckdb": duckdb_read_json,
    }[kind]
    before = rss_bytes()
    start = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - start
    peak = peak_rss_bytes()
    return {"kind": kind, "seconds": seconds, "peak_bytes": peak - before, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help="where the generated responses are kept")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.folder)))
        return

    folders = make_data(args.locations, args.folder or HERE / "out" / f"tidy-{args.locations}")
    documented = folders["documented"]
    files = [p for p in documented.glob("*.json") if p.name != "manifest.json"]
    json_bytes = sum(p.stat().st_size for p in files)
    runs = [
        ("floor", documented),
        *((f"read_pools {form}", folders[form]) for form in FORMS),
        ("json_normalize", documented),
        ("duckdb", documented),
    ]
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeat):  # interleaved, so drift hits every kind alike
        for label, folder in runs:
            kind = label.split()[0]
            out = subprocess.run(
                [sys.executable, __file__, "--measure", kind, "--folder", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results.setdefault(label, []).append(json.loads(out))
    best = {label: min(r["seconds"] for r in runs) for label, runs in results.items()}
    ours = best["read_pools documented"]
    rows = results["read_pools documented"][0]["rows"]
    peak = max(r["peak_bytes"] for r in results["read_pools documented"])
    print(
        f"input: {len(files):,} files, {json_bytes / 1e6:.0f} MB, "
        f"{rows[0]:,} pools, {rows[1]:,} numbers "
        f"(best of {args.repeat}, fresh process each, interleaved)"
    )
    for label, seconds in best.items():
        worst_peak = max(r["peak_bytes"] for r in results[label])
        print(f"  {label:26s} {seconds:7.2f} s   peak +{worst_peak / 1e6:7.0f} MB")
    print(f"read_pools / floor                  = {ours / best['floor']:.2f}x  (target <= 3x)")
    print(
        f"json_normalize / read_pools         = {best['json_normalize'] / ours:.2f}x  "
        "(target >= 3x)"
    )
    print(f"duckdb read_json / read_pools       = {best['duckdb'] / ours:.2f}x  (target > 1x)")
    print(f"read_pools peak / JSON bytes        = {peak / json_bytes:.2f}x  (target <= 4x)")
    for form in FORMS[1:]:
        print(
            f"{form:11s} / documented            = {best[f'read_pools {form}'] / ours:.2f}x  "
            "(target <= 1.3x)"
        )


if __name__ == "__main__":
    main()
