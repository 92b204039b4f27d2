"""The network rules as data, and the gate that enforces them."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from limelight.payments.charges import FailedCharges
from limelight.payments.gate import REASONS, Gate, audit_attempts
from limelight.payments.rules import load_rules
from limelight.settings import shared_data_dir

T0 = 480_000.0  # hours since the epoch (2024-10-04)


def _one(code: str, **kw: object) -> FailedCharges:
    return FailedCharges.build(decline_code=code, amount=15.49, failed_at=T0, **kw)  # type: ignore[arg-type]


def _reason(charges: FailedCharges, at: float) -> str:
    _, why = Gate().check(charges, np.array([at]))
    return REASONS[int(why[0, 0])]


def test_every_stripe_decline_code_in_the_shared_list_is_mapped() -> None:
    path = shared_data_dir() / "payments" / "stripe_decline_codes.csv"
    with path.open() as fh:
        codes = [row["code"] for row in csv.DictReader(fh)]
    rules = load_rules()
    assert len(codes) == 43
    assert set(codes) <= set(rules.stripe_map)


@pytest.mark.parametrize("code", ["04", "07", "12", "15", "41", "43", "46", "57", "62", "R0", "R1", "R3"])
def test_visa_category_1_codes_are_never_retried(code: str) -> None:
    rules = load_rules()
    assert rules.category(code) == 1
    assert _reason(_one(code), T0 + 24 * 5) == "category_1_never"


def test_stripe_hard_declines_map_to_category_1_and_soft_ones_may_retry() -> None:
    for code in ("lost_card", "stolen_card", "pickup_card", "do_not_try_again", "restricted_card"):
        assert _reason(_one(code), T0 + 48) == "category_1_never"
    for code in ("insufficient_funds", "do_not_honor", "processing_error"):
        assert _reason(_one(code), T0 + 48) == "allowed"


def test_category_3_waits_for_new_card_data() -> None:
    assert _reason(_one("expired_card"), T0 + 48) == "fix_data_first"
    assert _reason(_one("expired_card", card_updated=True), T0 + 48) == "allowed"


def test_mastercard_advice_codes() -> None:
    rules = load_rules()
    assert rules.mac_action["03"] == rules.mac_action["21"] == "never"
    assert rules.mac_action["01"] == "update"
    waits = [rules.mac_wait_hours[c] for c in ("24", "25", "26", "27", "28", "29", "30")]
    assert waits == [1, 24, 48, 96, 144, 192, 240]
    assert _reason(_one("insufficient_funds", merchant_advice_code="03"), T0 + 100) == "mac_never"
    assert _reason(_one("insufficient_funds", merchant_advice_code="21"), T0 + 100) == "mac_never"
    assert _reason(_one("insufficient_funds", merchant_advice_code="27"), T0 + 95) == "mac_wait"
    assert _reason(_one("insufficient_funds", merchant_advice_code="27"), T0 + 96) == "allowed"
    assert _reason(_one("insufficient_funds", merchant_advice_code="01"), T0 + 96) == "fix_data_first"
    # Mastercard's 2024 codes: a non-reloadable prepaid card or a single-use virtual number cannot carry a
    # renewal (ask for another card); a sanctions hit is never retried
    assert _reason(_one("insufficient_funds", merchant_advice_code="40"), T0 + 96) == "fix_data_first"
    assert _reason(_one("insufficient_funds", merchant_advice_code="41"), T0 + 96) == "fix_data_first"
    assert _reason(_one("insufficient_funds", merchant_advice_code="42"), T0 + 96) == "mac_never"


def test_no_charge_after_cancellation_or_outside_the_dunning_window() -> None:
    assert _reason(_one("insufficient_funds", cancelled_at=T0 + 10), T0 + 24) == "member_cancelled"
    window = load_rules().dunning_window_days * 24
    assert _reason(_one("insufficient_funds"), T0 + window + 1) == "outside_dunning_window"
    assert _reason(_one("insufficient_funds"), T0 + 0.5) == "too_soon"


def test_at_most_15_attempts_per_card_in_30_days() -> None:
    recent = np.full((1, 16), np.nan)
    recent[0, :15] = T0 - np.arange(15) * 24.0  # 15 attempts in the last 15 days
    charges = _one("insufficient_funds", recent_attempts=recent, attempt_number=2)
    assert _reason(charges, T0 + 24) == "reattempt_cap"
    # once the oldest have left the 30-day window, a retry is allowed again
    assert _reason(charges, T0 + 24 * 17) == "allowed"


def test_audit_flags_a_retry_after_a_hard_decline_and_a_charge_after_success() -> None:
    rows = pd.DataFrame(
        {
            "attempt_id": ["a1", "a2", "b1", "b2", "b3"],
            "invoice_id": ["a", "a", "b", "b", "b"],
            "card_id": ["c1", "c1", "c2", "c2", "c2"],
            "attempted_at": pd.to_datetime(
                [
                    "2025-01-01 10:00",
                    "2025-01-03 10:00",
                    "2025-01-01 00:00",
                    "2025-01-02 00:00",
                    "2025-01-03 00:00",
                ]
            ),
            "outcome": ["failed", "failed", "failed", "succeeded", "succeeded"],
            "decline_code": ["lost_card", "lost_card", "insufficient_funds", None, None],
            "merchant_advice_code": [None] * 5,
        }
    )
    found = audit_attempts(rows)
    assert set(zip(found["attempt_id"], found["rule"])) == {
        ("a2", "category_1_never"),
        ("b3", "charged_after_success"),
    }


def test_simulated_logs_break_no_rule(world_logs: pd.DataFrame, members: pd.DataFrame) -> None:
    assert len(world_logs) > 5000
    assert audit_attempts(world_logs, members).empty


@pytest.mark.parametrize(
    ("typed", "category"),
    [("LOST_CARD", 1), ("Stolen_Card", 1), (" fraudulent ", 1), ("EXPIRED_CARD", 3), ("4", 1), ("7", 1),
     ("41.0", 1), ("r0", 1), ("n7", 3), ("authentication_required", 3), ("invalid_expiry_month", 3)],
)
def test_a_code_in_another_case_or_number_form_gets_its_tables_category(typed: str, category: int) -> None:
    """Looked up as typed, LOST_CARD and 4 fell to category 4 and were retried."""
    rules = load_rules()
    assert rules.category(typed) == category
    if category == 1:
        assert _reason(_one(typed), T0 + 24 * 5) == "category_1_never"


def test_a_callers_card_count_cannot_loosen_the_15_in_30_cap() -> None:
    charges = _one("insufficient_funds", attempt_number=20, card_attempts_30d=0)
    assert _reason(charges, T0 + 24) == "reattempt_cap"


@pytest.mark.parametrize("written", ["03", "3", 3, 3.0, "3.0", " 03 "])
def test_a_merchant_advice_code_is_read_in_any_number_form(written: object) -> None:
    """A float column (Parquet, a spreadsheet export) wrote MAC 03 as 3.0: it matched no row of the table,
    and the gate let a retry through that Mastercard says never to make."""
    assert _reason(_one("do_not_honor", merchant_advice_code=written, card_brand="mastercard"), T0 + 48) == "mac_never"


def test_a_log_with_a_float_advice_code_column_is_audited_and_a_non_code_refused(tmp_path) -> None:
    from limelight.errors import DataError
    from limelight.payments.decide import load_attempts

    rows = pd.DataFrame({
        "attempt_id": ["a1", "a2"], "invoice_id": ["i1", "i1"], "card_id": ["c1", "c1"], "attempt_number": [1, 2],
        "attempted_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-03 10:00"]),
        "outcome": ["failed", "failed"], "decline_code": ["do_not_honor", "do_not_honor"],
        "merchant_advice_code": [3.0, np.nan], "amount": [9.99, 9.99],
    })
    path = tmp_path / "log.parquet"
    rows.to_parquet(path)
    loaded = load_attempts(path)
    assert loaded["merchant_advice_code"].tolist() == ["03", ""]
    assert audit_attempts(loaded)["rule"].tolist() == ["mac_never"]
    assert audit_attempts(rows)["rule"].tolist() == ["mac_never"]  # the audit reads 3.0 itself too
    rows.assign(merchant_advice_code=["X3", None]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"bad.csv, row 2, column 'merchant_advice_code': .*got 'X3'"):
        load_attempts(tmp_path / "bad.csv")


def test_a_mastercard_card_takes_at_most_ten_attempts_in_any_24_hours() -> None:
    """The learned policy retried a Mastercard "do not honor" hourly: 15 attempts in 14 hours, over the
    10-in-24-hours excessive-attempts rule Mastercard's acquirers publish."""
    rules = load_rules()
    assert ("mastercard", 24.0, 10) in rules.brand_caps
    nine_today = np.array([T0 - 9 + k for k in range(9)] + [np.nan] * 7)  # 9 attempts in the last 9 hours
    for brand, expected in (("mastercard", "allowed"), ("visa", "allowed")):
        charges = _one("do_not_honor", card_brand=brand, recent_attempts=nine_today[None, :])
        assert _reason(charges, T0 + 1) == expected  # the 10th
    ten_today = np.array([T0 - 10 + k for k in range(10)] + [np.nan] * 6)
    mastercard = _one("do_not_honor", card_brand="mastercard", recent_attempts=ten_today[None, :])
    assert _reason(mastercard, T0 + 1) == "brand_24h_cap"
    assert _reason(mastercard, T0 + 15) == "allowed"  # the oldest of the ten is 24 hours back by then
    visa = _one("do_not_honor", card_brand="visa", recent_attempts=ten_today[None, :])
    assert _reason(visa, T0 + 1) == "allowed"  # Visa's limit is 15 in 30 days


def test_the_audit_counts_a_mastercard_card_over_ten_in_a_day() -> None:
    t = pd.Timestamp("2025-01-09 13:40")
    rows = pd.DataFrame({
        "attempt_id": [f"a{k}" for k in range(12)], "invoice_id": "i1", "card_id": "c1",
        "attempted_at": [t + pd.Timedelta(hours=k) for k in range(12)], "outcome": "failed",
        "decline_code": "do_not_honor", "merchant_advice_code": None, "card_brand": "mastercard",
    })
    found = audit_attempts(rows)
    assert found["attempt_id"].tolist() == ["a10", "a11"] and set(found["rule"]) == {"brand_24h_cap"}
    assert audit_attempts(rows.assign(card_brand="visa")).empty
