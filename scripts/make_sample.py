"""Regenerate the shipped sample snapshots (poolkit/samples/<snapshot>/; the last one is
also reachable as data/sample).

Deterministic: a fixed seed and fixed snapshot times, so running it again rewrites the same
bytes. Run: python scripts/make_sample.py
"""

import shutil
from pathlib import Path

from poolkit.snapshot import snapshot_name
from poolkit.synthetic import HISTORY_TIMES, active_number_pages, sample_history, write_snapshot

TARGET = Path(__file__).resolve().parent.parent / "poolkit" / "samples"

if __name__ == "__main__":
    shutil.rmtree(TARGET, ignore_errors=True)
    snapshots = list(zip(HISTORY_TIMES, sample_history()))
    for taken_at, responses in snapshots:
        folder = write_snapshot(
            TARGET / snapshot_name(taken_at),
            responses,
            indent=1,
            taken_at=taken_at,
            note="synthetic sample (poolkit scripts/make_sample.py, seed 7)",
            # the newest fetch also asked for the numbers each location holds
            inventory=active_number_pages(responses) if taken_at == HISTORY_TIMES[-1] else None,
        )
        print(f"wrote {len(responses)} locations to {folder}")
