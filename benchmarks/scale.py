"""Scale-out benchmark: the spine's pipelines, training and score-all on DuckDB and Spark local, by size.

For each size (viewing events from the demo world, written to Parquet in chunks) it times, each
step in its own child process so that peak memory is the step's own:

- world:        writing the demo world to Parquet (chunked; never all events in memory)
- interactions: the Ibis `interactions` pipeline, Parquet in → Parquet out (DuckDB, Spark)
- views:        the Ibis `views_per_window` pipeline over the last 365 days (DuckDB, Spark)
- train-ease / train-als: the models engineer's EASE and ALS on the interactions (one machine)
- score:        top-10 for every member with the EASE model: `score_all_local` (one machine,
                what `--engine duckdb` runs) and `score_all` on Spark (model broadcast)

Spark steps report `startup_s` (session start) apart from the step's own `seconds`.
Peak memory is the summed RSS of the step's process tree (Python, and for Spark the JVM and its
Python workers), sampled every 0.2 s.

    .venv/bin/python benchmarks/scale.py --sizes 1000000,10000000 --data /tmp/limelight-scale
    .venv/bin/python benchmarks/scale.py session /tmp/limelight-scale/world-10000000 3   # one long-lived session per engine
    .venv/bin/python benchmarks/scale.py session WORLD 3 '{"spark.driver.extraJavaOptions": "-XX:+UseG1GC"}'  # an A/B

Prints a table and writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import pickle
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

CDS_ENV = "LIMELIGHT_SPARK_CDS"  # limelight.spine.engines.CDS_ENV, without importing limelight here
HERE = Path(__file__).resolve()
# LIMELIGHT_BENCH_RESULTS: write elsewhere (a before/after run that must not replace the stored curve).
RESULTS = Path(os.environ.get("LIMELIGHT_BENCH_RESULTS") or HERE.parent / "results" / "scale.json")
PAGE = os.sysconf("SC_PAGE_SIZE")
WINDOW = ("2025-11-01", "2026-11-01")


# -- peak memory of a process tree --------------------------------------------------------------
def _tree_total(root: int, value: Callable[[str, list[str]], int]) -> int:
    """Sum of `value(pid, stat_fields)` over a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    values: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            values[int(entry)] = value(entry, fields)
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += values.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _resident_bytes(pid: str, _fields: list[str]) -> int:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def _tree_rss(root: int) -> int:
    """Resident bytes of a process tree."""
    return _tree_total(root, _resident_bytes)


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system, with reaped children) of a process tree, from /proc."""
    return _tree_total(root, lambda _pid, fields: sum(int(f) for f in fields[11:15])) / os.sysconf("SC_CLK_TCK")


def run_step(
    args: list[str], timeout: float = 3_000, *, script: Path = HERE, mode: str = "_step"
) -> dict[str, Any]:
    """Run `script`'s `mode` (this script's `_step`) in a child; its last stdout line is a JSON object.
    Adds the child's wall seconds and the peak RSS of its process tree (sampled every 0.2 s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script), mode, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += "\ntimed out"
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = [line for line in err.strip().splitlines() if line.strip()]
        return {"error": tail[-1][:300] if tail else f"exit {proc.returncode}", "process_wall_s": round(wall, 2)}
    result: dict[str, Any] = json.loads(lines[-1])
    result["process_wall_s"] = round(wall, 2)
    result["peak_rss_mib"] = round(peak / 2**20, 1)
    return result


# -- the steps, run in the child ------------------------------------------------------------------
def _spark(conf: dict[str, str] | None = None) -> tuple[Any, float]:
    from limelight.spine.engines import spark_session

    t0 = time.perf_counter()
    session = spark_session("limelight-bench", **{"spark.driver.memory": "3g", **(conf or {})})
    session.range(1).count()
    return session, time.perf_counter() - t0


def _backend(engine: str, world: Path, spark_conf: dict[str, str] | None = None) -> tuple[Any, float]:
    from limelight.spine.engines import connect

    if engine == "spark":
        session, startup = _spark(spark_conf)
        return connect("spark", parquet_dir=world, spark=session), startup
    backend = connect("duckdb", parquet_dir=world)
    # A shared machine: cap DuckDB (it spills beyond this) instead of its default 80% of RAM.
    backend.raw_sql(f"SET memory_limit='{os.environ.get('LIMELIGHT_BENCH_DUCKDB_MEMORY', '4GB')}'")
    return backend, 0.0


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def step(name: str, size: int, engine: str, data: Path) -> dict[str, Any]:
    """One step, with `cpu_s`: CPU seconds of this process and its children (the JVM, Python
    workers) during the step's own work, and the 1-minute load average before and after."""
    load0 = os.getloadavg()[0]
    cpu0 = _tree_cpu(os.getpid())
    global _CPU_AT_WORK
    _CPU_AT_WORK = None
    out = _step(name, size, engine, data)
    if _CPU_AT_WORK is not None:
        out["cpu_s"] = round(_tree_cpu(os.getpid()) - _CPU_AT_WORK, 2)
    else:
        out["cpu_s"] = round(_tree_cpu(os.getpid()) - cpu0, 2)
    out["load"] = [round(load0, 1), round(os.getloadavg()[0], 1)]
    return out


_CPU_AT_WORK: float | None = None


def _work_starts() -> float:
    """Mark the start of a step's own work (after Spark's start): CPU is counted from here."""
    global _CPU_AT_WORK
    _CPU_AT_WORK = _tree_cpu(os.getpid())
    return time.perf_counter()


def _step(name: str, size: int, engine: str, data: Path) -> dict[str, Any]:
    world = data / f"world-{size}"
    out: dict[str, Any] = {"step": name, "events": size, "engine": engine}
    if name == "world":
        from limelight.spine.world import write_world_parquet

        if os.environ.get("LIMELIGHT_BENCH_REUSE_WORLD") and (world / "viewing_events").is_dir():
            out["reused"] = True
            out["seconds"] = 0.0
            return out
        _remove(world)
        t0 = _work_starts()
        summary = write_world_parquet(world, events=size, seed=7, payments=False)
        out["seconds"] = round(time.perf_counter() - t0, 2)
        out["counts"] = summary["counts"]
        return out
    if name in ("interactions", "views"):
        from limelight.spine.pipelines import interactions, views_per_window

        backend, startup = _backend(engine, world)
        target = data / f"{name}-{size}-{engine}.parquet"
        _remove(target)
        t0 = _work_starts()
        if name == "interactions":
            expr = interactions(backend, source="events", ordered=False)
        else:
            expr = views_per_window(backend, *WINDOW, ordered=False)
        backend.to_parquet(expr, target)
        out["seconds"] = round(time.perf_counter() - t0, 2)
        out["startup_s"] = round(startup, 2)
        import pyarrow.dataset as ds

        out["rows"] = ds.dataset(str(target), format="parquet").count_rows()
        return out
    if name in ("train-ease", "train-als"):
        from threadpoolctl import threadpool_limits

        from limelight.scale.parquet_interactions import interactions_from_parquet

        t0 = _work_starts()
        # Straight from the interactions Parquet into a CSR (DuckDB numbers the ids): no pandas frame.
        matrix = interactions_from_parquet(data / f"interactions-{size}-duckdb.parquet", memory_limit="4GB")
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["members"], out["titles"], out["nnz"] = matrix.n_members, matrix.n_titles, int(matrix.matrix.nnz)
        t1 = time.perf_counter()
        if name == "train-ease":
            from limelight.personalize.models.ease import EASE

            model: Any = EASE(regularization=500.0)
            model.fit(matrix)
        else:
            from limelight.personalize.models.als import ALS

            iterations = int(os.environ.get("LIMELIGHT_BENCH_ALS_ITERATIONS", "10"))
            model = ALS(factors=64, iterations=iterations, seed=7)
            with threadpool_limits(1, "blas"):
                model.fit(matrix)
            out["iterations"] = iterations
        out["fit_s"] = round(time.perf_counter() - t1, 2)
        out["seconds"] = out["fit_s"]  # the fit alone, as before; load_s is reading the Parquet
        with open(data / f"{name}-{size}.pkl", "wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return out
    if name == "score":
        with open(data / f"train-ease-{size}.pkl", "rb") as handle:
            model = pickle.load(handle)
        target = data / f"scores-{size}-{engine}.parquet"
        _remove(target)
        if engine == "spark":
            from limelight.scale.spark_scoring import score_all

            session, startup = _spark()
            t0 = _work_starts()
            rows = session.read.parquet(str(data / f"interactions-{size}-spark.parquet"))
            score_all(model, rows, 10, spark=session).write.parquet(str(target))
            out["startup_s"] = round(startup, 2)
        else:
            from limelight.scale.parquet_interactions import interactions_from_parquet
            from limelight.scale.spark_scoring import score_all_local

            t0 = _work_starts()
            matrix = interactions_from_parquet(
                data / f"interactions-{size}-duckdb.parquet", title_ids=model.title_ids_, memory_limit="4GB"
            )
            score_all_local(model, matrix, 10).to_parquet(target)
        out["seconds"] = round(time.perf_counter() - t0, 2)
        import pyarrow.dataset as ds

        out["rows"] = ds.dataset(str(target), format="parquet").count_rows()
        return out
    raise SystemExit(f"unknown step {name}")


# -- a chart without matplotlib -------------------------------------------------------------------
COLOURS = {"duckdb": "#1f77b4", "spark": "#d62728", "-": "#2ca02c"}
DASHES = {"interactions": "", "views": "6 3", "score": "2 2", "world": "", "train-ease": "8 2 2 2", "train-als": "4 4"}


def render_svg(rows: list[dict[str, Any]], width: int = 640, height: int = 360) -> str:
    """Log-log lines of seconds against events, one per (step, engine), as a standalone SVG string."""
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for r in rows:
        if "seconds" in r and r["seconds"] > 0:
            series.setdefault((r["step"], r["engine"]), []).append((r["events"], r["seconds"]))
    if not series:
        return ""
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    left, right, top, bottom = 60, 190, 20, 40
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (math.log10(y) - y0) / max(y1 - y0, 1e-9) * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for e in range(int(y0), int(y1) + 1):
        y = top + ph - (e - y0) / max(y1 - y0, 1e-9) * ph
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10.0**e:g} s</text>')
    for x in sorted(set(xs)):
        parts.append(f'<text x="{px(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x:,.0f}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">viewing events (log)</text>')
    for i, ((step_name, engine), pts) in enumerate(sorted(series.items())):
        pts.sort()
        colour, dash = COLOURS.get(engine, "#555"), DASHES.get(step_name, "")
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = top + 10 + i * 16
        parts.append(f'<line x1="{width - right + 10}" x2="{width - right + 34}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
        label = step_name if engine == "-" else f"{step_name} ({engine})"
        parts.append(f'<text x="{width - right + 40}" y="{ly + 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


# -- the driver ----------------------------------------------------------------------------------
PLAN = (
    ("world", "-"),
    ("interactions", "duckdb"),
    ("interactions", "spark"),
    ("views", "duckdb"),
    ("views", "spark"),
    ("train-ease", "-"),
    ("train-als", "-"),
    ("score", "duckdb"),
    ("score", "spark"),
)


def _exponents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Growth exponent b in time ∝ events^b between each pair of consecutive sizes of each step."""
    out = []
    keys = sorted({(r["step"], r["engine"]) for r in rows if "seconds" in r})
    for step_name, engine in keys:
        found = sorted(
            (r["events"], r["seconds"])
            for r in rows
            if (r["step"], r["engine"]) == (step_name, engine) and r.get("seconds", 0) > 0 and not r.get("reused")
        )
        for (n0, t0), (n1, t1) in itertools.pairwise(found):
            if n1 > n0:
                b = math.log(t1 / t0) / math.log(n1 / n0)
                out.append({"step": step_name, "engine": engine, "from": n0, "to": n1, "exponent": round(b, 2)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts")
    parser.add_argument("--data", default="/tmp/limelight-scale", help="scratch folder for worlds and outputs")
    parser.add_argument("--steps", default=",".join(sorted({s for s, _ in PLAN})), help="steps to run")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data afterwards")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    wanted = set(args.steps.split(","))
    engines = set(args.engines.split(",")) | {"-"}
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    # Spark's driver maps its classes from a class-data-sharing archive (written by the first Spark
    # step's JVM at exit, used by every later one): session start only, see docs/scale.md.
    os.environ.setdefault(CDS_ENV, str(data / "spark-cds.jsa"))
    rows: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] = []
    kept: dict[str, Any] = {}
    if RESULTS.exists():
        stored = json.loads(RESULTS.read_text())
        previous = stored.get("rows", [])
        # The long-lived-session figures (`session` subcommand) are not rerun here: keep them.
        kept = {key: value for key, value in stored.items() if key.startswith("shared_session")}
    print(f"{'events':>12} {'step':<13} {'engine':<7} {'seconds':>9} {'cpu s':>8} {'startup':>8} {'peak MiB':>9} {'load':>9}  rows")
    for size in sizes:
        for name, engine in PLAN:
            if name not in wanted or engine not in engines:
                continue
            result = run_step([name, str(size), engine, str(data)])
            result.setdefault("step", name)
            result.setdefault("events", size)
            result.setdefault("engine", engine)
            rows.append(result)
            if "error" in result:
                print(f"{size:>12,} {name:<13} {engine:<7} ERROR {result['error']}")
            else:
                print(
                    f"{size:>12,} {name:<13} {engine:<7} {result['seconds']:>9.2f} {result.get('cpu_s', 0):>8.1f} "
                    f"{result.get('startup_s', 0):>8.2f} {result['peak_rss_mib']:>9.0f} {result.get('load', '')!s:>9}  "
                    f"{result.get('rows', result.get('nnz', result.get('counts', {}).get('viewing_events', '')))}",
                    flush=True,
                )
    # Keep earlier rows for sizes/steps not rerun, so one file holds the whole curve; a reused
    # world (LIMELIGHT_BENCH_REUSE_WORLD) was not timed, so the row that timed it stays.
    rows = [r for r in rows if not r.get("reused")]
    fresh = {(r["events"], r["step"], r["engine"]) for r in rows}
    merged = [r for r in previous if (r["events"], r["step"], r["engine"]) not in fresh] + rows
    merged.sort(key=lambda r: (r["events"], [p for p, _ in PLAN].index(r["step"]) if r["step"] in dict(PLAN) else 99, r["engine"]))
    ratios = []
    for size in sorted({r["events"] for r in merged}):
        for name in ("interactions", "views", "score"):
            got = {r["engine"]: r for r in merged if r["events"] == size and r["step"] == name and "seconds" in r}
            if "duckdb" in got and "spark" in got and got["duckdb"]["seconds"] > 0:
                ratio: dict[str, Any] = {"events": size, "step": name, "spark_over_duckdb": round(got["spark"]["seconds"] / got["duckdb"]["seconds"], 2)}
                if got["duckdb"].get("cpu_s") and got["spark"].get("cpu_s"):
                    ratio["cpu_spark_over_duckdb"] = round(got["spark"]["cpu_s"] / got["duckdb"]["cpu_s"], 2)
                ratios.append(ratio)
    payload = {
        "benchmark": "scale",
        "command": "python " + " ".join([str(Path(sys.argv[0])), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other engineers), Python {platform.python_version()}",
        "rows": merged,
        "exponents": _exponents(merged),
        "spark_over_duckdb": ratios,
        **kept,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2))
    print(json.dumps({"exponents": payload["exponents"], "spark_over_duckdb": ratios}, indent=1))
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def pair(world: Path, engine: str, repeats: int = 2, spark_conf: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Both pipelines `repeats` times in ONE session of `engine` (the first run cold, the rest warm)."""
    out = []
    from limelight.spine.pipelines import interactions, views_per_window

    backend, startup = _backend(engine, world, spark_conf)
    scratch = Path(f"/tmp/limelight-pair-{os.getpid()}")
    for run in range(repeats):
        for name in ("interactions", "views"):
            if name == "interactions":
                expr = interactions(backend, source="events", ordered=False)
            else:
                expr = views_per_window(backend, *WINDOW, ordered=False)
            _remove(scratch)
            load0 = os.getloadavg()[0]
            cpu0, t0 = _tree_cpu(os.getpid()), time.perf_counter()
            backend.to_parquet(expr, scratch)
            out.append(
                {
                    "engine": engine,
                    "step": name,
                    "run": run,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "cpu_s": round(_tree_cpu(os.getpid()) - cpu0, 2),
                    "startup_s": round(startup, 2),
                    "load": [round(load0, 1), round(os.getloadavg()[0], 1)],
                }
            )
    _remove(scratch)
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def session_benchmark(world: Path, repeats: int, spark_conf: dict[str, str] | None = None) -> dict[str, Any]:
    """One long-lived session per engine, as a service or a warm cluster runs the pipelines.

    DuckDB, Spark, DuckDB again (each a fresh process running interactions then views `repeats`
    times), so that DuckDB's figures bracket Spark's in time on a shared machine. *cold* is each
    process's first run of a pipeline (for Spark: the first query of a fresh JVM, after the session
    start, which is reported apart); *warm* is the median of the later runs.
    """
    rows: list[dict[str, Any]] = []
    for engine_name in ("duckdb", "spark", "duckdb"):
        args = [sys.executable, str(HERE), "_pair_child", str(world), engine_name, str(repeats)]
        if engine_name == "spark" and spark_conf:
            args.append(json.dumps(spark_conf))
        child = subprocess.run(args, capture_output=True, text=True, check=False)
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            raise SystemExit(f"{engine_name} session failed: {child.stderr.strip().splitlines()[-1:]}")
        rows.extend(json.loads(lines[-1])["rows"])
    summary: list[dict[str, Any]] = []
    for name in ("interactions", "views"):
        entry: dict[str, Any] = {"step": name}
        for engine_name in ("duckdb", "spark"):
            mine = [r for r in rows if r["engine"] == engine_name and r["step"] == name]
            cold = [r for r in mine if r["run"] == 0]
            warm = [r for r in mine if r["run"] > 0]
            for label, chosen in (("cold", cold), ("warm", warm)):
                if chosen:
                    entry[f"{engine_name}_{label}_s"] = round(_median([r["seconds"] for r in chosen]), 2)
                    entry[f"{engine_name}_{label}_cpu_s"] = round(_median([r["cpu_s"] for r in chosen]), 2)
        for label in ("cold", "warm"):
            if f"spark_{label}_s" in entry and f"duckdb_{label}_s" in entry:
                entry[f"{label}_wall_ratio"] = round(entry[f"spark_{label}_s"] / entry[f"duckdb_{label}_s"], 2)
                entry[f"{label}_cpu_ratio"] = round(entry[f"spark_{label}_cpu_s"] / entry[f"duckdb_{label}_cpu_s"], 2)
        summary.append(entry)
    spark_rows = [r for r in rows if r["engine"] == "spark"]
    loads = [x for r in rows for x in r["load"]]
    return {
        "world": str(world),
        "repeats": repeats,
        "spark_conf": spark_conf or {},
        "spark_startup_s": spark_rows[0]["startup_s"] if spark_rows else None,
        "load_range": [min(loads), max(loads)],
        "rows": rows,
        "summary": summary,
    }


def _print_session(result: dict[str, Any]) -> None:
    print(f"Spark session start {result['spark_startup_s']} s (apart); load {result['load_range']}")
    print(f"{'step':<13} {'run':<5} {'duckdb s':>9} {'cpu':>6} {'spark s':>9} {'cpu':>6} {'wall x':>7} {'cpu x':>6}")
    for entry in result["summary"]:
        for label in ("cold", "warm"):
            if f"{label}_wall_ratio" in entry:
                print(
                    f"{entry['step']:<13} {label:<5} {entry[f'duckdb_{label}_s']:>9.2f} {entry[f'duckdb_{label}_cpu_s']:>6.1f} "
                    f"{entry[f'spark_{label}_s']:>9.2f} {entry[f'spark_{label}_cpu_s']:>6.1f} "
                    f"{entry[f'{label}_wall_ratio']:>6.1f}x {entry[f'{label}_cpu_ratio']:>5.1f}x"
                )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] in ("session", "_pair"):
        # DuckDB, Spark, DuckDB on one world, each a fresh process running both pipelines
        # `repeats` times in one session: the first run cold, the rest warm (a long-lived session).
        repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        os.environ.setdefault(CDS_ENV, str(Path(sys.argv[2]).parent / "spark-cds.jsa"))
        extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None  # Spark settings for an A/B
        outcome = session_benchmark(Path(sys.argv[2]), repeats, extra)
        _print_session(outcome)
        stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"benchmark": "scale"}
        outcome["command"] = "python " + " ".join([str(Path(sys.argv[0])), *sys.argv[1:]])
        stored["shared_session"] = outcome
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(stored, indent=2))
    elif len(sys.argv) > 4 and sys.argv[1] == "_pair_child":
        conf = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
        print(json.dumps({"rows": pair(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), conf)}))
    elif len(sys.argv) > 1 and sys.argv[1] == "_svg":
        print(render_svg(json.loads(RESULTS.read_text())["rows"]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_step":
        _, _, name, size, engine, folder = sys.argv
        print(json.dumps(step(name, int(size), engine, Path(folder))))
    else:
        main()
