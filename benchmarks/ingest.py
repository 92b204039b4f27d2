"""Ingest wall time for the real public data: MovieLens latest-small, the four Netflix engagement reports,
the Netflix titles catalog (and Top 10), each split into reading (parse + checks in the loader) and
writing (the store's validation, foreign keys and all-or-nothing insert), with a peer measured in the
same run so the figures can be compared on a shared, noisy machine:

- MovieLens: DuckDB's own `read_csv` of the four files into tables, with no validation (a lower bound);
- engagement: `pandas.read_excel(engine="openpyxl")` of one report's raw cells (the common default).

    .venv/bin/python benchmarks/ingest.py [--repeats 3] [--skip-peers] [--synthetic-ratings 2000000]

`--synthetic-ratings N` adds a scaling case: a generated (synthetic, seed 0) MovieLens-layout folder
with N ratings by 20,000 members of 5,000 titles, written to a temporary folder and timed once.

`--world-events N` adds the big-ingest case: the SYNTHETIC demo world (`iter_world(N, seed=7)`, no
payments) handed to `Store.ingest` as `Rows` (every table, N viewing events), timed three ways, each
`--repeats` times: into a fresh file, the same batch again (everything already stored), and the second
half of the events into a store that holds the first half (the anti-join against stored keys). The peer
in the same run is the store's previous write path (pandas `drop_duplicates` + `INSERT OR IGNORE` into
tables with a PRIMARY KEY), fed the same validated batch.

    .venv/bin/python benchmarks/ingest.py --world-only --world-events 2000000 --repeats 3

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
from limelight.spine.store import Rows, Store

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


def _world_batch(n_events: int) -> list[Rows]:
    from limelight.spine.world import iter_world

    parts: dict[str, list[Any]] = {}
    for name, frame in iter_world(n_events, 7, payments=False):
        parts.setdefault(name, []).append(frame)
    batch = []
    for name, frames in parts.items():
        for i, frame in enumerate(frames):
            batch.append(Rows(name, frame, origin=f"world:{name}[{i}]"))
    return batch


def _previous_write(path: Path, prepared: dict[str, list[tuple[Rows, Any]]]) -> dict[str, int]:
    """The store's write path before the set-based rewrite (commit ee597c4), for a same-run comparison:
    tables with a PRIMARY KEY, pandas `drop_duplicates` on the key, `INSERT OR IGNORE`, count before/after.
    Timed with the same `prepare` and `check_foreign_keys` as `Store.ingest`, so only the write differs."""
    import duckdb
    import pandas as pd

    from limelight.spine.schema import SCHEMA, TABLE_ORDER, ddl, tables

    con = duckdb.connect(str(path))
    for t in tables():
        con.execute(ddl(t))  # with PRIMARY KEY, as before
    inserted = {}
    con.execute("BEGIN TRANSACTION")
    for name in TABLE_ORDER:
        parts = prepared.get(name)
        if not parts:
            continue
        frame = pd.concat([f for _, f in parts], ignore_index=True)
        frame = frame.drop_duplicates(subset=list(SCHEMA[name].primary_key), keep="first")
        before = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        cols = ", ".join(f'"{c}"' for c in SCHEMA[name].column_names)
        casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in SCHEMA[name].columns)
        con.register("_incoming", frame)
        con.execute(f'INSERT OR IGNORE INTO "{name}" ({cols}) SELECT {casts} FROM _incoming')
        con.unregister("_incoming")
        inserted[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] - before
    con.execute("COMMIT")
    con.close()
    return inserted


def _world_cases(n_events: int, repeats: int, skip_peers: bool) -> list[dict[str, Any]]:
    """Big ingest of the synthetic world: fresh, again (all present), second half onto the first."""
    from limelight.spine.store import check_batch_keys, check_foreign_keys, prepare

    batch = _world_batch(n_events)
    rows = sum(len(r.frame) for r in batch)
    events = [r for r in batch if r.table == "viewing_events"]
    first_half = [Rows(r.table, r.frame.iloc[: len(r.frame) // 2], r.origin) for r in events]
    second_half = [Rows(r.table, r.frame.iloc[len(r.frame) // 2 :], r.origin) for r in events]
    others = [r for r in batch if r.table != "viewing_events"]
    half_rows = sum(len(r.frame) for r in second_half)
    out: list[dict[str, Any]] = []

    def record(case: str, n: int, runs: list[float], inserted: Any) -> None:
        median = statistics.median(runs)
        out.append({"case": case, "rows": n, "inserted": inserted, "total_s": round(median, 3),
                    "rows_per_s": round(n / median), "runs": [round(t, 3) for t in runs]})  # fmt: skip

    fresh_runs, again_runs, half_runs, peer_runs = [], [], [], []
    write_runs, peer_write_runs = [], []
    prepared_once = prepare(batch)
    inserted: Any = None
    peer_inserted: Any = None
    for _ in range(repeats):  # interleaved, so that load changes hit every variant alike
        with tempfile.TemporaryDirectory() as tmp:
            with Store(Path(tmp) / "fresh.duckdb") as store:
                start = time.perf_counter()
                inserted = store.ingest(batch).inserted
                fresh_runs.append(time.perf_counter() - start)
                start = time.perf_counter()
                again = store.ingest(batch).total
                again_runs.append(time.perf_counter() - start)
                assert again == 0, "a second ingest of the same batch must add nothing"
            with Store(Path(tmp) / "halves.duckdb") as store:
                store.ingest(others + first_half)
                start = time.perf_counter()
                store.ingest(second_half)
                half_runs.append(time.perf_counter() - start)
            if not skip_peers:
                start = time.perf_counter()
                prepared = prepare(batch)
                check_foreign_keys(prepared, None)
                peer_inserted = _previous_write(Path(tmp) / "previous.duckdb", prepared)
                peer_runs.append(time.perf_counter() - start)
                # The write phase alone (a validated batch → committed), where the key's cost lives.
                start = time.perf_counter()
                _previous_write(Path(tmp) / "previous-write.duckdb", prepared_once)
                peer_write_runs.append(time.perf_counter() - start)
            with Store(Path(tmp) / "write.duckdb") as store:
                start = time.perf_counter()
                store._write(check_batch_keys(prepared_once))
                write_runs.append(time.perf_counter() - start)
    label = f"SYNTHETIC world, {n_events:,} events"
    record(f"{label}: Store.ingest into a fresh file", rows, fresh_runs, inserted)
    record(f"{label}: the same batch again (all present)", rows, again_runs, 0)
    record(f"{label}: 2nd half of events onto the 1st", half_rows, half_runs, None)
    if peer_runs:
        record(f"{label}: PEER previous write path (PRIMARY KEY + INSERT OR IGNORE)", rows, peer_runs,
               peer_inserted)  # fmt: skip
    record(f"{label}: write phase only (key checks + anti-join INSERT)", rows, write_runs, None)
    if peer_write_runs:
        record(f"{label}: PEER write phase only, previous (INSERT OR IGNORE, PRIMARY KEY)", rows, peer_write_runs,
               None)  # fmt: skip
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
    parser.add_argument("--world-events", type=int, default=0, help="add the big-ingest case: N world events")
    parser.add_argument("--world-only", action="store_true", help="only the --world-events case")
    args = parser.parse_args()
    if args.world_only:
        if not args.world_events:
            parser.error("--world-only needs --world-events N")
        _report_world(args)
        return
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


def _report_world(args: argparse.Namespace) -> None:
    cases = _world_cases(args.world_events, args.repeats, args.skip_peers)
    print(f"{'case':<92} {'rows':>10} {'median s':>9} {'rows/s':>10}")
    for c in cases:
        print(f"{c['case']:<92} {c['rows']:>10,} {c['total_s']:>9.2f} {c['rows_per_s']:>10,}  runs {c['runs']}")
    target = RESULTS.with_name("ingest_world.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "ingest_world",
        "command": f"python benchmarks/ingest.py --world-only --world-events {args.world_events} "
        f"--repeats {args.repeats}" + (" --skip-peers" if args.skip_peers else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "cases": cases,
    }  # fmt: skip
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
