"""Views, the trigger and the bonus: the issue's worked examples and properties (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limelight.errors import InputError
from limelight.talent.bonus import money, split_cents, success_bonus, trigger_views
from limelight.talent.rules import agreement_for
from limelight.talent.views import applicable_july1, bonus_windows, views, views_array

SAG = agreement_for("sag-aftra")
WGA = agreement_for("wga")


def test_88_4m_hours_at_124_minutes_is_42_8m_views() -> None:
    assert round(views(88_400_000, 124) / Decimal(1_000_000), 1) == Decimal("42.8")


def test_1_72b_hours_at_6h49_is_about_252m_views() -> None:
    assert round(views(1_720_000_000, 6 * 60 + 49) / Decimal(1_000_000)) == 252


def test_trigger_at_76m_domestic_subscribers_is_15_2m_views() -> None:
    assert SAG.success_bonus is not None
    assert trigger_views(SAG.success_bonus, 76_000_000) == Decimal("15200000")
    just_under = success_bonus(SAG, domestic_hours=15_199_999, runtime_minutes=60, domestic_subscribers=76_000_000, fixed_residual=None)
    at = success_bonus(SAG, domestic_hours=15_200_000, runtime_minutes=60, domestic_subscribers=76_000_000, fixed_residual=None)
    assert (just_under.eligible, just_under.views_needed) == (False, 1)
    assert (at.eligible, at.views_needed) == (True, 0)


def test_sag_aftra_bonus_is_the_fixed_residual_split_75_25() -> None:
    r = success_bonus(SAG, domestic_hours=20_000_000, runtime_minutes=60, domestic_subscribers=76_000_000, fixed_residual="10000.01")
    assert r.eligible and r.bonus == Decimal("10000.01")
    assert r.performers_share == Decimal("7500.01")  # 7500.0075 rounds half-up
    assert r.fund_share == Decimal("2500.00")


def test_wga_bonus_is_half_the_fixed_residual_with_no_fund() -> None:
    r = success_bonus(WGA, domestic_hours=20_000_000, runtime_minutes=60, domestic_subscribers=76_000_000, fixed_residual=32830)
    assert r.bonus == Decimal("16415.00") and r.performers_share == Decimal("16415.00") and r.fund_share == 0


def test_below_the_trigger_pays_nothing_but_reports_the_cap() -> None:
    r = success_bonus(SAG, domestic_hours=1_000, runtime_minutes=60, domestic_subscribers=76_000_000, fixed_residual=5000)
    assert not r.eligible and r.bonus == 0 and r.cap == Decimal("5000.00") and r.views_needed == 15_199_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"domestic_hours": -1, "runtime_minutes": 60, "domestic_subscribers": 10}, "hours must be"),
        ({"domestic_hours": 1, "runtime_minutes": 0, "domestic_subscribers": 10}, "runtime minutes must be"),
        ({"domestic_hours": 1, "runtime_minutes": 60, "domestic_subscribers": 0}, "domestic subscribers must be"),
    ],
)
def test_bad_inputs_raise_one_sentence(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        success_bonus(SAG, fixed_residual=None, **kwargs)  # type: ignore[arg-type]


def test_dga_bonus_since_its_2024_modification_is_the_writers_half_of_the_fixed_residual() -> None:
    r = success_bonus(agreement_for("dga"), domestic_hours=20_000_000, runtime_minutes=60,
                      domestic_subscribers=76_000_000, fixed_residual=32830)
    assert r.eligible and r.bonus == Decimal("16415.00") and r.performers_share == r.bonus and r.fund_share == 0


def test_windows_are_the_first_90_days_of_each_exhibition_year() -> None:
    from datetime import date

    ws = bonus_windows(date(2024, 2, 29), date(2026, 3, 1))
    assert [(w.year, w.start, w.end) for w in ws] == [
        (1, date(2024, 2, 29), date(2024, 5, 29)),
        (2, date(2025, 2, 28), date(2025, 5, 29)),
        (3, date(2026, 2, 28), date(2026, 5, 29)),
    ]
    assert applicable_july1(date(2024, 6, 30)) == date(2023, 7, 1)
    assert applicable_july1(date(2024, 7, 1)) == date(2024, 7, 1)


hours_st = st.integers(min_value=0, max_value=1_000_000_000)  # × k ≤ 1000 stays within MAX_HOURS
runtime_st = st.integers(min_value=1, max_value=1_500)
amount_st = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(hours=hours_st, runtime=runtime_st, k=st.integers(min_value=0, max_value=1000))
def test_views_scale_linearly_with_hours(hours: int, runtime: int, k: int) -> None:
    assert abs(views(hours * k, runtime) - k * views(hours, runtime)) <= Decimal("1e-12") * (1 + abs(k * views(hours, runtime)))
    arr = views_array([hours, hours * k], [runtime, runtime])
    assert arr[1] == pytest.approx(k * arr[0], rel=1e-12, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(hours=hours_st, runtime=runtime_st, subs=st.integers(min_value=1, max_value=500_000_000), fixed=amount_st)
def test_bonus_never_exceeds_its_cap_and_the_split_sums_to_the_cent(hours: int, runtime: int, subs: int, fixed: Decimal) -> None:
    for pack in (SAG, WGA):
        r = success_bonus(pack, domestic_hours=hours, runtime_minutes=runtime, domestic_subscribers=subs, fixed_residual=fixed)
        assert r.bonus is not None and r.cap is not None and r.performers_share is not None and r.fund_share is not None
        assert Decimal(0) <= r.bonus <= r.cap <= money(fixed)
        assert r.performers_share + r.fund_share == r.bonus
        assert r.bonus == r.bonus.quantize(Decimal("0.01"))
        if r.eligible:
            assert r.views_needed == 0 and r.bonus == r.cap


@settings(max_examples=120, deadline=None)
@given(amount=amount_st, weights=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=30))
def test_split_among_recipients_sums_to_the_amount_exactly(amount: Decimal, weights: list[int]) -> None:
    parts = split_cents(amount, weights)
    assert sum(parts) == money(amount)
    assert all(p >= 0 and p == p.quantize(Decimal("0.01")) for p in parts)
    if sum(weights) > 0:
        assert all(p == 0 for p, w in zip(parts, weights) if w == 0)


def test_equal_split_gives_remainder_cents_to_the_earliest_credits() -> None:
    assert split_cents(Decimal("1.00"), [1, 1, 1]) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert split_cents(Decimal("0.02"), [1, 1, 1]) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]


def test_a_window_at_the_trigger_to_the_second_is_eligible() -> None:
    # 76M subscribers → 15.2M views; at 124 minutes that is 113,088,000,000 seconds exactly. Through float
    # hours (31,413,333.33… h) the same viewing came to 15,199,999.99… views: "not reached, 1 view needed".
    r = success_bonus(SAG, domestic_seconds=113_088_000_000, runtime_minutes=124, domestic_subscribers=76_000_000,
                      fixed_residual=None)
    assert r.views == Decimal(15_200_000) and r.eligible and r.views_needed == 0
    short = success_bonus(SAG, domestic_seconds=113_088_000_000 - 1, runtime_minutes=124,
                          domestic_subscribers=76_000_000, fixed_residual=None)
    assert not short.eligible and short.views_needed == 1


def test_viewing_is_given_as_hours_or_seconds_not_both() -> None:
    with pytest.raises(InputError, match="exactly one of them"):
        success_bonus(SAG, domestic_hours=1, domestic_seconds=3600, runtime_minutes=60, domestic_subscribers=10,
                      fixed_residual=None)
