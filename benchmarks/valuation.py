"""Content valuation benchmark: back-tests on Netflix's engagement reports and slate forecasting speed.

    .venv/bin/python benchmarks/valuation.py            # everything (a few minutes on 2 shared cores)
    .venv/bin/python benchmarks/valuation.py --quick    # skip the ablations

Back-tests (the issue's protocol): train on the reports before the window, forecast the titles of the
window's report released in the window, score on that report. 2024H1 (trained on 2023) is the window
used while designing; 2024H2 (trained on 2023H1–2024H1) is the held-out test. Ablations drop the
non-report metadata (Top 10 history, catalog genres) to compare with "report-only features".
Speed: fit once, then forecast a slate of 500 candidates (features, model, interval; and with the five
comparables each), median of 5 runs.

Prints a table and writes benchmarks/results/valuation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.valuation.backtest import candidates_from_report, parse_period, run_backtest
from limelight.valuation.comparables import find_comparables
from limelight.valuation.data import default_catalog, default_report_paths, default_top10, load_reports
from limelight.valuation.features import normalize_candidates
from limelight.valuation.model import ValuationModel

WINDOWS = {
    "2024H1 (design window)": "2024-01-01:2024-06-30",
    "2024H2 (held-out test)": "2024-07-01:2024-12-31",
}


def backtest(
    reports: pd.DataFrame, period_text: str, *, top10: pd.DataFrame | None, catalog: pd.DataFrame | None
) -> dict[str, object]:
    period = parse_period(period_text)
    actuals = reports[pd.to_datetime(reports["period_end"]) == period[1]]
    candidates = candidates_from_report(actuals, period)
    start = time.perf_counter()
    result = run_backtest(
        reports,
        candidates,
        period=period,
        actuals=actuals,
        model=ValuationModel(top10=top10, catalog=catalog),
    )
    seconds = time.perf_counter() - start
    metrics = result.metrics
    ratio = metrics["limelight"]["rmsle"] / metrics["kind median"]["rmsle"]
    return {
        "period": period_text,
        "candidates": len(candidates),
        "seconds": round(seconds, 2),
        "calibration": result.calibration,
        "metrics": metrics,
        "rmsle_ratio_to_kind_median": ratio,
    }


def slate_speed(
    reports: pd.DataFrame, top10: pd.DataFrame | None, catalog: pd.DataFrame | None
) -> dict[str, object]:
    history = reports[pd.to_datetime(reports["period_end"]) < pd.Timestamp("2024-07-01")]
    start = time.perf_counter()
    model = ValuationModel(top10=top10, catalog=catalog).fit(history)
    fit_s = time.perf_counter() - start
    period = parse_period("2024-07-01:2024-12-31")
    base = candidates_from_report(reports[pd.to_datetime(reports["period_end"]) == period[1]], period)
    rng = np.random.default_rng(7)
    slate = base.iloc[rng.integers(0, len(base), 500)].reset_index(drop=True)
    slate["title"] = [f"{t} #{i}" for i, t in enumerate(slate["title"])]
    predict_runs, comparable_runs, predict_cpu, comparable_cpu = [], [], [], []
    for _ in range(5):
        c0 = time.process_time()
        t0 = time.perf_counter()
        normalized = normalize_candidates(slate, window_end=period[1])
        forecasts = model.predict(normalized)
        t1 = time.perf_counter()
        c1 = time.process_time()
        find_comparables(
            normalized, model.history_titles_, catalog=catalog, k=5, reports=model.builder_.history
        )
        t2 = time.perf_counter()
        c2 = time.process_time()
        predict_runs.append(t1 - t0)
        comparable_runs.append(t2 - t0)
        predict_cpu.append(c1 - c0)
        comparable_cpu.append(c2 - c0)
    assert len(forecasts) == 500
    return {
        "fit_seconds": round(fit_s, 2),
        "slate": 500,
        "forecast_seconds_median": round(statistics.median(predict_runs), 3),
        "forecast_with_comparables_seconds_median": round(statistics.median(comparable_runs), 3),
        "forecast_cpu_seconds_median": round(statistics.median(predict_cpu), 3),
        "forecast_with_comparables_cpu_seconds_median": round(statistics.median(comparable_cpu), 3),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "runs": 5,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the ablations")
    parser.add_argument("--speed-only", action="store_true", help="only the slate timing")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/valuation.json"))
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    reports = load_reports(default_report_paths())
    load_s = time.perf_counter() - t0
    top10, catalog = default_top10(), default_catalog()

    runs: dict[str, dict[str, object]] = {}
    for name, period in WINDOWS.items():
        if args.speed_only:
            break
        runs[f"{name}: all features"] = backtest(reports, period, top10=top10, catalog=catalog)
        if not args.quick:
            runs[f"{name}: report-only features"] = backtest(reports, period, top10=None, catalog=None)
            runs[f"{name}: reports + Top 10"] = backtest(reports, period, top10=top10, catalog=None)
    speed = slate_speed(reports, top10, catalog)

    print(
        f"\nContent valuation back-tests (load {load_s:.1f}s; machine: {os.cpu_count()} cores, {platform.machine()})"
    )
    header = f"{'run':58} {'model':36} {'n':>4} {'RMSLE':>6} {'ratio':>6} {'Spear':>6} {'cov80':>6} {'bkt':>6} {'bkt±1':>6}"
    print(header)
    print("-" * len(header))
    for name, run in runs.items():
        metrics = run["metrics"]
        assert isinstance(metrics, dict)
        base = metrics["kind median"]["rmsle"]
        for model_name, m in metrics.items():
            if model_name.startswith(("later seasons", "previous season (")) and "all features" not in name:
                continue
            cov = m.get("coverage")
            print(
                f"{name[:58]:58} {model_name[:36]:36} {m['n']:4.0f} {m['rmsle']:6.3f} {m['rmsle'] / base:6.3f} "
                f"{m['spearman']:6.3f} {'' if cov is None else f'{cov:6.1%}':>6} {m['bucket_exact']:6.1%} "
                f"{m['bucket_within_one']:6.1%}"
            )
    print(
        f"\nslate of 500: fit {speed['fit_seconds']}s once; forecast {speed['forecast_seconds_median']}s, "
        f"with 5 comparables each {speed['forecast_with_comparables_seconds_median']}s (median of 5); CPU "
        f"{speed['forecast_cpu_seconds_median']}s / {speed['forecast_with_comparables_cpu_seconds_median']}s; "
        f"load average {speed['load_average_1min']}"
    )
    payload = {
        "command": "python benchmarks/valuation.py"
        + (" --quick" if args.quick else "")
        + (" --speed-only" if args.speed_only else ""),
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "load_seconds": round(load_s, 2),
        "backtests": runs,
        "slate_speed": speed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
