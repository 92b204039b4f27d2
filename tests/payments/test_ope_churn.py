"""Off-policy estimators on a bandit with a known answer, on simulated logs, and the churn model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.payments.churn import ChurnModel, build_panel, churn_report, temporal_evaluation
from limelight.payments.model import RetrySuccessModel
from limelight.payments.ope import (
    doubly_robust,
    doubly_robust_shrinkage,
    evaluate_first_retry,
    ips,
    measured_recovery_by_retries,
    model_rollout_recovery,
    snips,
)
from limelight.payments.policy import SmartRetryPolicy, fixed_policy
from limelight.payments.simulator import simulate_dunning


def _bandit(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = np.array([0.2, 0.5, 0.7])
    a = rng.integers(0, 3, n)  # uniform logging policy
    r = (rng.random(n) < means[a]).astype(float)
    pi = (a == 2).astype(float)  # the new policy always takes action 2 (true value 0.7)
    mu = np.full(n, 1 / 3)
    return pi, mu, r, means[a], np.full(n, means[2])


def test_ips_snips_and_dr_cover_the_true_value() -> None:
    pi, mu, r, r_hat_logged, r_hat_target = _bandit(6000, 1)
    for est in (ips(pi, mu, r), snips(pi, mu, r), doubly_robust(pi, mu, r, r_hat_logged, r_hat_target)):
        assert est.low <= 0.7 <= est.high
        assert est.low < est.value < est.high
    # with a perfect reward model DR is far tighter than IPS
    dr = doubly_robust(pi, mu, r, r_hat_logged, r_hat_target)
    plain = ips(pi, mu, r)
    assert (dr.high - dr.low) < (plain.high - plain.low)


def test_dr_with_shrinkage_tightens_with_a_good_model_and_stays_unbiased_with_a_wrong_one() -> None:
    pi, mu, r, r_hat_logged, r_hat_target = _bandit(6000, 1)
    dr = doubly_robust(pi, mu, r, r_hat_logged, r_hat_target)
    shrunk, lam = doubly_robust_shrinkage(pi, mu, r, r_hat_logged, r_hat_target)
    assert np.isfinite(lam) and shrunk.low <= 0.7 <= shrunk.high
    assert (shrunk.high - shrunk.low) < (dr.high - dr.low)
    # a reward model off by +0.2: the estimated bias keeps the shrinkage mild, the estimate stays near 0.7
    wrong, _ = doubly_robust_shrinkage(pi, mu, r, r_hat_logged + 0.2, r_hat_target + 0.2)
    assert wrong.low <= 0.7 <= wrong.high and abs(wrong.value - 0.9) > 0.15
    # no candidate lambda: exactly DR
    plain, lam_none = doubly_robust_shrinkage(pi, mu, r, r_hat_logged, r_hat_target, lambdas=())
    assert lam_none == float("inf") and plain.value == dr.value


def test_estimators_refuse_zero_propensities() -> None:
    with pytest.raises(DataError, match="propensities"):
        ips(np.ones(3), np.array([0.5, 0.0, 0.5]), np.ones(3))


def test_first_retry_estimates_on_fixed_schedule_logs(
    dunning_logs: pd.DataFrame, retry_model: RetrySuccessModel
) -> None:
    result = evaluate_first_retry(dunning_logs, SmartRetryPolicy(retry_model), retry_model)
    assert result["matched_decisions"] > 0
    for name in ("ips", "snips", "dr", "dros"):
        e = result[name]
        assert e["ci_low"] <= e["value"] <= e["ci_high"] and -0.05 <= e["value"] <= 1.0, name
    from limelight.payments.ope import MIN_MATCHED

    # a thin log says so: the estimate is right arithmetic on too little evidence
    assert (result["matched_decisions"] < MIN_MATCHED) == bool(result["warnings"])
    invoices = dunning_logs["invoice_id"].drop_duplicates().head(300)
    thin = evaluate_first_retry(dunning_logs[dunning_logs["invoice_id"].isin(invoices)],
                                SmartRetryPolicy(retry_model), retry_model)
    assert thin["matched_decisions"] < MIN_MATCHED and "fewer than 100" in thin["warnings"][0]


def test_sequence_rollout_estimates_a_fixed_schedules_whole_dunning_recovery(
    dunning_logs: pd.DataFrame, retry_model: RetrySuccessModel
) -> None:
    policy = fixed_policy("stripe_like_8_in_14d", ask_first=False)
    estimate = model_rollout_recovery(dunning_logs, policy, retry_model)
    measured = measured_recovery_by_retries(simulate_dunning(4000, seed=11, policy=policy))
    assert 0.1 < measured < 0.6
    assert abs(estimate["value"] / measured - 1) < 0.10
    # one retry recovers less than eight
    assert (
        model_rollout_recovery(dunning_logs, SmartRetryPolicy(retry_model, max_retries=1), retry_model)[
            "value"
        ]
        < estimate["value"]
    )


def test_churn_panel_uses_only_the_past_and_beats_the_base_rate(world_logs: pd.DataFrame) -> None:
    panel = build_panel(world_logs)
    first_rows = panel[panel["renewals_before"] == 0]
    assert (first_rows["first_failures_before"] == 0).all() and (first_rows["failed_last_month"] == 0).all()
    result = temporal_evaluation(panel, ChurnModel(n_estimators=60))
    assert result["test_renewals"] > 500
    assert result["auc"] > 0.5
    assert result["log_loss"] < 1.0


def test_card_expiry_reaches_the_churn_panel_from_the_card_on_file(
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    attempts, cards = world
    assert set(attempts["card_id"]) <= set(cards["card_id"])
    panel = build_panel(attempts, cards=cards)
    # the expiry is that of the card the member's previous renewal ended on, measured from this due date
    row = panel[(panel["renewals_before"] >= 2)].iloc[0]
    prev = panel[(panel["member_id"] == row["member_id"]) & (panel["due_at"] < row["due_at"])].iloc[-1]
    expires = cards.set_index("card_id").loc[prev["last_card_id"], "expires_at"]
    want = (pd.Timestamp(expires) - pd.Timestamp(row["due_at"])).total_seconds() / (86400 * 30.44)
    assert row["months_to_expiry"] == pytest.approx(want)
    known = panel[panel["lapsed"].notna()]
    expiring = known[known["expires_before_due"] == 1]
    assert len(expiring) > 50
    assert expiring["lapsed"].mean() > 3 * known.loc[known["expires_before_due"] == 0, "lapsed"].mean()
    assert build_panel(attempts)["months_to_expiry"].isna().all()


def test_churn_report_lists_members_due_next_month(world_logs: pd.DataFrame) -> None:
    report = churn_report(world_logs, "2025-08", model=ChurnModel(n_estimators=40), top=5)
    assert report["members_scored"] > 0 and len(report["at_risk"]) == 5
    risks = [r["risk"] for r in report["at_risk"]]
    assert risks == sorted(risks, reverse=True)


def test_a_past_month_is_scored_from_what_was_known_when_it_began(world_logs: pd.DataFrame) -> None:
    """Scored from the whole log, June's report trained on May renewals whose outcomes came in mid-June."""
    whole = churn_report(world_logs, "2025-06", model=ChurnModel(n_estimators=30), top=5)
    before = world_logs[pd.to_datetime(world_logs["attempted_at"]) < pd.Timestamp("2025-06-01")]
    cut = churn_report(before, "2025-06", model=ChurnModel(n_estimators=30), top=5)
    assert whole == cut


def test_the_temporal_split_trains_only_on_outcomes_known_before_the_test_months(world_logs: pd.DataFrame) -> None:
    panel = build_panel(world_logs)
    out = temporal_evaluation(panel, ChurnModel(n_estimators=30))
    known = panel[panel["lapsed"].notna()]
    cut = sorted(known["month"].unique())[-2]
    late = known[(known["month"] < cut) & (pd.to_datetime(known["due_at"]) > cut.start_time - pd.Timedelta(days=21))]
    assert len(late) > 0 and out["train_renewals"] == int((known["month"] < cut).sum()) - len(late)


def test_off_policy_evaluation_refuses_logs_of_a_deterministic_schedule(retry_model: RetrySuccessModel) -> None:
    """`simulate --logs-out` writes a fixed schedule's logs (every propensity 1): OPE used to answer IPS 0,
    SNIPS null and 0 matched decisions with exit 0."""
    from limelight.payments.policy import STRONGEST_FIXED
    from limelight.payments.simulator import simulate_dunning

    fixed_logs = simulate_dunning(400, 9, fixed_policy(STRONGEST_FIXED))  # what simulate --policy fixed runs
    with pytest.raises(DataError, match="propensity 1: these logs come from a fixed schedule"):
        evaluate_first_retry(fixed_logs, SmartRetryPolicy(retry_model), retry_model)


def test_recovery_curves_do_not_count_invoices_still_in_dunning_as_lost() -> None:
    """An invoice that failed three days before the log ends is not unrecovered at day 21: it is censored."""
    from limelight.payments.decide import recovery_curves

    end = pd.Timestamp("2025-03-31")

    def row(inv: str, at: pd.Timestamp, outcome: str) -> dict[str, object]:
        return {"invoice_id": inv, "attempted_at": at, "outcome": outcome, "decline_code": "insufficient_funds"}

    log = pd.DataFrame([
        row("a", end - pd.Timedelta(days=40), "failed"), row("a", end - pd.Timedelta(days=38), "succeeded"),
        row("b", end - pd.Timedelta(days=30), "failed"),  # never recovered, watched 30 days
        row("c", end - pd.Timedelta(days=3), "failed"),  # still in dunning
        row("d", end - pd.Timedelta(days=25), "failed"), row("d", end - pd.Timedelta(days=15), "succeeded"),
        row("z", end, "succeeded"),  # another invoice paid at once: the log's end
    ])
    curve = recovery_curves(log).query("category == 'all'").set_index("day")
    assert curve.loc[21, "failed_invoices"] == 4 and curve.loc[21, "observed_invoices"] == 3
    assert curve.loc[1, "recovered_share"] == 0.0
    assert curve.loc[5, "recovered_share"] == pytest.approx(0.25)
    assert curve.loc[21, "recovered_share"] == pytest.approx(0.625)  # 1 − ¾·½; counting c as lost gave 0.5
