"""One call for the CLI and the API: forecast candidate titles with interval, comparables and decisions.

`Valuator` holds the engagement history (files, the store, or the shared reports), Top 10 and catalog
metadata, and fits one `ValuationModel` per measurement window on the reports that ended before that
window starts — the no-leakage rule — caching it in memory, so a service answers many requests per fit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.valuation.backtest import history_before
from limelight.valuation.comparables import Comparable, find_comparables
from limelight.valuation.decisions import cost_per_view, guild_bonuses, talent_share
from limelight.valuation.features import normalize_candidates, window_of
from limelight.valuation.model import Forecaster, ValuationModel

__all__ = ["Decisions", "Valuator"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decisions:
    """Optional money inputs for one candidate."""

    fee: Decimal | None = None
    talent_cost: Decimal | None = None
    value_per_hour: Decimal | None = None
    # the guild success bonuses (limelight.talent) the forecast would trigger, added to the talent cost
    fixed_residual: Decimal | None = None
    domestic_share: float | None = None
    domestic_subscribers: int | None = None

    def __post_init__(self) -> None:
        # These only shape the talent share; without a talent cost they were accepted and did nothing.
        needs_cost = {"value per hour": self.value_per_hour, "fixed residual": self.fixed_residual,
                      "domestic share": self.domestic_share, "domestic subscribers": self.domestic_subscribers}
        given = [name for name, value in needs_cost.items() if value is not None]
        if given and self.talent_cost is None:
            raise InputError(f"the {given[0]} is used with a talent cost (the talent share of the value); "
                             "give the talent cost too")


class Valuator:
    """Forecasts for candidates from a fixed engagement history; one fitted model per window start."""

    def __init__(
        self,
        reports: pd.DataFrame,
        *,
        top10: pd.DataFrame | None = None,
        catalog: pd.DataFrame | None = None,
        forecaster: Forecaster | None = None,
        seed: int = 7,
    ) -> None:
        self.reports = reports
        self.forecaster = forecaster
        self.top10 = top10
        self.catalog = catalog
        self.seed = seed
        self._models: dict[str, ValuationModel] = {}
        self._lock = threading.Lock()

    def model_for(self, window_start: pd.Timestamp) -> ValuationModel:
        """The model fitted on reports that ended before `window_start` (fitted once, then cached)."""
        history = history_before(self.reports, window_start)
        if history.empty:
            raise DataError(
                f"no engagement report ends before {window_start.date()}; the history is too recent"
            )
        key = hashlib.sha256(
            "|".join(sorted(set(history["source"].astype(str)))).encode() + str(len(history)).encode()
        ).hexdigest()
        with self._lock:
            model = self._models.get(key)
            if model is None:
                logger.info("fitting the valuation model on %d report rows", len(history))
                model = ValuationModel(
                    self.forecaster, top10=self.top10, catalog=self.catalog, seed=self.seed
                ).fit(history)
                self._models[key] = model
        return model

    def forecast(
        self,
        candidates: pd.DataFrame,
        *,
        window_end: pd.Timestamp | None = None,
        comparables: int = 5,
        decisions: list[Decisions] | None = None,
    ) -> list[dict[str, Any]]:
        """One JSON-ready dict per candidate: forecast, 80% interval, comparables and decision figures."""
        normalized = normalize_candidates(candidates, window_end=window_end)
        starts = normalized["release_date"].map(lambda d: window_of(d)[0])
        results: list[dict[str, Any] | None] = [None] * len(normalized)
        for start, index in normalized.groupby(starts).groups.items():
            rows = normalized.loc[index].reset_index(drop=True)
            model = self.model_for(pd.Timestamp(str(start)))
            frame = model.predict(rows)
            comps: list[list[Comparable]] = (
                find_comparables(
                    rows,
                    model.history_titles_,
                    catalog=self.catalog,
                    k=comparables,
                    reports=model.builder_.history,
                )
                if comparables > 0
                else [[] for _ in range(len(rows))]
            )
            for j, original in enumerate(index):
                rec = _record(frame.iloc[j], comps[j], model)
                wanted = decisions[int(original)] if decisions else None
                if wanted is not None:
                    rec["decisions"] = _decision_figures(frame.iloc[j], wanted)
                results[int(original)] = rec
        return [r for r in results if r is not None]


def _num(value: Any) -> float | None:
    value = float(value)
    return None if not np.isfinite(value) else round(value, 1)


def _record(row: pd.Series, comps: list[Comparable], model: ValuationModel) -> dict[str, Any]:
    return {
        "title": row["title"],
        "kind": row["kind"],
        "release_date": str(row["release_date"]),
        "window_end": str(row["window_end"]),
        "days_in_window": int(row["days_in_window"]),
        "predicted_hours": _num(row["predicted_hours"]),
        "lower_hours": _num(row["lower_hours"]),
        "upper_hours": _num(row["upper_hours"]),
        "predicted_views": _num(row["predicted_views"]),
        "lower_views": _num(row["lower_views"]),
        "upper_views": _num(row["upper_views"]),
        "runtime_assumed": bool(row["runtime_assumed"]),
        "interval": "80% split-conformal, calibrated on later windows than trained on, per kind and release timing",
        "trained_on_windows_ending": sorted(
            {str(pd.Timestamp(e).date()) for e in model.history_titles_["period_end"].unique()}
        ),
        "comparables": [
            {
                "title": c.title,
                "kind": c.kind,
                "window": c.window,
                "hours_viewed": c.hours_viewed,
                "views": c.views,
                "reason": c.reason,
            }
            for c in comps
        ],
    }


def _decision_figures(row: pd.Series, wanted: Decisions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if wanted.fee is not None:
        out["cost_per_view"] = cost_per_view(
            wanted.fee, row["predicted_views"], row["lower_views"], row["upper_views"]
        ).as_json()
    if wanted.talent_cost is not None and wanted.value_per_hour is not None:
        hours = (float(row["lower_hours"]), float(row["predicted_hours"]), float(row["upper_hours"]))
        bonuses: tuple[Decimal, Decimal, Decimal] | None = None
        if wanted.fixed_residual is not None:
            if wanted.domestic_share is None or wanted.domestic_subscribers is None:
                raise InputError(
                    "a guild bonus needs the domestic share of hours and the domestic subscribers"
                )
            bonuses = guild_bonuses(
                title=str(row["title"]),
                release_date=row["release_date"],
                window_end=row["window_end"],
                runtime_minutes=float(row["runtime_minutes"]),
                hours=hours,
                fixed_residual=wanted.fixed_residual,
                domestic_share=wanted.domestic_share,
                domestic_subscribers=wanted.domestic_subscribers,
            )
        point = talent_share(
            wanted.talent_cost, hours[1], hours[0], hours[2], wanted.value_per_hour,
            bonus=None if bonuses is None else bonuses[1],
        )  # fmt: skip
        figures = point.as_json()
        if bonuses is not None:
            # the bonus rises with views: recompute each end of the interval with its own bonus
            low_end = talent_share(
                wanted.talent_cost, hours[2], hours[2], hours[2], wanted.value_per_hour, bonus=bonuses[2]
            )
            high_end = talent_share(
                wanted.talent_cost, hours[0], hours[0], hours[0], wanted.value_per_hour, bonus=bonuses[0]
            )
            figures["share_low"] = None if low_end.share is None else str(low_end.share)
            figures["share_high"] = None if high_end.share is None else str(high_end.share)
            figures["bonus_at_lower_upper"] = [str(bonuses[0]), str(bonuses[2])]
            figures["note"] = (
                "talent cost includes the SAG-AFTRA and WGA success bonuses the forecast would trigger"
            )
        out["talent_share"] = figures
    return out
