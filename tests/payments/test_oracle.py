"""The oracle upper bound (simulator truth, benchmark only) and the candidate grid of the smart policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.errors import NotFittedError
from limelight.payments.charges import FailedCharges, from_hours, to_hours
from limelight.payments.model import RetrySuccessModel
from limelight.payments.oracle import OraclePolicy
from limelight.payments.policy import GRID_EARLY_HOURS, SmartRetryPolicy, candidate_times, fixed_policy
from limelight.payments.simulator import simulate_dunning, summarize


def test_oracle_bounds_the_learned_and_fixed_policies_inside_the_rules(
    retry_model: RetrySuccessModel,
) -> None:
    oracle = summarize(simulate_dunning(2500, seed=78, policy=OraclePolicy()))
    smart = summarize(simulate_dunning(2500, seed=78, policy=SmartRetryPolicy(retry_model)))
    fixed = summarize(simulate_dunning(2500, seed=78, policy=fixed_policy()))
    assert oracle.rule_violations == 0
    assert oracle.recovered_revenue > smart.recovered_revenue > fixed.recovered_revenue
    # knowing when a card is funded, the oracle wastes far fewer attempts
    assert oracle.attempts_per_recovery < 0.75 * fixed.attempts_per_recovery


def test_oracle_refuses_to_decide_outside_the_simulator() -> None:
    charges = FailedCharges.build(decline_code="insufficient_funds", amount=15.49, failed_at=480_000.0)
    with pytest.raises(NotFittedError, match="inside the simulator"):
        OraclePolicy().decide(charges)


def test_candidates_cover_every_day_of_the_window_just_after_local_midnight() -> None:
    # 2025-03-03 + 21 days crosses New York's change to summer time (March 9); Tokyo has none
    t = float(to_hours([pd.Timestamp("2025-03-03 15:30")])[0])
    charges = FailedCharges.build(
        decline_code="insufficient_funds",
        amount=np.array([15.49, 15.49]),
        failed_at=np.array([t, t]),
        issuer_country=np.array(["US", "JP"], dtype=object),
    )
    grid = candidate_times(charges)
    early = len(GRID_EARLY_HOURS)
    assert np.allclose(grid[:, :early], t + np.asarray(GRID_EARLY_HOURS))
    daily = grid[:, early:]
    assert daily.shape[1] == 21
    for row, zone in enumerate(["America/New_York", "Asia/Tokyo"]):
        wall = from_hours(daily[row]).tz_localize("UTC").tz_convert(zone)
        # 00:06 local every day, summer time or not: pay has landed on a payday
        assert list(wall.strftime("%H:%M")) == ["00:06"] * 21
        failed_local = pd.Timestamp("2025-03-03 15:30", tz="UTC").tz_convert(zone).normalize().tz_localize(None)
        days = (wall.tz_localize(None).normalize() - failed_local).days
        assert list(days) == list(range(1, 22))
