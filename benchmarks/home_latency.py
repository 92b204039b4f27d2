"""Home-page engine latency on the demo world: load time, per-request latency, fold-in, peak memory.

    .venv/bin/python benchmarks/home_latency.py --events 1000000 [--db FILE] [--members 300] [--model auto]

Builds the demo world (or reads `--db`), loads `PersonalizationEngine`, then times, one request at
a time on one thread: `home` (first request per member = cold, then again = warm), `recommend`,
`explain`, and `observe` (one event, fold-in + rescoring). The peer in the same run is the naive
per-request path — score the member's history with the model and sort the whole catalog — which
is what `recommend` would cost without precomputed candidates. `--model NAME` serves a model trained
the way `limelight train` trains it (the service's path; the engine's own default is EASE). Prints a
table and writes `benchmarks/results/home_latency.json` (`home_latency_<model>.json` with `--model`).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _pct(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1e3
    return {"p50_ms": round(float(np.percentile(arr, 50)), 3), "p99_ms": round(float(np.percentile(arr, 99)), 3),
            "n": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=None, help="train this model as `limelight train` does (default: the engine's EASE)")
    args = parser.parse_args()

    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.store import Store

    db = args.db
    tmp = None
    if db is None:
        from limelight.spine.world import build_demo_world

        tmp = tempfile.TemporaryDirectory(prefix="home-bench-")
        db = Path(tmp.name) / "world.duckdb"
        t = time.perf_counter()
        build_demo_world(db, events=args.events, seed=args.seed)
        print(f"demo world ({args.events:,} events) built in {time.perf_counter() - t:.1f} s")

    model = None
    train_s = 0.0
    if args.model:
        from limelight.service.training import load_interactions, make_model

        t = time.perf_counter()
        with Store(db, read_only=True) as store:
            model = make_model(args.model).fit(load_interactions(store)[0])
        train_s = time.perf_counter() - t
    t = time.perf_counter()
    with Store(db, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store, model, seed=args.seed)
    load_s = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    ids = np.asarray(engine.histories.member_ids, dtype=object)
    members = [str(m) for m in rng.choice(ids, size=min(args.members, len(ids)), replace=False)]

    results: dict[str, dict[str, float]] = {}
    for label in ("home_cold", "home_warm"):
        lat = []
        for m in members:
            t = time.perf_counter()
            engine.home(m)
            lat.append(time.perf_counter() - t)
        results[label] = _pct(lat)
    lat = []
    for m in members:
        t = time.perf_counter()
        engine.recommend(m, k=10)
        lat.append(time.perf_counter() - t)
    results["recommend_k10"] = _pct(lat)

    # Peer: the naive path (model scores for the member's history, full sort, no filters or reasons).
    n = engine.catalog.n_titles
    lat = []
    for m in members:
        t = time.perf_counter()
        row = engine.histories.get(m).row(n)
        scores = engine.blended_scores(row)[0]
        scores[row.indices] = -np.inf
        np.argsort(-scores)[:10]
        lat.append(time.perf_counter() - t)
    results["naive_rescore_k10"] = _pct(lat)

    lat = []
    for m in members[:100]:
        title = engine.recommend(m, k=1)[0].title_id
        t = time.perf_counter()
        engine.explain(m, title)
        lat.append(time.perf_counter() - t)
    results["explain"] = _pct(lat)

    lat = []
    titles = engine.catalog.axis_ids
    for m in members[:100]:
        event = pd.DataFrame({"member_id": [m], "title_id": [str(rng.choice(titles))],
                              "started_at": [engine.now], "seconds_viewed": [1200]})
        t = time.perf_counter()
        engine.observe(event)
        engine.home(m)
        lat.append(time.perf_counter() - t)
    results["observe_then_home"] = _pct(lat)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "command": "benchmarks/home_latency.py " + (f"--db {args.db}" if args.db else f"--events {args.events}")
        + (f" --model {args.model}" if args.model else ""),
        "machine": f"{platform.machine()}, 2 shared cores (8 engineers), Python {platform.python_version()}",
        "model": type(engine.model).__name__,
        "titles_on_axis": n,
        "members": len(ids),
        "load_s": round(load_s, 2),
        "train_s": round(train_s, 2),
        "chosen": getattr(engine.model, "chosen_", None),
        "peak_rss_mb": round(peak_mb, 1),
        "latency": results,
    }
    print(f"model {out['model']}, {n:,} titles, {len(ids):,} members, load {load_s:.1f} s, peak RSS {peak_mb:,.0f} MB")
    print(f"{'operation':<22}{'p50 ms':>10}{'p99 ms':>10}{'n':>6}")
    for name, r in results.items():
        print(f"{name:<22}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['n']:>6}")
    target = Path(__file__).parent / "results" / (f"home_latency_{args.model}.json" if args.model else "home_latency.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
