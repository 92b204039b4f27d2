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


def test_each_group_gets_its_own_width_and_a_small_group_its_broader_ones() -> None:
    """One width for all titles covered films 68% and late releases 53% on 2024H2 (80% on average)."""
    rng = np.random.default_rng(3)
    calm, wild = rng.normal(0, 1, 400), rng.normal(0, 3, 400)
    residuals = np.concatenate([calm, wild, rng.normal(0, 6, 10)])
    groups = np.array(["show|early"] * 400 + ["film|early"] * 400 + ["film|late"] * 10, dtype=object)
    conformal = SplitConformal(alpha=0.2, min_group=20).fit(residuals, groups)
    assert set(conformal.group_half_width_) == {"show", "film", "show|early", "film|early"}  # 10 are too few
    width = conformal.widths(np.array(["show|early", "film|early", "film|late", "show|late", "unknown|early"]))
    assert width[0] < conformal.half_width_ < width[1]
    assert width[2] == conformal.group_half_width_["film"] and width[3] == conformal.group_half_width_["show"]
    assert width[4] == conformal.half_width_  # no group at all: the pooled width
    # each group covers near 80% of fresh draws of its own kind, where one width could not
    fresh_calm, fresh_wild = rng.normal(0, 1, 4000), rng.normal(0, 3, 4000)
    for fresh, key in ((fresh_calm, "show|early"), (fresh_wild, "film|early")):
        low, high = conformal.interval(np.zeros_like(fresh), np.array([key] * len(fresh), dtype=object))
        assert 0.76 <= np.mean((fresh >= low) & (fresh <= high)) <= 0.84
    pooled_low, pooled_high = conformal.interval(np.zeros_like(fresh_wild))
    assert np.mean((fresh_wild >= pooled_low) & (fresh_wild <= pooled_high)) < 0.7
