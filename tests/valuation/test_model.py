"""Every forecaster runs the same checks (one mixin); the LightGBM forecaster beats the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.errors import NotFittedError
from limelight.valuation.features import FeatureBuilder, first_window_titles
from limelight.valuation.model import (
    Forecaster,
    GradientBoostedForecaster,
    KindMedianForecaster,
    PreviousSeasonForecaster,
)


@pytest.fixture(scope="module")
def split(world_reports: pd.DataFrame) -> dict[str, object]:
    titles = first_window_titles(world_reports)
    features = FeatureBuilder(world_reports).transform(titles)
    y = np.log1p(titles["hours_viewed"].to_numpy(dtype="float64"))
    test = (titles["period_end"] == titles["period_end"].max()).to_numpy()
    return {"titles": titles, "features": features, "y": y, "test": test}


class ForecasterContract:
    """Shared tests: each forecaster class supplies `make()`."""

    def make(self) -> Forecaster:
        raise NotImplementedError

    def _fit(self, split: dict[str, object]) -> Forecaster:
        t, f, y, test = split["titles"], split["features"], split["y"], split["test"]
        return self.make().fit(t[~test], f[~test], y[~test])  # type: ignore[index,operator]

    def test_predict_before_fit_raises(self, split: dict[str, object]) -> None:
        with pytest.raises(NotFittedError):
            self.make().predict_log_hours(split["titles"], split["features"])  # type: ignore[arg-type]

    def test_predictions_are_finite_and_one_per_title(self, split: dict[str, object]) -> None:
        test = split["test"]
        model = self._fit(split)
        pred = model.predict_log_hours(split["titles"][test], split["features"][test])  # type: ignore[index]
        assert pred.shape == (int(test.sum()),)  # type: ignore[union-attr]
        assert np.isfinite(pred).all()

    def test_clone_forgets_what_was_learned(self, split: dict[str, object]) -> None:
        model = self._fit(split)
        assert model.is_fitted()
        assert not model.clone().is_fitted()


class TestKindMedian(ForecasterContract):
    def make(self) -> Forecaster:
        return KindMedianForecaster()

    def test_predicts_the_median_of_the_kind(self, split: dict[str, object]) -> None:
        titles, y, test = split["titles"], split["y"], split["test"]
        model = self._fit(split)
        shows = (titles["kind"] == "show").to_numpy() & ~test  # type: ignore[index,operator]
        pred = model.predict_log_hours(titles[test], split["features"][test])  # type: ignore[index]
        is_show = (titles[test]["kind"] == "show").to_numpy()  # type: ignore[index]
        assert np.allclose(pred[is_show], np.median(y[shows]))  # type: ignore[index]


class TestPreviousSeason(ForecasterContract):
    def make(self) -> Forecaster:
        return PreviousSeasonForecaster()

    def test_uses_the_previous_season_when_known(self, split: dict[str, object]) -> None:
        features, test = split["features"], split["test"]
        model = self._fit(split)
        pred = model.predict_log_hours(split["titles"][test], features[test])  # type: ignore[index]
        prev = features[test]["prev_season_hours"].to_numpy()  # type: ignore[index]
        known = np.isfinite(prev)
        assert known.sum() > 5
        assert np.allclose(pred[known], np.log1p(prev[known]))


class TestGradientBoosted(ForecasterContract):
    def make(self) -> Forecaster:
        return GradientBoostedForecaster(n_estimators=60, n_seeds=1)

    def test_beats_the_kind_median_on_a_later_window(self, split: dict[str, object]) -> None:
        titles, features, y, test = split["titles"], split["features"], split["y"], split["test"]
        gbm = self._fit(split).predict_log_hours(titles[test], features[test])  # type: ignore[index]
        base = KindMedianForecaster().fit(titles[~test], features[~test], y[~test])  # type: ignore[index,operator]
        baseline = base.predict_log_hours(titles[test], features[test])  # type: ignore[index]
        rmse = lambda p: float(np.sqrt(np.mean((p - y[test]) ** 2)))  # type: ignore[index]  # noqa: E731
        assert rmse(gbm) < 0.9 * rmse(baseline)

    def test_same_seed_same_forecast(self, split: dict[str, object]) -> None:
        a = self._fit(split).predict_log_hours(split["titles"], split["features"])  # type: ignore[arg-type]
        b = self._fit(split).predict_log_hours(split["titles"], split["features"])  # type: ignore[arg-type]
        assert np.array_equal(a, b)
