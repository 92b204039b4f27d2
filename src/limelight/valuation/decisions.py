"""Decision figures from forecasts: cost per predicted view, a ranked slate, the talent share of value.

Money is `Decimal` throughout. Intervals carry through monotonically: the cost per view is highest when
views are lowest, so (fee / upper views, fee / lower views) is the interval of the cost per view at the
forecast's own coverage (80%).

The value of a title is its predicted hours × a value per hour viewed. By default that is Netflix's
average revenue per hour viewed in a year: revenue (investor-relations figures, summed over regions) ÷
hours in the engagement reports of that year — an average, not a marginal value; say so when you use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from limelight.errors import DataError, InputError

# the ceiling on any amount a user types (fees, values, residuals): one for valuation and talent pay
from limelight.talent.bonus import MAX_AMOUNT, MAX_SUPPLIED_AMOUNT

__all__ = [
    "CostPerView",
    "TalentShare",
    "cost_per_view",
    "guild_bonuses",
    "rank_slate",
    "talent_share",
    "to_money",
    "value_per_hour_from_financials",
]

CENT = Decimal("0.01")
MILLI = Decimal("0.0001")


def to_money(value: Decimal | int | float | str, field: str = "amount", *, at_most: Decimal | None = None) -> Decimal:
    """A non-negative Decimal from user input, or an InputError naming the field. `at_most`: a tighter
    limit (talent pay's MAX_SUPPLIED_AMOUNT), said as the only limit — 1e400 is refused with it too."""
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except (InvalidOperation, ValueError):
        raise InputError(f"{field} must be an amount like 2500000 or 2,500,000.00, got {str(value)!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"{field} must be a non-negative amount, got {str(value)!r}")
    if at_most is not None and amount > at_most:
        raise InputError(f"{field} must be at most {at_most:,.0f}, got {str(value)!r}")
    if amount >= MAX_AMOUNT:
        raise InputError(f"{field} must be an amount below {MAX_AMOUNT:,.0f}, got {str(value)!r}")
    return amount


def _ratio(money: Decimal, quantity: float, quantum: Decimal = MILLI) -> Decimal | None:
    if quantity is None or not math.isfinite(quantity) or quantity <= 0:
        return None
    return (money / Decimal(repr(float(quantity)))).quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CostPerView:
    """Cost per predicted view with its interval (None where views are unknown, e.g. no runtime)."""

    fee: Decimal
    predicted_views: float
    cost_per_view: Decimal | None
    low: Decimal | None  # fee / upper views
    high: Decimal | None  # fee / lower views

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def cost_per_view(
    fee: Decimal | int | float | str, predicted_views: float, lower_views: float, upper_views: float
) -> CostPerView:
    """Licence fee or budget ÷ predicted views, with the interval from the views interval."""
    amount = to_money(fee, "fee")
    return CostPerView(
        fee=amount,
        predicted_views=float(predicted_views),
        cost_per_view=_ratio(amount, predicted_views),
        low=_ratio(amount, upper_views),
        high=_ratio(amount, lower_views),
    )


def rank_slate(
    forecasts: pd.DataFrame, fees: Mapping[str, Decimal | int | float | str] | None = None
) -> pd.DataFrame:
    """A ranked slate: by cost per predicted view (cheapest first) when fees are given, else by hours.

    `forecasts` is `ValuationModel.predict`'s frame; `fees` maps title → fee. Titles without a fee or
    without views (no runtime) rank after the others, by predicted hours.
    """
    slate = forecasts.copy()
    if fees:
        costs = [
            cost_per_view(fees[t], v, lo, hi) if t in fees else None
            for t, v, lo, hi in zip(
                slate["title"], slate["predicted_views"], slate["lower_views"], slate["upper_views"]
            )
        ]
        slate["fee"] = pd.Series(
            [None if c is None else c.fee for c in costs], index=slate.index, dtype=object
        )
        slate["cost_per_view"] = pd.Series(
            [None if c is None else c.cost_per_view for c in costs], index=slate.index, dtype=object
        )
        slate["cost_per_view_low"] = pd.Series(
            [None if c is None else c.low for c in costs], index=slate.index, dtype=object
        )
        slate["cost_per_view_high"] = pd.Series(
            [None if c is None else c.high for c in costs], index=slate.index, dtype=object
        )
        key = pd.Series(
            [float(c.cost_per_view) if c and c.cost_per_view is not None else math.inf for c in costs]
        )
        slate["_key"] = key.to_numpy()
        slate = slate.sort_values(["_key", "predicted_hours"], ascending=[True, False]).drop(columns="_key")
    else:
        slate = slate.sort_values("predicted_hours", ascending=False)
    slate.insert(0, "rank", range(1, len(slate) + 1))
    return slate.reset_index(drop=True)


@dataclass(frozen=True)
class TalentShare:
    """The share of a title's value that goes to the people in it, with its interval."""

    talent_cost: Decimal
    value_per_hour: Decimal
    value: Decimal  # predicted hours × value per hour
    value_low: Decimal
    value_high: Decimal
    share: Decimal | None  # talent cost ÷ value
    share_low: Decimal | None  # at the upper value
    share_high: Decimal | None  # at the lower value
    bonus: Decimal | None = None  # guild success bonus at the predicted views, when computed
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def talent_share(
    talent_cost: Decimal | int | float | str,
    predicted_hours: float,
    lower_hours: float,
    upper_hours: float,
    value_per_hour: Decimal | int | float | str,
    *,
    bonus: Decimal | None = None,
    note: str = "",
) -> TalentShare:
    """Talent cost (fees, plus any success bonus the talent engine computes) ÷ the title's value."""
    cost = to_money(talent_cost, "talent cost") + (bonus or Decimal(0))
    per_hour = to_money(value_per_hour, "value per hour")

    def value_at(hours: float) -> Decimal:
        return (per_hour * Decimal(repr(float(max(hours, 0.0))))).quantize(CENT, rounding=ROUND_HALF_UP)

    value, low, high = value_at(predicted_hours), value_at(lower_hours), value_at(upper_hours)

    def share(v: Decimal) -> Decimal | None:
        return None if v <= 0 else (cost / v).quantize(MILLI, rounding=ROUND_HALF_UP)

    return TalentShare(cost, per_hour, value, low, high, share(value), share(high), share(low), bonus, note)


def value_per_hour_from_financials(revenue_csv: Path, reports: pd.DataFrame, year: int) -> Decimal:
    """Average revenue per hour viewed in `year`: revenue (billions, summed over regions) ÷ report hours.

    Needs both half-year reports of the year in `reports` (the reports cover ~99% of viewing).
    """
    try:
        revenue = pd.read_csv(revenue_csv)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the revenue table: {exc}", origin=str(revenue_csv)) from None
    if "Year" not in revenue.columns:
        raise DataError("revenue table must have a 'Year' column", origin=str(revenue_csv))
    row = revenue.loc[revenue["Year"] == year]
    if row.empty:
        raise InputError(f"the revenue table has no year {year}")
    billions = Decimal(str(float(row.drop(columns="Year").sum(axis=1).iloc[0])))
    ends = pd.to_datetime(reports["period_end"])
    year_rows = reports.loc[ends.dt.year == year]
    windows = year_rows["period_end"].nunique()
    if windows < 2:
        raise InputError(f"value per hour for {year} needs both half-year reports of {year}, got {windows}")
    hours = Decimal(int(year_rows["hours_viewed"].sum()))
    return (billions * Decimal(1_000_000_000) / hours).quantize(MILLI, rounding=ROUND_HALF_UP)


def guild_bonuses(
    *,
    title: str,
    release_date: object,
    window_end: object,
    runtime_minutes: float,
    hours: tuple[float, float, float],
    fixed_residual: Decimal | int | float | str,
    domestic_share: float,
    domestic_subscribers: int,
) -> tuple[Decimal, Decimal, Decimal]:
    """SAG-AFTRA + WGA + DGA viewership success bonuses at (lower, predicted, upper) hours, via the talent engine.

    Uses `limelight.talent.report.estimate_titles` — the guild packs' trigger (views in the first 90 days
    ÷ domestic subscribers), the user's domestic share of hours and subscriber count, the talent engine's
    first-90-days share — so the bonus a forecast would trigger is counted in the talent cost.
    """
    from limelight.talent.report import ReportAssumptions, estimate_titles

    if not math.isfinite(runtime_minutes) or runtime_minutes <= 0:
        raise InputError("a guild bonus needs the runtime: views are hours ÷ runtime")
    release = pd.Timestamp(str(release_date))
    end = pd.Timestamp(str(window_end))
    start = pd.Timestamp(release.year, 1 if release.month <= 6 else 7, 1)
    rows = pd.DataFrame(
        {
            "title_name": [title] * 3,
            "release_date": [release] * 3,
            "hours_viewed": [max(float(h), 0.0) for h in hours],
            "period_start": [start] * 3,
            "period_end": [end] * 3,
            "runtime_minutes": [float(runtime_minutes)] * 3,
        }
    )
    assumptions = ReportAssumptions(
        domestic_share=domestic_share,
        domestic_subscribers=int(domestic_subscribers),
        # a fixed residual is talent pay: the talent CLI's and API's limit
        fixed_residual=to_money(fixed_residual, "fixed residual", at_most=MAX_SUPPLIED_AMOUNT),
    )
    estimated = estimate_titles(rows, None, assumptions)
    totals = [
        sum((Decimal(str(v)) for v in bonuses), Decimal(0))
        for bonuses in zip(estimated["sag_bonus"], estimated["wga_bonus"], estimated["dga_bonus"])
    ]
    return totals[0], totals[1], totals[2]
