"""How read_pools grows with input size: time and peak memory at 10k, 100k and 1M numbers,
each measured in a fresh process, best of R.

Writes docs/images/scale.png (time and memory against numbers, log-log) and prints the
cost per number, and where the pandas engine would stop fitting in 24 GiB.
Run: python benchmarks/scale.py [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {10_000: 200, 100_000: 2_000, 1_000_000: 20_000}  # numbers -> locations (~50 numbers each)
MEMORY = 24 * 2**30


def measure(kind: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "tidy.py"), "--measure", kind, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from tidy import make_data

    rows = []
    for locations in SIZES.values():
        folder = make_data(locations, HERE / "out" / f"tidy-{locations}")["documented"]
        size = sum(p.stat().st_size for p in folder.glob("*.json") if p.name != "manifest.json")
        runs = [measure("read_pools", folder) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        rows.append(
            {
                "numbers": best["rows"][1],
                "json_bytes": size,
                "seconds": best["seconds"],
                "peak_bytes": max(r["peak_bytes"] for r in runs),
            }
        )

    for row in rows:
        print(
            f"{row['numbers']:>10,} numbers: {row['seconds']:6.2f} s "
            f"({row['seconds'] / row['numbers'] * 1e6:.2f} µs per number), "
            f"peak +{row['peak_bytes'] / 1e6:,.0f} MB"
        )
    pandas_rows = rows
    per_number = pandas_rows[-1]["peak_bytes"] / pandas_rows[-1]["numbers"]
    growth = (pandas_rows[-1]["seconds"] / pandas_rows[-1]["numbers"]) / (
        pandas_rows[1]["seconds"] / pandas_rows[1]["numbers"]
    )
    print(f"time per number, 1M vs 100k: {growth:.2f}x (1.0 = linear)")
    print(
        f"peak memory {per_number:,.0f} bytes per number: the pandas engine fits about "
        f"{MEMORY / per_number / 1e6:,.0f} million numbers in 24 GiB"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    x = [r["numbers"] for r in pandas_rows]
    left.loglog(x, [r["seconds"] for r in pandas_rows], "o-", label="read_pools")
    left.loglog(
        x, [pandas_rows[0]["seconds"] * n / x[0] for n in x], ":", color="grey", label="linear"
    )
    left.set(xlabel="Numbers", ylabel="Seconds", title="Time")
    left.legend(fontsize=8)
    right.loglog(x, [r["peak_bytes"] / 1e6 for r in pandas_rows], "o-", label="peak RSS added")
    right.loglog(x, [r["json_bytes"] / 1e6 for r in pandas_rows], "^--", label="JSON bytes read")
    right.set(xlabel="Numbers", ylabel="MB", title="Peak memory")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE.parent / "docs" / "images" / "scale.png", dpi=90)
    print(f"plot: {HERE.parent / 'docs' / 'images' / 'scale.png'}")


if __name__ == "__main__":
    main()
