"""Speed, side by side in one run: training and top-10 for every member of ml-latest-small, and
batch top-K for 1M synthetic members × 20k titles.

    .venv/bin/python benchmarks/speed.py [--peer-python /tmp/peer/bin/python] [--repeats 3]

1. ALS: limelight's `ALS` vs `implicit` called directly with the same factors, iterations,
   regularization and alpha (ours: fit through implicit plus one batched exact solve of every
   member's factors; top-10 reuses those factors for members seen in training, one matrix product
   per block of members; implicit: `recommend(..., filter_already_liked_items=True)` on its trained
   member factors). Also timed: our top-10 with every member folded in as if new.
2. EASE and item-kNN vs Cornac (installed in a separate throwaway venv given by `--peer-python`,
   never in the project): each repeat runs ours in this process, then Cornac in a subprocess,
   alternating, and compares medians. Both fit on the full binary matrix and produce top-10
   excluding seen titles for every member.
3. Batch top-K with blocked matrix products, in a child process so its peak memory (ru_maxrss) is
   its own: (a) factors: 1M members × 20k titles × 64 factors; (b) item-item (EASE-shaped, dense
   20k × 20k weights) on sparse histories of 20 titles for 100k members.
Writes benchmarks/results/speed.json (sections not run this time keep their earlier results).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from limelight.personalize.base import Interactions, binarize
from limelight.settings import shared_data_dir

RESULTS = Path(__file__).parent / "results"
RATINGS = shared_data_dir() / "movielens" / "ml-latest-small" / "ratings.csv"

CORNAC_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import csv
    import numpy as np
    import cornac
    from cornac.data import Dataset
    from cornac.models import EASE, ItemKNN
    which, path = sys.argv[1], sys.argv[2]
    with open(path, newline="") as handle:
        triples = [(row["userId"], row["movieId"], 1.0) for row in csv.DictReader(handle)]
    data = Dataset.build(triples, seed=1)
    model = EASE(lamb=500.0, posB=False, verbose=False) if which == "ease" else ItemKNN(k=100, similarity="cosine", verbose=False)
    started = time.perf_counter()
    model.fit(data)
    fitted = time.perf_counter()
    users = np.arange(data.num_users)
    seen = data.matrix.tocsr()
    tops = []
    for u in users:
        scores = np.asarray(model.score(int(u)), dtype=np.float64).ravel()
        scores[seen[u].indices] = -np.inf
        tops.append(np.argpartition(-scores, 9)[:10])
    done = time.perf_counter()
    print(json.dumps({"fit": fitted - started, "recommend": done - fitted, "cornac": cornac.__version__}))
    """
)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def als_vs_implicit(interactions: Interactions, repeats: int) -> dict:
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    from limelight.personalize.models import ALS

    ours = ALS(factors=64, iterations=15, regularization=0.01, unobserved_weight=0.5, use_gpu=False)
    params = ours.implicit_parameters(interactions)
    params.pop("mean_titles_per_member")
    matrix = binarize(interactions.matrix)
    rows: dict[str, list[float]] = {
        k: [] for k in ("ours_fit", "ours_rec", "ours_rec_foldin", "implicit_fit", "implicit_rec")
    }
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours.fit(interactions)
        t1 = time.perf_counter()
        ours.recommend(interactions.matrix, 10)
        t2 = time.perf_counter()
        as_new = copy.copy(ours)
        del as_new.member_hashes_  # every member folded in, as a member unseen in training would be
        f0 = time.perf_counter()
        as_new.recommend(interactions.matrix, 10)
        rows["ours_rec_foldin"].append(time.perf_counter() - f0)
        with threadpool_limits(1, "blas"):
            direct = AlternatingLeastSquares(**params, use_gpu=False, calculate_training_loss=False)
            t3 = time.perf_counter()
            direct.fit(matrix, show_progress=False)
            t4 = time.perf_counter()
            direct.recommend(np.arange(matrix.shape[0]), matrix, N=10, filter_already_liked_items=True)
            t5 = time.perf_counter()
        rows["ours_fit"].append(t1 - t0)
        rows["ours_rec"].append(t2 - t1)
        rows["implicit_fit"].append(t4 - t3)
        rows["implicit_rec"].append(t5 - t4)
    return {k: _median(v) for k, v in rows.items()} | {"params": params}


def vs_cornac(interactions: Interactions, peer_python: str | None, repeats: int) -> dict:
    from limelight.personalize.models import EASE, ItemKNN

    out: dict = {}
    for which, make in (("ease", lambda: EASE(regularization=500.0)), ("itemknn", lambda: ItemKNN(k=100, shrinkage=0.0))):
        rows: dict[str, list[float]] = {k: [] for k in ("ours_fit", "ours_rec", "peer_fit", "peer_rec")}
        for _ in range(repeats):
            model = make()
            t0 = time.perf_counter()
            model.fit(interactions)
            t1 = time.perf_counter()
            model.recommend(interactions.matrix, 10)
            t2 = time.perf_counter()
            rows["ours_fit"].append(t1 - t0)
            rows["ours_rec"].append(t2 - t1)
            if peer_python:
                done = subprocess.run([peer_python, "-c", CORNAC_SCRIPT, which, str(RATINGS)], capture_output=True,
                                      text=True, check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
                peer = json.loads(done.stdout.strip().splitlines()[-1])
                rows["peer_fit"].append(peer["fit"])
                rows["peer_rec"].append(peer["recommend"])
                out["cornac_version"] = peer["cornac"]
        out[which] = {k: (_median(v) if v else None) for k, v in rows.items()}
    return out


BATCH_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time
    import numpy as np, scipy.sparse as sp
    case, n_members, n_titles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    per_member = 20
    # Zipf-like title popularity for the synthetic histories
    popularity = 1.0 / np.arange(1, n_titles + 1) ** 0.8
    popularity /= popularity.sum()
    cols = rng.choice(n_titles, size=n_members * per_member, p=popularity).astype(np.int32)
    indptr = np.arange(0, n_members * per_member + 1, per_member, dtype=np.int64)
    history = sp.csr_matrix((np.ones(len(cols), np.float32), cols, indptr), shape=(n_members, n_titles))
    history.sum_duplicates()
    if case == "factors":
        from limelight.personalize.batch import top_k_from_factors
        members = rng.standard_normal((n_members, 64), dtype=np.float32)
        titles = rng.standard_normal((n_titles, 64), dtype=np.float32)
        started = time.perf_counter()
        top, _ = top_k_from_factors(members, titles, 10, exclude=history, block_size=4096)
    else:
        from limelight.personalize.models import EASE
        model = EASE()
        model.weights_ = rng.standard_normal((n_titles, n_titles), dtype=np.float32) * 0.01
        model.title_ids_ = np.arange(n_titles).astype(str).astype(object)
        started = time.perf_counter()
        top = model.recommend(history, 10, block_size=2048).titles
    seconds = time.perf_counter() - started
    print(json.dumps({"case": case, "members": n_members, "titles": n_titles, "seconds": seconds,
                      "members_per_second": n_members / seconds,
                      "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
    """
)


def batch(case: str, n_members: int, n_titles: int) -> dict:
    done = subprocess.run([sys.executable, "-c", BATCH_CHILD, case, str(n_members), str(n_titles)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", default=None, help="python of a throwaway venv with cornac installed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma list of: als,cornac,batch")
    parser.add_argument("--batch-members", type=int, default=1_000_000)
    parser.add_argument("--itemitem-members", type=int, default=100_000)
    args = parser.parse_args(argv)
    skip = set(args.skip.split(",")) - {""}
    frame = pd.read_csv(RATINGS)
    interactions = Interactions.from_frame(frame, member_col="userId", title_col="movieId")
    out = RESULTS / "speed.json"
    result: dict = json.loads(out.read_text()) if out.exists() else {}
    result |= {"command": "python " + " ".join(sys.argv), "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
                    "ratings": str(RATINGS), "repeats": args.repeats}
    if "als" not in skip:
        als = als_vs_implicit(interactions, args.repeats) | {"command": result["command"]}
        result["als"] = als
        print(f"ALS 64 factors × 15 iterations, 610 members × 9,724 titles (median of {args.repeats}):")
        print(f"  fit:        limelight {als['ours_fit']:.2f} s   implicit {als['implicit_fit']:.2f} s   "
              f"ratio {als['ours_fit'] / als['implicit_fit']:.2f}")
        print(f"  top-10 all: limelight {als['ours_rec']:.2f} s   implicit {als['implicit_rec']:.2f} s   "
              f"ratio {als['ours_rec'] / als['implicit_rec']:.2f}")
        print(f"  top-10 all, every member folded in as new: limelight {als['ours_rec_foldin']:.2f} s")
    if "cornac" not in skip:
        peer = vs_cornac(interactions, args.peer_python, args.repeats) | {"command": result["command"]}
        result["cornac"] = peer
        for which in ("ease", "itemknn"):
            row = peer[which]
            line = f"  {which:<8} fit: limelight {row['ours_fit']:.2f} s"
            if row["peer_fit"] is not None:
                line += (f"  Cornac {row['peer_fit']:.2f} s (ratio {row['ours_fit'] / row['peer_fit']:.2f});"
                         f" top-10 all: limelight {row['ours_rec']:.2f} s  Cornac {row['peer_rec']:.2f} s")
            print(line)
    if "batch" not in skip:
        factors = batch("factors", args.batch_members, 20_000)
        itemitem = batch("itemitem", args.itemitem_members, 20_000)
        result["batch"] = [factors, itemitem]
        for row in (factors, itemitem):
            print(f"  batch {row['case']:<9} {row['members']:>9,} members × {row['titles']:,} titles: "
                  f"{row['seconds']:.1f} s, {row['members_per_second']:,.0f} members/s, peak RSS {row['peak_rss_gib']:.2f} GiB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
