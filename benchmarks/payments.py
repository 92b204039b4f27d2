"""Payments benchmark: smart retries vs fixed schedules on unseen simulated invoices, OPE accuracy,
decision speed and involuntary-churn metrics. Prints a table and writes benchmarks/results/payments.json.

    .venv/bin/python benchmarks/payments.py            # full run (~10 min on 2 shared cores)
    .venv/bin/python benchmarks/payments.py --quick    # smaller, for a smoke test

Seeds: training logs 1, 2 (logged by the epsilon-randomised strongest fixed schedule); selection of the
fixed schedule and of the smart policy's two settings on validation seed 50; test seeds 101-105 (never used
for training or selection); OPE on seeds 201-205; churn world on seed 301.

The oracle (`OraclePolicy`) plans like the smart policy but with the simulator's true success chances: an
upper bound on what any log-trained retry policy can recover here. It is computed in the benchmark only.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from limelight.payments.churn import BASE_FEATURES, ChurnModel, build_panel, temporal_evaluation
from limelight.payments.features import attempts_to_decisions
from limelight.payments.model import RetrySuccessModel
from limelight.payments.ope import (
    evaluate_first_retry,
    measured_first_retry_recovery,
    measured_recovery_by_retries,
    model_rollout_recovery,
)
from limelight.payments.oracle import OraclePolicy
from limelight.payments.policy import FIXED_SCHEDULES, SmartRetryPolicy, fixed_policy
from limelight.payments.simulator import simulate_dunning, simulate_payment_world, summarize

TRAIN_SEEDS = (1, 2)
VALIDATION_SEED = 50
TEST_SEEDS = (101, 102, 103, 104, 105)
OPE_SEEDS = (201, 202, 203, 204, 205)
CHURN_SEED = 301
SMART_GRID: tuple[dict[str, Any], ...] = (
    {"max_retries": 8, "ask_first": True},
    {"max_retries": 14, "ask_first": True},
    {"max_retries": 8, "ask_first": False},
    {"max_retries": 14, "ask_first": False},
)


def _smart_key(params: dict[str, Any]) -> str:
    return "smart(" + ",".join(f"{k}={v}" for k, v in params.items()) + ")"


def _fixed_variants() -> list[tuple[str, bool]]:
    return [(name, ask) for name in FIXED_SCHEDULES for ask in (False, True)]


def _row(summary: Any) -> dict[str, Any]:
    return summary.as_dict()


def _ope_one(model: RetrySuccessModel, smart_params: dict[str, Any], n_ope: int, seed: int) -> dict[str, Any]:
    """Logs of the epsilon-randomised strongest fixed schedule, OPE of the smart policy's first retry, then
    the smart policy simulated on the same invoices. The evaluated policy is the selected smart policy with
    its member prompts switched off until it stops (ask_first=False, update_below=0): prompts do not change
    when or where it retries, but a member's new card could otherwise pre-empt the first retry in the
    simulator and make the measured quantity differ from the estimated one."""
    policy = SmartRetryPolicy(model, **{**smart_params, "ask_first": False, "update_below": 0.0})
    logs = simulate_dunning(n_ope, seed)
    est = evaluate_first_retry(logs, policy, model)
    run = simulate_dunning(n_ope, seed, policy)
    measured = measured_first_retry_recovery(run)
    # sequence level: the share of failed invoices the policy's retries recover over the whole dunning
    seq = model_rollout_recovery(logs, policy, model)
    seq_measured = measured_recovery_by_retries(run)
    est["sequence"] = {
        "rollout": seq["value"],
        "measured_by_simulator": seq_measured,
        "relative_error": seq["value"] / seq_measured - 1 if seq_measured else float("nan"),
    }
    est["seed"] = seed
    est["measured_by_simulator"] = measured
    for k in ("ips", "snips", "dr", "dros"):
        est[k]["relative_error"] = est[k]["value"] / measured - 1 if measured else float("nan")
        est[k]["covers_measured"] = bool(est[k]["ci_low"] <= measured <= est[k]["ci_high"])
    est["model_only_relative_error"] = est["model_only"] / measured - 1 if measured else float("nan")
    return est


def _ope(model: RetrySuccessModel, smart_params: dict[str, Any], n_ope: int) -> dict[str, Any]:
    """First-retry OPE on each of `OPE_SEEDS` (one estimate is one noisy draw: effective n is a few hundred)."""
    runs = [_ope_one(model, smart_params, n_ope, seed) for seed in OPE_SEEDS]
    summary: dict[str, Any] = {}
    for k in ("ips", "snips", "dr", "dros"):
        errs = [r[k]["relative_error"] for r in runs]
        summary[k] = {
            "median_relative_error": statistics.median(errs),
            "median_abs_relative_error": statistics.median(abs(e) for e in errs),
            "min_relative_error": min(errs),
            "max_relative_error": max(errs),
            "within_10pct": sum(abs(e) <= 0.10 for e in errs),
            "ci_covers_measured": sum(r[k]["covers_measured"] for r in runs),
        }
    seq_errs = [r["sequence"]["relative_error"] for r in runs]
    summary["sequence_rollout"] = {
        "median_relative_error": statistics.median(seq_errs),
        "min_relative_error": min(seq_errs),
        "max_relative_error": max(seq_errs),
        "within_10pct": sum(abs(e) <= 0.10 for e in seq_errs),
    }
    summary["model_only_median_abs_relative_error"] = statistics.median(
        abs(r["model_only_relative_error"]) for r in runs
    )
    return {
        "seeds": list(OPE_SEEDS),
        "runs": runs,
        "summary": summary,
        "logging_policy": fixed_policy(logging=True).name,
        "evaluated_policy": {**smart_params, "ask_first": False, "update_below": 0.0},
    }


def _print_ope(ope: dict[str, Any]) -> None:
    print("\nOPE (first-retry recovery per failed invoice)")
    for est in ope["runs"]:
        print(f" seed {est['seed']}: measured {est['measured_by_simulator']:.4f}")
        for k in ("ips", "snips", "dr", "dros"):
            e = est[k]
            print(
                f"  {k:<6} {e['value']:.4f}  95% CI [{e['ci_low']:.4f}, {e['ci_high']:.4f}]  error {e['relative_error']:+.1%}"
            )
    for est in ope["runs"]:
        q = est["sequence"]
        print(
            f" seed {est['seed']}: whole-dunning recovery by retries, model rollout {q['rollout']:.4f} vs"
            f" measured {q['measured_by_simulator']:.4f} ({q['relative_error']:+.1%})"
        )
    for k in ("ips", "snips", "dr", "dros"):
        s = ope["summary"][k]
        print(
            f" {k:<6} median error {s['median_relative_error']:+.1%} (median |error| {s['median_abs_relative_error']:.1%},"
            f" range {s['min_relative_error']:+.1%} to {s['max_relative_error']:+.1%}); within 10% on {s['within_10pct']}"
            f" of {len(ope['runs'])} seeds; CI covers the measured value on {s['ci_covers_measured']}"
        )


def _churn(n_members: int) -> dict[str, Any]:
    """Involuntary churn on a simulated world (12 months of renewals), temporal split."""
    rng = np.random.default_rng(CHURN_SEED)
    members = pd.DataFrame(
        {
            "member_id": [f"m{i}" for i in range(n_members)],
            "country": rng.choice(["US", "GB", "DE", "FR", "BR", "MX", "IN", "JP"], n_members),
            "plan": rng.choice(["standard_with_ads", "standard", "premium"], n_members),
            "signup_date": pd.Timestamp("2023-06-01")
            + pd.to_timedelta(rng.integers(0, 540, n_members), unit="D"),
            "cancelled_at": pd.NaT,
        }
    )
    world, cards = simulate_payment_world(members, date(2025, 1, 1), date(2025, 12, 31), seed=CHURN_SEED)
    panel = build_panel(world, cards=cards)
    out = temporal_evaluation(panel, ChurnModel())
    out["features"] = list(ChurnModel().features)
    # the first feature set (no card expiry, no decline counts) on the same split: the baseline
    base = temporal_evaluation(panel, ChurnModel(features=BASE_FEATURES))
    out["baseline_features"] = {k: base[k] for k in ("log_loss", "auc")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/payments.json")
    ap.add_argument("--only-ope", action="store_true", help="Rerun the OPE section into an existing JSON.")
    ap.add_argument(
        "--only-churn", action="store_true", help="Rerun the churn section into an existing JSON."
    )
    args = ap.parse_args()
    n_train, n_eval, n_ope, n_speed, n_members = (
        (6000, 4000, 10000, 20000, 3000) if args.quick else (30000, 20000, 60000, 100000, 20000)
    )
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_version()}, 2 shared cores",
        "sizes": {
            "train_invoices_per_seed": n_train,
            "eval_invoices": n_eval,
            "ope_invoices": n_ope,
            "speed_charges": n_speed,
            "churn_members": n_members,
        },
    }
    if args.only_churn:
        previous = json.loads(Path(args.out).read_text())
        previous["churn"] = _churn(n_members)
        Path(args.out).write_text(json.dumps(previous, indent=2, default=float))
        print(previous["churn"])
        return
    t0 = time.perf_counter()
    logs = pd.concat([simulate_dunning(n_train, seed) for seed in TRAIN_SEEDS], ignore_index=True)
    t1 = time.perf_counter()
    model = RetrySuccessModel().fit(logs)
    t2 = time.perf_counter()
    result["training"] = {
        "retries": model.n_train_,
        "simulate_s": round(t1 - t0, 1),
        "fit_s": round(t2 - t1, 1),
    }
    print(f"trained on {model.n_train_} logged retries ({t2 - t1:.1f} s)", file=sys.stderr)

    if args.only_ope:
        previous = json.loads(Path(args.out).read_text())
        previous["ope"] = _ope(model, previous["validation"]["smart_params"], n_ope)
        previous["sizes"]["ope_invoices"] = n_ope
        Path(args.out).write_text(json.dumps(previous, indent=2, default=float))
        _print_ope(previous["ope"])
        return

    # selection on the validation seed
    val: dict[str, Any] = {}
    for name, ask in _fixed_variants():
        val[f"fixed:{name}{'+ask_first' if ask else ''}"] = _row(
            summarize(simulate_dunning(n_eval, VALIDATION_SEED, fixed_policy(name, ask_first=ask)))
        )
    for params in SMART_GRID:
        val[_smart_key(params)] = _row(
            summarize(simulate_dunning(n_eval, VALIDATION_SEED, SmartRetryPolicy(model, **params)))
        )
        val["oracle" + _smart_key(params)[5:]] = _row(
            summarize(simulate_dunning(n_eval, VALIDATION_SEED, OraclePolicy(**params)))
        )
    best_fixed = max((k for k in val if k.startswith("fixed:")), key=lambda k: val[k]["recovered_revenue"])
    best_smart_i = max(
        range(len(SMART_GRID)), key=lambda i: val[_smart_key(SMART_GRID[i])]["recovered_revenue"]
    )
    smart_params = SMART_GRID[best_smart_i]
    result["validation"] = {
        "seed": VALIDATION_SEED,
        "policies": val,
        "best_fixed": best_fixed,
        "smart_params": smart_params,
    }
    print(f"validation: best fixed {best_fixed}, smart {smart_params}", file=sys.stderr)

    # test seeds: every fixed schedule with the first-failure prompt (without it every schedule is far
    # weaker on validation), the validated best fixed, smart, and the oracle bound
    tests = []
    for seed in TEST_SEEDS:
        fixed_all = {}
        for name, ask in _fixed_variants():
            key = f"fixed:{name}{'+ask_first' if ask else ''}"
            if ask or key == best_fixed:
                fixed_all[key] = _row(
                    summarize(simulate_dunning(n_eval, seed, fixed_policy(name, ask_first=ask)))
                )
        smart = _row(summarize(simulate_dunning(n_eval, seed, SmartRetryPolicy(model, **smart_params))))
        oracle = _row(summarize(simulate_dunning(n_eval, seed, OraclePolicy(**smart_params))))
        best_on_test = max(fixed_all, key=lambda k: fixed_all[k]["recovered_revenue"])
        ref = fixed_all[best_fixed]["recovered_revenue"]
        lift = smart["recovered_revenue"] / ref - 1
        oracle_lift = oracle["recovered_revenue"] / ref - 1
        tests.append(
            {
                "seed": seed,
                "smart": smart,
                "oracle": oracle,
                "validated_fixed": best_fixed,
                "fixed": fixed_all,
                "revenue_lift_vs_validated_fixed": lift,
                "oracle_revenue_lift_vs_validated_fixed": oracle_lift,
                "share_of_oracle_lift": lift / oracle_lift if oracle_lift > 0 else float("nan"),
                "best_fixed_on_this_seed": best_on_test,
                "revenue_lift_vs_best_fixed_on_this_seed": smart["recovered_revenue"]
                / fixed_all[best_on_test]["recovered_revenue"]
                - 1,
            }
        )
        print(f"seed {seed}: lift {lift:+.1%} (oracle {oracle_lift:+.1%})", file=sys.stderr)
    result["test"] = tests

    def _spread(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result["test_summary"] = {
        "seeds": list(TEST_SEEDS),
        "revenue_lift_vs_validated_fixed": _spread([t["revenue_lift_vs_validated_fixed"] for t in tests]),
        "oracle_revenue_lift_vs_validated_fixed": _spread(
            [t["oracle_revenue_lift_vs_validated_fixed"] for t in tests]
        ),
        "share_of_oracle_lift": _spread([t["share_of_oracle_lift"] for t in tests]),
        "smart_attempts_per_recovery": _spread([t["smart"]["attempts_per_recovery"] for t in tests]),
        "fixed_attempts_per_recovery": _spread(
            [t["fixed"][best_fixed]["attempts_per_recovery"] for t in tests]
        ),
        "oracle_attempts_per_recovery": _spread([t["oracle"]["attempts_per_recovery"] for t in tests]),
        "smart_rule_violations": sum(t["smart"]["rule_violations"] for t in tests),
    }

    smart_policy = SmartRetryPolicy(model, **smart_params)
    result["ope"] = est = _ope(model, smart_params, n_ope)

    # speed: next attempt for n_speed failed charges (first failures of simulated invoices)
    first = simulate_dunning(n_speed, 401, fixed_policy("weekly_3", ask_first=False))
    d = attempts_to_decisions(first)
    charges = d.charges
    reps = [n_speed // max(len(charges), 1) + 1]
    idx = np.resize(np.arange(len(charges)), n_speed)
    batch = charges.subset(idx)
    times = []
    for _ in range(3):
        s = time.perf_counter()
        smart_policy.decide(batch)
        times.append(time.perf_counter() - s)
    result["speed"] = {
        "charges": len(batch),
        "median_s": statistics.median(times),
        "runs_s": times,
        "tiled_from_contexts": len(charges),
        "reps": reps[0],
    }
    print(f"speed: {len(batch)} decisions in {statistics.median(times):.2f} s", file=sys.stderr)

    result["churn"] = _churn(n_members)
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=float))
    print(f"\nrecovery on unseen seeds ({n_eval} failed renewals each), smart {smart_params} vs {best_fixed}")
    print(
        f"{'seed':>6} {'policy':<44} {'recovery':>9} {'revenue':>11} {'att/rec':>8} {'viol':>5} {'med days':>9}"
    )
    for t in tests:
        for name, row in (
            (t["validated_fixed"], t["fixed"][t["validated_fixed"]]),
            ("smart", t["smart"]),
            ("oracle (knows the simulator's truth)", t["oracle"]),
        ):
            print(
                f"{t['seed']:>6} {name:<44} {row['recovery_rate']:>9.3f} {row['recovered_revenue']:>11,.0f} "
                f"{row['attempts_per_recovery']:>8.2f} {row['rule_violations']:>5} {row['median_days_to_recovery']:>9.2f}"
            )
        print(
            f"{'':>6} lift vs validated fixed {t['revenue_lift_vs_validated_fixed']:+.1%}; "
            f"vs best fixed on this seed ({t['best_fixed_on_this_seed']}) {t['revenue_lift_vs_best_fixed_on_this_seed']:+.1%}"
        )
    ts = result["test_summary"]
    print(
        "median lift {:+.1%} (range {:+.1%} to {:+.1%}); oracle bound {:+.1%} ({:+.1%} to {:+.1%}); "
        "smart reaches {:.0%} of the oracle's lift".format(
            ts["revenue_lift_vs_validated_fixed"]["median"],
            ts["revenue_lift_vs_validated_fixed"]["min"],
            ts["revenue_lift_vs_validated_fixed"]["max"],
            ts["oracle_revenue_lift_vs_validated_fixed"]["median"],
            ts["oracle_revenue_lift_vs_validated_fixed"]["min"],
            ts["oracle_revenue_lift_vs_validated_fixed"]["max"],
            ts["share_of_oracle_lift"]["median"],
        )
    )
    _print_ope(est)
    print(f"\nnext attempt for {len(batch):,} charges: median {result['speed']['median_s']:.2f} s")
    c = result["churn"]
    print(
        f"churn: log loss {c['log_loss']:.4f} (base rate {c['base_rate_log_loss']:.4f}, first feature set"
        f" {c['baseline_features']['log_loss']:.4f}), AUC {c['auc']:.3f} (first feature set"
        f" {c['baseline_features']['auc']:.3f})"
    )
    print(f"wrote {args.out} ({result['elapsed_s']} s)")


if __name__ == "__main__":
    main()
