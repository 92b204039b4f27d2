"""Three ways past `auto`'s blend on ML-100k that did not work — kept so the next attempt starts from figures.

    .venv/bin/python benchmarks/beyond_blending.py --ratings benchmarks/.cache/ml-100k/u.data

On Microsoft Recommenders' protocol (per-member 75/25 random split, seed 42), with the three families
auto blends on that draw at the hyperparameters it chose (co-watch EASE, EASE, ALS; see
docs/benchmarks/personalize.md, "Co-watch EASE"):

1. **A learned reranker** (LightGBM LambdaMART) over the top 100 titles of auto's blend, with each
   family's score and rank, popularity, mean rating, and time context (a title's first rating against
   the member's active span; the share of the title's ratings made while the member was active). It is
   trained the way it would have to be in `auto`: base models fitted on a 75/25 split *of the training
   data*, labels from its held-out quarter, then applied to base models refitted on all training data.
2. **Two more families in the test-weighted blend ceiling**: user-based kNN (cosine, k neighbours,
   similarity to a power) and GF-CF (Shen et al. 2021: normalised item-item filter plus an ideal
   low-pass filter over the top singular vectors). Weights are chosen **on the test split** — an
   upper bound, as in `blend_ceiling.py`.
3. **Co-watch strengths normalised** by how crowded a title's sitting was (1/(1 + Σ kernel)^p) or by
   the member's activity (1/n^p), so that members rating hundreds of films in one sitting weigh less.

Writes benchmarks/results/beyond_blending.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import svds

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import load_ratings
from limelight.personalize.metrics import ranking_metrics
from limelight.personalize.models import make_model
from limelight.personalize.models.blend import _normalise
from limelight.personalize.models.cowatch import CUTOFF_WINDOWS, cowatch_gram
from limelight.personalize.models.ease import ease_weights
from limelight.personalize.splits import Split, canonical_frame, random_split

K = 10
CANDIDATES = 100
DAY = 86_400.0
# auto's choices on seed 42 (its report; docs/benchmarks/personalize.md) and its blend weights
FAMILIES = {
    "cowatch": ("cowatch", {"regularization": 200.0, "window_minutes": 15.0, "plain_weight": 0.0}),
    "ease": ("ease", {"regularization": 400.0, "diagonal_penalty": 1.0, "rating_weight": 0.2}),
    "als": ("als", {"factors": 64, "regularization": 0.03, "unobserved_weight": 0.3, "rating_weight": 0.8}),
}
BLEND = {"cowatch": 0.5, "ease": 0.1, "als": 0.4}


def top_k(scores: np.ndarray, history: sp.csr_matrix, k: int = K) -> np.ndarray:
    scores = np.array(scores, dtype=np.float64)
    seen = history.tocoo()
    scores[seen.row, seen.col] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)


def ndcg(scores: np.ndarray, split: Split) -> float:
    return float(ranking_metrics(top_k(scores, split.history), split.truth, K)["ndcg"].mean())


def family_scores(split: Split) -> dict[str, np.ndarray]:
    out = {}
    for key, (name, params) in FAMILIES.items():
        out[key] = _normalise(make_model(name, **params).fit(split.train).score(split.history), split.history)
    return out


def rerank_features(split: Split, scores: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Candidates (members × CANDIDATES title indices) and one feature row per candidate."""
    n_members, n_titles = split.history.shape
    blend = sum(BLEND[k] * scores[k] for k in BLEND)
    candidates = top_k(blend, split.history, CANDIDATES)
    member = np.repeat(np.arange(n_members), CANDIDATES)
    title = candidates.ravel()
    features: dict[str, np.ndarray] = {"blend": blend[member, title]}
    for key, z in scores.items():
        features[key] = z[member, title]
        features[f"{key}_rank"] = np.argsort(np.argsort(-np.take_along_axis(z, candidates, 1), 1), 1).ravel()
    coo = split.train.matrix.tocoo()
    times = np.asarray(split.train.last_at.tocsr()[coo.row, coo.col]).ravel()
    count = np.bincount(coo.col, minlength=n_titles).astype(np.float64)
    features["log_popularity"] = np.log1p(count[title])
    features["mean_rating"] = (np.bincount(coo.col, weights=coo.data, minlength=n_titles) / np.maximum(count, 1))[title]
    order = np.lexsort((times, coo.col))
    key = coo.col[order].astype(np.float64) * 1e10 + times[order]  # (title, time) sorted as one key
    first = np.full(n_titles, np.nan)
    starts = np.searchsorted(coo.col[order], np.arange(n_titles))
    has = starts < len(order)
    first[has] = times[order][starts[has]]
    rows = pd.Index(split.train.member_ids).get_indexer(split.member_ids)
    member_times = split.train.last_at.tocsr()[rows]
    low = np.minimum.reduceat(member_times.data, member_times.indptr[:-1])
    high = np.maximum.reduceat(member_times.data, member_times.indptr[:-1])
    features["first_minus_last_active_days"] = (first[title] - high[member]) / DAY
    features["first_minus_first_active_days"] = (first[title] - low[member]) / DAY
    features["titles_seen"] = np.diff(split.history.indptr)[member]
    all_times = np.sort(times)
    a, b = low[member] - DAY, high[member] + DAY
    while_active = np.searchsorted(key, title * 1e10 + b, side="right") - np.searchsorted(key, title * 1e10 + a)
    features["share_rated_while_active"] = while_active / np.maximum(count[title], 1)
    features["share_of_activity"] = while_active / np.maximum(
        np.searchsorted(all_times, b, side="right") - np.searchsorted(all_times, a), 1
    )
    names = list(features)
    return candidates, np.column_stack([features[n] for n in names]).astype(np.float32), names


def reranker(inner: Split, outer: Split, inner_scores: dict, outer_scores: dict) -> list[dict]:
    cand_in, x_in, names = rerank_features(inner, inner_scores)
    cand_out, x_out, _ = rerank_features(outer, outer_scores)
    y_in = np.asarray(inner.truth[np.repeat(np.arange(cand_in.shape[0]), CANDIDATES), cand_in.ravel()]).ravel()
    group = np.full(cand_in.shape[0], CANDIDATES)
    scored = np.zeros((cand_out.shape[0], outer.history.shape[1]))
    rows = []
    subsets = {
        "blend only": ["blend"],
        "family scores": ["cowatch", "ease", "als"],
        "family scores + popularity": ["cowatch", "ease", "als", "log_popularity", "mean_rating"],
        "family scores + time context": ["cowatch", "ease", "als", "first_minus_last_active_days",
                                         "first_minus_first_active_days", "share_rated_while_active",
                                         "share_of_activity"],
        "every feature": names,
    }
    for label, chosen in subsets.items():
        for leaves, trees in ((7, 300), (15, 200), (31, 400)):
            use = [names.index(n) for n in chosen]
            model = lgb.LGBMRanker(objective="lambdarank", n_estimators=trees, learning_rate=0.05, num_leaves=leaves,
                                   min_child_samples=50 if leaves == 31 else 200 if leaves == 7 else 100,
                                   random_state=1, n_jobs=2, verbose=-1)
            model.fit(x_in[:, use], y_in, group=group)
            scored[:] = -np.inf
            np.put_along_axis(scored, cand_out, model.predict(x_out[:, use]).reshape(cand_out.shape), 1)
            rows.append({"study": "reranker", "features": label, "leaves": leaves, "trees": trees,
                         "test_ndcg": ndcg(scored, outer)})
            print(f"reranker [{label}] {leaves} leaves, {trees} trees: {rows[-1]['test_ndcg']:.4f}", flush=True)
    return rows


def best_weights(parts: list[np.ndarray], split: Split, grid: range = range(6)) -> tuple[float, list[int]]:
    import itertools

    best = (-1.0, [])
    for weights in itertools.product(grid, repeat=len(parts)):
        if any(weights):
            best = max(best, (ndcg(sum(w * p for w, p in zip(weights, parts)), split), list(weights)))
    return best


def more_families(split: Split, scores: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    base, base_weights = best_weights([scores["cowatch"], scores["als"]], split)
    rows.append({"study": "ceiling", "family": "co-watch + ALS", "test_ndcg": base, "weights": base_weights})
    print(f"ceiling co-watch + ALS: {base:.4f} {base_weights}", flush=True)
    members = pd.Index(split.train.member_ids).get_indexer(split.member_ids)
    x = sp.csr_matrix(split.train.matrix, dtype=np.float64)
    x.data[:] = 1.0
    dense = x.toarray()
    per_member = np.asarray(x.sum(1)).ravel()
    per_title = np.asarray(x.sum(0)).ravel()
    extra: dict[str, np.ndarray] = {}
    cosine = (x @ x.T).toarray() / np.sqrt(np.outer(per_member, per_member))
    np.fill_diagonal(cosine, 0.0)
    for k in (50, 100, 200):
        for power in (1.0, 2.0):
            sim = cosine.copy()
            np.put_along_axis(sim, np.argpartition(-sim, k, axis=1)[:, k:], 0.0, 1)
            extra[f"user-kNN k {k}, power {power:g}"] = ((sim**power) @ dense)[members]
    norm = sp.diags(1 / np.sqrt(np.maximum(per_member, 1))) @ x @ sp.diags(1 / np.sqrt(np.maximum(per_title, 1)))
    linear = dense @ (norm.T @ norm).toarray()
    root = np.sqrt(np.maximum(per_title, 1))
    for factors in (64, 256):
        _, _, vt = svds(norm, k=factors)
        ideal = (dense / root) @ vt.T @ vt * root
        for weight in (0.0, 0.3):
            extra[f"GF-CF {factors} f, ideal weight {weight:g}"] = (linear + weight * ideal)[members]
    for label, raw in extra.items():
        alone = ndcg(raw, split)
        ceiling, weights = best_weights([scores["cowatch"], scores["als"], _normalise(raw, split.history)], split,
                                        range(4))
        rows.append({"study": "ceiling", "family": label, "alone": alone, "test_ndcg": ceiling, "weights": weights})
        print(f"{label}: alone {alone:.4f}, ceiling with co-watch + ALS {ceiling:.4f} {weights}", flush=True)
    return rows


def crowding(last_at: sp.csr_matrix, window: float) -> np.ndarray:
    """Σ exp(−|Δt|/τ) over each interaction's close neighbours in its member's timeline (csr order)."""
    coo = last_at.tocoo()
    order = np.lexsort((coo.data, coo.row))
    member, seconds = coo.row[order], coo.data[order]
    out = np.zeros(coo.nnz)
    for k in range(1, len(member)):
        a = np.arange(len(member) - k)
        b = a + k
        near = (member[a] == member[b]) & (seconds[b] - seconds[a] <= CUTOFF_WINDOWS * window)
        if not near.any():
            break
        w = np.exp(-(seconds[b[near]] - seconds[a[near]]) / window)
        np.add.at(out, order[a[near]], w)
        np.add.at(out, order[b[near]], w)
    return out


def normalised_cowatch(split: Split, scores: dict[str, np.ndarray]) -> list[dict]:
    last_at = split.train.last_at.tocsr()
    last_at.sort_indices()
    window = 360.0
    history = sp.csr_matrix(split.history, dtype=np.float64).sign()
    crowd = crowding(last_at, window)
    per_member = np.diff(last_at.indptr)
    variants = {"none": None}
    for power in (0.25, 0.5):
        variants[f"sitting crowding ^ {power:g}"] = 1.0 / (1.0 + crowd) ** power
        variants[f"member activity ^ {power:g}"] = np.repeat(1.0 / per_member**power, per_member)
    rows = []
    for label, strength in variants.items():
        strengths = None if strength is None else sp.csr_matrix((strength, last_at.indices, last_at.indptr),
                                                                shape=last_at.shape)
        gram = cowatch_gram(last_at, window, strengths).astype(np.float64)
        for lam in (10, 25, 50, 100, 200):
            raw = history @ ease_weights(gram, lam)
            alone = ndcg(raw, split)
            z = _normalise(raw, split.history)
            ceiling = max(ndcg(w * z + (1 - w) * scores["als"], split) for w in np.linspace(0, 1, 11))
            rows.append({"study": "co-watch strengths", "variant": label, "regularization": lam, "alone": alone,
                         "test_ndcg": ceiling})
            print(f"co-watch strengths [{label}] λ {lam}: alone {alone:.4f}, ceiling with ALS {ceiling:.4f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "beyond_blending.json")
    args = parser.parse_args()
    started = time.time()
    frame = canonical_frame(load_ratings(args.ratings))
    outer = random_split(frame, seed=args.seed)
    train_rows = frame.merge(
        pd.DataFrame({"member_id": outer.train.member_ids[outer.train.matrix.tocoo().row],
                      "title_id": outer.train.title_ids[outer.train.matrix.tocoo().col]}),
        on=["member_id", "title_id"],
    )
    inner = random_split(train_rows, seed=7)
    outer_scores = family_scores(outer)
    blend = sum(BLEND[k] * outer_scores[k] for k in BLEND)
    rows = [{"study": "auto's blend", "test_ndcg": ndcg(blend, outer)}]
    print(f"auto's blend (0.5 co-watch + 0.1 EASE + 0.4 ALS): {rows[0]['test_ndcg']:.4f}", flush=True)
    rows += reranker(inner, outer, family_scores(inner), outer_scores)
    rows += more_families(outer, outer_scores)
    rows += normalised_cowatch(outer, outer_scores)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seed": args.seed, "seconds": round(time.time() - started, 1), "rows": rows},
                                   indent=1))
    print(f"{time.time() - started:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
