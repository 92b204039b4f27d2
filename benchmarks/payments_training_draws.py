"""How much the learned retry policy depends on the world's clocks and on which logs it learned from.

Validation seed 50 (20,000 failed renewals), smart policy `max_retries=14, ask_first=True`, the model
fitted on two seeds' logs of 30,000 failed renewals each, as in `benchmarks/payments.py`. Worlds:
`summer` (the IANA zones of `rules/countries.csv`) or `standard` (every zone pinned to its standard
offset, `Etc/GMT±N`: the world before summer time was modelled). The policy's clock can differ from the
world's (`--policy-clock`), and the model can learn from another world's logs (`--train-world`).

    .venv/bin/python benchmarks/payments_training_draws.py --world summer --train-seeds 1,2
    .venv/bin/python benchmarks/payments_training_draws.py --world standard --train-seeds 3,4
    .venv/bin/python benchmarks/payments_training_draws.py --world summer --policy-clock standard
    .venv/bin/python benchmarks/payments_training_draws.py --world summer --train-world standard

Each prints one line: configuration, recovered revenue (USD), attempts per recovery, recovery rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import pandas as pd

import limelight.payments.charges as charges_module
import limelight.payments.features as features_module
import limelight.payments.policy as policy_module
import limelight.payments.simulator as simulator_module
from limelight.payments.model import RetrySuccessModel
from limelight.payments.policy import SmartRetryPolicy
from limelight.payments.simulator import simulate_dunning, summarize

# Standard-time UTC offsets of the table's countries that keep summer time (the others' zones are standard).
_STANDARD = {"US": -5, "CA": -5, "GB": 0, "IE": 0, "FR": 1, "DE": 1, "ES": 1, "IT": 1, "NL": 1, "SE": 1,
             "PL": 1, "AU": 10, "EG": 2}


def _clocks() -> dict[str, charges_module.Countries]:
    summer = charges_module.load_countries()
    zones = summer.time_zone.copy()
    for country, row in summer.code_index.items():
        if country in _STANDARD:
            hours = _STANDARD[country]
            zones[row] = "UTC" if hours == 0 else f"Etc/GMT{'+' if hours < 0 else '-'}{abs(hours)}"
    return {"summer": summer, "standard": dataclasses.replace(summer, time_zone=zones)}


def _use(world: charges_module.Countries, policy: charges_module.Countries) -> None:
    simulator_module.load_countries = lambda: world  # type: ignore[assignment]
    features_module.load_countries = lambda: policy  # type: ignore[assignment]
    policy_module.load_countries = lambda: policy  # type: ignore[assignment]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", choices=["summer", "standard"], default="summer")
    ap.add_argument("--policy-clock", choices=["summer", "standard"], default=None, help="default: the world's")
    ap.add_argument("--train-world", choices=["summer", "standard"], default=None, help="default: the world")
    ap.add_argument("--train-seeds", default="1,2")
    ap.add_argument("--invoices", type=int, default=20_000)
    args = ap.parse_args()
    clocks = _clocks()
    policy_clock = args.policy_clock or args.world
    train_world = args.train_world or args.world
    seeds = [int(s) for s in args.train_seeds.split(",")]
    start = time.perf_counter()
    # the logs, and the features the model reads from them, in the training world's clocks
    _use(clocks[train_world], clocks[train_world if args.train_world else policy_clock])
    model = RetrySuccessModel().fit(pd.concat([simulate_dunning(30_000, s) for s in seeds], ignore_index=True))
    _use(clocks[args.world], clocks[policy_clock])
    r = summarize(simulate_dunning(args.invoices, 50, SmartRetryPolicy(model, max_retries=14, ask_first=True)))
    print(f"world={args.world} policy_clock={policy_clock} train_world={train_world} train_seeds={args.train_seeds}: "
          f"revenue {r.recovered_revenue:,.0f}, attempts/recovery {r.attempts_per_recovery:.2f}, "
          f"recovery {r.recovery_rate:.4f} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
