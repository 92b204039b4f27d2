"""Ingest wall time for the real public data: MovieLens latest-small, the four Netflix engagement reports,
the Netflix titles catalog (and Top 10), each split into reading (parse + checks in the loader) and
writing (the store's validation, foreign keys and all-or-nothing insert), with a peer measured in the
same run so the figures can be compared on a shared, noisy machine:

- MovieLens: DuckDB's own `read_csv` of the four files into tables, with no validation (a lower bound);
- engagement: `pandas.read_excel(engine="openpyxl")` of one report's raw cells (the common default).

    .venv/bin/python benchmarks/ingest.py [--repeats 3] [--skip-peers] [--synthetic-ratings 2000000]

`--synthetic-ratings N` adds a scaling case: a generated (synthetic, seed 0) MovieLens-layout folder
with N ratings by 20,000 members of 5,000 titles, written to a temporary folder and timed once.

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


def _synthetic_movielens(folder: Path, n: int) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    ratings = pd.DataFrame({
        "userId": rng.integers(1, 20_001, n), "movieId": rng.integers(1, 5_001, n),
        "rating": rng.integers(1, 11, n) / 2, "timestamp": rng.integers(900_000_000, 1_600_000_000, n),
    }).drop_duplicates(["userId", "movieId", "timestamp"])  # fmt: skip
    ratings.to_csv(folder / "ratings.csv", index=False)
    titles = np.arange(1, 5_001)
    pd.DataFrame({"movieId": titles, "title": [f"Synthetic film {i} (1999)" for i in titles],
                  "genres": "Drama"}).to_csv(folder / "movies.csv", index=False)  # fmt: skip
    return folder


def _peer_primary_key(folder: Path) -> list[dict[str, Any]]:
    """Where the write time goes: DuckDB INSERT of the same ratings into the spine's `ratings` table,
    with its PRIMARY KEY and without it (same types, NOT NULL and CHECK constraints)."""
    import duckdb

    from limelight.spine.schema import SCHEMA, ddl

    out = []
    for with_key in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            con = duckdb.connect(str(Path(tmp) / "pk.duckdb"))
            statement = ddl(SCHEMA["ratings"])
            if not with_key:
                statement = statement.replace(',\n  PRIMARY KEY ("member_id", "title_id", "rated_at")', "")
                assert "PRIMARY KEY" not in statement, "the ratings DDL changed shape; update this peer"
            con.execute(statement)
            incoming = con.sql(
                "SELECT userId::VARCHAR AS member_id, movieId::VARCHAR AS title_id, rating::DOUBLE AS rating, "
                f"to_timestamp(timestamp)::TIMESTAMP AS rated_at, 'stars' AS scale "
                f"FROM read_csv('{folder / 'ratings.csv'}')"
            ).to_arrow_table()
            con.register("_incoming", incoming)
            start = time.perf_counter()
            con.execute("INSERT INTO ratings SELECT * FROM _incoming")
            seconds = time.perf_counter() - start
            rows = con.execute("SELECT count(*) FROM ratings").fetchall()[0][0]
            con.close()
        label = "with" if with_key else "without"
        out.append({"case": f"peer: DuckDB INSERT ratings {label} PRIMARY KEY (synthetic)", "rows": rows,
                    "total_s": round(seconds, 3), "runs": [round(seconds, 3)]})  # fmt: skip
    return out


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
    parser.add_argument("--synthetic-ratings", type=int, default=0, help="add a scaling case with N ratings")
    args = parser.parse_args()
    data = shared_data_dir()
    engagement = sorted((data / "netflix" / "engagement").glob("*.xlsx"))
    cases = [
        _case("MovieLens ml-latest-small", [data / "movielens" / "ml-latest-small"], args.repeats),
        _case("Netflix engagement, 4 reports", engagement, args.repeats),
        _case("Netflix titles catalog", [data / "netflix" / "titles" / "netflix_titles.csv"], args.repeats),
        _case("Netflix Top 10, global + countries", [data / "netflix" / "top10"], args.repeats),
    ]
    if args.synthetic_ratings:
        with tempfile.TemporaryDirectory() as tmp:
            folder = _synthetic_movielens(Path(tmp) / "ml-synthetic", args.synthetic_ratings)
            cases.append(
                _case(f"SYNTHETIC MovieLens layout, {args.synthetic_ratings:,} ratings", [folder], 1)
            )
            key_peers = [] if args.skip_peers else _peer_primary_key(folder)
    else:
        key_peers = []
    peers = []
    if not args.skip_peers:
        peers.append(_peer_duckdb_csv(data / "movielens" / "ml-latest-small", args.repeats))
        peers.append(_peer_openpyxl(engagement[1]))
        ours = _median_seconds(lambda: load_paths([engagement[1]]), args.repeats)[0]
        peers.extend(key_peers)
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
        + (" --skip-peers" if args.skip_peers else "")
        + (f" --synthetic-ratings {args.synthetic_ratings}" if args.synthetic_ratings else ""),
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
