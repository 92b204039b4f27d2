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
    # published before 2024-07-01: 2023H1 and 2023H2 (2024H1 came out on 2024-09-17)
    assert result.calibration["calibrated_on_windows_ending"] == ["2023-12-31"]


def test_a_slate_forecasts_each_candidate_from_the_reports_before_its_own_window(world_reports) -> None:
    """A 2025 show must not be forecast by a model fitted only up to a 2024 film's window, because the
    film happens to share its slate (it was: 7.9M hours alone, 14.8M beside the film)."""
    from limelight.valuation.backtest import forecast_by_window
    from limelight.valuation.features import normalize_candidates

    show = {"title": "Later Show: Season 1", "kind": "show", "release_date": "2025-02-01", "runtime_minutes": 300}
    film = {"title": "Earlier Film", "kind": "film", "release_date": "2024-02-01", "runtime_minutes": 100}
    alone = forecast_by_window(world_reports, normalize_candidates(pd.DataFrame([show])), small_model)
    mixed = forecast_by_window(world_reports, normalize_candidates(pd.DataFrame([film, show])), small_model)
    assert list(mixed["title"]) == ["Earlier Film", "Later Show: Season 1"]  # the candidates' order
    assert mixed["predicted_hours"].iloc[1] == pytest.approx(alone["predicted_hours"].iloc[0])
    film_alone = forecast_by_window(world_reports, normalize_candidates(pd.DataFrame([film])), small_model)
    assert mixed["predicted_hours"].iloc[0] == pytest.approx(film_alone["predicted_hours"].iloc[0])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2024-07-01:2025-12-31", "must be one of the reports' half-years"),
        ("2024-07-02:2024-12-31", "must be one of the reports' half-years"),
    ],
)
def test_a_period_must_be_a_reporting_half_year(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        parse_period(text)


def test_a_window_longer_than_a_half_year_is_refused() -> None:
    from limelight.valuation.features import normalize_candidates

    film = {"title": "F", "kind": "film", "release_date": "2024-09-01", "runtime_minutes": 100}
    with pytest.raises(InputError, match=r"must be at most 184 days .* got 2313 for 'F'"):
        normalize_candidates(pd.DataFrame([film]), window_end=pd.Timestamp("2030-12-31"))


def test_a_candidate_without_a_runtime_is_forecast_at_its_kinds_median_runtime_and_says_so(world_reports) -> None:
    from limelight.valuation.backtest import history_before
    from limelight.valuation.features import normalize_candidates

    model = small_model().fit(history_before(world_reports, pd.Timestamp("2024-07-01")))
    median = float(
        model.history_features_["runtime_minutes"][model.history_titles_["kind"].eq("film").to_numpy()].median()
    )
    films = pd.DataFrame(
        [
            {"title": "No Runtime", "kind": "film", "release_date": "2024-09-01", "runtime_minutes": None},
            {"title": "Median Runtime", "kind": "film", "release_date": "2024-09-01", "runtime_minutes": median},
        ]
    )
    out = model.predict(normalize_candidates(films))
    assert list(out["runtime_assumed"]) == [True, False]
    assert out["predicted_hours"].iloc[0] == pytest.approx(out["predicted_hours"].iloc[1])
    assert np.isnan(out["predicted_views"].iloc[0]) and out["predicted_views"].iloc[1] > 0
