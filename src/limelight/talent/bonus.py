"""The viewership success bonus: from hours, runtime and the domestic base to money, to the cent.

Rounding, stated once and used everywhere: every amount is rounded ROUND_HALF_UP to the cent; the
recipients' share is rounded, and the fund receives the bonus minus that share, so the two sum to the
bonus exactly. Among several recipients each receives the floor of its exact share in cents and the
leftover cents go one each to the largest fractional remainders, ties to the earliest credit in credit
order (deterministic, and the parts sum to the whole exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from limelight.errors import InputError
from limelight.talent.rules import AgreementPack, SuccessBonusRule
from limelight.talent.views import views, views_of_seconds

__all__ = [
    "CENT",
    "MAX_AMOUNT",
    "MAX_SUPPLIED_AMOUNT",
    "ROUNDING",
    "BonusResult",
    "money",
    "split_cents",
    "success_bonus",
    "trigger_views",
]

CENT = Decimal("0.01")
# User amounts at or above this are refused (talent pay and valuation alike): no fee, residual or
# earnings figure is near it, and it keeps every figure derived from one (× rates, ÷ views, rounded to
# the cent or 0.0001) inside Decimal's 28 digits, where 1e400 would not fit.
MAX_AMOUNT = Decimal("1e15")
# The most a user may supply as a fixed residual or covered earnings, in the CLI as in the API: a billion
# dollars is far above any residual, and one limit means one answer to the same figure.
MAX_SUPPLIED_AMOUNT = Decimal("1e9")
ROUNDING = (
    "amounts are rounded half-up to the cent; the fund receives the bonus minus the recipients' share; "
    "among recipients, leftover cents go one each to the largest remainders, ties to the earliest credit"
)


def money(value: Decimal | int | str | float) -> Decimal:
    """A Decimal amount rounded half-up to the cent (floats go through their shortest repr)."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"an amount must be a number like 12345.67, got '{value}'") from None
    if not d.is_finite():
        raise InputError(f"an amount must be a finite number, got {value}")
    try:
        return d.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal's 28: e.g. 1e400
        raise InputError(f"an amount must be below {MAX_AMOUNT:,.0f} to round to the cent, got {value}") from None


def split_cents(amount: Decimal, weights: Sequence[Decimal | int | float]) -> list[Decimal]:
    """Split `amount` (to the cent) by `weights`; the parts sum to `amount` exactly.

    Largest-remainder method in cents; ties go to the earlier position (callers pass credits in
    credit order). Zero total weight splits equally.
    """
    total_cents = int((money(amount) / CENT).to_integral_value())
    if not weights:
        return []
    w = [Decimal(str(x)) for x in weights]
    if any(x < 0 for x in w):
        raise InputError("split weights must be at least 0")
    if sum(w) == 0:
        w = [Decimal(1)] * len(w)
    wsum = sum(w)
    exact = [Decimal(total_cents) * x / wsum for x in w]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = total_cents - sum(floors)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


def trigger_views(rule: SuccessBonusRule, domestic_subscribers: int) -> Decimal:
    """Views needed to reach the trigger: trigger share × domestic subscribers (76M → 15.2M)."""
    return rule.trigger_share.decimal() * Decimal(domestic_subscribers)


@dataclass(frozen=True)
class BonusResult:
    guild: str
    pack: str
    views: Decimal
    domestic_subscribers: int
    metric: Decimal  # views ÷ domestic subscribers
    trigger: Decimal
    eligible: bool
    views_needed: int  # whole views still needed to reach the trigger (0 once reached)
    fixed_residual: Decimal | None
    cap: Decimal | None  # bonus rate × fixed residual: the most the bonus can be
    bonus: Decimal | None
    performers_share: Decimal | None  # the recipients' share (performers for SAG-AFTRA, writers for WGA)
    fund_share: Decimal | None
    rounding: str = ROUNDING
    recipients: str = ""  # who `performers_share` goes to, in the pack's words: "performers", "writers", "directors"

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["views"] = float(self.views)
        out["metric"] = float(self.metric)
        out["trigger"] = float(self.trigger)
        for key in ("fixed_residual", "cap", "bonus", "performers_share", "fund_share"):
            out[key] = None if out[key] is None else str(out[key])
        return out


def _recipients(pack: AgreementPack) -> str:
    return ", ".join(f"{role}s" for role in pack.roles)


def success_bonus(
    pack: AgreementPack,
    *,
    domestic_hours: Decimal | float | int | None = None,
    runtime_minutes: Decimal | float | int,
    domestic_subscribers: int,
    fixed_residual: Decimal | float | int | str | None,
    domestic_seconds: int | None = None,
) -> BonusResult:
    """The bonus for one program and window under `pack` (views, metric, trigger, money).

    Viewing is `domestic_hours` (a figure a user types) or `domestic_seconds` (summed from events: exact,
    so a window that reaches the trigger to the second is eligible). `fixed_residual` is the program's
    fixed HB SVOD residual (not public: the user supplies it); without it the views, metric and trigger
    are still computed and the money fields are None.
    """
    rule = pack.success_bonus
    if rule is None:
        raise InputError(f"{pack.name} has no viewership success bonus in its public terms")
    if isinstance(domestic_subscribers, bool) or int(domestic_subscribers) <= 0:
        raise InputError(f"domestic subscribers must be a positive whole number, got {domestic_subscribers}")
    subs = int(domestic_subscribers)
    if (domestic_hours is None) == (domestic_seconds is None):
        raise InputError("give the domestic viewing as hours or as seconds, exactly one of them")
    v = (
        views_of_seconds(domestic_seconds, runtime_minutes)
        if domestic_seconds is not None
        else views(domestic_hours, runtime_minutes)  # type: ignore[arg-type]
    )
    trig = trigger_views(rule, subs)
    eligible = v >= trig
    needed = 0 if eligible else math.ceil(trig - v)
    metric = v / Decimal(subs)
    if fixed_residual is None:
        return BonusResult(
            pack.guild, pack.id, v, subs, metric, trig, eligible, needed, None, None, None, None, None,
            recipients=_recipients(pack),
        )
    fixed = money(fixed_residual)
    if fixed < 0:
        raise InputError(f"fixed residual must be at least 0, got {fixed_residual}")
    cap = money(fixed * rule.bonus_rate.decimal())
    bonus = cap if eligible else Decimal("0.00")
    recipients = money(bonus * rule.recipients_share.decimal())
    fund = bonus - recipients
    return BonusResult(
        pack.guild, pack.id, v, subs, metric, trig, eligible, needed, fixed, cap, bonus, recipients, fund,
        recipients=_recipients(pack),
    )
