"""Valuation back-tests over five model seeds: the fixed-capacity forecaster against the self-tuning default.

    .venv/bin/python benchmarks/valuation_seeds.py     # ~3 min on 2 shared cores

The seed drives LightGBM's bagging and, for a history of one report, the tuner's random folds. Both windows
of `benchmarks/valuation.py` (2024H1 design, 2024H2 held-out test), all features. Prints per-seed RMSLE ratio
to the kind median, Spearman and 80% coverage, and their medians; writes
benchmarks/results/valuation_seeds.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.valuation.backtest import candidates_from_report, parse_period, run_backtest
from limelight.valuation.data import default_catalog, default_report_paths, default_top10, load_reports
from limelight.valuation.model import GradientBoostedForecaster, SelfTuningForecaster, ValuationModel

WINDOWS = {"2024H1": "2024-01-01:2024-06-30", "2024H2": "2024-07-01:2024-12-31"}
SEEDS = (7, 8, 9, 10, 11)
FORECASTERS = {
    "fixed (15 leaves, 400 rounds)": lambda seed: GradientBoostedForecaster(seed=seed),
    "self-tuning (default)": lambda seed: SelfTuningForecaster(seed=seed),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/valuation_seeds.json"))
    args = parser.parse_args()
    reports = load_reports(default_report_paths())
    top10, catalog = default_top10(), default_catalog()
    results: dict[str, dict[str, object]] = {}
    for name, make in FORECASTERS.items():
        rows = []
        for seed in SEEDS:
            row: dict[str, object] = {"seed": seed}
            for window, text in WINDOWS.items():
                period = parse_period(text)
                actuals = reports[pd.to_datetime(reports["period_end"]) == period[1]]
                model = ValuationModel(make(seed), top10=top10, catalog=catalog, seed=seed)
                run = run_backtest(reports, candidates_from_report(actuals, period), period=period,
                                   actuals=actuals, model=model)
                ours, base = run.metrics["limelight"], run.metrics["kind median"]
                row[window] = {"ratio": ours["rmsle"] / base["rmsle"], "rmsle": ours["rmsle"],
                               "spearman": ours["spearman"], "coverage": ours["coverage"],
                               "chose": run.calibration.get("forecaster_params")}
            rows.append(row)
            print(name, seed, "  ".join(
                f"{w}: ratio {row[w]['ratio']:.3f} Spearman {row[w]['spearman']:.3f} cov {row[w]['coverage']:.1%}"  # type: ignore[index]
                for w in WINDOWS), flush=True)
        medians = {w: {k: float(np.median([r[w][k] for r in rows]))  # type: ignore[index]
                       for k in ("ratio", "rmsle", "spearman", "coverage")} for w in WINDOWS}
        print(name, "median", medians)
        results[name] = {"runs": rows, "median": medians}
    args.out.write_text(json.dumps({"command": "python benchmarks/valuation_seeds.py", "results": results},
                                   indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
