"""Benchmark the fetch against its floor on a local HighLevel that enforces the rate limits.

The server (``tests/highlevel.py``, in its own process) keeps 100 requests per 10 s per
resource (the agency, each location), answers after the given latency and, with
``--competitor``, lets another client of the same app spend that share of the agency's
budget. An agency fetch pays the agency's budget for the search's pages and a token per
location, so its floor is (pages + locations) / (100 per 10 s, less the competitor's share):
1,000 locations, 101 s. ``--scale 10`` runs the server's clock ten times faster (1 s
windows, latencies a tenth): the same ratios in a tenth of the time.

Reported per run: wall time, the floor, their ratio, the 429s the server answered, the
locations that failed, and poolkit's CPU time (this process) against the wall time: the
fetch's, and the tidy's that reads the snapshot into tables after it (``result.tables``, the
next stage, which the fetch no longer does unasked).

Run: python benchmarks/fetch.py [--locations 200 1000] [--latency 0 50 500] [--numbers]
                                [--scale 10] [--competitor 0.3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from highlevel import Limits, ServerApart, floor_seconds  # noqa: E402


def run(locations: int, limits: Limits, numbers: bool) -> dict:
    import poolkit

    server = ServerApart(locations, limits)
    try:
        client = poolkit.Client("benchmark-token", base_url=server.start())
        with tempfile.TemporaryDirectory() as out:
            wall, cpu = time.perf_counter(), time.process_time()
            result = poolkit.fetch_pools(
                company_id="C1", out=out, client=client, numbers=numbers, progress=False
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            tidy = time.process_time()
            pools = len(result.tables.pools)  # the next stage: the snapshot read into tables
            tidy = time.process_time() - tidy
    finally:
        figures = server.stop()
    floor = floor_seconds(locations, limits)
    return {
        "wall": wall,
        "floor": floor,
        "ratio": wall / floor,
        "429s": figures["refused"],
        "failed": len(result.failures),
        "pools": pools,
        "cpu": cpu / wall,
        "tidy": tidy / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, nargs="+", default=[1000])
    parser.add_argument("--latency", type=float, nargs="+", default=[50], help="milliseconds")
    parser.add_argument("--numbers", action="store_true", help="with each location's numbers")
    parser.add_argument("--scale", type=float, default=1.0, help="the server's clock, faster")
    parser.add_argument("--competitor", type=float, default=0.0)
    parser.add_argument("--window", choices=("sliding", "fixed"), default="sliding")
    args = parser.parse_args()

    print("| locations | options | latency | time | floor | ratio | 429s | failed | CPU | + tidy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for locations in args.locations:
        for latency in args.latency:
            limits = Limits(
                interval=10 / args.scale,
                latency=latency / 1000 / args.scale,
                competitor=args.competitor,
                window=args.window,
            )
            got = run(locations, limits, args.numbers)
            options = ["`--numbers`"] * args.numbers + [f"{args.scale:g}x time"] * (args.scale != 1)
            options += [f"competitor {args.competitor:.0%}"] * bool(args.competitor)
            options += ["fixed windows"] * (args.window == "fixed")
            print(
                f"| {locations:,} | {', '.join(options)} | {latency:g} ms | {got['wall']:.1f} s "
                f"| {got['floor']:.1f} s | {got['ratio']:.3f} | {got['429s']} | {got['failed']} "
                f"| {got['cpu']:.1%} | {got['tidy']:.1%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
