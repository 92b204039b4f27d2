"""Health-plan status and the revenue-share what-if (always labelled a proposal)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limelight.errors import InputError
from limelight.spine.store import Store
from limelight.talent.bonus import success_bonus
from limelight.talent.health import ClosingTitle, closing_titles, health_status
from limelight.talent.rules import agreement_for
from limelight.talent.whatif import PROPOSAL_LABEL, RevenueShareProposal, compare, viewing_share


def test_health_2025_threshold_shortfall_and_eligibility() -> None:
    short = health_status("20000", 2025)
    assert (short.threshold, short.eligible, short.shortfall) == (Decimal("27540.00"), False, Decimal("7540.00"))
    assert "sagaftraplans.org" in short.source
    met = health_status(27540, 2025)
    assert met.eligible and met.shortfall == 0


def test_health_for_an_unpublished_year_is_unknown() -> None:
    s = health_status(1_000_000, 2019)
    assert s.status == "unknown" and s.threshold is None and s.eligible is None and s.shortfall is None
    with pytest.raises(InputError, match="earnings must be at least 0"):
        health_status(-1, 2025)


@settings(max_examples=100, deadline=None)
@given(earnings=st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False))
def test_shortfall_plus_earnings_reaches_the_threshold(earnings: Decimal) -> None:
    s = health_status(earnings, 2025)
    assert s.threshold is not None and s.shortfall is not None
    assert s.shortfall >= 0 and (s.eligible == (s.shortfall == 0))
    assert s.earnings + s.shortfall >= s.threshold


def test_closing_titles_picks_the_nearest_triggers_until_the_gap_closes() -> None:
    cands = [
        ClosingTitle("a", "A", "first 90 days", Decimal("100"), 5_000),
        ClosingTitle("b", "B", "first 90 days", Decimal("300"), 10),
        ClosingTitle("c", "C", "first 90 days", Decimal("50"), 1_000),
    ]
    assert [c.title_id for c in closing_titles(Decimal("320"), cands)] == ["b", "c"]
    assert closing_titles(Decimal("0"), cands) == []


def test_whatif_compares_the_rule_with_a_labelled_proposal() -> None:
    bonus = success_bonus(
        agreement_for("sag-aftra"), domestic_hours=20_000_000, runtime_minutes=60, domestic_subscribers=76_000_000,
        fixed_residual="40000",
    )
    proposal = RevenueShareProposal(revenue_per_subscriber=Decimal("200"), revenue_share=Decimal("0.01"))
    out = compare(bonus, proposal, viewing_share="0.001", recipients=3)
    assert out.label == PROPOSAL_LABEL and "not a rule" in out.label
    assert out.rule_total == Decimal("30000.00") and sum(out.rule_each) == out.rule_total
    assert out.proposal_pool == Decimal("152000000.00")  # 76M × $200 × 1%
    assert out.proposal_total == Decimal("152000.00") and sum(out.proposal_each) == out.proposal_total
    assert out.difference == Decimal("122000.00")
    assert out.as_json()["label"] == PROPOSAL_LABEL


def test_a_proposal_needs_one_consistent_basis() -> None:
    with pytest.raises(InputError, match="either revenue per subscriber"):
        RevenueShareProposal()
    with pytest.raises(InputError, match="needs both"):
        RevenueShareProposal(revenue_share=Decimal("0.02"))
    with pytest.raises(InputError, match="revenue share must be between"):
        RevenueShareProposal(revenue_per_subscriber=Decimal("10"), revenue_share=Decimal("2"))
    assert RevenueShareProposal(fee_per_subscriber=Decimal("0.57")).per_subscriber == Decimal("0.57")


def test_viewing_share_from_the_spine(world_store: Store) -> None:
    share = viewing_share(world_store, "f1", date(2024, 1, 1), date(2025, 1, 1))
    assert share == Decimal(10) / Decimal(12)  # 10 domestic hours of Hit Film out of 12 domestic hours in 2024
