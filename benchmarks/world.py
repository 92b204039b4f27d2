"""Demo-world benchmark: how fast the synthetic world is generated, written to Parquet and to the store.

Each measurement runs in its own child process (peak memory = that child's max RSS):

- generate:  every table of the world generated in memory, chunk by chunk (no payments), nothing kept
- parquet:   `write_world_parquet` (chunked, snappy), no payments
- store:     `build_demo_world` into a fresh DuckDB file (one transaction), no payments
- demo:      `build_demo_world` at the `limelight demo` default size, with the payments simulator

    .venv/bin/python benchmarks/world.py --generate 1000000,10000000 --parquet 1000000 --store 1000000

Prints a table and writes benchmarks/results/world.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results" / "world.json"


def measure(kind: str, events: int) -> dict[str, Any]:
    from limelight.spine.world import build_demo_world, iter_world, write_world_parquet

    scratch = Path(tempfile.mkdtemp(prefix="limelight-world-bench-"))
    try:
        t0 = time.perf_counter()
        counts: dict[str, int] = {}
        if kind == "generate":
            for name, frame in iter_world(events, 7, payments=False):
                counts[name] = counts.get(name, 0) + len(frame)
        elif kind == "parquet":
            counts = write_world_parquet(scratch / "world", events=events, seed=7, payments=False)["counts"]
        elif kind == "store":
            counts = build_demo_world(scratch / "w.duckdb", events=events, seed=7, payments=False)["counts"]
        elif kind == "demo":
            counts = build_demo_world(scratch / "w.duckdb", events=events, seed=7)["counts"]
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "kind": kind,
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", default="1000000,10000000")
    parser.add_argument("--parquet", default="1000000")
    parser.add_argument("--store", default="1000000")
    parser.add_argument("--demo", default="100000")
    args = parser.parse_args()
    plan = [
        (kind, int(float(n)))
        for kind, sizes in (("generate", args.generate), ("parquet", args.parquet), ("store", args.store), ("demo", args.demo))
        for n in sizes.split(",")
        if n
    ]
    rows = []
    print(f"{'what':<9} {'events':>12} {'seconds':>9} {'events/s':>11} {'peak MiB':>9}")
    for kind, events in plan:
        proc = subprocess.run(
            [sys.executable, str(HERE), "_measure", kind, str(events)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"{kind:<9} {events:>12,} ERROR {proc.stderr.strip().splitlines()[-1]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{kind:<9} {events:>12,} {row['seconds']:>9.2f} {row['events_per_second']:>11,} {row['peak_rss_mib']:>9.0f}", flush=True)
    payload = {
        "benchmark": "world",
        "command": "python " + " ".join([str(Path(sys.argv[0])), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other engineers), Python {platform.python_version()}",
        "load_average_at_end": os.getloadavg(),
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
