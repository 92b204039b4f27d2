"""Features of a retry decision, as integer indexes into one-hot groups.

A decision is (failed charge, candidate time, processor). Groups split into three kinds so that scoring
a whole grid is a handful of gathers: context groups (the failure: code, category, MAC, brand, funding,
issuer country, amount, attempt number, the card's past outcomes), time groups (hours since the failure,
local day of week / day of month / hour, hours since the last payday-like date and whether one passed
since the failure, each crossed with the funding type and reason group), and processor groups (processor
x issuer region). `attempts_to_decisions` turns a `payment_attempts` log into (context, action, outcome).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from limelight.errors import DataError, require_fields
from limelight.payments.charges import RECENT_SLOTS, FailedCharges, load_countries, local_calendar, to_hours
from limelight.payments.rules import REASON_GROUPS, load_rules, lookup_unique

__all__ = ["Decisions", "FeatureSpace", "attempts_to_decisions"]

FUNDING = ("credit", "debit", "prepaid", "unknown")
REGIONS = ("NA", "EU", "LATAM", "APAC", "EMEA", "OTHER")
_HSF_EDGES = np.array([2, 6, 12, 24, 36, 48, 72, 96, 144, 192, 264], dtype=np.float64)
_PAYDAY_EDGES = np.array([6, 12, 24, 48, 96], dtype=np.float64)
_HSF_EDGES32 = _HSF_EDGES.astype(np.float32)
_PAYDAY_EDGES32 = _PAYDAY_EDGES.astype(np.float32)
_AMOUNT_EDGES = np.array([3, 5, 8, 12, 18, 25, 40], dtype=np.float64)
_DSF_EDGES = np.array([1, 3, 7, 14], dtype=np.float64)
_FAIL_EDGES = np.array([1, 2, 3, 4, 6, 10], dtype=np.float64)
_SUCC_EDGES = np.array([1, 2, 3, 6, 12], dtype=np.float64)


def _vocab(values: np.ndarray, top: int) -> tuple[str, ...]:
    s = pd.Series(values, dtype=object).fillna("").astype(str)
    return tuple(s.value_counts().index[:top])


def _index(values: np.ndarray, vocab: tuple[str, ...]) -> np.ndarray:
    """Position in vocab, len(vocab) for anything else."""
    table = {v: i for i, v in enumerate(vocab)}
    return lookup_unique(values, lambda u: table.get("" if u is None else str(u), len(vocab)), np.int64)


@dataclass
class FeatureSpace:
    """Vocabularies learned from training logs and the layout of every feature group."""

    codes: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    processors: tuple[str, ...] = ()
    sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def learn(cls, charges: FailedCharges, processors: np.ndarray) -> FeatureSpace:
        space = cls(
            codes=_vocab(charges.decline_code, 60),
            macs=_vocab(charges.merchant_advice_code, 20),
            brands=_vocab(charges.card_brand, 8),
            countries=_vocab(charges.issuer_country, 40),
            processors=tuple(sorted(set(pd.Series(processors).astype(str)))),
        )
        nc, nm, nb, nk, npr = (
            len(space.codes) + 1,
            len(space.macs) + 1,
            len(space.brands) + 1,
            len(space.countries) + 1,
            len(space.processors) + 1,
        )
        seg = len(FUNDING) * 3
        space.sizes = {
            # context
            "code": nc,
            "category": 5,
            "mac": nm,
            "brand": nb,
            "funding": len(FUNDING),
            "country": nk,
            "amount": len(_AMOUNT_EDGES) + 1,
            "attempt_x_reason": 10 * len(REASON_GROUPS),
            "card_failures": len(_FAIL_EDGES) + 1,
            "card_successes": len(_SUCC_EDGES) + 1,
            "card_updated": 2,
            "since_first_x_reason": (len(_DSF_EDGES) + 1) * len(REASON_GROUPS),
            # time
            "hsf_x_reason": (len(_HSF_EDGES) + 1) * len(REASON_GROUPS),
            "hsf_x_mac": (len(_HSF_EDGES) + 1) * nm,
            "dow_x_segment": 7 * seg,
            "dom": 31,
            "hour_x_funding": 6 * len(FUNDING),
            "payday_month_x_segment": (len(_PAYDAY_EDGES) + 1) * 2 * seg,
            "payday_semi_x_segment": (len(_PAYDAY_EDGES) + 1) * 2 * seg,
            "payday_friday_x_segment": (len(_PAYDAY_EDGES) + 1) * 2 * seg,
            # processor
            "processor_x_region": npr * len(REGIONS),
        }
        return space

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.sizes)

    def offsets(self) -> dict[str, int]:
        out, pos = {}, 0
        for name, size in self.sizes.items():
            out[name] = pos
            pos += size
        return out

    @property
    def width(self) -> int:
        return int(sum(self.sizes.values()))

    # -- groups ---------------------------------------------------------------------------------------
    def context(self, charges: FailedCharges) -> dict[str, np.ndarray]:
        rules = load_rules()
        reason = _index(rules.reason_groups(charges.decline_code), REASON_GROUPS)
        reason = np.minimum(reason, len(REASON_GROUPS) - 1)
        funding = np.minimum(_index(charges.funding_type, FUNDING), len(FUNDING) - 1)
        from limelight.payments.policy import usd_amount

        attempt = np.clip(charges.attempt_number, 1, 10) - 1
        dsf = (charges.failed_at - charges.first_failed_at) / 24.0
        return {
            "code": _index(charges.decline_code, self.codes),
            "category": rules.categories(charges.decline_code).astype(np.int64) % 5,
            "mac": _index(charges.merchant_advice_code, self.macs),
            "brand": _index(charges.card_brand, self.brands),
            "funding": funding,
            "country": _index(charges.issuer_country, self.countries),
            "amount": np.digitize(usd_amount(charges), _AMOUNT_EDGES),
            "attempt_x_reason": attempt * len(REASON_GROUPS) + reason,
            "card_failures": np.digitize(charges.card_failures, _FAIL_EDGES),
            "card_successes": np.digitize(charges.card_successes, _SUCC_EDGES),
            "card_updated": charges.card_updated.astype(np.int64),
            "since_first_x_reason": np.digitize(dsf, _DSF_EDGES) * len(REASON_GROUPS) + reason,
        }

    def time(
        self, charges: FailedCharges, times: np.ndarray, ctx: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        countries = load_countries()
        rows = countries.index(charges.issuer_country)[:, None]
        cal = local_calendar(times, countries.offsets(rows, times))
        # small-number arithmetic in float32 / int32 (hours within a month): half the memory traffic
        hsf = (times - charges.failed_at[:, None]).astype(np.float32)
        hsf_b = np.searchsorted(_HSF_EDGES32, hsf, side="right").astype(np.int32)  # == np.digitize
        reason = (ctx["attempt_x_reason"] % len(REASON_GROUPS)).astype(np.int32)[:, None]
        funding = ctx["funding"].astype(np.int32)[:, None]
        coarse = np.where(reason == 0, 0, np.where(reason == 2, 1, 2)).astype(np.int32)  # funds/generic/other
        seg = funding * 3 + coarse
        nseg = len(FUNDING) * 3
        hour = cal["hour"].astype(np.float32)
        dom = cal["dom"].astype(np.int32)
        dow = cal["dow"].astype(np.int32)
        since_month = (dom - 1) * np.float32(24.0) + hour
        since_semi = np.where(dom >= 15, (dom - 15) * np.float32(24.0) + hour, since_month)
        since_friday = ((dow - 4) % 7) * np.float32(24.0) + hour

        def payday(since: np.ndarray) -> np.ndarray:
            bucket = np.searchsorted(_PAYDAY_EDGES32, since, side="right").astype(np.int32)
            return (bucket * 2 + (since < hsf)) * nseg + seg

        return {
            "hsf_x_reason": hsf_b * len(REASON_GROUPS) + reason,
            "hsf_x_mac": hsf_b * (len(self.macs) + 1) + ctx["mac"].astype(np.int32)[:, None],
            "dow_x_segment": dow * nseg + seg,
            "dom": dom - 1,
            "hour_x_funding": np.minimum((hour // 4).astype(np.int32), 5) * len(FUNDING) + funding,
            "payday_month_x_segment": payday(since_month),
            "payday_semi_x_segment": payday(since_semi),
            "payday_friday_x_segment": payday(since_friday),
        }

    def processor(
        self, charges: FailedCharges, processors: np.ndarray, *, per_row: bool
    ) -> dict[str, np.ndarray]:
        """(n, P) indexes for P processors shared by all rows, or (n, 1) for one processor per row."""
        countries = load_countries()
        region = _index(countries.region[countries.index(charges.issuer_country)], REGIONS)
        region = np.minimum(region, len(REGIONS) - 1)
        proc = _index(np.asarray(processors, dtype=object), self.processors)
        if per_row:
            return {"processor_x_region": (proc * len(REGIONS) + region)[:, None]}
        return {"processor_x_region": proc[None, :] * len(REGIONS) + region[:, None]}


@dataclass
class Decisions:
    """Logged retry decisions: the context before each retry, the action taken and what happened."""

    charges: FailedCharges
    retry_at: np.ndarray
    processor: np.ndarray
    propensity: np.ndarray
    succeeded: np.ndarray
    policy: np.ndarray
    amount_usd: np.ndarray


def attempts_to_decisions(attempts: pd.DataFrame, *, include_member_updates: bool = False) -> Decisions:
    """Pair every retry in a `payment_attempts` log with the failure before it (vectorised)."""
    need = ("invoice_id", "card_id", "attempted_at", "attempt_number", "outcome", "decline_code", "amount")
    require_fields(attempts.columns, need, "payment attempts", error=DataError)
    df = attempts.copy()
    for col, default in (
        ("merchant_advice_code", None),
        ("card_brand", "unknown"),
        ("funding_type", "unknown"),
        ("issuer_country", "OTHER"),
        ("processor", "atlas"),
        ("policy", "unknown"),
        ("propensity", np.nan),
        ("currency", "USD"),
        ("member_id", None),
    ):
        if col not in df.columns:
            df[col] = default
    df["t"] = to_hours(df["attempted_at"].to_numpy())
    inv = pd.factorize(df["invoice_id"].to_numpy(dtype=object))[0]
    df = df.iloc[np.lexsort((df["attempt_number"].to_numpy(), df["t"].to_numpy(), inv))].reset_index(
        drop=True
    )
    inv = pd.factorize(df["invoice_id"].to_numpy(dtype=object))[0]
    t = df["t"].to_numpy()
    failed = (df["outcome"] == "failed").to_numpy()
    card = pd.factorize(df["card_id"].astype(str).to_numpy(dtype=object))[0]
    # the card's outcomes so far, in time order over the whole log
    order = np.lexsort((t, card))
    fails = np.empty(len(df), dtype=np.int64)
    succ = np.empty(len(df), dtype=np.int64)
    grp = pd.Series(card[order])
    fails[order] = pd.Series(failed[order].astype(np.int64)).groupby(grp.to_numpy()).cumsum().to_numpy()
    succ[order] = pd.Series((~failed[order]).astype(np.int64)).groupby(grp.to_numpy()).cumsum().to_numpy()
    starts = np.r_[True, inv[1:] != inv[:-1]]
    first_idx = np.flatnonzero(starts)
    first_t = np.repeat(t[first_idx], np.diff(np.r_[first_idx, len(df)]))
    cur = np.flatnonzero(~starts)
    prev = cur - 1
    keep = failed[prev]
    if not include_member_updates:
        keep &= df["policy"].to_numpy(dtype=object)[cur] != "member_update"
    cur, prev = cur[keep], prev[keep]
    p = df.iloc[prev]
    charges = FailedCharges.build(
        decline_code=p["decline_code"].to_numpy(dtype=object),
        amount=p["amount"].astype(float).to_numpy(),
        failed_at=t[prev],
        first_failed_at=first_t[prev],
        invoice_id=p["invoice_id"].to_numpy(dtype=object),
        member_id=p["member_id"].to_numpy(dtype=object),
        card_id=p["card_id"].to_numpy(dtype=object),
        currency=p["currency"].to_numpy(dtype=object),
        merchant_advice_code=p["merchant_advice_code"].to_numpy(dtype=object),
        card_brand=p["card_brand"].fillna("unknown").to_numpy(dtype=object),
        funding_type=p["funding_type"].fillna("unknown").to_numpy(dtype=object),
        issuer_country=p["issuer_country"].fillna("OTHER").to_numpy(dtype=object),
        attempt_number=p["attempt_number"].fillna(1).astype(np.int64).to_numpy(),
        card_updated=card[cur] != card[prev],
        card_failures=fails[prev],
        card_successes=succ[prev],
        last_processor=p["processor"].fillna("atlas").to_numpy(dtype=object),
        recent_attempts=np.full((len(prev), RECENT_SLOTS), np.nan),
    )
    c = df.iloc[cur]
    from limelight.payments.policy import usd_amount

    return Decisions(
        charges=charges,
        retry_at=t[cur],
        processor=c["processor"].fillna("atlas").to_numpy(dtype=object),
        propensity=c["propensity"].astype(float).to_numpy(),
        succeeded=(c["outcome"] == "succeeded").to_numpy(),
        policy=c["policy"].to_numpy(dtype=object),
        amount_usd=usd_amount(charges),
    )
