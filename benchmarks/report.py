"""Benchmark the report: ``poolkit report`` of 1,000 locations with two weekly snapshots and
an inventory, end to end from the shell, against a process that only starts Python and
imports what the report imports, in the same run (what every report pays).

The data is generated once into benchmarks/out/report-N-5x10: two snapshots a week apart,
the second with the numbers each location holds. Times are best of R, each a new process:

- baseline: ``python -c "import poolkit.report, poolkit.sections"``
- report:   ``poolkit report benchmarks/out/report-N-5x10 --out ...`` (the target: 10 s)

Run: python benchmarks/report.py [--locations N] [--repeat R]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from timing import best

HERE = Path(__file__).resolve().parent


def make_data(locations: int) -> Path:
    """Two weeks of ``locations`` locations of 5 pools of 10 numbers each (issue 28's shape)."""
    root = HERE / "out" / f"report-{locations}-5x10"
    if not (root / "week-2" / "manifest.json").exists():
        from poolkit.synthetic import SyntheticSpec, active_number_pages, generate, write_snapshot

        for week, seed in ((1, 21), (2, 22)):
            spec = SyntheticSpec(
                locations=locations, seed=seed, pools_per_location=(5, 5), numbers_per_pool=(10, 10)
            )
            responses = generate(spec)
            inventory = active_number_pages(responses, seed=seed) if week == 2 else None
            write_snapshot(
                root / f"week-{week}",
                responses,
                taken_at=datetime(2026, 11, 19 + 7 * (week - 1), 8, tzinfo=timezone.utc),
                inventory=inventory,
            )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = make_data(args.locations)
    poolkit = Path(sys.executable).with_name("poolkit")
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "report.html"
        baseline = best(
            lambda: subprocess.run(
                [sys.executable, "-c", "import poolkit.report, poolkit.sections"], check=True
            ),
            args.repeat,
            warm_up=True,
        )
        report = best(
            lambda: subprocess.run(
                [poolkit, "report", data, "--out", out], check=True, stdout=subprocess.DEVNULL
            ),
            args.repeat,
        )
        size = out.stat().st_size
    print(f"{args.locations:,} locations, two snapshots, inventory; report {size / 1e6:.1f} MB")
    print(f"baseline (python, poolkit's report imported)  {baseline:6.2f} s")
    print(
        f"poolkit report, end to end                     {report:6.2f} s   "
        f"{report / baseline:.2f}x the baseline"
    )


if __name__ == "__main__":
    main()
