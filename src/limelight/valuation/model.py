"""Forecasters of a title's first-window hours, and the valuation model that wraps one.

A `Forecaster` predicts log1p(hours viewed in the first reporting window) from a title frame and its
as-of feature frame (`FeatureBuilder.transform`). Three implementations share that interface and one test
mixin: `GradientBoostedForecaster` (LightGBM), and the two baselines the back-test reports beside it,
`KindMedianForecaster` and `PreviousSeasonForecaster`. `SelfTuningForecaster`, the default, chooses the
gradient-boosted model's capacity on a validation slice of its own history (see its docstring).

`ValuationModel` is what the CLI and the service use: given engagement reports it (1) trains the
forecaster on every window but the latest and calibrates a split-conformal interval on the latest one, then
(2) refits the forecaster on all windows and keeps that calibration (see `intervals.py` and
docs/valuation.md). `predict` returns hours, views, the 80% interval and, on request, comparables.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from typing import Any, Self

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError, NotFittedError
from limelight.valuation.features import (
    CATEGORICAL_FEATURES,
    FeatureBuilder,
    first_window_titles,
)
from limelight.valuation.intervals import SplitConformal

__all__ = [
    "Forecaster",
    "GradientBoostedForecaster",
    "KindMedianForecaster",
    "PreviousSeasonForecaster",
    "SelfTuningForecaster",
    "ValuationModel",
]

logger = logging.getLogger(__name__)


class Forecaster(ABC):
    """Predicts log1p(first-window hours) for titles; `fit` learns attributes ending in `_`."""

    @abstractmethod
    def fit(self, titles: pd.DataFrame, features: pd.DataFrame, log_hours: np.ndarray) -> Self: ...

    @abstractmethod
    def _predict(self, titles: pd.DataFrame, features: pd.DataFrame) -> np.ndarray: ...

    def clone(self) -> Self:
        """The same forecaster with its parameters and nothing learned."""
        new = object.__new__(type(self))
        new.__dict__.update({k: copy.deepcopy(v) for k, v in vars(self).items() if not k.endswith("_")})
        return new

    def is_fitted(self) -> bool:
        return any(name.endswith("_") and not name.startswith("_") for name in vars(self))

    def predict_log_hours(self, titles: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        if not self.is_fitted():
            raise NotFittedError(f"{type(self).__name__} must be fitted before predicting")
        if len(titles) != len(features):
            raise InputError(
                f"titles and features must have the same length, got {len(titles)} and {len(features)}"
            )
        return np.asarray(self._predict(titles, features), dtype="float64")


class KindMedianForecaster(Forecaster):
    """Baseline: the median hours of history titles of the same kind in their first window."""

    def fit(self, titles: pd.DataFrame, features: pd.DataFrame, log_hours: np.ndarray) -> Self:
        frame = pd.DataFrame({"kind": titles["kind"].to_numpy(), "y": log_hours})
        self.medians_ = frame.groupby("kind")["y"].median().to_dict()
        self.overall_ = float(np.median(log_hours)) if len(log_hours) else 0.0
        return self

    def _predict(self, titles: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        return titles["kind"].map(self.medians_).fillna(self.overall_).to_numpy(dtype="float64")


class PreviousSeasonForecaster(Forecaster):
    """Baseline for later seasons: the previous season's hours in its own first window.

    Titles without a previous season in the history fall back to the kind median.
    """

    def fit(self, titles: pd.DataFrame, features: pd.DataFrame, log_hours: np.ndarray) -> Self:
        self.fallback_ = KindMedianForecaster().fit(titles, features, log_hours)
        return self

    def _predict(self, titles: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        base = self.fallback_.predict_log_hours(titles, features)
        prev = np.log1p(features["prev_season_hours"].to_numpy(dtype="float64"))
        return np.where(np.isfinite(prev), prev, base)


class GradientBoostedForecaster(Forecaster):
    """LightGBM regression on log1p(hours); a few seeds averaged to steady the small-data variance.

    One thread by default: on a small data set OpenMP threads cost more than they give, and on a shared
    machine LightGBM's spinning threads made training 15x slower. Parameters are fixed a priori for a data set of ~1,000 titles (shallow trees, strong leaf minimum,
    row/feature subsampling); they were not tuned on the back-test window.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 400,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        objective: str = "regression",
        n_seeds: int = 3,
        seed: int = 7,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.objective = objective
        self.n_seeds = n_seeds
        self.seed = seed
        self.n_jobs = n_jobs

    def _params(self, seed: int) -> dict[str, Any]:
        return {
            "objective": self.objective,
            # Huber's switch from squared to absolute loss, in log1p(hours): about one residual SD, so a
            # few titles far off (a one-night live event, a companion video named after a hit) pull on
            # the trees no harder than one off by a factor of e^1.5.
            "alpha": HUBER_DELTA,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "verbose": -1,
            "seed": seed,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
        }

    def fit(self, titles: pd.DataFrame, features: pd.DataFrame, log_hours: np.ndarray) -> Self:
        import lightgbm as lgb  # heavy; loaded only when a model is trained

        if len(features) < 10:
            raise DataError(
                f"the forecaster needs at least 10 first-window titles to train, got {len(features)}"
            )
        categorical = [c for c in CATEGORICAL_FEATURES if c in features.columns]
        boosters = []
        for i in range(self.n_seeds):
            data = lgb.Dataset(
                features, label=log_hours, categorical_feature=categorical, free_raw_data=False
            )
            boosters.append(lgb.train(self._params(self.seed + i), data, num_boost_round=self.n_estimators))
        self.boosters_ = boosters
        self.feature_names_ = list(features.columns)
        return self

    def _predict(self, titles: pd.DataFrame, features: pd.DataFrame, rounds: int | None = None) -> np.ndarray:
        """`rounds` below `n_estimators` scores the same trees cut short (one fit serves several sizes)."""
        x = features.loc[:, self.feature_names_]
        return np.mean([b.predict(x, num_iteration=rounds, num_threads=self.n_jobs) for b in self.boosters_], axis=0)

    def feature_importance(self) -> pd.Series:
        if not self.is_fitted():
            raise NotFittedError("GradientBoostedForecaster must be fitted before feature_importance()")
        gains = np.mean([b.feature_importance("gain") for b in self.boosters_], axis=0)
        return pd.Series(gains, index=self.feature_names_).sort_values(ascending=False)


HUBER_DELTA = 1.5

# The capacities `SelfTuningForecaster` chooses from: LightGBM's small-data levers (leaves, rounds, leaf
# minimum) around the fixed defaults, and a loss less swayed by a few far-off titles. Sixteen points:
# few enough that choosing among them on ~400 validation titles does not itself overfit.
TUNING_GRID: tuple[dict[str, Any], ...] = tuple(
    {"num_leaves": leaves, "n_estimators": rounds, "min_child_samples": leaf_min, "objective": objective}
    for leaves in (7, 15)
    for rounds in (200, 400)
    for leaf_min in (20, 40)
    for objective in ("regression", "huber")
)


RANDOM_FOLDS = 5


def validation_folds(titles: pd.DataFrame, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validate) masks over `titles`, the way the interval is calibrated: each window after the
    first scored by what came before it; with one window (or no `period_end`), five random folds — two
    halves chose differently from one seed to the next (2024H1 design window: RMSLE ratio 0.816–0.863
    over seeds 7–11 with halves, 0.816–0.817 with five folds)."""
    if "period_end" in titles.columns:
        windows = np.sort(titles["period_end"].dropna().unique())
        if len(windows) >= 2:
            ends = titles["period_end"].to_numpy()
            return [(ends < w, ends == w) for w in windows[1:]]
    fold = np.random.default_rng(seed).integers(0, RANDOM_FOLDS, len(titles))
    return [(fold != k, fold == k) for k in range(RANDOM_FOLDS)]


def _shape(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((k, v) for k, v in sorted(params.items()) if k != "n_estimators")


class SelfTuningForecaster(Forecaster):
    """The gradient-boosted forecaster with its capacity chosen on its own history, not fixed by hand.

    One report gives ~400 first-window titles and three ~1,200; the depth and number of trees that suit
    one do not suit the other. Each point of `grid` is scored on `validation_folds` (later windows
    forecast from earlier ones: what a forecast one window ahead misses) by mean squared error of
    log1p(hours), with one seed for speed; the best is refit on every title with `n_seeds` seeds. Only the
    titles given to `fit` are read, so a back-test's as-of rule holds for the choice too.
    """

    MIN_TITLES = 40  # below this a fold would be under LightGBM's 10-title minimum: keep the defaults

    def __init__(
        self, *, grid: tuple[dict[str, Any], ...] = TUNING_GRID, n_seeds: int = 3, seed: int = 7, n_jobs: int = 1
    ) -> None:
        self.grid = grid
        self.n_seeds = n_seeds
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, titles: pd.DataFrame, features: pd.DataFrame, log_hours: np.ndarray) -> Self:
        titles = titles.reset_index(drop=True)
        features = features.reset_index(drop=True)
        folds = [(a, b) for a, b in validation_folds(titles, self.seed) if a.sum() >= 10 and b.any()]
        scores: list[float] = []
        if len(titles) >= self.MIN_TITLES and folds:
            # Grid points that differ only in rounds share one fit, scored at each number of rounds.
            shapes = {_shape(p) for p in self.grid}
            squared: dict[tuple[Any, ...], list[float]] = {}
            for shape in sorted(shapes, key=str):
                rounds = sorted({p.get("n_estimators", 400) for p in self.grid if _shape(p) == shape})
                for train, validate in folds:
                    model = GradientBoostedForecaster(
                        **dict(shape), n_estimators=rounds[-1], n_seeds=1, seed=self.seed, n_jobs=self.n_jobs
                    ).fit(titles[train], features[train], log_hours[train])
                    for r in rounds:
                        predicted = model._predict(titles[validate], features[validate], rounds=r)
                        squared.setdefault((shape, r), []).append(float(np.mean((predicted - log_hours[validate]) ** 2)))
            scores = [float(np.mean(squared[(_shape(p), p.get("n_estimators", 400))])) for p in self.grid]
            chosen = dict(self.grid[int(np.argmin(scores))])
        else:
            chosen = {}
        self.chosen_params_ = chosen
        self.validation_rmse_ = float(np.sqrt(min(scores))) if scores else None
        self.model_ = GradientBoostedForecaster(**chosen, n_seeds=self.n_seeds, seed=self.seed, n_jobs=self.n_jobs)
        self.model_.fit(titles, features, log_hours)
        return self

    def _predict(self, titles: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        return self.model_._predict(titles, features)

    def feature_importance(self) -> pd.Series:
        if not self.is_fitted():
            raise NotFittedError("SelfTuningForecaster must be fitted before feature_importance()")
        return self.model_.feature_importance()


# A title released in its window's last 30 days has little of it left: its hours are the most uncertain.
LATE_RELEASE_DAYS = 30


def interval_groups(kind: pd.Series, days_in_window: pd.Series) -> np.ndarray:
    """The interval's calibration group of each title: "film|late", "show|early", … ("unknown" kind when
    a report gave none)."""
    k = kind.astype(object).where(kind.isin(["film", "show"]), "unknown").to_numpy(dtype=object)
    late = np.where(pd.to_numeric(days_in_window, errors="coerce").to_numpy() <= LATE_RELEASE_DAYS, "late", "early")
    return np.array([f"{a}|{b}" for a, b in zip(k, late, strict=True)], dtype=object)


class ValuationModel:
    """Forecast, interval and comparables for candidate titles from a history of engagement reports.

    `fit(reports)` uses only the reports given: the caller keeps out any report later than the candidates'
    window (`backtest.forecast_slate` does that for you). With two or more windows the interval is
    calibrated on later time slices only: each window after the first is forecast by a forecaster trained
    on the windows before it (rolling origin), and the residuals of all those one-window-ahead forecasts
    are pooled; the forecaster is then refit on all windows, so a candidate is, like every calibration
    title, forecast one window ahead. With one window it falls back to a random half of that window
    (documented as weaker).
    """

    def __init__(
        self,
        forecaster: Forecaster | None = None,
        *,
        alpha: float = 0.2,
        top10: pd.DataFrame | None = None,
        catalog: pd.DataFrame | None = None,
        seed: int = 7,
    ) -> None:
        self.forecaster = forecaster
        self.alpha = alpha
        self.top10 = top10
        self.catalog = catalog
        self.seed = seed

    def _new_forecaster(self) -> Forecaster:
        if self.forecaster is None:
            return SelfTuningForecaster(seed=self.seed)
        return self.forecaster.clone()

    def fit(self, reports: pd.DataFrame) -> Self:
        builder = FeatureBuilder(reports, self.top10, self.catalog)
        titles = first_window_titles(reports)
        if titles.empty:
            raise DataError(
                "the history has no title measured in the window of its release; give engagement reports"
            )
        features = builder.transform(titles)
        y = np.log1p(titles["hours_viewed"].to_numpy(dtype="float64"))
        windows = np.sort(titles["period_end"].unique())
        conformal = SplitConformal(alpha=self.alpha)
        if len(windows) >= 2:
            # Rolling origin: for each later window, a forecaster trained only on the windows before it.
            parts, keys = [], []
            for train, later in validation_folds(titles, self.seed):
                fold = self._new_forecaster().fit(titles[train], features[train], y[train])
                parts.append(y[later] - fold.predict_log_hours(titles[later], features[later]))
                keys.append(interval_groups(titles[later]["kind"], features[later]["days_in_window"]))
            residuals, groups = np.concatenate(parts), np.concatenate(keys)
            self.calibration_: dict[str, Any] = {
                "method": "split conformal, rolling origin: each window scored by a model trained on earlier ones",
                "calibrated_on_windows_ending": [str(pd.Timestamp(w).date()) for w in windows[1:]],
            }
        else:
            rng = np.random.default_rng(self.seed)
            half = rng.random(len(titles)) < 0.5
            calibration_model = self._new_forecaster().fit(titles[half], features[half], y[half])
            residuals = y[~half] - calibration_model.predict_log_hours(titles[~half], features[~half])
            groups = interval_groups(titles[~half]["kind"], features[~half]["days_in_window"])
            self.calibration_ = {
                "method": "split conformal on a random half of the only window (no later slice available)",
                "calibrated_on_windows_ending": [str(pd.Timestamp(windows[-1]).date())],
            }
        conformal.fit(residuals, groups)
        self.calibration_["n"] = conformal.n_calibration_
        self.calibration_["half_width_log"] = conformal.half_width_
        self.calibration_["group_half_width_log"] = dict(conformal.group_half_width_)
        self.calibration_["group_n"] = dict(conformal.group_n_)
        self.conformal_ = conformal
        self.forecaster_ = self._new_forecaster().fit(titles, features, y)
        self.calibration_["forecaster_params"] = getattr(self.forecaster_, "chosen_params_", None)
        self.builder_ = builder
        self.history_titles_ = titles.assign(_features_index=np.arange(len(titles)))
        self.history_features_ = features
        self.last_window_end_ = pd.Timestamp(windows[-1])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "forecaster_"):
            raise NotFittedError("ValuationModel must be fitted on engagement reports before predicting")

    def predict(self, candidates: pd.DataFrame) -> pd.DataFrame:
        """Candidates (normalised by `features.normalize_candidates`) → forecast frame, one row each.

        Columns: title, kind, release_date, window_end, days_in_window, runtime_minutes, predicted_hours, lower_hours,
        upper_hours, predicted_views, lower_views, upper_views.
        """
        self._check_fitted()
        features = self.builder_.transform(candidates)
        assumed = self._assume_runtime(candidates, features)
        log_pred = self.forecaster_.predict_log_hours(candidates, features)
        lower, upper = self.conformal_.interval(
            log_pred, interval_groups(candidates["kind"], features["days_in_window"])
        )
        hours = np.expm1(log_pred)
        runtime_hours = candidates["runtime_minutes"].to_numpy(dtype="float64") / 60.0
        out = pd.DataFrame(
            {
                "title": candidates["title_name"].to_numpy(),
                "kind": candidates["kind"].to_numpy(),
                "release_date": pd.to_datetime(candidates["release_date"]).dt.date.to_numpy(),
                "window_end": pd.to_datetime(candidates["window_end"]).dt.date.to_numpy(),
                "days_in_window": features["days_in_window"].to_numpy(),
                "runtime_minutes": candidates["runtime_minutes"].to_numpy(dtype="float64"),
                "predicted_hours": hours,
                "lower_hours": np.maximum(np.expm1(lower), 0.0),
                "upper_hours": np.expm1(upper),
                "runtime_assumed": assumed,
            }
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            out["predicted_views"] = out["predicted_hours"] / runtime_hours
            out["lower_views"] = out["lower_hours"] / runtime_hours
            out["upper_views"] = out["upper_hours"] / runtime_hours
        self.last_features_ = features
        return out

    def _assume_runtime(self, candidates: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        """Give a candidate without a runtime the median runtime of its kind in the history (in place).

        Left missing, a film's forecast halved (5.8M hours against 10.9M at 100 minutes): in the history a
        missing runtime marks a report that gave none, not a short title. Views stay unknown — they would
        be the assumption's, not the title's — and `runtime_assumed` says which rows were filled.
        """
        missing = features["runtime_minutes"].isna().to_numpy()
        if missing.any():
            known = self.history_features_["runtime_minutes"]
            medians = known.groupby(self.history_titles_["kind"].to_numpy()).median()
            fill = candidates["kind"].map(medians).fillna(known.median()).to_numpy(dtype="float64")
            features.loc[missing, "runtime_minutes"] = fill[missing]
        return missing

    def predict_log_hours(self, candidates: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        return self.forecaster_.predict_log_hours(candidates, self.builder_.transform(candidates))
