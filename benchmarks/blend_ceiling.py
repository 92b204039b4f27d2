"""How far can blending take `auto`? The best blend of the model families, with weights chosen ON THE TEST SPLIT.

    .venv/bin/python benchmarks/blend_ceiling.py --ratings benchmarks/.cache/ml-100k/u.data

A diagnostic, not a result: the weights are fitted on the held-out truth, which no model may see,
so the figure is an upper bound on what any validation-chosen blend of these families could score
under the protocol (default: Microsoft Recommenders' per-member 75/25 random split, seed 42). Each
family uses the hyperparameters `auto` chose for it on its own validation split of the training
data (read from its report), scores are z-normalised per member over unseen titles (as `auto`
blends them), and weights 0..5 per family are searched exhaustively (families: EASE, co-watch EASE, ALS,
RP3beta, item-kNN; co-watch since 2026-11-29). Writes
benchmarks/results/blend_ceiling.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import load_ratings
from limelight.personalize.metrics import ranking_metrics
from limelight.personalize.models import make_model
from limelight.personalize.models.blend import Auto, _normalise
from limelight.personalize.splits import canonical_frame, make_split

FAMILIES = ("ease", "cowatch", "als", "rp3beta", "itemknn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=Path, required=True)
    parser.add_argument("--protocol", default="random")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "blend_ceiling.json")
    args = parser.parse_args()

    split = make_split(canonical_frame(load_ratings(args.ratings)), args.protocol, seed=42)
    auto = Auto()
    auto.set_protocol(args.protocol)
    auto.fit(split.train)
    best_params = {}
    for row in auto.report_:  # best validation score per family
        family = row["model"]
        if family in FAMILIES and row["validation_ndcg"] > best_params.get(family, ({}, -1.0))[1]:
            best_params[family] = (row["params"], row["validation_ndcg"])

    def ndcg(scores: np.ndarray) -> float:
        scores = scores.copy()
        seen = split.history.tocoo()
        scores[seen.row, seen.col] = -np.inf
        top = np.argsort(-scores, axis=1)[:, : args.k]
        return float(ranking_metrics(top, split.truth, args.k)["ndcg"].mean())

    scores = {}
    single = {}
    for family, (params, _) in best_params.items():
        model = make_model(family, **params).fit(split.train)
        scores[family] = _normalise(model.score(split.history), split.history)
        single[family] = ndcg(scores[family])
        print(f"{family:<8} {params} test NDCG@{args.k} {single[family]:.4f}", flush=True)
    auto_test = ndcg(auto.score(split.history))
    names = list(scores)
    best = (-1.0, ())
    for weights in itertools.product(range(6), repeat=len(names)):
        if any(weights):
            value = ndcg(sum(w * scores[n] for w, n in zip(weights, names) if w))
            best = max(best, (value, weights))
    ceiling = {"weights": dict(zip(names, best[1])), "ndcg": round(best[0], 4)}
    print(f"auto (validation-chosen) {auto_test:.4f}; blend with test-chosen weights {ceiling}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": "python " + " ".join(sys.argv), "ratings": str(args.ratings), "protocol": args.protocol,
        "families": {n: {"params": best_params[n][0], "test_ndcg": round(single[n], 4)} for n in names},
        "auto_test_ndcg": round(auto_test, 4), "ceiling": ceiling,
    }, indent=2, default=str))


if __name__ == "__main__":
    main()
