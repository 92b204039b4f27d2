"""Entry points the CLI and the service share: decide next attempts, train from logs, recovery curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.payments.charges import FailedCharges, from_hours, to_hours
from limelight.payments.gate import REASONS, Gate
from limelight.payments.model import RetrySuccessModel
from limelight.payments.policy import (
    GRID_EARLY_HOURS,
    STRONGEST_FIXED,
    RetryPolicy,
    SmartRetryPolicy,
    candidate_times,
    fixed_policy,
)
from limelight.payments.rules import load_rules
from limelight.settings import get_settings

__all__ = [
    "default_model_path",
    "load_attempts",
    "load_cards",
    "next_attempts",
    "recovery_curves",
    "train_from_logs",
]


def default_model_path(db: Path | None = None) -> Path:
    """Where `limelight payments train` saves the model: `<registry>/payments/retry_model.npz`."""
    return get_settings().registry_dir(db) / "payments" / "retry_model.npz"


def _read_table(path: Path, field: str, what: str) -> pd.DataFrame:
    """A Parquet or CSV file; a missing or unreadable one is named in one sentence."""
    if not path.exists():
        raise InputError(f"{field} file must exist, got '{path}'")
    try:
        return pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: must be a Parquet or CSV file of {what} ({type(exc).__name__})") from None


def load_attempts(path: str | Path) -> pd.DataFrame:
    """A `payment_attempts` file (Parquet or CSV)."""
    return _read_table(Path(path), "logs", "payment attempts")


def load_cards(path: str | Path) -> pd.DataFrame:
    """A cards file (Parquet or CSV) with card_id and expires_at, e.g. exported from the processor's stored
    card objects (exp_month/exp_year as the end of that month)."""
    path = Path(path)
    frame = _read_table(path, "cards", "cards")
    missing = [c for c in ("card_id", "expires_at") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: cards must have columns card_id and expires_at, got {list(frame.columns)}",
            origin=str(path),
            column=missing[0],
        )
    expires = pd.to_datetime(frame["expires_at"], errors="coerce")
    bad = np.flatnonzero(expires.isna().to_numpy() & frame["expires_at"].notna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"{path}: expires_at must be a date, got '{frame['expires_at'].iloc[row]}' on row {row + 1}",
            origin=str(path),
            row=row + 1,
            column="expires_at",
        )
    frame = frame.copy()
    frame["card_id"] = frame["card_id"].astype(str)
    frame["expires_at"] = expires
    return frame


def train_from_logs(attempts: pd.DataFrame, out: str | Path) -> tuple[RetrySuccessModel, Path]:
    """Fit the success model on a log of payment attempts and save it."""
    model = RetrySuccessModel().fit(attempts)
    return model, model.save(out)


def next_attempts(
    charges: FailedCharges,
    model: RetrySuccessModel | None = None,
    *,
    policy: RetryPolicy | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The next step for each failed charge: retry (when, through which processor) or stop.

    With a model: the smart policy; without: the strongest fixed schedule (`policy: fixed:...`). A stop
    says why: the first gate rule that refuses every candidate, or that no retry is worth its cost.
    """
    gate = Gate()
    if policy is None:
        policy = SmartRetryPolicy(model) if model is not None else fixed_policy(STRONGEST_FIXED)
    d = policy.decide(charges, gate=gate, rng=np.random.default_rng(seed))
    stop = ~np.isfinite(d.retry_at)
    reason = np.full(len(charges), "retry", dtype=object)
    if stop.any():
        idx = np.flatnonzero(stop)
        sub = charges.subset(idx)
        grid = candidate_times(sub)
        allowed, why = gate.check(sub, grid)
        none_allowed = ~allowed.any(axis=1)
        # the reason on the day-after candidate (the first after the early ones) names the binding rule
        rule = np.array(REASONS, dtype=object)[why[:, len(GRID_EARLY_HOURS)]]
        reason[idx] = np.where(none_allowed, "gate: " + rule.astype(str), "no retry is worth its cost")
    retry = pd.Series(from_hours(np.where(stop, 0.0, d.retry_at))).where(~stop)
    rules = load_rules()
    return pd.DataFrame(
        {
            "invoice_id": charges.invoice_id,
            "decision": np.where(stop, "stop", "retry"),
            "retry_at": retry.to_numpy(),
            "processor": pd.Series(d.processor, dtype=object).where(~stop, None).to_numpy(dtype=object),
            "expected_success": np.round(d.expected_success, 4),
            "ask_member_to_update_card": d.ask_update,
            "decline_category": rules.categories(charges.decline_code).astype(int),
            "reason": reason,
            "policy": policy.name,
            "propensity": d.propensity,
        }
    )


def recovery_curves(attempts: pd.DataFrame, max_days: int = 21) -> pd.DataFrame:
    """Share of failed renewals recovered by day d after the first failure, per decline category.

    Columns: category (1-4 and 'all'), day (0..max_days), failed_invoices, recovered_share.
    """
    need = ("invoice_id", "attempted_at", "outcome", "decline_code")
    missing = [c for c in need if c not in attempts.columns]
    if missing:
        raise DataError(
            f"payment attempts must have columns {', '.join(missing)}, got {list(attempts.columns)}"
        )
    cols = ["category", "day", "failed_invoices", "recovered_share"]
    if attempts.empty:
        return pd.DataFrame({c: [] for c in cols})
    df = attempts[list(need) + (["attempt_number"] if "attempt_number" in attempts else [])].copy()
    df["t"] = to_hours(df["attempted_at"].to_numpy())
    df = df.sort_values(["invoice_id", "t"], kind="stable")
    first = df.groupby("invoice_id", sort=False).head(1)
    failed = first[first["outcome"] == "failed"].set_index("invoice_id")
    if failed.empty:
        return pd.DataFrame({c: [] for c in cols})
    failed["category"] = load_rules().categories(failed["decline_code"].to_numpy(dtype=object)).astype(int)
    wins = df[(df["outcome"] == "succeeded") & df["invoice_id"].isin(failed.index)].drop_duplicates(
        "invoice_id"
    )
    days = (wins["t"].to_numpy() - failed.loc[wins["invoice_id"], "t"].to_numpy()) / 24.0
    rec_day = pd.Series(np.inf, index=failed.index)
    rec_day.loc[wins["invoice_id"].to_numpy()] = days
    out = []
    groups: list[tuple[str, pd.Index]] = [("all", failed.index)]
    groups += [
        (str(c), failed.index[failed["category"].to_numpy() == c])
        for c in sorted(failed["category"].unique())
    ]
    for name, idx in groups:
        d = rec_day.loc[idx].to_numpy()
        n = len(d)
        for day in range(max_days + 1):
            out.append(
                {
                    "category": name,
                    "day": day,
                    "failed_invoices": n,
                    "recovered_share": float((d <= day).sum() / n) if n else 0.0,
                }
            )
    return pd.DataFrame(out, columns=cols)
