"""Accuracy of every model under every protocol on MovieLens (ml-latest-small by default).

Microsoft Recommenders' protocol is `--protocols random`: a per-member stratified 75/25 random
split (seed 42), binary relevance (every held-out rating is relevant), top-10 excluding seen titles.

    .venv/bin/python benchmarks/accuracy.py                      # every model × every protocol
    .venv/bin/python benchmarks/accuracy.py --protocols random --models auto,ease
    .venv/bin/python benchmarks/accuracy.py --ratings path/to/ml-100k/u.data   # ML-100k layout
    .venv/bin/python benchmarks/accuracy.py --paired random=auto:als,temporal=auto:ease   # paired differences
    .venv/bin/python benchmarks/accuracy.py --seeds 42,43,44,45,46 ...   # several split draws, median per model

Reads `ratings.csv` (userId,movieId,rating,timestamp) or ML-100k's `u.data` (tab-separated user,
item, rating, timestamp without a header). Prints a table; writes benchmarks/results/accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Literal

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd

from limelight.personalize.evaluate import evaluate
from limelight.personalize.models import MODEL_NAMES
from limelight.settings import shared_data_dir

RESULTS = Path(__file__).parent / "results"


def load_ratings(path: Path) -> pd.DataFrame:
    """ratings.csv (ml-latest*, ml-20m, ml-25m) or u.data (ml-100k) as member_id,title_id,rating,timestamp."""
    if path.name == "u.data":
        frame = pd.read_csv(path, sep="\t", names=["member_id", "title_id", "rating", "timestamp"])
    elif path.name == "ratings.dat":  # ml-1m / ml-10m
        frame = pd.read_csv(path, sep="::", engine="python", names=["member_id", "title_id", "rating", "timestamp"])
    else:
        frame = pd.read_csv(path).rename(columns={"userId": "member_id", "movieId": "title_id"})
    return frame[["member_id", "title_id", "rating", "timestamp"]]


def paired(ratings: pd.DataFrame, spec: str, k: int, seed: int) -> list[dict]:
    """NDCG@k of model A minus model B per member on the same split, with a paired 95% interval.

    `spec` is `protocol=A:B[,protocol=A:B…]`.
    """
    import numpy as np

    from limelight.personalize.metrics import ranking_metrics
    from limelight.personalize.models import make_model
    from limelight.personalize.splits import canonical_frame, make_split

    canonical = canonical_frame(ratings)
    out = []
    for item in spec.split(","):
        protocol, _, pair = item.partition("=")
        first, _, second = pair.partition(":")
        split = make_split(canonical, protocol, seed=seed)
        denominator: Literal["relevant", "min_k"] = "min_k" if protocol == "strong-generalization" else "relevant"
        values = {}
        for name in (first, second):
            model = make_model(name)
            model.set_protocol(protocol)
            model.fit(split.train)
            ordered = getattr(model, "uses_order", False) and split.history_time is not None
            recs = model.recommend(split.history_time if ordered else split.history, k)
            values[name] = ranking_metrics(recs.titles, split.truth, k, recall_denominator=denominator)["ndcg"]
        diff = values[first] - values[second]
        half = 1.96 * float(diff.std(ddof=1)) / np.sqrt(len(diff))
        row = {"protocol": protocol, "a": first, "b": second, "ndcg_difference": float(diff.mean()),
               "half_width_95": half, "members": len(diff)}
        print(f"{protocol:<22} NDCG@{k} {first} − {second}: {diff.mean():+.4f} ± {half:.4f} "
              f"(paired 95%, {len(diff)} members)", flush=True)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=Path,
                        default=shared_data_dir() / "movielens" / "ml-latest-small" / "ratings.csv")
    parser.add_argument("--protocols", default="random,leave-last-out,strong-generalization,temporal")
    parser.add_argument("--models", default=",".join(m for m in MODEL_NAMES))
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seeds", default=None,
                        help="comma-separated split seeds (overrides --seed): every row once per seed, then the median")
    parser.add_argument("--out", type=Path, default=RESULTS / "accuracy.json")
    parser.add_argument("--params", default=None,
                        help='JSON {model: {param: value}} passed to those models, e.g. {"auto": {"validation_folds": 1}}')
    parser.add_argument("--paired", default=None,
                        help="protocol=A:B,... : only per-member paired NDCG differences, to accuracy_paired.json")
    args = parser.parse_args(argv)
    if args.paired:
        differences = paired(load_ratings(args.ratings), args.paired, args.k, args.seed)
        (RESULTS / "accuracy_paired.json").write_text(json.dumps({
            "ratings": str(args.ratings), "command": "python " + " ".join(sys.argv), "rows": differences}, indent=2))
        return

    ratings = load_ratings(args.ratings)
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    rows: list[dict] = []
    if args.out.exists():  # keep earlier rows of other (protocol, model) pairs
        previous = json.loads(args.out.read_text())
        if previous.get("ratings") == str(args.ratings):
            rows = previous.get("rows", [])
    header = f"{'protocol':<22} {'model':<11} {'NDCG@K':>16} {'Recall@K':>8} {'Prec@K':>7} {'MAP@K':>7} {'cover':>6} {'novel':>6} {'ILD':>5} {'fit s':>7}"
    print(f"{args.ratings} — {len(ratings):,} ratings, {ratings.member_id.nunique():,} members, "
          f"{ratings.title_id.nunique():,} titles; K={args.k}, seeds={','.join(map(str, seeds))}")
    print(header)
    for protocol, model, seed in ((p, m, s) for s in seeds for p in args.protocols.split(",")
                                  for m in args.models.split(",")):
        started = time.perf_counter()
        params = json.loads(args.params).get(model) if args.params else None
        report = evaluate(ratings, protocol=protocol, model=model, k=args.k, seed=seed, params=params)
        m = report.metrics
        k = args.k
        ndcg = m[f"ndcg@{k}"]
        print(f"{protocol:<22} {model:<11} {ndcg.mean:.4f}±{ndcg.high - ndcg.mean:.4f}  "
              f"{m[f'recall@{k}'].mean:8.4f} {m[f'precision@{k}'].mean:7.4f} {m[f'map@{k}'].mean:7.4f} "
              f"{m['catalog_coverage'].mean:6.3f} {m['novelty'].mean:6.2f} {m['intra_list_diversity'].mean:5.3f} "
              f"{report.fit_seconds:7.1f}", flush=True)
        row = {**report.as_dict(), "seed": seed, "wall_seconds": time.perf_counter() - started}
        rows = [r for r in rows if not (r["protocol"] == protocol and r["model"] == report.model
                                        and r.get("seed", 42) == seed)] + [row]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "ratings": str(args.ratings),
            "command": "python " + " ".join(sys.argv),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
            "rows": rows,
        }, indent=2, default=str))
    if len(seeds) > 1:
        _print_medians(rows, seeds, args.k)


def _print_medians(rows: list[dict], seeds: list[int], k: int) -> None:
    """NDCG@k per seed and its median, one line per (protocol, model)."""
    import numpy as np

    keys = sorted({(r["protocol"], r["model"]) for r in rows if r.get("seed", 42) in seeds})
    for protocol, model in keys:
        values = [r["metrics"][f"ndcg@{k}"]["mean"] for s in seeds for r in rows
                  if (r["protocol"], r["model"], r.get("seed", 42)) == (protocol, model, s)]
        print(f"{protocol:<22} {model:<11} NDCG@{k} median {np.median(values):.4f} over seeds "
              f"{', '.join(f'{v:.4f}' for v in values)}")


if __name__ == "__main__":
    main()
