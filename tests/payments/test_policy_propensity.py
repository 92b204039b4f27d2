"""Logged propensities of the epsilon-randomised logging policy (what off-policy evaluation divides by)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from limelight.payments.charges import FailedCharges, to_hours
from limelight.payments.gate import Gate
from limelight.payments.policy import (
    GRID_EARLY_HOURS,
    LOGGING_EPSILON,
    LOGGING_PROCESSOR_EPSILON,
    candidate_times,
    fixed_policy,
)
from limelight.payments.router import load_router


def test_an_explored_time_hours_from_the_schedule_is_logged_with_the_exploration_share_only() -> None:
    # failed at 02:00 in the US (UTC-5): the grid's 00:06 local next day is 1.9 h before the schedule's day 1
    t = float(to_hours([pd.Timestamp("2025-03-03 07:00")])[0])
    n = 4000
    charges = FailedCharges.build(
        decline_code="insufficient_funds",
        amount=np.full(n, 15.49),
        failed_at=t,
        issuer_country="US",
        card_brand="visa",
        funding_type="debit",
    )
    grid = candidate_times(charges)
    near = grid[:, len(GRID_EARLY_HOURS)]
    assert 0.0 < (t + 24.0) - near[0] < 4.0
    k = int(Gate().allowed(charges, grid)[0].sum())
    kp = int(load_router().allowed(charges)[0].sum())
    proc_default = (1 - LOGGING_PROCESSOR_EPSILON) + LOGGING_PROCESSOR_EPSILON / kp
    explored = LOGGING_EPSILON / k * proc_default
    policy = fixed_policy(logging=True)
    atlas = np.full(n, "atlas", dtype=object)
    assert np.allclose(policy.action_probability(charges, near, atlas), explored)
    sched = np.full(n, t + 24.0)
    assert np.allclose(policy.action_probability(charges, sched, atlas), (1 - LOGGING_EPSILON) * proc_default)
    # the decisions themselves log the same numbers
    d = policy.decide(charges, rng=np.random.default_rng(1))
    hit = (np.abs(d.retry_at - near) < 1e-6) & (d.processor == "atlas")
    assert hit.sum() > 5
    assert np.allclose(d.propensity[hit], explored)
