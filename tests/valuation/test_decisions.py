"""Decision figures: cost per view with its interval, slate ranking, talent share of value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limelight.errors import InputError
from limelight.valuation.decisions import (
    cost_per_view,
    rank_slate,
    talent_share,
    value_per_hour_from_financials,
)


def test_cost_per_view_is_fee_over_views_with_the_interval_reversed() -> None:
    cpv = cost_per_view("2,000,000", 1_000_000, 500_000, 4_000_000)
    assert cpv.cost_per_view == Decimal("2.0000")
    assert cpv.low == Decimal("0.5000")
    assert cpv.high == Decimal("4.0000")
    assert cost_per_view(100, float("nan"), 1, 2).cost_per_view is None


@given(
    fee=st.integers(0, 10**9),
    views=st.floats(1, 1e9),
    down=st.floats(0.01, 1),
    up=st.floats(1, 100),
)
def test_cost_per_view_interval_brackets_the_point(fee: int, views: float, down: float, up: float) -> None:
    cpv = cost_per_view(fee, views, views * down, views * up)
    assert cpv.low is not None and cpv.high is not None and cpv.cost_per_view is not None
    assert cpv.low <= cpv.cost_per_view <= cpv.high


@pytest.mark.parametrize("fee", ["-5", "lots", "nan"])
def test_bad_fee_is_refused(fee: str) -> None:
    with pytest.raises(InputError, match="fee"):
        cost_per_view(fee, 1, 1, 1)


def _forecasts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": ["A", "B", "C"],
            "predicted_hours": [10e6, 30e6, 20e6],
            "predicted_views": [5e6, 10e6, 1e6],
            "lower_views": [2e6, 4e6, 0.5e6],
            "upper_views": [9e6, 20e6, 3e6],
        }
    )


def test_slate_ranks_by_hours_without_fees_and_by_cost_per_view_with_them() -> None:
    assert rank_slate(_forecasts())["title"].tolist() == ["B", "C", "A"]
    ranked = rank_slate(_forecasts(), {"A": 5_000_000, "B": 30_000_000, "C": 500_000})
    assert ranked["title"].tolist() == ["C", "A", "B"]  # 0.50, 1.00, 3.00 per view
    assert ranked["rank"].tolist() == [1, 2, 3]
    assert ranked.loc[0, "cost_per_view"] == Decimal("0.5000")


def test_talent_share_is_cost_over_value_with_interval() -> None:
    share = talent_share(Decimal("1000000"), 10e6, 5e6, 20e6, "0.20")
    assert share.value == Decimal("2000000.00")
    assert share.share == Decimal("0.5000")
    assert share.share_low == Decimal("0.2500")  # at the upper value
    assert share.share_high == Decimal("1.0000")


def test_value_per_hour_from_netflix_revenue_and_reports(
    shared_data: Path, real_reports: pd.DataFrame
) -> None:
    revenue = shared_data / "netflix" / "financials" / "netflix_revenue_by_region_2018_2024.csv"
    value = value_per_hour_from_financials(revenue, real_reports, 2024)
    assert Decimal("0.15") < value < Decimal("0.30")  # $39.0B over ~190B hours
    with pytest.raises(InputError, match="both half-year reports"):
        value_per_hour_from_financials(revenue, real_reports[real_reports["period_end"].dt.month == 6], 2024)


def test_guild_bonuses_come_from_the_talent_engine_and_rise_with_views() -> None:
    from limelight.valuation.decisions import guild_bonuses

    low, point, high = guild_bonuses(
        title="Hit: Season 1",
        release_date="2024-09-05",
        window_end="2024-12-31",
        runtime_minutes=300.0,
        hours=(1e6, 50e6, 2e9),
        fixed_residual="1000000",
        domestic_share=0.4,
        domestic_subscribers=80_000_000,
    )
    assert low == Decimal("0")
    assert high > Decimal("0")  # 2B hours: far past the trigger
    assert low <= point <= high
