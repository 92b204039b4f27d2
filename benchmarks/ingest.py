"""Ingest wall time for the real public data: MovieLens latest-small, the four Netflix engagement reports,
the Netflix titles catalog (and Top 10), each split into reading (parse + checks in the loader) and
writing (the store's validation, foreign keys and all-or-nothing insert), with a peer measured in the
same run so the figures can be compared on a shared, noisy machine:

- MovieLens: DuckDB's own `read_csv` of the four files into tables, with no validation (a lower bound);
- engagement: `pandas.read_excel(engine="openpyxl")` of one report's raw cells (the common default).

    .venv/bin/python benchmarks/ingest.py [--repeats 3] [--skip-peers]

Prints a table and writes `benchmarks/results/ingest.json`. Medians of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from limelight.settings import shared_data_dir
from limelight.spine.loaders import load_paths
from limelight.spine.store import Store

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"


def _median_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _case(name: str, paths: list[Path], repeats: int) -> dict[str, Any]:
    read_s, read_runs, batch = _median_seconds(lambda: load_paths(paths), repeats)
    rows = sum(len(r.frame) for r in batch)

    def write() -> dict[str, int]:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
            return store.ingest(batch).inserted

    write_s, write_runs, inserted = _median_seconds(write, repeats)
    return {
        "case": name,
        "paths": [str(p) for p in paths],
        "rows": rows,
        "inserted": inserted,
        "read_s": round(read_s, 3),
        "write_s": round(write_s, 3),
        "total_s": round(read_s + write_s, 3),
        "rows_per_s": round(rows / (read_s + write_s)),
        "read_runs": [round(t, 3) for t in read_runs],
        "write_runs": [round(t, 3) for t in write_runs],
    }


def _peer_duckdb_csv(folder: Path, repeats: int) -> dict[str, Any]:
    import duckdb

    def run() -> int:
        con = duckdb.connect()
        total = 0
        for name in ("movies", "links", "ratings", "tags"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{folder / (name + '.csv')}')")
            total += con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        con.close()
        return total

    seconds, runs, rows = _median_seconds(run, repeats)
    return {"case": "peer: DuckDB read_csv, no checks (MovieLens)", "rows": rows, "total_s": round(seconds, 3),
            "runs": [round(t, 3) for t in runs]}  # fmt: skip


def _peer_openpyxl(report: Path) -> dict[str, Any]:
    import pandas as pd

    start = time.perf_counter()
    sheets = pd.read_excel(report, sheet_name=None, header=None, engine="openpyxl")
    seconds = time.perf_counter() - start
    return {"case": f"peer: pandas+openpyxl raw cells ({report.name})", "rows": sum(len(s) for s in sheets.values()),
            "total_s": round(seconds, 3), "runs": [round(seconds, 3)]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    data = shared_data_dir()
    engagement = sorted((data / "netflix" / "engagement").glob("*.xlsx"))
    cases = [
        _case("MovieLens ml-latest-small", [data / "movielens" / "ml-latest-small"], args.repeats),
        _case("Netflix engagement, 4 reports", engagement, args.repeats),
        _case("Netflix titles catalog", [data / "netflix" / "titles" / "netflix_titles.csv"], args.repeats),
        _case("Netflix Top 10, global + countries", [data / "netflix" / "top10"], args.repeats),
    ]
    peers = []
    if not args.skip_peers:
        peers.append(_peer_duckdb_csv(data / "movielens" / "ml-latest-small", args.repeats))
        peers.append(_peer_openpyxl(engagement[1]))
        ours = _median_seconds(lambda: load_paths([engagement[1]]), args.repeats)[0]
        peers.append({"case": f"ours: limelight read ({engagement[1].name})", "rows": None,
                      "total_s": round(ours, 3), "runs": []})  # fmt: skip

    print(f"{'case':<48} {'rows':>9} {'read s':>8} {'write s':>8} {'total s':>8} {'rows/s':>9}")
    for c in cases:
        print(f"{c['case']:<48} {c['rows']:>9,} {c['read_s']:>8.2f} {c['write_s']:>8.2f} {c['total_s']:>8.2f} "
              f"{c['rows_per_s']:>9,}")  # fmt: skip
    for p in peers:
        rows = f"{p['rows']:,}" if p["rows"] else "-"
        print(f"{p['case']:<66} {rows:>9} {p['total_s']:>8.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "ingest",
        "command": "python benchmarks/ingest.py" + (f" --repeats {args.repeats}" if args.repeats != 3 else "")
        + (" --skip-peers" if args.skip_peers else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "repeats": args.repeats,
        "cases": cases,
        "peers": peers,
    }  # fmt: skip
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
