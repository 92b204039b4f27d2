"""Split-conformal intervals: finite-sample quantile, honest coverage on exchangeable data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limelight.errors import InputError, NotFittedError
from limelight.valuation.intervals import SplitConformal


def test_half_width_is_the_finite_sample_quantile() -> None:
    residuals = np.arange(1, 10, dtype="float64")  # n=9: ceil(10*0.8)/9 → the 8th smallest
    conformal = SplitConformal(alpha=0.2).fit(residuals)
    assert conformal.half_width_ == 8.0
    lower, upper = conformal.interval(np.array([0.0, 5.0]))
    assert lower.tolist() == [-8.0, -3.0]
    assert upper.tolist() == [8.0, 13.0]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_coverage_is_near_nominal_on_exchangeable_residuals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    calibration = rng.standard_t(df=4, size=600)
    fresh = rng.standard_t(df=4, size=4000)
    conformal = SplitConformal(alpha=0.2).fit(calibration)
    lower, upper = conformal.interval(np.zeros_like(fresh))
    coverage = np.mean((fresh >= lower) & (fresh <= upper))
    # realised coverage of an 80% interval from 600 calibration residuals has sd ~0.017; over every seed
    # hypothesis can draw (0-10,000) it spans 0.7125-0.8625, so 0.74 failed 6 seeds (flaky)
    assert 0.70 <= coverage <= 0.88


def test_interval_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        SplitConformal().interval(np.zeros(2))


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_alpha_outside_zero_one_is_refused(alpha: float) -> None:
    with pytest.raises(InputError, match="alpha"):
        SplitConformal(alpha=alpha)
