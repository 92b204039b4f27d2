"""The rules gate: every attempt any policy proposes passes through here, and the gate has the last word.

Rules (data in `rules/`): Visa category 1 never retried on the same card; categories 2-4 at most 15 attempts
per card in any 30 days, and a Mastercard card at most 10 in any 24 hours; category 3 (and Mastercard MAC
01/04) only once the card data changed; MAC 03 and 21 never; MAC 02 and 24-30 not before their wait; no
charge once the member cancelled; nothing outside the dunning window; never two attempts on one invoice within the minimum gap. `audit_attempts` re-checks a
whole log of attempts independently, so a simulator or policy bug shows up as a counted violation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.payments.charges import FailedCharges, to_hours
from limelight.payments.rules import NetworkRules, is_mac, load_rules, lookup_unique, normalise_mac

__all__ = ["REASONS", "Gate", "audit_attempts"]

# Index = reason code returned by `Gate.check` (0 = allowed).
REASONS: tuple[str, ...] = (
    "allowed",
    "no_time",
    "too_soon",
    "member_cancelled",
    "outside_dunning_window",
    "category_1_never",
    "mac_never",
    "fix_data_first",
    "mac_wait",
    "reattempt_cap",
    "brand_24h_cap",
)
_CODE = {name: i for i, name in enumerate(REASONS)}


class Gate:
    """Vectorised check of candidate attempt times against the network and merchant rules."""

    def __init__(self, rules: NetworkRules | None = None) -> None:
        self.rules = rules if rules is not None else load_rules()

    def _mac_tables(self, macs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        action = lookup_unique(macs, lambda m: self.rules.mac_action.get(_mac(m), "retry"), object)
        wait = lookup_unique(macs, lambda m: self.rules.mac_wait_hours.get(_mac(m), 0.0), np.float64)
        never = action == "never"
        update = action == "update"
        return never, update, wait

    def check(self, charges: FailedCharges, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(allowed, reason)` for attempt times `at` (shape (n,) or (n, k), float hours UTC).

        `reason` holds indexes into `REASONS`; the first rule that refuses is reported.
        """
        r = self.rules
        times = np.asarray(at, dtype=np.float64)
        if times.ndim == 1:
            times = times[:, None]
        if times.shape[0] != len(charges):
            raise DataError(
                f"attempt times must have {len(charges)} rows like the charges, got {times.shape[0]}"
            )
        reason = np.zeros(times.shape, dtype=np.int8)

        def mark(mask: np.ndarray, name: str) -> None:
            reason[(reason == 0) & mask] = _CODE[name]

        failed = charges.failed_at[:, None]
        cat = r.categories(charges.decline_code)[:, None]
        mac_never, mac_update, mac_wait = self._mac_tables(charges.merchant_advice_code)
        same_card = ~charges.card_updated[:, None]

        mark(~np.isfinite(times), "no_time")
        mark(times < failed + r.min_gap_hours, "too_soon")
        mark(times >= charges.cancelled_at[:, None], "member_cancelled")
        mark(
            times > charges.first_failed_at[:, None] + r.dunning_window_days * 24.0, "outside_dunning_window"
        )
        never_cat = np.isin(cat, list(r.never_retry_categories))
        mark(same_card & never_cat, "category_1_never")
        mark(same_card & mac_never[:, None], "mac_never")
        fix_first = np.isin(cat, list(r.fix_data_first_categories)) | mac_update[:, None]
        mark(same_card & fix_first, "fix_data_first")
        mark(same_card & (times < failed + mac_wait[:, None]), "mac_wait")
        recent = charges.recent_attempts[:, None, :]

        def with_proposed(hours: float) -> np.ndarray:
            """Attempts on the card in the trailing `hours`, the proposed one included."""
            return np.sum(recent > (times[:, :, None] - hours), axis=2) + 1

        mark(with_proposed(r.window_days * 24.0) > r.max_attempts_in_window, "reattempt_cap")
        for brand, hours, cap in r.brand_caps:  # Mastercard: at most 10 attempts in any 24 hours
            mine = (charges.card_brand == brand)[:, None]
            if mine.any():
                mark(mine & (with_proposed(hours) > cap), "brand_24h_cap")
        return reason == 0, reason

    def allowed(self, charges: FailedCharges, at: np.ndarray) -> np.ndarray:
        return self.check(charges, at)[0]


def _mac(code: str | None) -> str:
    return normalise_mac(code) if is_mac(code) else str(code)  # a non-code matches no rule of the table


def audit_attempts(
    attempts: pd.DataFrame, members: pd.DataFrame | None = None, rules: NetworkRules | None = None
) -> pd.DataFrame:
    """Every rule violation in a log of `payment_attempts` rows: columns attempt_id, invoice_id, rule.

    Independent of `Gate` (it works on the log, not on decisions), so it catches a policy or simulator
    that bypassed the gate. Attempt 1 of an invoice (the scheduled renewal) is only checked for
    cancellation and the per-card cap.
    """
    r = rules if rules is not None else load_rules()
    need = (
        "attempt_id",
        "invoice_id",
        "card_id",
        "attempted_at",
        "outcome",
        "decline_code",
        "merchant_advice_code",
    )
    missing = [c for c in need if c not in attempts.columns]
    if missing:
        raise DataError(
            f"payment attempts must have columns {', '.join(missing)}, got {list(attempts.columns)}"
        )
    if attempts.empty:
        return pd.DataFrame({"attempt_id": [], "invoice_id": [], "rule": []})
    extra = [c for c in ("member_id", "card_brand") if c in attempts.columns]
    df = attempts[list(need) + extra].copy()
    df["t"] = to_hours(df["attempted_at"].to_numpy())
    inv_code = pd.factorize(df["invoice_id"].to_numpy(dtype=object))[0]
    df = df.iloc[np.lexsort((df["t"].to_numpy(), inv_code))].reset_index(drop=True)
    inv = df["invoice_id"].to_numpy()
    t = df["t"].to_numpy()
    inv_sorted = pd.factorize(inv)[0]
    has_prev = np.r_[False, inv_sorted[1:] == inv_sorted[:-1]]
    prev = np.r_[0, np.arange(len(df) - 1)]
    card = pd.factorize(df["card_id"].to_numpy(dtype=object))[0]
    same_card = has_prev & (card == card[prev])
    cat = r.categories(df["decline_code"].to_numpy(dtype=object))[prev]
    mac = df["merchant_advice_code"].to_numpy(dtype=object)
    action = lookup_unique(mac, lambda m: r.mac_action.get(_mac(m), "retry"), object)[prev]
    wait = lookup_unique(mac, lambda m: r.mac_wait_hours.get(_mac(m), 0.0), np.float64)[prev]
    gap = t - t[prev]
    starts = np.flatnonzero(~has_prev)
    first_t = np.repeat(t[starts], np.diff(np.r_[starts, len(df)]))
    prev_ok = df["outcome"].to_numpy(dtype=object)[prev] == "succeeded"

    checks: list[tuple[str, np.ndarray]] = [
        ("charged_after_success", has_prev & prev_ok),
        ("too_soon", has_prev & (gap < r.min_gap_hours - 1e-6)),
        ("outside_dunning_window", t > first_t + r.dunning_window_days * 24.0 + 1e-6),
        ("category_1_never", same_card & np.isin(cat, list(r.never_retry_categories))),
        ("mac_never", same_card & (action == "never")),
        (
            "fix_data_first",
            same_card & (np.isin(cat, list(r.fix_data_first_categories)) | (action == "update")),
        ),
        ("mac_wait", same_card & (gap < wait - 1e-6)),
    ]
    # Per-card cap: attempts in (t - window, t] on the same card, counted with one sorted search.
    order = np.lexsort((t, card))
    card_codes = card[order].astype(np.float64)
    key = card_codes * 1e7 + t[order]

    def over_cap(hours: float, cap: int, where: np.ndarray | bool = True) -> np.ndarray:
        """Attempts beyond `cap` in (t - hours, t] on their card; a new renewal is a new transaction, not
        a reattempt (it still counts for later ones)."""
        over = np.zeros(len(df), dtype=bool)
        over[order] = (np.arange(len(key)) - np.searchsorted(key, key - hours, side="right") + 1 > cap) & where
        return over & has_prev

    checks.append(("reattempt_cap", over_cap(r.window_days * 24.0, r.max_attempts_in_window)))
    if "card_brand" in df.columns:
        brand = df["card_brand"].astype(str).str.lower().to_numpy()[order]
        for name, hours, cap in r.brand_caps:
            checks.append(("brand_24h_cap", over_cap(hours, cap, brand == name)))
    if members is not None and "cancelled_at" in members.columns and "member_id" in df.columns:
        cancelled = pd.Series(
            to_hours(members["cancelled_at"].to_numpy()), index=members["member_id"].astype(str)
        )
        c = cancelled.reindex(df["member_id"].astype(str)).to_numpy()
        checks.append(("member_cancelled", np.nan_to_num(c, nan=np.inf) <= t))

    frames = [
        pd.DataFrame({"attempt_id": df["attempt_id"].to_numpy()[m], "invoice_id": inv[m], "rule": name})
        for name, m in checks
        if m.any()
    ]
    if not frames:
        return pd.DataFrame(
            {
                "attempt_id": pd.Series([], dtype=object),
                "invoice_id": pd.Series([], dtype=object),
                "rule": pd.Series([], dtype=object),
            }
        )
    return pd.concat(frames, ignore_index=True)
