"""Regenerate the shipped sample snapshot (poolkit/sample, also reachable as data/sample).

Deterministic: a fixed seed and a fixed snapshot time, so running it again rewrites
the same bytes. Run: python scripts/make_sample.py
"""

import shutil
from datetime import datetime, timezone
from pathlib import Path

from poolkit.synthetic import SAMPLE, generate, write_snapshot

TARGET = Path(__file__).resolve().parent.parent / "poolkit" / "sample"

if __name__ == "__main__":
    shutil.rmtree(TARGET, ignore_errors=True)
    responses = generate(SAMPLE)
    write_snapshot(
        TARGET,
        responses,
        indent=1,
        taken_at=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc),
        note="synthetic sample (poolkit scripts/make_sample.py, seed 7)",
    )
    print(f"wrote {len(responses)} locations to {TARGET}")
