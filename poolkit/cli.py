"""Command line: ``poolkit tidy``, ``poolkit fetch``, ``poolkit report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import PoolkitError
from .tidy import read_pools


def _summary(tables) -> str:
    pools, problems = tables.pools, tables.problems
    return (f"{pools['location_id'].nunique():,} locations, {len(pools):,} pools, "
            f"{len(tables.numbers):,} numbers, {len(tables.services):,} pools with an inbound "
            f"call service, {len(problems):,} problems")


def cmd_tidy(args: argparse.Namespace) -> int:
    tables = read_pools(args.data, errors="record")
    out = Path(args.out)
    tables.to_parquet(out)
    tables.to_csv(out)
    print(_summary(tables))
    print(f"tidy tables written to {out}/ (pools, numbers, services, problems; .parquet and .csv)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="poolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"poolkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tidy = commands.add_parser("tidy", help="turn saved responses into tidy tables (Parquet and CSV)")
    tidy.add_argument("data", help="a response file, a snapshot folder or a glob")
    tidy.add_argument("--out", default="data/processed", help="folder for the tables (default: %(default)s)")
    tidy.set_defaults(run=cmd_tidy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except PoolkitError as exc:
        print(f"poolkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
