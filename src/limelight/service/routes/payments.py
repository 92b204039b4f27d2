"""Payment recovery over HTTP.

- `POST /v1/payments/next-attempt` (service, analyst, admin): the next step for one failed charge —
  retry when and through which processor, or stop (and whether to ask the member for new card data).
  Uses the retry model in the registry (`<registry>/payments/retry_model.npz`, from `limelight payments
  train`) when present, else the strongest fixed schedule; the rules gate applies either way.
- `GET /v1/payments/recovery` (analyst, admin): recovery curves by Visa decline category from the spine's
  `payment_attempts`, for the dashboard.
- `GET /v1/payments/at-risk` (analyst, admin): the members whose renewal in a month is most at risk of
  lapsing for a failed payment (`limelight.payments.churn`), with the model's temporal check; learned from
  the spine once per month asked and per state of its payments, viewing and cards, then served from memory.

Thin: validate, authorize (limelight.service.deps), call `limelight.payments.decide`, return typed models.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from limelight.payments.churn import MONTH_PATTERN
from limelight.service.deps import StoreDep, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody

__all__ = ["router"]

router = APIRouter(prefix="/v1/payments", tags=["payments"], responses=ERROR_RESPONSES)

_lock = threading.Lock()
_churn_lock = threading.Lock()  # apart from _lock: a churn fit takes seconds, next-attempt must not wait on it
_CODE = r"^[A-Za-z0-9_]{1,64}$"


class NextAttemptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decline_code: Annotated[
        str, Field(pattern=_CODE, description="Processor (Stripe) or network decline code.")
    ]
    amount: Annotated[float, Field(ge=0, le=1_000_000, description="Invoice amount in `currency`.")]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] = "USD"
    failed_at: datetime = Field(description="When the last attempt failed (UTC if no offset).")
    first_failed_at: datetime | None = Field(
        default=None, description="When the renewal first failed; needed from attempt 2 on (default failed_at for the first)."
    )
    attempt_number: Annotated[
        int, Field(ge=1, le=100, description="Attempts made so far on the invoice.")
    ] = 1
    merchant_advice_code: Annotated[str | None, Field(pattern=r"^[0-9]{1,2}$")] = None
    card_brand: Annotated[str, Field(pattern=r"^[A-Za-z_]{1,20}$")] = "visa"
    funding_type: Literal["credit", "debit", "prepaid", "unknown"] = "unknown"
    issuer_country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] = "US"
    card_attempts_30d: Annotated[int | None, Field(ge=0, le=1000)] = None
    card_updated: bool = False
    member_cancelled: bool = False


class NextAttemptOut(BaseModel):
    decision: Literal["retry", "stop"]
    retry_at: datetime | None
    processor: str | None
    expected_success: float | None = Field(
        description="The model's success chance (null for the fixed schedule)."
    )
    ask_member_to_update_card: bool
    decline_category: int
    reason: str
    policy: str
    propensity: float


class RecoveryPoint(BaseModel):
    day: int
    recovered_share: float


class RecoveryCurve(BaseModel):
    category: str
    label: str
    failed_invoices: int
    points: list[RecoveryPoint]


class RecoveryOut(BaseModel):
    failed_invoices: int
    curves: list[RecoveryCurve]


class ChurnCheck(BaseModel):
    train_months: str
    test_months: str
    train_renewals: int
    test_renewals: int
    test_lapse_rate: float
    log_loss: float
    base_rate_log_loss: float
    auc: float | None = Field(description="Null when the test months hold only one outcome.")


class AtRiskMember(BaseModel):
    member_id: str
    risk: float = Field(description="Chance that this month's renewal lapses for a failed payment.")


class AtRiskOut(BaseModel):
    month: str
    members_scored: int
    expected_lapses: float
    evaluation: ChurnCheck
    at_risk: list[AtRiskMember]


_LABELS = {
    "all": "all failed renewals",
    "1": "category 1: issuer will never approve",
    "2": "category 2: cannot approve now",
    "3": "category 3: fix the card data",
    "4": "category 4: generic",
}


def _model(request: Request) -> Any:
    """The registry's retry model, loaded once per file version (None when there is none)."""
    from limelight.payments.model import RetrySuccessModel

    state = request.app.state.limelight
    path = state.config.registry_dir / "payments" / "retry_model.npz"
    if not path.exists():
        return None
    stamp = path.stat().st_mtime_ns
    with _lock:
        cached = getattr(request.app.state, "payments_model", None)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        model = RetrySuccessModel.load(path)
        request.app.state.payments_model = (stamp, model)
        return model


@router.post(
    "/next-attempt",
    dependencies=[Depends(require_access("payments.decide"))],
    response_model=NextAttemptOut,
)
def next_attempt(body: NextAttemptRequest, request: Request) -> NextAttemptOut:
    """Decide the next step for one failed charge, inside the card-network rules."""
    from limelight.payments.charges import one_failed_charge
    from limelight.payments.decide import next_attempts

    charges = one_failed_charge(
        failed_at=body.failed_at,
        first_failed_at=body.first_failed_at,
        attempt_number=body.attempt_number,
        card_attempts_30d=body.card_attempts_30d,
        cancelled=body.member_cancelled,
        decline_code=body.decline_code,
        amount=body.amount,
        currency=body.currency.upper(),
        merchant_advice_code=body.merchant_advice_code or "",
        card_brand=body.card_brand,
        funding_type=body.funding_type,
        issuer_country=body.issuer_country,
        card_updated=body.card_updated,
    )
    row = next_attempts(charges, _model(request)).iloc[0]
    retry_at = row["retry_at"]
    return NextAttemptOut(
        decision=row["decision"],
        retry_at=None
        if retry_at is None or retry_at != retry_at
        else retry_at.to_pydatetime().replace(tzinfo=UTC),
        processor=None if row["processor"] is None else str(row["processor"]),
        expected_success=None
        if row["expected_success"] != row["expected_success"]
        else float(row["expected_success"]),
        ask_member_to_update_card=bool(row["ask_member_to_update_card"]),
        decline_category=int(row["decline_category"]),
        reason=str(row["reason"]),
        policy=str(row["policy"]),
        propensity=float(row["propensity"]),
    )


@router.get(
    "/recovery",
    dependencies=[Depends(require_access("payments"))],
    response_model=RecoveryOut,
)
def recovery(
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=60, description="Days after the first failure to draw.")] = 21,
) -> RecoveryOut:
    """Share of failed renewals recovered by each day after the first failure, per decline category."""
    from limelight.payments.decide import recovery_curves

    attempts = store.query(
        "SELECT invoice_id, attempted_at, attempt_number, outcome, decline_code FROM payment_attempts"
    )
    curves = recovery_curves(attempts, max_days=days)
    out: list[RecoveryCurve] = []
    total = 0
    for name, part in curves.groupby("category", sort=False):
        n = int(part["failed_invoices"].iloc[0])
        if name == "all":
            total = n
        out.append(
            RecoveryCurve(
                category=str(name),
                label=_LABELS.get(str(name), str(name)),
                failed_invoices=n,
                points=[
                    RecoveryPoint(day=int(d), recovered_share=float(s))
                    for d, s in zip(part["day"], part["recovered_share"])
                ],
            )
        )
    return RecoveryOut(failed_invoices=total, curves=out)


@router.get(
    "/at-risk",
    dependencies=[Depends(require_access("payments"))],
    response_model=AtRiskOut,
    responses={404: {"model": ErrorBody, "description": "The spine has no payment attempts to learn from."}},
)
def at_risk(
    request: Request,
    store: StoreDep,
    month: Annotated[
        str | None,
        Query(
            pattern=MONTH_PATTERN,
            description="Renewals due in YYYY-MM (1900-01 to 2999-12); default: the month of the latest payment attempt.",
        ),
    ] = None,
    top: Annotated[int, Query(ge=1, le=1000, description="How many members to list, most at risk first.")] = 50,
) -> AtRiskOut:
    """Members whose renewal this month is most at risk of lapsing for a payment failure."""
    import math

    from limelight.errors import NotFoundError
    from limelight.payments.churn import ChurnModel, churn_inputs, churn_report

    # What the report depends on: a new event, attempt or card makes a new key (and a fresh model).
    counts = tuple(store.count(name) for name in ("payment_attempts", "viewing_events", "cards"))
    if not counts[0]:
        raise NotFoundError("the spine has no payment_attempts yet, so no renewal can be scored")
    last = store.scalar("SELECT max(attempted_at) FROM payment_attempts")
    month = month if month is not None else f"{last:%Y-%m}"
    key = (month, str(last), *(str(n) for n in counts))
    cache: dict[tuple[str, ...], dict[str, Any]] = request.app.state.__dict__.setdefault("churn_cache", {})
    with _churn_lock:
        report = cache.get(key)
        if report is None:
            attempts, viewing, cards = churn_inputs(store)
            report = churn_report(attempts, month, viewing=viewing, model=ChurnModel(), top=1000, cards=cards)
            if len(cache) >= 12:  # a year of months
                cache.pop(next(iter(cache)))
            cache[key] = report
    evaluation = dict(report["evaluation"])
    if evaluation["auc"] is not None and math.isnan(evaluation["auc"]):
        evaluation["auc"] = None
    return AtRiskOut(
        month=report["month"],
        members_scored=report["members_scored"],
        expected_lapses=report["expected_lapses"],
        evaluation=ChurnCheck(**evaluation),
        at_risk=[AtRiskMember(**r) for r in report["at_risk"][:top]],
    )
