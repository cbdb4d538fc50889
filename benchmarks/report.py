"""Benchmark the report: ``poolkit report`` of 1,000 locations with two weekly snapshots and
an inventory, against a notebook that only imports poolkit, run and exported the same way in
the same run (the kernel's start and nbconvert's export, which every report pays).

The data is generated once into benchmarks/out/report-N: two snapshots a week apart, the
second with the numbers each location holds. Times are best of R, each a fresh kernel:

- baseline: papermill + nbconvert of a one-cell notebook (``import poolkit``)
- report:   ``poolkit.report.build_report(folder of the two snapshots)``

Run: python benchmarks/report.py [--locations N] [--repeat R]
"""

from __future__ import annotations

import argparse
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


def baseline_notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import poolkit")]
    path = folder / "baseline.ipynb"
    nbformat.write(notebook, path)
    return path


def run_baseline(path: Path, work: Path) -> None:
    import papermill
    from nbconvert import HTMLExporter

    executed = papermill.execute_notebook(
        str(path), str(work / "out.ipynb"), kernel_name="python3", progress_bar=False
    )
    HTMLExporter(exclude_input=True).from_notebook_node(executed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from poolkit.report import build_report

    data = make_data(args.locations)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        notebook = baseline_notebook(work)
        baseline = best(lambda: run_baseline(notebook, work), args.repeat, warm_up=True)
        report = best(lambda: build_report(data, work / "report.html"), args.repeat)
        size = (work / "report.html").stat().st_size
    print(f"{args.locations:,} locations, two snapshots, inventory; report {size / 1e6:.1f} MB")
    print(f"baseline (kernel start, import poolkit, export)  {baseline:6.2f} s")
    print(
        f"poolkit report                                   {report:6.2f} s   "
        f"{report / baseline:.2f}x the baseline"
    )


if __name__ == "__main__":
    main()
