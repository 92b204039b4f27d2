"""Time `progress_frame` (what each member plays next) over a whole store, median of runs.

    .venv/bin/limelight demo --db /tmp/s10/perf.duckdb --events 1000000
    .venv/bin/python benchmarks/progress_frame.py --db /tmp/s10/perf.duckdb [--runs 3]

To compare with older code, run it with that code on PYTHONPATH (`git worktree add /tmp/old <commit>`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from limelight.personalize.catalog import load_catalog, load_members
    from limelight.personalize.foldin import Histories, load_pieces, progress_frame
    from limelight.spine.store import Store

    with Store(args.db, read_only=True) as store:
        catalog, members, pieces = load_catalog(store), load_members(store), load_pieces(store)
    histories = Histories(catalog, pieces, list(members.country))
    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        frame = progress_frame(histories.pieces, catalog, histories._next)
        seconds.append(time.perf_counter() - start)
    states = frame["state"].value_counts().to_dict()
    print(f"progress_frame: {len(frame):,} rows in {statistics.median(seconds):.2f} s (median of {args.runs}; "
          f"runs {', '.join(f'{s:.2f}' for s in seconds)}); states {states}")


if __name__ == "__main__":
    main()
