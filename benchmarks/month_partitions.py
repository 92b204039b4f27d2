"""Views per window on two Parquet layouts of the same world — one folder of parts per event table, and
Hive-style month folders (`limelight scale world --partition-by month`) — on DuckDB and on Spark local
mode, each engine in one long-lived session, layouts alternating, windows of one month and one year.

    .venv/bin/python benchmarks/month_partitions.py /tmp/s8b/world-10000000 /tmp/s8m/world-10000000 --repeats 5

The real pipeline (`views_per_window` written to Parquet by the engine, as `limelight scale views` does);
wall and CPU seconds of the whole process tree (the JVM included); one warm-up run per (layout, window)
first, then the median of `--repeats`. Writes `benchmarks/results/month_partitions.json`
(`LIMELIGHT_BENCH_RESULTS` to write elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import _remove, _spark, _tree_cpu

WINDOWS = (("one month", "2026-10-01", "2026-11-01"), ("one year", "2025-11-01", "2026-11-01"))


def _connect(engine: str, world: Path, session: Any) -> Any:
    from limelight.spine.engines import connect

    if engine == "spark":  # re-registers the views: both layouts share one session, one at a time
        return connect("spark", parquet_dir=world, spark=session, tables=("titles", "viewing_events"))
    backend = connect("duckdb", parquet_dir=world, tables=("titles", "viewing_events"))
    backend.raw_sql("SET memory_limit='4GB'")
    return backend


def run(engine: str, layouts: dict[str, Path], repeats: int) -> list[dict[str, Any]]:
    from limelight.spine.pipelines import views_per_window

    session, startup = _spark() if engine == "spark" else (None, 0.0)
    scratch = Path(f"/tmp/limelight-month-partitions-{os.getpid()}")
    timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_number in range(repeats + 1):  # round 0 warms every (layout, window) up
        order = list(layouts.items()) if round_number % 2 == 0 else list(layouts.items())[::-1]
        for layout, world in order:
            backend = _connect(engine, world, session)
            for window, lo, hi in WINDOWS:
                expr = views_per_window(backend, lo, hi, ordered=False)
                _remove(scratch)
                cpu0, t0 = _tree_cpu(os.getpid()), time.perf_counter()
                backend.to_parquet(expr, scratch)
                if round_number:
                    timings.setdefault((layout, window), []).append(
                        (time.perf_counter() - t0, _tree_cpu(os.getpid()) - cpu0)
                    )
    _remove(scratch)
    return [
        {"engine": engine, "layout": layout, "window": window, "startup_s": round(startup, 2),
         "median_s": round(statistics.median(r[0] for r in runs), 3),
         "median_cpu_s": round(statistics.median(r[1] for r in runs), 2),
         "runs_s": [round(r[0], 3) for r in runs], "runs_cpu_s": [round(r[1], 2) for r in runs]}
        for (layout, window), runs in timings.items()
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flat", type=Path, help="world written by write_world_parquet")
    parser.add_argument("months", type=Path, help="the same world written with partition_by='month'")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()
    layouts = {"folder of parts": args.flat, "month folders": args.months}
    load0 = os.getloadavg()[0]
    rows = [row for engine in args.engines.split(",") for row in run(engine, layouts, args.repeats)]
    print(f"{'engine':7} {'layout':16} {'window':10} {'median s':>9} {'CPU s':>7}")
    for r in rows:
        print(f"{r['engine']:7} {r['layout']:16} {r['window']:10} {r['median_s']:9.3f} {r['median_cpu_s']:7.2f}")
    out = Path(os.environ.get("LIMELIGHT_BENCH_RESULTS") or Path(__file__).resolve().parent / "results" / "month_partitions.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"command": "python " + " ".join(sys.argv), "load_1min": [load0, os.getloadavg()[0]], "rows": rows}
    out.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
