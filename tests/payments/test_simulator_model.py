"""The simulator's logs, the success model learned from them, and the smart policy against fixed ones."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from limelight.errors import DataError, InputError, NotFittedError
from limelight.payments.charges import FailedCharges, to_hours
from limelight.payments.model import RetrySuccessModel
from limelight.payments.policy import SmartRetryPolicy, fixed_policy
from limelight.payments.rules import load_toml
from limelight.payments.simulator import simulate_dunning, simulate_payment_logs, summarize
from limelight.spine.schema import ENUMS, table


def test_logs_have_exactly_the_payment_attempts_columns_and_valid_values(world_logs: pd.DataFrame) -> None:
    assert tuple(world_logs.columns) == table("payment_attempts").column_names
    assert set(world_logs["outcome"]) <= set(ENUMS["payment_outcome"])
    assert set(world_logs["funding_type"]) <= set(ENUMS["funding_type"])
    assert world_logs["attempt_id"].is_unique
    assert np.allclose(world_logs["amount"] * 100, np.round(world_logs["amount"] * 100))
    assert ((world_logs["propensity"] > 0) & (world_logs["propensity"] <= 1)).all()
    failed = world_logs[world_logs["outcome"] == "failed"]
    assert failed["decline_code"].notna().all()
    # attempt numbers run 1, 2, 3, ... within each invoice in time order
    ordered = world_logs.sort_values(["invoice_id", "attempted_at", "attempt_number"])
    expected = ordered.groupby("invoice_id").cumcount() + 1
    assert (ordered["attempt_number"].to_numpy() == expected.to_numpy()).all()


def test_no_member_is_charged_after_cancelling(world_logs: pd.DataFrame, members: pd.DataFrame) -> None:
    cancelled = members.dropna(subset=["cancelled_at"]).set_index("member_id")["cancelled_at"]
    rows = world_logs[world_logs["member_id"].isin(cancelled.index)]
    assert len(rows) > 0
    assert (rows["attempted_at"].to_numpy() < cancelled.reindex(rows["member_id"]).to_numpy()).all()


def test_a_lapsed_member_is_not_billed_again(world_logs: pd.DataFrame) -> None:
    s = summarize(world_logs)
    assert 0.2 < s.recovery_rate < 0.9 and s.rule_violations == 0
    paid = world_logs[world_logs["outcome"] == "succeeded"]["invoice_id"].unique()
    unpaid = world_logs[~world_logs["invoice_id"].isin(paid)]
    last_unpaid = unpaid.groupby("member_id")["attempted_at"].min()
    later = world_logs.merge(last_unpaid.rename("lapsed_at"), left_on="member_id", right_index=True)
    later = later[later["attempt_number"] == 1]
    assert (later["attempted_at"] <= later["lapsed_at"]).all()


def test_same_seed_same_logs_and_bad_input_is_one_sentence(members: pd.DataFrame) -> None:
    a = simulate_payment_logs(members.head(200), date(2025, 1, 1), date(2025, 3, 31), seed=9)
    b = simulate_payment_logs(members.head(200), date(2025, 1, 1), date(2025, 3, 31), seed=9)
    pd.testing.assert_frame_equal(a, b)
    assert a["attempted_at"].max() < pd.Timestamp("2025-04-01")  # dunning past `end` is not logged yet
    with pytest.raises(InputError, match="end must be on or after start"):
        simulate_payment_logs(members.head(5), date(2025, 3, 1), date(2025, 1, 1), seed=1)
    with pytest.raises(InputError, match="member_id"):
        simulate_payment_logs(members.drop(columns="member_id"), date(2025, 1, 1), date(2025, 2, 1), seed=1)


def test_every_simulator_parameter_is_documented_and_sourced() -> None:
    raw = load_toml("simulator.toml")
    assert len(raw) >= 20
    for name, entry in raw.items():
        assert entry["doc"].strip() and entry["source"].strip(), name


def _debit_funds(at: str) -> tuple[FailedCharges, np.ndarray]:
    t = float(to_hours([pd.Timestamp(at)])[0])
    charges = FailedCharges.build(
        decline_code="insufficient_funds",
        amount=15.49,
        failed_at=t - 72.0,
        funding_type="debit",
        issuer_country="US",
        card_brand="visa",
        attempt_number=1,
    )
    return charges, np.array([t])


def test_model_learns_that_funds_arrive_on_payday(retry_model: RetrySuccessModel) -> None:
    # 01:00 local (06:00 UTC for US) on the 1st versus the same hour on the 10th
    on_payday = retry_model.predict_logged(*_debit_funds("2025-04-01 06:00"), np.array(["atlas"]))
    mid_month = retry_model.predict_logged(*_debit_funds("2025-04-10 06:00"), np.array(["atlas"]))
    assert on_payday[0] > mid_month[0]


def test_model_round_trips_and_refuses_bad_files(retry_model: RetrySuccessModel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = retry_model.save(tmp_path / "m.npz")
    loaded = RetrySuccessModel.load(path)
    charges, t = _debit_funds("2025-04-01 06:00")
    grid = np.array([[t[0], t[0] + 24]])
    assert np.allclose(
        loaded.predict_grid(charges, grid, np.array(["atlas", "meridian"])),
        retry_model.predict_grid(charges, grid, np.array(["atlas", "meridian"])),
    )
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(DataError):
        RetrySuccessModel.load(tmp_path / "other.npz")
    with pytest.raises(NotFittedError):
        RetrySuccessModel().predict_grid(charges, grid, np.array(["atlas"]))


def test_smart_policy_recovers_more_on_unseen_invoices(retry_model: RetrySuccessModel) -> None:
    smart = summarize(simulate_dunning(2500, seed=77, policy=SmartRetryPolicy(retry_model)))
    fixed = summarize(simulate_dunning(2500, seed=77, policy=fixed_policy()))  # the strongest
    assert smart.rule_violations == fixed.rule_violations == 0
    assert smart.recovered_revenue > fixed.recovered_revenue
    # with Stripe's 8-try budget the smart policy needs fewer attempts per recovery than the daily schedule
    lean = summarize(simulate_dunning(2500, seed=77, policy=SmartRetryPolicy(retry_model, max_retries=8)))
    assert lean.attempts_per_recovery < fixed.attempts_per_recovery


def test_the_simulation_summary_audits_charges_after_a_members_cancellation() -> None:
    """`simulate` used to audit its log without the members' cancellations, so that rule could not fail."""
    from limelight.payments.simulator import simulate_dunning, summarize

    attempts = simulate_dunning(300, seed=5)
    cancels = attempts.attrs["cancelled_at"]
    assert cancels and summarize(attempts).rule_violations == 0
    retried = attempts[attempts["attempt_number"] == 2].iloc[0]
    moved = attempts.copy()
    moved.attrs["cancelled_at"] = {**cancels, retried["member_id"]: str(retried["attempted_at"] - pd.Timedelta(hours=1))}
    assert summarize(moved).rule_violations >= 1
