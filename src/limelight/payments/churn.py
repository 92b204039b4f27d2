"""Involuntary churn: which members' renewals this month are at risk of lapsing for a failed payment.

One row per member-month renewal. The label is "the renewal was never paid" (first charge failed and
dunning did not recover it). Features use only what is known before the renewal is charged: the member's
past renewals (first-charge failures, how many attempts and days recovery took, data/hard declines, months
since the last failure, soft and funds declines on all past attempts, mean days to pay), the card on file
after the last renewal (brand, funding type, issuer region, age in renewals, amount and, when a cards table
with expiry dates is given, months until it expires and whether it expires before this renewal) and, when
`viewing_events` are given, viewing in the previous month and its change. Evaluated with a temporal
split (train on earlier months, test on later ones): log loss and AUC, next to the base-rate log loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError, NotFittedError, require_fields
from limelight.payments.charges import FailedCharges, load_countries
from limelight.payments.policy import usd_amount
from limelight.payments.rules import load_rules

if TYPE_CHECKING:
    from limelight.spine.store import Store

__all__ = [
    "BASE_FEATURES",
    "FEATURES",
    "MONTH_PATTERN",
    "ChurnModel",
    "build_panel",
    "churn_inputs",
    "churn_report",
    "temporal_evaluation",
]

# the first feature set (kept as the benchmark's baseline)
BASE_FEATURES = (
    "renewals_before",
    "first_failures_before",
    "failure_share_before",
    "failed_last_month",
    "attempts_last_month",
    "days_to_pay_last_month",
    "months_since_failure",
    "data_or_hard_before",
    "card_renewals",
    "funding_code",
    "brand_code",
    "region_code",
    "amount_usd",
    "viewing_hours_last_month",
    "viewing_change",
)
FEATURES = (
    *BASE_FEATURES,
    "months_to_expiry",
    "expires_before_due",
    "soft_declines_before",
    "funds_declines_before",
    "mean_days_to_pay_before",
)
_FUNDING = {"credit": 0, "debit": 1, "prepaid": 2, "unknown": 3}
_BRANDS = {"visa": 0, "mastercard": 1, "amex": 2, "discover": 3}


def _invoices(attempts: pd.DataFrame) -> pd.DataFrame:
    need = ("member_id", "invoice_id", "card_id", "attempted_at", "outcome", "decline_code", "amount")
    require_fields(attempts.columns, need, "payment attempts", error=DataError)
    df = attempts.copy()
    df["attempted_at"] = pd.to_datetime(df["attempted_at"])
    for col, default in (
        ("funding_type", "unknown"),
        ("card_brand", "unknown"),
        ("issuer_country", "OTHER"),
        ("currency", "USD"),
    ):
        if col not in df.columns:
            df[col] = default
    codes = pd.factorize(df["invoice_id"].to_numpy(dtype=object))[0]
    df = df.iloc[np.lexsort((df["attempted_at"].to_numpy(), codes))]
    g = df.groupby("invoice_id", sort=False)
    first = g.head(1).set_index("invoice_id")
    rules = load_rules()
    group = rules.reason_groups(df["decline_code"].to_numpy(dtype=object))
    failed = (df["outcome"] == "failed").to_numpy()
    df["severe"] = np.isin(group, ["data", "hard"]) & failed
    df["soft"] = np.isin(group, ["funds", "generic", "transient"]) & failed
    df["funds"] = (group == "funds") & failed
    paid_at = df[df["outcome"] == "succeeded"].groupby("invoice_id")["attempted_at"].min()
    inv = pd.DataFrame(
        {
            "member_id": first["member_id"].astype(str),
            "month": first["attempted_at"].dt.to_period("M"),
            "due_at": first["attempted_at"],
            "first_failed": first["outcome"] == "failed",
            "attempts": g.size(),
            "severe": df.groupby("invoice_id", sort=False)["severe"].any(),
            "soft_failures": g["soft"].sum(),
            "funds_failures": g["funds"].sum(),
            "last_card_id": g["card_id"].last().astype(str),
            "card_id": first["card_id"].astype(str),
            "funding_type": first["funding_type"].fillna("unknown"),
            "card_brand": first["card_brand"].fillna("unknown"),
            "issuer_country": first["issuer_country"].fillna("OTHER"),
            "amount": first["amount"].astype(float),
            "currency": first["currency"].fillna("USD"),
        }
    )
    inv["paid"] = paid_at.reindex(inv.index).notna()
    inv["days_to_pay"] = ((paid_at.reindex(inv.index) - inv["due_at"]).dt.total_seconds() / 86400.0).fillna(
        30.0
    )
    return inv.reset_index()


def build_panel(
    attempts: pd.DataFrame,
    *,
    viewing: pd.DataFrame | None = None,
    score_month: pd.Period | None = None,
    cards: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Member-month rows with FEATURES and `lapsed` (NaN for the scored month's not-yet-charged renewals).

    With `score_month`, members whose last renewal was paid in the month before get a row for it.
    `cards` (card_id, expires_at) gives the expiry of the card on file; without it the expiry features are
    missing (NaN / 0).
    """
    inv = _invoices(attempts)
    if score_month is not None:
        inv = inv[inv["month"] < score_month]
        last = inv.sort_values("due_at").groupby("member_id").tail(1)
        active = last[(last["month"] == score_month - 1) & last["paid"]].copy()
        # a period[M] column like the invoices': as object (Python Periods) every month comparison and
        # `month - 1` after the concat ran in Python (2.6 s of a 6 s report on the 1M demo)
        active["month"] = pd.Series(pd.PeriodIndex([score_month] * len(active), freq="M"), index=active.index)
        active["invoice_id"] = None
        active["paid"] = np.nan
        for col in ("first_failed", "severe"):
            active[col] = False
        active["soft_failures"] = 0
        active["funds_failures"] = 0
        active["attempts"] = 0
        active["days_to_pay"] = 0.0
        active["due_at"] = active["due_at"] + pd.DateOffset(months=1)
        inv = pd.concat([inv, active], ignore_index=True)
    inv = inv.sort_values(["member_id", "due_at"], kind="stable").reset_index(drop=True)
    g = inv.groupby("member_id", sort=False)
    failed = inv["first_failed"].astype(float)
    inv["renewals_before"] = g.cumcount()
    inv["first_failures_before"] = failed.groupby(inv["member_id"]).cumsum() - failed
    inv["failure_share_before"] = inv["first_failures_before"] / inv["renewals_before"].clip(lower=1)
    inv["failed_last_month"] = g["first_failed"].shift(1).fillna(False).astype(float)
    inv["attempts_last_month"] = g["attempts"].shift(1).fillna(0).astype(float)
    inv["days_to_pay_last_month"] = g["days_to_pay"].shift(1).fillna(0.0)
    # months since the last first-charge failure (99 when none)
    due = pd.to_datetime(inv["due_at"])
    month_num = (due.dt.year * 12 + due.dt.month).astype(float)
    fail_month = month_num.where(inv["first_failed"].astype(bool))
    last_fail = fail_month.groupby(inv["member_id"]).shift(1)
    last_fail = last_fail.groupby(inv["member_id"]).ffill()
    inv["months_since_failure"] = (month_num - last_fail).fillna(99.0)
    severe = inv["severe"].astype(float)
    inv["data_or_hard_before"] = (severe.groupby(inv["member_id"]).cumsum() - severe).clip(upper=1.0)
    soft = inv["soft_failures"].astype(float)
    inv["soft_declines_before"] = soft.groupby(inv["member_id"]).cumsum() - soft
    funds = inv["funds_failures"].astype(float)
    inv["funds_declines_before"] = funds.groupby(inv["member_id"]).cumsum() - funds
    dtp = inv["days_to_pay"].astype(float)
    inv["mean_days_to_pay_before"] = (dtp.groupby(inv["member_id"]).cumsum() - dtp) / inv[
        "renewals_before"
    ].clip(lower=1)
    # the card on file after the last renewal (a member update during its dunning replaces it)
    on_file = g["last_card_id"].shift(1)
    inv["months_to_expiry"] = np.nan
    if cards is not None and not cards.empty:
        require_fields(cards.columns, ("card_id", "expires_at"), "cards", error=DataError)
        expiry = pd.to_datetime(
            cards.drop_duplicates("card_id", keep="last").set_index("card_id")["expires_at"]
        )
        exp_at = pd.to_datetime(on_file.map(expiry))
        inv["months_to_expiry"] = (exp_at - pd.to_datetime(inv["due_at"])).dt.total_seconds() / (
            86400.0 * 30.44
        )
    inv["expires_before_due"] = (inv["months_to_expiry"] <= 0).astype(float)
    inv["card_renewals"] = inv.groupby(["member_id", "card_id"], sort=False).cumcount()
    inv["funding_code"] = inv["funding_type"].map(_FUNDING).fillna(3).astype(float)
    inv["brand_code"] = inv["card_brand"].str.lower().map(_BRANDS).fillna(4).astype(float)
    countries = load_countries()
    regions = countries.region[countries.index(inv["issuer_country"].to_numpy(dtype=object))]
    inv["region_code"] = pd.factorize(pd.Series(regions).astype(str), sort=True)[0].astype(float)
    charges = FailedCharges.build(
        decline_code="x",
        amount=inv["amount"].to_numpy(),
        failed_at=np.zeros(len(inv)),
        currency=inv["currency"].to_numpy(dtype=object),
    )
    inv["amount_usd"] = usd_amount(charges)
    inv["viewing_hours_last_month"] = 0.0
    inv["viewing_change"] = 0.0
    if viewing is not None and not viewing.empty:
        v = viewing.copy()
        v["month"] = pd.to_datetime(v["started_at"]).dt.to_period("M")
        hours = v.groupby([v["member_id"].astype(str), "month"])["seconds_viewed"].sum() / 3600.0
        prev = pd.MultiIndex.from_arrays([inv["member_id"], inv["month"] - 1])
        prev2 = pd.MultiIndex.from_arrays([inv["member_id"], inv["month"] - 2])
        h1 = hours.reindex(prev).fillna(0.0).to_numpy()
        h2 = hours.reindex(prev2).fillna(0.0).to_numpy()
        inv["viewing_hours_last_month"] = h1
        inv["viewing_change"] = h1 - h2
    inv["lapsed"] = np.where(inv["paid"].isna(), np.nan, 1.0 - inv["paid"].astype(float))
    # renewals whose dunning window runs past the end of the log are not known to have lapsed or not yet;
    # all of them leave training and evaluation (keeping only the paid ones would bias the lapse rate)
    log_end = pd.to_datetime(attempts["attempted_at"]).max()
    window = pd.Timedelta(days=load_rules().dunning_window_days)
    censored = pd.to_datetime(inv["due_at"]) > log_end - window
    inv.loc[censored, "lapsed"] = np.nan
    return inv


class ChurnModel:
    """Gradient-boosted classifier of a renewal lapsing (LightGBM). `fit` learns `booster_`."""

    def __init__(
        self,
        *,
        n_estimators: int = 150,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        seed: int = 0,
        features: tuple[str, ...] = FEATURES,
    ) -> None:
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise InputError(f"churn features must be among {', '.join(FEATURES)}, got {', '.join(unknown)}")
        self.features = tuple(features)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.seed = seed

    def fit(self, panel: pd.DataFrame) -> ChurnModel:
        import lightgbm as lgb

        rows = panel[panel["lapsed"].notna()]
        y = rows["lapsed"].to_numpy()
        if len(rows) < 100 or y.min() == y.max():
            raise DataError(f"churn training needs at least 100 renewals with both outcomes, got {len(rows)}")
        self.booster_ = lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=20,
            random_state=self.seed,
            verbose=-1,
            n_jobs=1,
        ).fit(rows[list(self.features)].to_numpy(dtype=np.float64), y.astype(int))
        self.base_rate_ = float(y.mean())
        return self

    def predict_proba(self, panel: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise NotFittedError("the churn model must be fitted before scoring")
        proba: Any = self.booster_.predict_proba(panel[list(self.features)].to_numpy(dtype=np.float64))
        return np.asarray(proba)[:, 1]


def temporal_evaluation(panel: pd.DataFrame, model: ChurnModel, *, test_months: int = 2) -> dict[str, Any]:
    """Train on all months but the last `test_months`, test on those: log loss, AUC, base-rate log loss."""
    from sklearn.metrics import log_loss, roc_auc_score

    rows = panel[panel["lapsed"].notna()]
    months = sorted(rows["month"].unique())
    if len(months) < test_months + 2:
        raise DataError(
            f"a temporal split needs at least {test_months + 2} months of renewals whose outcome is known "
            f"before the month scored, got {len(months)}"
            + (f" ({months[0]} to {months[-1]})" if months else "")
            + ": score a later month, or give logs that reach further back"
        )
    cut = months[-test_months]
    # Train on what was known when the test months began: a renewal still in dunning then had no outcome
    # yet (its label came from the later log), so it leaves training as it would have at the time.
    known_by = cut.start_time - pd.Timedelta(days=load_rules().dunning_window_days)
    train = rows[(rows["month"] < cut) & (pd.to_datetime(rows["due_at"]) <= known_by)]
    test = rows[rows["month"] >= cut]
    model.fit(train)
    p = np.clip(model.predict_proba(test), 1e-6, 1 - 1e-6)
    y = test["lapsed"].to_numpy().astype(int)
    base = np.full(len(y), model.base_rate_)
    out: dict[str, Any] = {
        "train_months": f"{months[0]}..{months[-test_months - 1]}",
        "test_months": f"{cut}..{months[-1]}",
        "train_renewals": len(train),
        "test_renewals": len(test),
        "test_lapse_rate": float(y.mean()),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "base_rate_log_loss": float(log_loss(y, base, labels=[0, 1])),
        "auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
    }
    return out


def churn_inputs(store: Store) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """(attempts, viewing, cards) for `churn_report` from the spine: viewing arrives already summed per
    member and month (all `build_panel` uses), so a store of billions of events sends one row per member-month."""
    if not store.count("payment_attempts"):
        raise InputError(f"the spine {store.path} must hold payment_attempts to learn churn from, got none")
    attempts = store.query("SELECT * FROM payment_attempts")
    viewing = None
    if store.count("viewing_events"):
        viewing = store.query(
            "SELECT member_id, date_trunc('month', started_at) AS started_at, sum(seconds_viewed) AS seconds_viewed "
            "FROM viewing_events GROUP BY ALL"
        )
    cards = store.query("SELECT card_id, expires_at FROM cards") if store.count("cards") else None
    return attempts, viewing, cards


# Months a renewal can be due in: four-digit years a calendar (and pandas) handles, YYYY-MM.
MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"


def churn_report(
    attempts: pd.DataFrame,
    month: str,
    *,
    viewing: pd.DataFrame | None = None,
    model: ChurnModel | None = None,
    top: int = 20,
    cards: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Temporal evaluation on months before `month`, then the members most at risk in `month`."""
    import re

    if not re.fullmatch(MONTH_PATTERN, str(month)):
        raise InputError(f"month must be a month between 1900-01 and 2999-12 like 2025-06, got '{month}'")
    period = pd.Period(month, freq="M")
    model = model if model is not None else ChurnModel()
    # Only what was known when the month began: a past month scored from the whole log trained on May's
    # renewals with outcomes learnt in mid-June (2,490 test renewals instead of 1,675 for June).
    attempts = attempts[pd.to_datetime(attempts["attempted_at"]) < period.start_time]
    panel = build_panel(attempts, viewing=viewing, score_month=period, cards=cards)
    history = panel[panel["month"] < period]
    evaluation = temporal_evaluation(history, model)
    model.fit(history)
    scored = panel[panel["month"] == period].copy()
    scored["risk"] = model.predict_proba(scored) if len(scored) else np.zeros(0)
    scored = scored.sort_values("risk", ascending=False)
    return {
        "month": str(period),
        "members_scored": len(scored),
        "expected_lapses": float(scored["risk"].sum()),
        "evaluation": evaluation,
        "at_risk": [
            {"member_id": m, "risk": float(r)}
            for m, r in zip(scored["member_id"].head(top), scored["risk"].head(top))
        ],
    }
