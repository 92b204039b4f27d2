"""Content valuation: forecast a title's first-window audience before release, with an honest interval,
comparables and decision figures, back-tested on Netflix's engagement reports (see docs/valuation.md)."""

from __future__ import annotations

from limelight.valuation.backtest import forecast_slate, run_backtest, score_forecasts
from limelight.valuation.comparables import Comparable, find_comparables
from limelight.valuation.decisions import cost_per_view, rank_slate, talent_share
from limelight.valuation.features import FeatureBuilder, first_window_titles, normalize_candidates
from limelight.valuation.intervals import SplitConformal
from limelight.valuation.model import (
    Forecaster,
    GradientBoostedForecaster,
    KindMedianForecaster,
    PreviousSeasonForecaster,
    ValuationModel,
)
from limelight.valuation.pipeline import Decisions, Valuator

__all__ = [
    "Comparable",
    "Decisions",
    "FeatureBuilder",
    "Forecaster",
    "GradientBoostedForecaster",
    "KindMedianForecaster",
    "PreviousSeasonForecaster",
    "SplitConformal",
    "ValuationModel",
    "Valuator",
    "cost_per_view",
    "find_comparables",
    "first_window_titles",
    "forecast_slate",
    "normalize_candidates",
    "rank_slate",
    "run_backtest",
    "score_forecasts",
    "talent_share",
]
