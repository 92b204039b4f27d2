"""A time-window scan of the demo world's viewing events on DuckDB, for two Parquet layouts of the same world
(e.g. parts in generation order vs the time-ordered parts `write_world_parquet` writes now): hours per title
in a one-month and a one-year window, median of `--repeats`, both layouts in one run.

    .venv/bin/python benchmarks/window_scan.py /tmp/s8/world-10000000 /tmp/s8b/world-10000000 --repeats 5

Prints a table and writes `benchmarks/results/window_scan.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import duckdb

WINDOWS = (("one month", "2026-10-01", "2026-11-01"), ("one year", "2025-11-01", "2026-11-01"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("worlds", nargs="+", type=Path, help="world folders written by write_world_parquet")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for world in args.worlds:
        con = duckdb.connect()
        con.execute(f"SET threads={int(args.threads)}")
        events = f"read_parquet('{world}/viewing_events/*.parquet')"
        groups = con.execute(
            f"SELECT count(*) FROM parquet_metadata('{world}/viewing_events/*.parquet')"
        ).fetchone()
        for name, lo, hi in WINDOWS:
            query = (
                f"SELECT title_id, sum(seconds_viewed) FROM {events} "
                f"WHERE started_at >= TIMESTAMP '{lo}' AND started_at < TIMESTAMP '{hi}' GROUP BY title_id"
            )
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                con.execute(query).fetchall()
                seconds.append(time.perf_counter() - start)
            rows.append({"world": str(world), "window": name, "median_s": statistics.median(seconds),
                         "runs_s": seconds, "column_chunks": groups[0] if groups else None})  # fmt: skip
        con.close()
    print(f"{'world':40} {'window':10} {'median s':>9}")
    for r in rows:
        print(f"{r['world']:40} {r['window']:10} {r['median_s']:9.3f}")
    out = Path(__file__).resolve().parent / "results" / "window_scan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load_1min": os.getloadavg()[0], "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
