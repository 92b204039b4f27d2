"""No leakage: changing a report later than the candidates' window changes no forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import small_model
from limelight.valuation.backtest import candidates_from_report, forecast_slate, parse_period

PERIOD_2024H1 = parse_period("2024-01-01:2024-06-30")


def _forecast(reports: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    forecasts, _ = forecast_slate(reports, candidates, period=PERIOD_2024H1, model=small_model())
    return forecasts


def test_mutating_a_later_report_changes_no_forecast(world_reports: pd.DataFrame) -> None:
    candidates = candidates_from_report(
        world_reports[world_reports["source"] == "report-202401.xlsx"], PERIOD_2024H1
    )
    before = _forecast(world_reports, candidates)

    later = world_reports.copy()
    is_later = later["period_end"] > PERIOD_2024H1[1]
    later.loc[is_later, "hours_viewed"] = later.loc[is_later, "hours_viewed"] * 7 + 1
    later.loc[is_later, "runtime_minutes"] = 1.0
    pd.testing.assert_frame_equal(before, _forecast(later, candidates))

    # the window being forecast is itself later than the history: its actuals must not matter either
    same_window = world_reports.copy()
    in_window = same_window["period_end"] == PERIOD_2024H1[1]
    same_window.loc[in_window, "hours_viewed"] = 100_000
    pd.testing.assert_frame_equal(before, _forecast(same_window, candidates))

    # and the check can fail: the history the model is allowed to see does change the forecasts
    earlier = world_reports.copy()
    is_earlier = earlier["period_end"] < PERIOD_2024H1[0]
    earlier.loc[is_earlier, "hours_viewed"] = earlier.loc[is_earlier, "hours_viewed"] * 3
    changed = _forecast(earlier, candidates)
    assert not np.allclose(changed["predicted_hours"], before["predicted_hours"])


def test_real_reports_2024h2_cannot_move_2024h1_forecasts(real_reports: pd.DataFrame) -> None:
    h1 = real_reports[real_reports["period_end"] == pd.Timestamp("2024-06-30")]
    candidates = candidates_from_report(h1, PERIOD_2024H1).head(60)
    before = _forecast(real_reports, candidates)
    mutated = real_reports.copy()
    last = mutated["period_end"] == pd.Timestamp("2024-12-31")
    mutated.loc[last, "hours_viewed"] = mutated.loc[last, "hours_viewed"].to_numpy()[::-1]
    pd.testing.assert_frame_equal(before, _forecast(mutated, candidates))


def test_valuator_single_forecasts_ignore_reports_of_their_own_window_and_later(
    world_reports: pd.DataFrame,
) -> None:
    from limelight.valuation.model import GradientBoostedForecaster
    from limelight.valuation.pipeline import Valuator

    candidate = pd.DataFrame(
        [{"title": "Fresh: Season 1", "kind": "show", "release_date": "2024-03-10", "runtime_minutes": 400}]
    )
    forecaster = GradientBoostedForecaster(n_estimators=40, n_seeds=1)
    before = Valuator(world_reports, forecaster=forecaster).forecast(candidate)[0]
    mutated = world_reports.copy()
    late = mutated["period_end"] >= PERIOD_2024H1[0]
    mutated.loc[late, "hours_viewed"] = 100_000
    after = Valuator(mutated, forecaster=forecaster).forecast(candidate)[0]
    assert before == after
    assert before["trained_on_windows_ending"] == ["2023-06-30", "2023-12-31"]


def test_being_listed_in_a_catalog_is_no_feature(world_reports: pd.DataFrame, tmp_path) -> None:
    """Which titles a catalog holds can follow their success (a list compiled after release): only the
    genres it gives may move a forecast, never the fact that a title was found."""
    from limelight.valuation.features import load_catalog
    from limelight.valuation.model import GradientBoostedForecaster, ValuationModel

    candidates = candidates_from_report(
        world_reports[world_reports["source"] == "report-202401.xlsx"], PERIOD_2024H1
    )
    best = world_reports.groupby("title_name")["hours_viewed"].max().sort_values(ascending=False)
    winners = best.index[: len(best) // 3]  # the most-watched third "on the list", as a post-hoc list would be
    listed = tmp_path / "listed.csv"
    # listed with a genre outside the coarse set: nothing about the title is learnt but that it was found
    pd.DataFrame({"title": winners, "genres": "Zarzuela"}).to_csv(listed, index=False)

    def forecast(catalog: pd.DataFrame | None) -> pd.DataFrame:
        model = ValuationModel(GradientBoostedForecaster(n_estimators=60, n_seeds=1), catalog=catalog)
        return forecast_slate(world_reports, candidates, period=PERIOD_2024H1, model=model)[0]

    before = forecast(None)
    pd.testing.assert_frame_equal(before, forecast(load_catalog([listed])))
    # and the check can fail: genres the catalog gives do reach the model
    pd.DataFrame({"title": winners, "genres": "Documentaries"}).to_csv(listed, index=False)
    assert not np.allclose(forecast(load_catalog([listed]))["predicted_hours"], before["predicted_hours"])


def test_the_default_value_per_hour_uses_only_years_ended_before_the_candidates_window(
    real_reports: pd.DataFrame,
) -> None:
    from limelight.errors import NotFoundError
    from limelight.valuation.data import default_value_per_hour

    latest, source = default_value_per_hour(real_reports)  # a title not yet released: the latest full year
    assert "2024 revenue" in source
    _, source_2024h1 = default_value_per_hour(real_reports, "2024-03-01")
    assert "2023 revenue" in source_2024h1
    assert default_value_per_hour(real_reports, "2025-09-01")[0] == latest
    with pytest.raises(NotFoundError, match="before the candidate's window"):
        default_value_per_hour(real_reports, "2023-08-01")


def test_a_report_published_after_the_window_began_cannot_move_its_forecasts(real_reports: pd.DataFrame) -> None:
    """The 2024 January–June report ended before 2024H2 but was published on 2024-09-17, mid-window: the
    2024H2 back-test learned from it (RMSLE 1.219 with it, 1.310 with what a buyer could read on 2024-07-01)."""
    from limelight.valuation.backtest import published_on

    ends = pd.to_datetime(real_reports["period_end"])
    assert published_on(pd.Series([pd.Timestamp("2024-06-30")])).iloc[0] == pd.Timestamp("2024-09-17")
    assert (published_on(pd.Series([pd.Timestamp("2031-06-30")])) > pd.Timestamp("2031-12-01")).all()  # unlisted: late
    period = parse_period("2024-07-01:2024-12-31")
    candidates = candidates_from_report(real_reports[ends == period[1]], period).head(60)
    before, _ = forecast_slate(real_reports, candidates, period=period, model=small_model())
    mutated = real_reports.copy()
    h1 = ends == pd.Timestamp("2024-06-30")
    mutated.loc[h1, "hours_viewed"] = mutated.loc[h1, "hours_viewed"].to_numpy()[::-1]
    after, _ = forecast_slate(mutated, candidates, period=period, model=small_model())
    pd.testing.assert_frame_equal(before, after)
