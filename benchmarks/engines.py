"""Compare the engines a weekly dataset could live on, on the same weeks: poolkit's own
Parquet dataset (a marker committed last), Delta Lake (``deltalake``: a table per poolkit
table, partitioned by snapshot, schema merge) and a DuckDB database file (a table per
poolkit table, a week in one transaction).

For W weeks of L locations (benchmarks/weekly.py's data), one process, each engine:

- add:     every week added in turn (the six tables of a week), total and the last week
- read:    every week back into pandas, and the newest week alone
- half:    whether a week can be seen half-added: the six tables committed one by one
           (Delta: one log per table) or together (poolkit's marker, DuckDB's transaction)

``deltalake`` is not one of poolkit's dependencies: ``pip install deltalake`` to run this.
Run: python benchmarks/engines.py [--locations L] [--weeks W]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def weeks_of(locations: int, weeks: int) -> list:
    """The first ``weeks`` weeks of benchmarks/weekly.py's data, read once."""
    from weekly import make_data

    import poolkit

    _, extra = make_data(locations, 52)
    folders = sorted(p for p in extra.parent.iterdir() if p.is_dir())[:weeks]
    return [poolkit.read_pools(folder, errors="record") for folder in folders]


def frames_of(tables) -> dict:
    """Each table of a week with its snapshot as a column, file columns as the dataset
    keeps them."""
    from poolkit.tables import relative_sources, row_snapshots

    return {
        name: relative_sources(frame, name).assign(snapshot=row_snapshots(tables, name))
        for name, frame in tables
        if len(frame)
    }


def poolkit_engine(root: Path):
    import poolkit

    def add(tables) -> None:
        tables.to_parquet(root, append=True)

    def read(newest: bool):
        held = poolkit.dataset.dataset_snapshots(root)
        return poolkit.read_dataset(root, snapshots=held[-1:] if newest else None)

    return add, read


def delta_engine(root: Path):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    def add(tables) -> None:
        for name, frame in frames_of(tables).items():
            data = pa.Table.from_pandas(frame, preserve_index=False)
            write_deltalake(
                str(root / name), data, mode="append", partition_by=["snapshot"],
                schema_mode="merge",
            )  # fmt: skip

    def read(newest: bool):
        out = {}
        for path in sorted(root.iterdir()):
            table = DeltaTable(str(path))
            if newest:
                last = max(p["snapshot"] for p in table.partitions())
                out[path.name] = table.to_pandas(partitions=[("snapshot", "=", last)])
            else:
                out[path.name] = table.to_pandas()
        return out

    return add, read


def duckdb_engine(root: Path):
    import duckdb

    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / "weekly.duckdb"))

    def add(tables) -> None:
        con.execute("BEGIN")
        for name, frame in frames_of(tables).items():
            frame = frame.astype(
                {c: "string" for c in frame.columns if frame[c].dtype == "category"}
            )
            con.register("week", frame)
            have = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]
            ).fetchall()}  # fmt: skip
            if not have:
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM week')
            else:  # drift by hand: a new field is a new column, a changed type text
                for column in frame.columns:
                    if column not in have:
                        con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" VARCHAR')
                con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM week')
            con.unregister("week")
        con.execute("COMMIT")

    def read(newest: bool):
        out = {}
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            where = f' WHERE snapshot = (SELECT max(snapshot) FROM "{name}")' if newest else ""
            out[name] = con.execute(f'SELECT * FROM "{name}"{where}').df()
        return out

    return add, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=12)
    args = parser.parse_args()
    weeks = weeks_of(args.locations, args.weeks)
    numbers = sum(len(t.numbers) for t in weeks)
    print(f"{len(weeks)} weeks of {args.locations:,} locations, {numbers:,} number rows")
    engines = {
        "poolkit Parquet": (poolkit_engine, "one marker: the whole week or none"),
        "Delta Lake": (delta_engine, "one log per table: a week can be seen half-added"),
        "DuckDB file": (duckdb_engine, "one transaction: the whole week or none"),
    }
    for label, (engine, half) in engines.items():
        root = HERE / "out" / "engines" / label.split()[0].lower()
        shutil.rmtree(root, ignore_errors=True)
        add, read = engine(root)
        started = time.perf_counter()
        for tables in weeks[:-1]:
            add(tables)
        last = time.perf_counter()
        add(weeks[-1])
        done = time.perf_counter()
        read(False)
        whole = time.perf_counter() - done
        begun = time.perf_counter()
        read(True)
        newest = time.perf_counter() - begun
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(
            f"{label:16} add {len(weeks)} weeks {done - started:6.2f} s "
            f"(the last {done - last:.2f} s)  read all {whole:5.2f} s  "
            f"newest {newest:4.2f} s  {size:6.1f} MB  {half}"
        )


if __name__ == "__main__":
    main()
