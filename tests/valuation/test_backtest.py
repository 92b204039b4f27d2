"""Back-test metrics and the 2024H2 back-test on the real Netflix reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import small_model
from limelight.errors import InputError
from limelight.valuation.backtest import (
    bucket_of,
    candidates_from_report,
    match_actuals,
    parse_period,
    run_backtest,
    score_forecasts,
)


def test_rmsle_spearman_and_coverage_on_known_numbers() -> None:
    actual = np.array([1e6, 1e7, 1e8])
    predicted = np.array([np.e * (1e6 + 1) - 1, 1e7, 1e8])  # one log unit off on the first title
    scores = score_forecasts(predicted, actual, lower_hours=actual * 0.5, upper_hours=actual * 0.9)
    assert scores["rmsle"] == pytest.approx(np.sqrt(1 / 3), rel=1e-6)
    assert scores["spearman"] == pytest.approx(1.0)
    assert scores["coverage"] == 0.0


def test_nine_buckets_from_flop_to_blockbuster() -> None:
    assert bucket_of(np.array([0, 999_999, 1e6, 30e6, 5e8])).tolist() == [0, 0, 1, 5, 8]
    scores = score_forecasts(np.array([3e6, 30e6, 3e8]), np.array([6e6, 30e6, 3e6]))
    assert scores["bucket_exact"] == pytest.approx(1 / 3)
    assert scores["bucket_within_one"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("text", ["2024-07-01", "2024-12-31:2024-07-01", "july:december"])
def test_bad_period_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="period"):
        parse_period(text)


def test_actuals_match_by_exact_then_folded_title() -> None:
    forecasts = pd.DataFrame({"title": ["Rebel Ridge", "the union", "Missing"]})
    report = pd.DataFrame(
        {"title_name": ["Rebel Ridge", "The Union"], "hours_viewed": [283_700_000, 238_200_000]}
    )
    found = match_actuals(forecasts, report)
    assert found[:2].tolist() == [283_700_000, 238_200_000]
    assert np.isnan(found[2])


def test_backtest_2024h2_beats_the_kind_median_on_real_reports(real_reports: pd.DataFrame) -> None:
    period = parse_period("2024-07-01:2024-12-31")
    actuals = real_reports[real_reports["period_end"] == period[1]]
    candidates = candidates_from_report(actuals, period)
    assert len(candidates) == 384  # titles in the 2024H2 report released in 2024H2
    result = run_backtest(real_reports, candidates, period=period, actuals=actuals, model=small_model())
    model, base = result.metrics["limelight"], result.metrics["kind median"]
    assert result.n_with_actuals == 384
    assert base["rmsle"] == pytest.approx(1.83, abs=0.02)  # the independent figure: 1.84
    assert model["rmsle"] < 0.8 * base["rmsle"]
    assert model["spearman"] > 0.6
    assert 0.65 <= model["coverage"] <= 0.92
    assert result.calibration["calibrated_on_windows_ending"] == ["2023-12-31", "2024-06-30"]
