"""Back-test: forecast titles released in a window from reports published before it, score on actuals.

`forecast_slate` is the one leak-proof entry point: it drops every report not yet *published* when the
candidates' window starts — the latest a buyer decides — then fits and predicts. A report ends months
before Netflix publishes it (the 2024 January–June report came out on 17 September 2024), so "ended
before the window" let the 2024H2 back-test learn from a report nobody could read until mid-window. `score_forecasts` gives RMSLE, Spearman rank
correlation, interval coverage and nine-class bucket accuracy (exact and within one class, after Sharda &
Delen 2006, "Predicting box-office success of motion pictures with neural networks", Expert Systems with
Applications 30(2)). `run_backtest` does both and scores the two baselines in the same run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.valuation.features import CandidateRows, first_window_titles, normalize_candidates
from limelight.valuation.model import (
    Forecaster,
    KindMedianForecaster,
    PreviousSeasonForecaster,
    ValuationModel,
)

__all__ = [
    "BUCKETS",
    "BUCKET_EDGES_HOURS",
    "BacktestResult",
    "bucket_of",
    "candidates_from_report",
    "forecast_slate",
    "history_before",
    "history_published_before",
    "match_actuals",
    "parse_period",
    "published_on",
    "run_backtest",
    "score_forecasts",
]

logger = logging.getLogger(__name__)

# Nine classes from flop to blockbuster on first-window hours, roughly doubling (Sharda & Delen used nine
# box-office classes from < $1M to > $200M). Fixed edges, not quantiles of the test window.
BUCKET_EDGES_HOURS: tuple[float, ...] = (1e6, 2.5e6, 5e6, 10e6, 20e6, 40e6, 80e6, 160e6)
BUCKETS: tuple[str, ...] = (
    "flop", "marginal", "minor", "modest", "solid", "strong", "hit", "big hit", "blockbuster",
)  # fmt: skip


def bucket_of(hours: np.ndarray) -> np.ndarray:
    """Class index 0 (flop) … 8 (blockbuster) for each hours figure."""
    return np.searchsorted(np.asarray(BUCKET_EDGES_HOURS), np.asarray(hours, dtype="float64"), side="right")


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'2024-07-01:2024-12-31' → (start, end)."""
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(f"--period must be START:END like 2024-07-01:2024-12-31, got {text!r}")
    try:
        start, end = (pd.Timestamp(dt.date.fromisoformat(p.strip())) for p in parts)
    except ValueError:
        raise InputError(f"--period must be START:END with ISO dates, got {text!r}") from None
    if end < start:
        raise InputError(f"--period END must not be before START, got {text!r}")
    from limelight.valuation.features import window_of

    if (start, end) != window_of(start):  # the reports' cadence: any other span shifts every days-in-window
        raise InputError(
            f"--period must be one of the reports' half-years, YYYY-01-01:YYYY-06-30 or YYYY-07-01:YYYY-12-31, got {text!r}"
        )
    return start, end


def history_before(reports: pd.DataFrame, window_start: pd.Timestamp) -> pd.DataFrame:
    """Only the reports whose window ended before `window_start` — the no-leakage rule."""
    ends = pd.to_datetime(reports["period_end"])
    dropped = sorted(set(reports.loc[ends >= window_start, "source"].astype(str)))
    if dropped:
        logger.info("left out reports not ended before %s: %s", window_start.date(), ", ".join(dropped))
    return reports.loc[ends < window_start]


_PUBLICATION = Path(__file__).with_name("data") / "report_publication.csv"


@functools.cache
def _publication_table() -> pd.DataFrame:
    table = pd.read_csv(_PUBLICATION, parse_dates=["period_start", "period_end", "published"])
    table["lag"] = table["published"] - table["period_end"]
    return table


def published_on(period_end: pd.Series) -> pd.Series:
    """When each report was published (`data/report_publication.csv`, from the workbooks' own metadata).
    A report not listed is taken to appear as late after its end as the latest one listed (165 days): an
    unknown date must not make a report available early."""
    table = _publication_table()
    ends = pd.to_datetime(period_end)
    known = ends.map(pd.Series(table["published"].to_numpy(), index=table["period_end"]))
    return known.fillna(ends + table["lag"].max())


def history_published_before(reports: pd.DataFrame, decision: pd.Timestamp) -> pd.DataFrame:
    """Only the reports published before `decision` (the window's start in a back-test)."""
    published = published_on(reports["period_end"])
    late = (published >= decision).to_numpy()
    dropped = sorted(set(reports.loc[late, "source"].astype(str)))
    if dropped:
        logger.info("left out reports not published before %s: %s", decision.date(), ", ".join(dropped))
    return reports.loc[~late]


def forecast_by_window(
    reports: pd.DataFrame, normalized: pd.DataFrame, make_model: Callable[[], ValuationModel]
) -> pd.DataFrame:
    """Forecast normalized candidates, each from a model fitted on the reports ended before ITS window.

    One fit per half-year among the candidates: a slate mixing a 2024 film and a 2025 show must not
    forecast the show from a model that has not seen 2024's reports (it came out at half its hours), nor
    the film from one that has seen its own window. Rows come back in the candidates' order.
    """
    from limelight.valuation.features import window_of

    starts = normalized["release_date"].map(lambda d: window_of(d)[0])
    parts = []
    for start, index in normalized.groupby(starts).groups.items():
        history = history_before(reports, pd.Timestamp(str(start)))
        if history.empty:
            raise DataError(
                f"no engagement report ends before {pd.Timestamp(str(start)).date()}; "
                "give reports released before the candidates' window"
            )
        rows = normalized.loc[index]
        forecast = make_model().fit(history).predict(rows.reset_index(drop=True))
        parts.append(forecast.set_axis(rows.index))
    return pd.concat(parts).sort_index()


def forecast_slate(
    reports: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    period: tuple[pd.Timestamp, pd.Timestamp],
    model: ValuationModel | None = None,
) -> tuple[pd.DataFrame, ValuationModel]:
    """Fit on reports published before `period` starts and forecast every candidate released in it.

    (Candidates of several windows: `forecast_by_window`, one fit per window.)
    """
    normalized = normalize_candidates(candidates, window_end=period[1])
    start = period[0]
    early = np.flatnonzero((normalized["release_date"] < start).to_numpy())
    if early.size:
        i = int(early[0])
        raise CandidateRows(candidates).error(
            i,
            "release_date",
            f"release_date must fall in the period starting {start.date()}, "
            f"got {normalized['release_date'].iloc[i].date()} for '{normalized['title_name'].iloc[i]}'",
        )
    history = history_published_before(reports, start)
    if history.empty:
        raise DataError(
            f"no engagement report was published before {start.date()}; give reports published before the period"
        )
    fitted = (model or ValuationModel()).fit(history)
    return fitted.predict(normalized), fitted


def match_actuals(forecasts: pd.DataFrame, actual_reports: pd.DataFrame) -> np.ndarray:
    """Actual hours for each forecast title from a report (exact name, then case-insensitive); NaN if absent."""
    names = actual_reports["title_name"].astype(str)
    hours = actual_reports["hours_viewed"].astype("float64")
    exact = pd.Series(hours.to_numpy(), index=names.to_numpy()).groupby(level=0).max()
    folded = pd.Series(hours.to_numpy(), index=names.str.casefold().to_numpy()).groupby(level=0).max()
    titles = forecasts["title"].astype(str)
    found = titles.map(exact)
    return found.fillna(titles.str.casefold().map(folded)).to_numpy(dtype="float64")


def score_forecasts(
    predicted_hours: np.ndarray,
    actual_hours: np.ndarray,
    lower_hours: np.ndarray | None = None,
    upper_hours: np.ndarray | None = None,
) -> dict[str, float]:
    """RMSLE, Spearman, interval coverage and bucket accuracy (exact, within one class)."""
    pred = np.asarray(predicted_hours, dtype="float64")
    actual = np.asarray(actual_hours, dtype="float64")
    ok = np.isfinite(pred) & np.isfinite(actual)
    if ok.sum() < 2:
        raise DataError(f"scoring needs at least two forecasts with actuals, got {int(ok.sum())}")
    from scipy.stats import spearmanr  # slow to import; only scoring needs it

    p, a = pred[ok], actual[ok]
    result = {
        "n": float(ok.sum()),
        "rmsle": float(np.sqrt(np.mean((np.log1p(p) - np.log1p(a)) ** 2))),
        "spearman": float(spearmanr(p, a).statistic),
    }
    if lower_hours is not None and upper_hours is not None:
        lo = np.asarray(lower_hours, dtype="float64")[ok]
        hi = np.asarray(upper_hours, dtype="float64")[ok]
        result["coverage"] = float(np.mean((a >= lo) & (a <= hi)))
    pb, ab = bucket_of(p), bucket_of(a)
    result["bucket_exact"] = float(np.mean(pb == ab))
    result["bucket_within_one"] = float(np.mean(np.abs(pb - ab) <= 1))
    return result


@dataclass
class BacktestResult:
    forecasts: pd.DataFrame
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    n_candidates: int = 0
    n_with_actuals: int = 0


def _baseline_predictions(
    model: ValuationModel, baseline: Forecaster, candidates: pd.DataFrame
) -> np.ndarray:
    titles = model.history_titles_
    y = np.log1p(titles["hours_viewed"].to_numpy(dtype="float64"))
    fitted = baseline.fit(titles, model.history_features_, y)
    return np.expm1(fitted.predict_log_hours(candidates, model.last_features_))


def _check_actuals_period(actuals: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    """The actuals must be the period's own report: another half-year's hours matched by name scored a
    2024H1 back-test on its titles' second window (RMSLE 2.06, exit 0)."""
    spans = actuals[["period_start", "period_end"]].drop_duplicates()
    wanted = f"{period[0].date()}..{period[1].date()}"
    found = [f"{pd.Timestamp(a).date()}..{pd.Timestamp(b).date()}" for a, b in spans.itertuples(index=False)]
    if found != [wanted]:
        raise InputError(f"--actuals covers {', '.join(found) or 'no period'}, not the period {wanted}; "
                         "give the report of the period itself")


def run_backtest(
    reports: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    period: tuple[pd.Timestamp, pd.Timestamp],
    actuals: pd.DataFrame | None = None,
    model: ValuationModel | None = None,
) -> BacktestResult:
    """Forecast candidates for `period` from earlier reports; with actuals, score model and baselines."""
    if actuals is not None:
        _check_actuals_period(actuals, period)
    forecasts, fitted = forecast_slate(reports, candidates, period=period, model=model)
    result = BacktestResult(
        forecasts=forecasts, calibration=dict(fitted.calibration_), n_candidates=len(forecasts)
    )
    if actuals is None:
        return result
    normalized = normalize_candidates(candidates, window_end=period[1])
    actual = match_actuals(forecasts, actuals)
    result.n_with_actuals = int(np.isfinite(actual).sum())
    if result.n_with_actuals < 2:
        raise DataError("fewer than two candidates were found in the actuals report; check the titles match")
    result.metrics["limelight"] = score_forecasts(
        forecasts["predicted_hours"].to_numpy(),
        actual,
        forecasts["lower_hours"].to_numpy(),
        forecasts["upper_hours"].to_numpy(),
    )
    kind_median = _baseline_predictions(fitted, KindMedianForecaster(), normalized)
    result.metrics["kind median"] = score_forecasts(kind_median, actual)
    prev = _baseline_predictions(fitted, PreviousSeasonForecaster(), normalized)
    has_prev = np.isfinite(fitted.last_features_["prev_season_hours"].to_numpy(dtype="float64"))
    result.metrics["previous season (else kind median)"] = score_forecasts(prev, actual)
    if has_prev.sum() >= 2:
        result.metrics["later seasons: previous season"] = score_forecasts(prev[has_prev], actual[has_prev])
        result.metrics["later seasons: limelight"] = score_forecasts(
            forecasts["predicted_hours"].to_numpy()[has_prev],
            actual[has_prev],
            forecasts["lower_hours"].to_numpy()[has_prev],
            forecasts["upper_hours"].to_numpy()[has_prev],
        )
    return result


def candidates_from_report(report: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """Candidate CSV rows from a report: its titles released inside `period` (for back-tests).

    Titles whose kind the report does not give (a sheet without film/show) are left out — a candidate
    needs one — and counted in `attrs["left_out_without_kind"]`.
    """
    titles = first_window_titles(report)
    titles = titles[titles["release_date"].between(period[0], period[1])]
    has_kind = titles["kind"].isin(["film", "show"])
    left_out = int((~has_kind).sum())
    titles = titles[has_kind]
    out = pd.DataFrame(
        {
            "title": titles["title_name"].to_numpy(),
            "kind": titles["kind"].to_numpy(),
            "release_date": titles["release_date"].dt.date.to_numpy(),
            "runtime_minutes": titles["runtime_minutes"].to_numpy(),
            "available_globally": titles["available_globally"].map({1.0: "yes", 0.0: "no"}).to_numpy(),
        }
    )
    out.attrs["left_out_without_kind"] = left_out
    return out
