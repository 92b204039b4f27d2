"""What-if: the bonus rule in force versus a revenue-share PROPOSAL the user enters.

A proposal is never a rule: every result carries the label "proposal" and the figures the user typed.
The model of a proposal is the one the union tabled in 2023: a pool equal to a share of domestic revenue
(or a fixed amount per domestic subscriber), shared among programs by their share of domestic viewing
hours in the period, of which a fraction goes to the program's principal performers in equal shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from limelight.errors import InputError
from limelight.talent.bonus import MAX_AMOUNT, BonusResult, money, split_cents

if TYPE_CHECKING:
    from limelight.spine.store import Store

__all__ = ["PROPOSAL_LABEL", "RevenueShareProposal", "WhatIf", "compare", "viewing_share"]

PROPOSAL_LABEL = "proposal entered by the user - not a rule of any agreement"


def _dec(value: Decimal | int | float | str, name: str, lo: Decimal, hi: Decimal | None = None) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except Exception:
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not d.is_finite() or d < lo or (hi is not None and d > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InputError(f"{name} must be {bound}, got {value}")
    if d >= MAX_AMOUNT:
        raise InputError(f"{name} must be below {MAX_AMOUNT:,.0f}, got {value}")
    return d


@dataclass(frozen=True)
class RevenueShareProposal:
    """Pool per domestic subscriber = revenue_per_subscriber × revenue_share, or fee_per_subscriber."""

    revenue_per_subscriber: Decimal | None = None  # domestic revenue per subscriber over the period
    revenue_share: Decimal | None = None  # e.g. 0.02 (2%, the union's opening ask in 2023) or 0.01
    fee_per_subscriber: Decimal | None = None  # e.g. 0.57 per subscriber (the union's later ask)
    performers_fraction: Decimal = Decimal(1)  # of a program's allocation, the part for its principal performers
    description: str = ""

    def __post_init__(self) -> None:
        has_share = self.revenue_per_subscriber is not None or self.revenue_share is not None
        if has_share == (self.fee_per_subscriber is not None):
            raise InputError("a proposal needs either revenue per subscriber and a revenue share, or a fee per subscriber")
        if has_share and (self.revenue_per_subscriber is None or self.revenue_share is None):
            raise InputError("a revenue-share proposal needs both revenue per subscriber and the revenue share")
        for name in ("revenue_per_subscriber", "fee_per_subscriber"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, _dec(v, name.replace("_", " "), Decimal(0)))
        if self.revenue_share is not None:
            object.__setattr__(self, "revenue_share", _dec(self.revenue_share, "revenue share", Decimal(0), Decimal(1)))
        object.__setattr__(
            self, "performers_fraction", _dec(self.performers_fraction, "performers fraction", Decimal(0), Decimal(1))
        )

    @property
    def per_subscriber(self) -> Decimal:
        if self.fee_per_subscriber is not None:
            return self.fee_per_subscriber
        assert self.revenue_per_subscriber is not None and self.revenue_share is not None
        return self.revenue_per_subscriber * self.revenue_share


@dataclass(frozen=True)
class WhatIf:
    label: str
    proposal: RevenueShareProposal
    viewing_share: Decimal
    recipients: int
    rule_total: Decimal  # what the principal performers receive under the bonus rule
    rule_each: list[Decimal]
    proposal_pool: Decimal  # the whole service's pool under the proposal
    proposal_total: Decimal  # this program's performers under the proposal
    proposal_each: list[Decimal]
    difference: Decimal  # proposal_total - rule_total

    def as_json(self) -> dict[str, Any]:
        p = self.proposal
        return {
            "label": self.label,
            "proposal": {
                "revenue_per_subscriber": None if p.revenue_per_subscriber is None else str(p.revenue_per_subscriber),
                "revenue_share": None if p.revenue_share is None else str(p.revenue_share),
                "fee_per_subscriber": None if p.fee_per_subscriber is None else str(p.fee_per_subscriber),
                "performers_fraction": str(p.performers_fraction),
                "description": p.description,
            },
            "viewing_share": float(self.viewing_share),
            "recipients": self.recipients,
            "rule_total": str(self.rule_total),
            "rule_each": [str(x) for x in self.rule_each],
            "proposal_pool": str(self.proposal_pool),
            "proposal_total": str(self.proposal_total),
            "proposal_each": [str(x) for x in self.proposal_each],
            "difference": str(self.difference),
        }


#: a program's principal performers number in the hundreds at most; the split lists one amount each
MAX_RECIPIENTS = 10_000


def compare(
    bonus: BonusResult, proposal: RevenueShareProposal, *, viewing_share: Decimal | float | str, recipients: int
) -> WhatIf:
    """The program's principal performers under the bonus rule (`bonus`) and under `proposal`."""
    share = _dec(viewing_share, "viewing share", Decimal(0), Decimal(1))
    if not 1 <= int(recipients) <= MAX_RECIPIENTS:
        raise InputError(f"recipients must be between 1 and {MAX_RECIPIENTS:,}, got {recipients}")
    n = int(recipients)
    rule_total = bonus.performers_share if bonus.performers_share is not None else None
    if rule_total is None:
        raise InputError("the bonus needs a fixed residual to compare with a proposal")
    pool = money(proposal.per_subscriber * Decimal(bonus.domestic_subscribers))
    total = money(pool * share * proposal.performers_fraction)
    return WhatIf(
        PROPOSAL_LABEL, proposal, share, n, rule_total, split_cents(rule_total, [1] * n),
        pool, total, split_cents(total, [1] * n), total - rule_total,
    )


def viewing_share(store: Store, program_id: str, start: date, end: date, countries: tuple[str, ...] = ("US", "CA")) -> Decimal:
    """The program's share of all domestic viewing hours in [start, end) on the spine."""
    from limelight.talent.views import _PROGRAM_MAP_SQL

    placeholders = ", ".join("?" for _ in countries)
    row = store.con.execute(
        f"""WITH prog AS ({_PROGRAM_MAP_SQL})
            SELECT coalesce(sum(CASE WHEN prog.program_id = ? THEN v.seconds_viewed END), 0),
                   coalesce(sum(v.seconds_viewed), 0)
            FROM viewing_events v JOIN prog ON prog.title_id = v.title_id
            LEFT JOIN members m ON m.member_id = v.member_id
            WHERE coalesce(v.country, m.country) IN ({placeholders}) AND v.started_at >= ? AND v.started_at < ?""",
        [program_id, *countries, start, end],
    ).fetchall()[0]
    mine, total = int(row[0]), int(row[1])
    return Decimal(mine) / Decimal(total) if total else Decimal(0)
