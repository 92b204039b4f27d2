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
    SelfTuningForecaster,
    validation_folds,
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


SMALL_GRID = (
    {"num_leaves": 7, "n_estimators": 30, "min_child_samples": 20},
    {"num_leaves": 7, "n_estimators": 60, "min_child_samples": 20},
    {"num_leaves": 15, "n_estimators": 60, "min_child_samples": 40, "objective": "huber"},
)


class TestSelfTuning(ForecasterContract):
    def make(self) -> Forecaster:
        return SelfTuningForecaster(grid=SMALL_GRID, n_seeds=1)

    def test_chooses_the_grid_point_with_the_lowest_validation_error(self, split: dict[str, object]) -> None:
        titles, features, y, test = split["titles"], split["features"], split["y"], split["test"]
        model = self._fit(split)
        assert isinstance(model, SelfTuningForecaster)
        t, f, yy = titles[~test].reset_index(drop=True), features[~test].reset_index(drop=True), y[~test]  # type: ignore[index,operator,union-attr]
        errors = []
        for params in SMALL_GRID:  # each point fitted on its own, as a user would
            fold_errors = []
            for train, validate in validation_folds(t, 7):
                gbm = GradientBoostedForecaster(**params, n_seeds=1, seed=7).fit(t[train], f[train], yy[train])
                fold_errors.append(np.mean((gbm.predict_log_hours(t[validate], f[validate]) - yy[validate]) ** 2))
            errors.append(np.mean(fold_errors))
        assert model.chosen_params_ == SMALL_GRID[int(np.argmin(errors))]
        assert model.validation_rmse_ == pytest.approx(np.sqrt(min(errors)))

    def test_validation_never_scores_a_window_with_a_model_that_saw_it_or_a_later_one(
        self, split: dict[str, object]
    ) -> None:
        titles = split["titles"]
        ends = titles["period_end"].to_numpy()  # type: ignore[index]
        folds = validation_folds(titles, 7)  # type: ignore[arg-type]
        assert len(folds) == len(np.unique(ends)) - 1
        for train, validate in folds:
            assert ends[train].max() < ends[validate].min()

    def test_one_window_is_cut_into_five_folds(self, split: dict[str, object]) -> None:
        titles = split["titles"].drop(columns="period_end")  # type: ignore[union-attr]
        folds = validation_folds(titles, 7)
        assert len(folds) == 5
        assert np.array_equal(np.sum([v for _, v in folds], axis=0), np.ones(len(titles)))

    def test_too_few_titles_keep_the_defaults(self, split: dict[str, object]) -> None:
        titles, features, y = split["titles"], split["features"], split["y"]
        model = self.make().fit(titles[:30], features[:30], y[:30])  # type: ignore[index]
        assert model.chosen_params_ == {} and model.validation_rmse_ is None  # type: ignore[attr-defined]


def test_cut_short_trees_score_as_a_model_fitted_with_fewer_rounds(split: dict[str, object]) -> None:
    """The tuner scores 200 and 400 rounds from one fit; that must be what 200 rounds alone would give."""
    titles, features, y = split["titles"], split["features"], split["y"]
    long = GradientBoostedForecaster(n_estimators=60, n_seeds=1).fit(titles, features, y)  # type: ignore[arg-type]
    short = GradientBoostedForecaster(n_estimators=30, n_seeds=1).fit(titles, features, y)  # type: ignore[arg-type]
    assert np.allclose(long._predict(titles, features, rounds=30), short.predict_log_hours(titles, features))  # type: ignore[arg-type]


def test_the_default_model_tunes_itself_and_says_what_it_chose(world_reports: pd.DataFrame) -> None:
    from limelight.valuation.model import TUNING_GRID, ValuationModel

    model = ValuationModel().fit(world_reports)
    assert isinstance(model.forecaster_, SelfTuningForecaster)
    assert model.calibration_["forecaster_params"] in TUNING_GRID
