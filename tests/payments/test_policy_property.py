"""Property: no policy ever emits an attempt the gate refuses (hypothesis searches for one)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limelight.payments.charges import RECENT_SLOTS, FailedCharges
from limelight.payments.gate import Gate
from limelight.payments.model import RetrySuccessModel
from limelight.payments.policy import FIXED_SCHEDULES, FixedSchedulePolicy, SmartRetryPolicy
from limelight.payments.rules import load_rules

RULES = load_rules()
CODES = sorted(RULES.stripe_map) + sorted(RULES.visa_category) + ["unknown_code", ""]
MACS = ["", "01", "02", "03", "04", "21", "24", "25", "26", "27", "28", "29", "30", "40", "41", "42", "99"]


@st.composite
def failed_charges(draw: st.DrawFn) -> FailedCharges:
    n = draw(st.integers(1, 12))
    first = draw(st.lists(st.floats(470_000, 490_000), min_size=n, max_size=n))
    since = draw(st.lists(st.floats(0, 30 * 24), min_size=n, max_size=n))
    failed = np.array(first) + np.array(since)
    counts = draw(st.lists(st.integers(0, RECENT_SLOTS), min_size=n, max_size=n))
    recent = np.full((n, RECENT_SLOTS), np.nan)
    for i, c in enumerate(counts):
        recent[i, :c] = failed[i] - np.sort(
            np.array(draw(st.lists(st.floats(0, 40 * 24), min_size=c, max_size=c)))
        )
    cancel = [draw(st.one_of(st.just(np.inf), st.floats(-48, 24 * 10))) for _ in range(n)]
    return FailedCharges.build(
        decline_code=draw(st.lists(st.sampled_from(CODES), min_size=n, max_size=n)),
        amount=draw(st.lists(st.floats(0.5, 200), min_size=n, max_size=n)),
        failed_at=failed,
        first_failed_at=np.array(first),
        merchant_advice_code=draw(st.lists(st.sampled_from(MACS), min_size=n, max_size=n)),
        card_brand=draw(
            st.lists(st.sampled_from(["visa", "mastercard", "amex", "discover"]), min_size=n, max_size=n)
        ),
        funding_type=draw(
            st.lists(st.sampled_from(["credit", "debit", "prepaid", "unknown"]), min_size=n, max_size=n)
        ),
        issuer_country=draw(
            st.lists(st.sampled_from(["US", "GB", "DE", "BR", "IN", "JP", "ZZ"]), min_size=n, max_size=n)
        ),
        attempt_number=draw(st.lists(st.integers(1, 20), min_size=n, max_size=n)),
        card_updated=draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        cancelled_at=failed + np.array(cancel),
        recent_attempts=recent,
    )


def _assert_gate_accepts(policy: object, charges: FailedCharges, seed: int) -> None:
    gate = Gate()
    decision = policy._decide(charges, gate, np.random.default_rng(seed))  # type: ignore[attr-defined]
    go = np.isfinite(decision.retry_at)
    if go.any():
        allowed = gate.allowed(charges.subset(np.flatnonzero(go)), decision.retry_at[go])[:, 0]
        assert allowed.all(), "a policy proposed an attempt the gate refuses"
    assert np.all((decision.propensity > 0) & (decision.propensity <= 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    charges=failed_charges(),
    seed=st.integers(0, 1000),
    name=st.sampled_from(sorted(FIXED_SCHEDULES)),
    eps=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_fixed_and_logging_policies_never_propose_a_refused_attempt(
    charges: FailedCharges, seed: int, name: str, eps: float
) -> None:
    _assert_gate_accepts(
        FixedSchedulePolicy(FIXED_SCHEDULES[name], epsilon=eps, processor_epsilon=eps), charges, seed
    )


def test_smart_policy_never_proposes_a_refused_attempt(retry_model: RetrySuccessModel) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(charges=failed_charges(), seed=st.integers(0, 1000), eps=st.sampled_from([0.0, 0.5]))
    def check(charges: FailedCharges, seed: int, eps: float) -> None:
        _assert_gate_accepts(SmartRetryPolicy(retry_model, epsilon=eps), charges, seed)

    check()
