"""Small simulated payment logs and one fitted retry model, shared by the payments tests (test budget)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from limelight.payments.model import RetrySuccessModel
from limelight.payments.simulator import simulate_dunning, simulate_payment_world


@pytest.fixture(scope="session")
def dunning_logs() -> pd.DataFrame:
    """Fixed-schedule (epsilon-randomised) logs of 4,000 failed renewals."""
    return simulate_dunning(4000, seed=11)


@pytest.fixture(scope="session")
def retry_model(dunning_logs: pd.DataFrame) -> RetrySuccessModel:
    return RetrySuccessModel(max_iter=200).fit(dunning_logs)


@pytest.fixture(scope="session")
def members() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame(
        {
            "member_id": [f"m{i}" for i in range(n)],
            "country": rng.choice(["US", "GB", "DE", "BR", "IN"], n),
            "plan": rng.choice(["standard_with_ads", "standard", "premium"], n),
            "signup_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "cancelled_at": pd.NaT,
        }
    )
    frame.loc[:99, "cancelled_at"] = pd.Timestamp("2025-03-10 12:00:00")
    return frame


@pytest.fixture(scope="session")
def world(members: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(payment attempts, cards on file with expiry) for eight months of renewals."""
    return simulate_payment_world(members, date(2025, 1, 1), date(2025, 8, 31), seed=5)


@pytest.fixture(scope="session")
def world_logs(world: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return world[0]
