"""Training at scale: Spark MLlib ALS (local mode) against implicit's ALS on one machine, same matrix.

Both train limelight's `ALS` (64 factors, the same regularization and confidence, mapped onto
MLlib's parameters by `limelight.scale.spark_als.mllib_parameters`) on an interactions Parquet as
the `interactions` pipeline writes it (member_id, title_id, weight):

- implicit: `interactions_from_parquet` (DuckDB → CSR, no pandas) then `ALS.fit` (BLAS 1 thread);
  `fit_s` includes limelight's fold-in of every training member at the end of `fit`
  (`foldin_s`, timed apart).
- mllib: a Spark local[2] session (`startup_s`, not counted), then `train_als_spark(path)`: ids
  numbered on Spark (`prepare_s`), MLlib's ALS (`als_fit_s`), title factors collected; `fit_s`
  is all three.

Each run is its own child process: `cpu_s` is the CPU of the process tree (the JVM and its
threads included) during the work, `peak_rss_mib` the tree's summed RSS sampled every 0.2 s,
`load` the 1-minute load average before and after.

`--eval` runs hold out 20% of each member's pairs (members with ≥ 2, chosen by a hash, in DuckDB),
train on the rest and report NDCG@10 and Recall@20 of every evaluated member's top-20 (seen titles
left out), with popularity's for scale.

    .venv/bin/python benchmarks/spark_als.py --data /tmp/s8 --runs 1000000:3,1000000:10,10000000:3 --eval 1000000:3,1000000:10

Prints a table and writes benchmarks/results/spark_als.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from scale import _tree_cpu, run_step  # noqa: E402 - the scale benchmark's process-tree meters and child runner

RESULTS = HERE.parent / "results" / "spark_als.json"
FACTORS = 64
HOLDOUT_SQL = """
COPY (
    WITH ranked AS (
        SELECT member_id, title_id, weight,
               row_number() OVER (PARTITION BY member_id ORDER BY hash(member_id || '|' || title_id || '|7')) AS position,
               count(*) OVER (PARTITION BY member_id) AS n
        FROM read_parquet('{source}')
    )
    SELECT member_id, title_id, weight, (n >= 2 AND position > round(n * 0.8)) AS held_out FROM ranked
) TO '{target}' (FORMAT parquet)
"""


def run_child(args: list[str], timeout: float = 3_000) -> dict[str, Any]:
    """This script's `_child` in a fresh process, metered like the scale benchmark's steps."""
    return run_step(args, timeout, script=HERE, mode="_child")


# -- in the child ---------------------------------------------------------------------------------
def _split(source: Path, folder: Path) -> tuple[Path, Path]:
    """train/test Parquet files from `source` (20% of each member's pairs held out), made once."""
    import duckdb

    train, test = folder / f"{source.stem}-train.parquet", folder / f"{source.stem}-test.parquet"
    if not (train.exists() and test.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        tagged = folder / f"{source.stem}-tagged.parquet"
        con = duckdb.connect()
        con.execute(HOLDOUT_SQL.format(source=source, target=tagged))
        con.execute(f"COPY (SELECT member_id, title_id, weight FROM read_parquet('{tagged}') WHERE NOT held_out) TO '{train}' (FORMAT parquet)")
        con.execute(f"COPY (SELECT member_id, title_id FROM read_parquet('{tagged}') WHERE held_out) TO '{test}' (FORMAT parquet)")
        con.close()
        tagged.unlink()
    return train, test


def _evaluate(model: Any, train: Path, test: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from limelight.personalize.metrics import ranking_metrics
    from limelight.scale.parquet_interactions import interactions_from_parquet

    history = interactions_from_parquet(train, title_ids=model.title_ids_)
    held = pd.read_parquet(test)
    members = pd.Index(history.member_ids)
    titles = pd.Index([str(t) for t in model.title_ids_])
    rows = members.get_indexer(pd.Index(held["member_id"]))
    cols = titles.get_indexer(pd.Index(held["title_id"]))
    keep = (rows >= 0) & (cols >= 0)
    evaluated = np.unique(rows[keep])
    position = np.full(len(members), -1)
    position[evaluated] = np.arange(len(evaluated))
    truth = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (position[rows[keep]], cols[keep])), shape=(len(evaluated), len(titles))
    )
    t0 = time.perf_counter()
    recs = model.recommend(history.matrix[evaluated], 20).titles
    scored = time.perf_counter() - t0
    popular = np.asarray(history.matrix.getnnz(axis=0), dtype=np.float64)
    seen = history.matrix[evaluated].tocsr()
    pop_scores = np.tile(popular, (len(evaluated), 1))
    pop_scores[seen.nonzero()] = -np.inf
    pop_recs = np.argsort(-pop_scores, axis=1, kind="stable")[:, :20]
    out: dict[str, Any] = {"eval_members": len(evaluated), "held_out_pairs": int(keep.sum()), "score_s": round(scored, 2)}
    for name, recommended in (("", recs), ("popularity_", pop_recs)):
        out[f"{name}ndcg@10"] = round(float(ranking_metrics(recommended, truth, 10)["ndcg"].mean()), 4)
        out[f"{name}recall@20"] = round(float(ranking_metrics(recommended, truth, 20)["recall"].mean()), 4)
    return out


def child(trainer: str, source: Path, iterations: int, evaluate: bool, scratch: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"trainer": trainer, "source": str(source), "factors": FACTORS, "iterations": iterations}
    train, test = _split(source, scratch) if evaluate else (source, None)
    out["trained_on"] = str(train)
    load0 = os.getloadavg()[0]
    if trainer == "implicit":
        from threadpoolctl import threadpool_limits

        from limelight.personalize.models.als import ALS
        from limelight.scale.parquet_interactions import interactions_from_parquet

        cpu0, t0 = _tree_cpu(os.getpid()), time.perf_counter()
        matrix = interactions_from_parquet(train, memory_limit="4GB")
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["members"], out["titles"], out["pairs"] = matrix.n_members, matrix.n_titles, int(matrix.matrix.nnz)
        model = ALS(factors=FACTORS, iterations=iterations, seed=7)
        remember = model._remember_members
        foldin: list[float] = []

        def timed_remember(history: Any) -> None:
            started = time.perf_counter()
            remember(history)
            foldin.append(time.perf_counter() - started)

        model._remember_members = timed_remember  # type: ignore[method-assign]
        t1 = time.perf_counter()
        with threadpool_limits(1, "blas"):
            model.fit(matrix)
        out["fit_s"] = round(time.perf_counter() - t1, 2)
        out["foldin_s"] = round(foldin[0], 2)
        out["train_s"] = round(out["fit_s"] - out["foldin_s"], 2)  # implicit's own iterations
        out["seconds"] = round(time.perf_counter() - t0, 2)  # Parquet → CSR → fitted model
        del model._remember_members
    else:
        from limelight.scale.spark_als import train_als_spark
        from limelight.spine.engines import spark_session

        t_start = time.perf_counter()
        spark = spark_session("limelight-bench-als", **{"spark.driver.memory": "3g"})
        spark.range(1).count()
        out["startup_s"] = round(time.perf_counter() - t_start, 2)
        cpu0, t0 = _tree_cpu(os.getpid()), time.perf_counter()
        model = train_als_spark(str(train), spark=spark, factors=FACTORS, iterations=iterations, seed=7)
        out["seconds"] = out["fit_s"] = round(time.perf_counter() - t0, 2)  # Parquet → fitted model
        info = model.spark_fit_info_  # type: ignore[attr-defined]
        out.update({k: info[k] for k in ("members", "titles", "pairs", "prepare_s", "als_fit_s", "collect_s", "blocks")})
        out["train_s"] = info["als_fit_s"]
        out["mllib"] = info["mllib"]
    out["cpu_s"] = round(_tree_cpu(os.getpid()) - cpu0, 2)
    out["load"] = [round(load0, 1), round(os.getloadavg()[0], 1)]
    if trainer == "mllib":
        spark.stop()
    if evaluate:
        assert test is not None
        out.update(_evaluate(model, train, test))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/tmp/s8", help="folder with interactions-<events>-duckdb.parquet")
    parser.add_argument("--runs", default="1000000:3", help="events:iterations timing runs, comma-separated")
    parser.add_argument("--eval", default="", help="events:iterations held-out accuracy runs, comma-separated")
    parser.add_argument("--trainers", default="implicit,mllib")
    parser.add_argument("--scratch", default="/tmp/limelight-spark-als", help="where the held-out split is written")
    args = parser.parse_args()
    plan = [(spec, False) for spec in args.runs.split(",") if spec] + [(spec, True) for spec in args.eval.split(",") if spec]
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous: list[dict[str, Any]] = stored.get("rows", [])
    rows: list[dict[str, Any]] = []
    header = f"{'events':>11} {'eval':>4} {'trainer':<8} {'it':>3} {'fit s':>8} {'train s':>8} {'cpu s':>8} {'peak MiB':>9} {'load':>11}  accuracy"
    print(header)
    for spec, evaluate in plan:
        events, iterations = (int(float(x)) for x in spec.split(":"))
        source = Path(args.data) / f"interactions-{events}-duckdb.parquet"
        for trainer in args.trainers.split(","):
            result = run_child([trainer, str(source), str(iterations), str(int(evaluate)), args.scratch])
            result.update({"events": events, "trainer": trainer, "iterations": iterations, "eval": evaluate})
            rows.append(result)
            if "error" in result:
                print(f"{events:>11,} {evaluate!s:>4} {trainer:<8} {iterations:>3} ERROR {result['error']}", flush=True)
                continue
            accuracy = f"ndcg@10 {result['ndcg@10']} recall@20 {result['recall@20']}" if evaluate else ""
            print(
                f"{events:>11,} {evaluate!s:>4} {trainer:<8} {iterations:>3} {result['fit_s']:>8.2f} {result['train_s']:>8.2f} "
                f"{result['cpu_s']:>8.1f} {result['peak_rss_mib']:>9.0f} {result['load']!s:>11}  {accuracy}",
                flush=True,
            )
    key = ("events", "trainer", "iterations", "eval")
    fresh = {tuple(r[k] for k in key) for r in rows}
    merged = [r for r in previous if tuple(r.get(k) for k in key) not in fresh] + rows
    merged.sort(key=lambda r: (r["eval"], r["events"], r["iterations"], r["trainer"]))
    ratios = []
    for events, iterations, evaluate in sorted({(r["events"], r["iterations"], r["eval"]) for r in merged}):
        got = {r["trainer"]: r for r in merged if (r["events"], r["iterations"], r["eval"]) == (events, iterations, evaluate) and "fit_s" in r}
        if {"implicit", "mllib"} <= set(got):
            a, b = got["implicit"], got["mllib"]
            ratios.append({
                "events": events, "iterations": iterations, "eval": evaluate,
                "mllib_over_implicit_fit": round(b["fit_s"] / a["fit_s"], 2),
                "mllib_over_implicit_train": round(b["train_s"] / a["train_s"], 2),
                "mllib_over_implicit_cpu": round(b["cpu_s"] / a["cpu_s"], 2),
                "mllib_over_implicit_peak": round(b["peak_rss_mib"] / a["peak_rss_mib"], 2),
            })
    per_iteration = []
    for events in sorted({r["events"] for r in merged}):
        for trainer in ("implicit", "mllib"):
            runs = sorted((r["iterations"], r["train_s"]) for r in merged
                         if r["events"] == events and r["trainer"] == trainer and not r["eval"] and "train_s" in r)
            if len(runs) >= 2 and runs[-1][0] > runs[0][0]:
                (i0, s0), (i1, s1) = runs[0], runs[-1]
                per_iteration.append({"events": events, "trainer": trainer, "seconds_per_iteration": round((s1 - s0) / (i1 - i0), 2),
                                      "from": f"{i0} and {i1} iterations"})
    payload = {
        "benchmark": "spark_als",
        "command": "python " + " ".join([str(Path(sys.argv[0])), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other engineers), Python {platform.python_version()}",
        "rows": merged,
        "ratios": ratios,
        "seconds_per_iteration": per_iteration,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2))
    print(json.dumps({"ratios": ratios, "seconds_per_iteration": per_iteration}, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _, _, trainer, source, iterations, evaluate, scratch = sys.argv
        print(json.dumps(child(trainer, Path(source), int(iterations), evaluate == "1", Path(scratch))))
    else:
        main()
