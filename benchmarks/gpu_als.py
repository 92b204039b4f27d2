"""ALS on a GPU against ALS on CPU cores, on the demo world's interactions at up to 100M viewing events.

    python benchmarks/gpu_als.py --events 100000000 --world /tmp/world-100m --out results/gpu_als.json

The documented path for interaction matrices too big for a small machine's cores (issue #8): train
with `implicit` on a GPU. One run, one machine, one matrix:

1. the demo world written to Parquet in chunks (`write_world_parquet`, as `limelight world` does);
2. interactions built with DuckDB straight from the Parquet files — the `interactions` pipeline's
   rule (episodes rolled up to their series, one row per member and title) as one SQL statement,
   so the GPU machine needs no Ibis — into a CSR matrix;
3. a check that limelight's `ALS`, left to choose (`use_gpu=None`), trains on the GPU by itself;
4. implicit's ALS with exactly the arguments limelight's `ALS` passes it (Rendle et al. 2022
   regularisation) trained on the GPU and on every CPU core: same factors, iterations and matrix;
5. top-10 for the first --score-members members from each model, and the overlap of the two lists
   (ALS from different random streams on different hardware is not bit-identical; the overlap says
   how close they are).

Prints one JSON document (also written to --out): wall seconds of each step, peak RSS, GPU
memory, and the speed-up. Needs `implicit` built with CUDA (its Linux wheels are; with `rmm-cu13`),
`duckdb`, and a CUDA GPU; it is run on a lent GPU machine, never in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

INTERACTIONS_SQL = """
WITH units AS (
    SELECT e.title_id, coalesce(s.parent_id, e.parent_id, e.title_id) AS unit_id
    FROM read_parquet('{world}/titles.parquet') e
    LEFT JOIN read_parquet('{world}/titles.parquet') s ON e.parent_id = s.title_id
), pairs AS (
    SELECT v.member_id, u.unit_id AS title_id, count(*)::FLOAT AS views
    FROM read_parquet('{world}/viewing_events/*.parquet') v JOIN units u USING (title_id)
    GROUP BY ALL
), members AS (
    SELECT member_id, (row_number() OVER (ORDER BY member_id) - 1)::INTEGER AS member_idx
    FROM (SELECT DISTINCT member_id FROM pairs)
), titles AS (
    SELECT title_id, (row_number() OVER (ORDER BY title_id) - 1)::INTEGER AS title_idx
    FROM (SELECT DISTINCT title_id FROM pairs)
)
SELECT member_idx, title_idx, views FROM pairs JOIN members USING (member_id) JOIN titles USING (title_id)
"""


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def build_matrix(world: Path) -> tuple[sp.csr_matrix, dict[str, Any]]:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    columns = con.execute(INTERACTIONS_SQL.format(world=world)).fetchnumpy()
    rows, cols = columns["member_idx"], columns["title_idx"]
    matrix = sp.csr_matrix((columns["views"], (rows, cols)), shape=(int(rows.max()) + 1, int(cols.max()) + 1),
                           dtype=np.float32)
    return matrix, {"seconds": round(time.perf_counter() - started, 2), "members": matrix.shape[0],
                    "titles": matrix.shape[1], "pairs": int(matrix.nnz)}


def _interactions(matrix: sp.csr_matrix) -> Any:
    from limelight.personalize.base import Interactions

    return Interactions(matrix=matrix, member_ids=np.arange(matrix.shape[0]).astype(str),
                        title_ids=np.arange(matrix.shape[1]).astype(str))


def picks_gpu_by_itself() -> bool:
    """limelight's ALS, left to choose (`use_gpu=None`), trains on the GPU when one answers."""
    from limelight.personalize.models.als import ALS

    rng = np.random.default_rng(7)
    small = sp.random(2_000, 300, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    small.data[:] = 1.0
    return bool(ALS(factors=32, iterations=2).fit(_interactions(small)).used_gpu_)


def train(matrix: sp.csr_matrix, use_gpu: bool, factors: int, iterations: int) -> tuple[Any, dict[str, Any]]:
    """implicit's ALS with the arguments limelight's `ALS` passes it (same regularisation and weights)."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    from limelight.personalize.models.als import ALS

    params = ALS(factors=factors, iterations=iterations).implicit_parameters(_interactions(matrix))
    params.pop("mean_titles_per_member")
    binary = matrix.copy()
    binary.data[:] = 1.0
    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(**params, use_gpu=use_gpu, calculate_training_loss=False)
        model.fit(binary, show_progress=False)
    return model, {"seconds": round(time.perf_counter() - started, 2), "use_gpu": use_gpu}


def top10(model: Any, matrix: sp.csr_matrix, n_members: int) -> tuple[np.ndarray, float]:
    """Top-10 unseen titles for the first `n_members` members, with implicit's batched `recommend`."""
    members = np.arange(min(n_members, matrix.shape[0]))
    binary = matrix[members]
    started = time.perf_counter()
    ids, _ = model.recommend(members, binary, N=10, filter_already_liked_items=True)
    return np.asarray(ids), round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--world", type=Path, default=Path("/tmp/world-gpu"))
    parser.add_argument("--factors", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--score-members", type=int, default=200_000, help="members scored for top-10")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_als.json"))
    args = parser.parse_args()

    result: dict[str, Any] = {"benchmark": "gpu_als", "events": args.events, "factors": args.factors,
                              "iterations": args.iterations, "cpu_cores": os.cpu_count(),
                              "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    try:
        import torch

        result["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        result["gpu"] = None
    if not (args.world / "titles.parquet").exists():
        from limelight.spine.world import write_world_parquet

        started = time.perf_counter()
        write_world_parquet(args.world, events=args.events, seed=7, payments=False)
        result["world_s"] = round(time.perf_counter() - started, 2)
    matrix, result["interactions"] = build_matrix(args.world)
    print(json.dumps(result), flush=True)

    from limelight.personalize.models.als import gpu_available

    result["limelight_als_picks_gpu"] = picks_gpu_by_itself()
    runs = [True, False] if gpu_available() else [False]  # without a GPU: the CPU half alone (a dry run)
    lists = {}
    for use_gpu in runs:
        side = "gpu" if use_gpu else "cpu"
        model, result[f"train_{side}"] = train(matrix, use_gpu, args.factors, args.iterations)
        lists[side], result[f"top10_{side}_s"] = top10(model, matrix, args.score_members)
        print(json.dumps(result), flush=True)
    result["top10_members"] = len(lists["cpu"])
    if "gpu" not in lists:
        print(json.dumps(result, indent=2))
        return
    overlap = np.mean([len(np.intersect1d(a, b)) / 10 for a, b in zip(lists["gpu"], lists["cpu"])])
    result["top10_overlap_gpu_cpu"] = round(float(overlap), 3)
    result["train_speedup"] = round(result["train_cpu"]["seconds"] / max(result["train_gpu"]["seconds"], 1e-9), 1)
    result["peak_rss_gib"] = round(_peak_rss_gib(), 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
