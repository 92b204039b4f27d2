"""A payment simulator for the demo world and the benchmarks: monthly renewals, declines, dunning.

Parameters live in `rules/simulator.toml` with their documentation and sources. The mechanisms:
- a renewal's first charge fails with a rate by funding type; the failure has a reason group (funds,
  generic, transient, hard, data) and a Stripe decline code; Mastercard issuers may add an advice code;
- funds-type failures recover on the member's paydays (weekly/biweekly Fridays, the 1st and 15th, the
  1st), from local midnight, for a random time before other billers drain the money (debit quickly);
- transient failures recover after an outage; hard and data failures need a new card;
- each acquirer adds its own approval chance by the card's issuer region (local acquiring approves more);
- a member asked to update the card may do so (less likely as days pass); the new card is charged at once.

Every attempt goes through `Gate` again at execution time, so the logs obey the network rules whatever the
policy does. The policy under test only ever sees `FailedCharges` built from what a log would hold; the one
exception is the benchmark's `OraclePolicy` (an upper bound, never deployed), which gets the true success
chances through `bind_truth` / `_Engine.success_probability`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import InputError, RuleError, require_fields
from limelight.payments.charges import (
    RECENT_SLOTS,
    FailedCharges,
    from_hours,
    in_minor_units,
    load_countries,
    to_hours,
)
from limelight.payments.gate import Gate, audit_attempts
from limelight.payments.policy import RetryPolicy, fixed_policy, usd_amount
from limelight.payments.router import ProcessorRouter, load_router
from limelight.payments.rules import REASON_GROUPS, load_rules, load_toml

__all__ = [
    "ATTEMPT_COLUMNS",
    "SimulationSummary",
    "load_params",
    "simulate_dunning",
    "simulate_payment_logs",
    "simulate_payment_world",
    "summarize",
]

log = logging.getLogger(__name__)

ATTEMPT_COLUMNS = (
    "attempt_id",
    "member_id",
    "invoice_id",
    "card_id",
    "amount",
    "currency",
    "attempted_at",
    "attempt_number",
    "outcome",
    "decline_code",
    "merchant_advice_code",
    "card_brand",
    "funding_type",
    "issuer_country",
    "processor",
    "policy",
    "propensity",
)
FUNDING = ("credit", "debit", "prepaid", "unknown")
BRANDS = ("visa", "mastercard", "amex", "discover")
SCHEDULES = ("biweekly", "weekly", "semimonthly", "monthly")
_MAC_WAITS = np.array([1.0, 24.0, 48.0, 96.0, 144.0, 192.0, 240.0])
_MAC_CODES = np.array(["24", "25", "26", "27", "28", "29", "30"], dtype=object)
_SYNTH_COUNTRIES = {
    "US": 0.40,
    "GB": 0.08,
    "DE": 0.07,
    "FR": 0.06,
    "BR": 0.08,
    "MX": 0.05,
    "CA": 0.05,
    "IN": 0.06,
    "JP": 0.04,
    "ES": 0.04,
    "IT": 0.04,
    "AU": 0.03,
}


@lru_cache(maxsize=1)
def load_params() -> dict[str, Any]:
    """Parameter values from `rules/simulator.toml` (each entry must carry value, doc and source)."""
    raw = load_toml("simulator.toml")
    out: dict[str, Any] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not {"value", "doc", "source"} <= set(entry):
            raise RuleError(f"simulator.toml entry '{name}' must have value, doc and source")
        out[name] = entry["value"]
    return out


def _by(table: dict[str, float], keys: tuple[str, ...]) -> np.ndarray:
    return np.array([float(table[k]) for k in keys])


def _choice(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _rows_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Per-row categorical draw from a (n, k) matrix of probabilities."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((cum < rng.random(len(probs))[:, None]).sum(axis=1), probs.shape[1] - 1)


def _blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`values` as objects with None where `mask` holds (missing code in the log)."""
    out = np.asarray(values, dtype=object).copy()
    out[np.asarray(mask, dtype=bool)] = None
    return out


def _hash_uniform(key: np.ndarray, day: np.ndarray, stream: int) -> np.ndarray:
    """Deterministic U(0,1) per (invoice key, payday, stream): the same payday is funded or not for
    every attempt that looks at it (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        x = key.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= day.astype(np.int64).astype(np.uint64) + np.uint64(stream * 0x632BE59BD9B4E019)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _paydays(local_day: np.ndarray, schedule: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most recent payday (<= local_day) and the next one, as days since the epoch (local)."""
    d = local_day.astype(np.int64)
    d64 = d.astype("datetime64[D]")
    month_start = d64.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    next_month = (d64.astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64)
    dom = d - month_start + 1
    dow = (d + 3) % 7
    fri = d - ((dow - 4) % 7)
    odd = (((fri + 3) // 7) + phase) % 2 == 1
    bi = np.where(odd, fri - 7, fri)
    prev = np.select(
        [schedule == 0, schedule == 1, schedule == 2],
        [bi, fri, np.where(dom >= 15, month_start + 14, month_start)],
        month_start,
    )
    nxt = np.select(
        [schedule == 0, schedule == 1, schedule == 2],
        [bi + 14, fri + 7, np.where(dom >= 15, next_month, month_start + 14)],
        next_month,
    )
    return prev, nxt


@dataclass
class _Members:
    """Member-level state the simulator carries between months (one card per member)."""

    member_id: np.ndarray
    zone: np.ndarray  # row of the member's country in countries.csv (its time zone)
    country: np.ndarray
    currency: np.ndarray
    usd_per_unit: np.ndarray
    minor_unit: np.ndarray
    price_usd: np.ndarray
    schedule: np.ndarray
    phase: np.ndarray
    card_seq: np.ndarray
    brand: np.ndarray
    funding: np.ndarray
    issuer_country: np.ndarray
    expires_at: np.ndarray
    cancelled_at: np.ndarray
    card_failures: np.ndarray
    card_successes: np.ndarray
    recent: np.ndarray
    lapsed: np.ndarray
    fragility: np.ndarray
    issued: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # for the cards table

    def note_cards(self, idx: np.ndarray) -> None:
        """Remember the cards now on file at `idx` (id parts and expiry) for the cards table."""
        self.issued.append((idx.copy(), self.card_seq[idx].copy(), self.expires_at[idx].copy()))

    def cards_frame(self) -> pd.DataFrame:
        """Every card that was ever on file: card_id, member_id, expires_at (UTC; what a processor's card
        object reports as exp_month/exp_year)."""
        issued = self.issued
        if not issued:
            return pd.DataFrame({"card_id": [], "member_id": [], "expires_at": pd.to_datetime([])})
        idx = np.concatenate([i for i, _, _ in issued])
        seq = np.concatenate([q for _, q, _ in issued])
        exp = np.concatenate([e for _, _, e in issued])
        ids = pd.Series(self.member_id[idx], dtype=str) + "-c" + pd.Series(seq).astype(str)
        frame = pd.DataFrame(
            {"card_id": ids, "member_id": self.member_id[idx], "expires_at": from_hours(exp)}
        )
        return frame.drop_duplicates("card_id", keep="last").reset_index(drop=True)

    def card_id(self, idx: np.ndarray) -> np.ndarray:
        # built once per card (member id + "-c" + sequence), cached between calls
        cache = self.__dict__.get("_card_ids")
        if cache is None:
            cache = self._card_ids = self._build_ids(np.arange(len(self.member_id)))
        return np.asarray(cache[idx], dtype=object)

    def _build_ids(self, idx: np.ndarray) -> np.ndarray:
        return np.array(
            [f"{m}-c{c}" for m, c in zip(self.member_id[idx].tolist(), self.card_seq[idx].tolist())],
            dtype=object,
        )

    def new_card(
        self, idx: np.ndarray, rng: np.random.Generator, start_h: np.ndarray, params: dict[str, Any]
    ) -> None:
        self.card_seq[idx] += 1
        cache = self.__dict__.get("_card_ids")
        if cache is not None:
            cache[idx] = self._build_ids(idx)
        self.expires_at[idx] = start_h + rng.integers(12, 48, len(idx)) * 730.0
        self.card_failures[idx] = 0
        self.card_successes[idx] = 0
        self.recent[idx] = np.nan
        self.note_cards(idx)


def _make_members(
    frame: pd.DataFrame, start_h: float, rng: np.random.Generator, params: dict[str, Any]
) -> _Members:
    n = len(frame)
    countries = load_countries()
    country = (
        frame["country"].fillna("US").astype(str).str.upper().to_numpy(dtype=object)
        if "country" in frame
        else np.full(n, "US", dtype=object)
    )
    ci = countries.index(country)
    plan_prices = params["plan_price_usd"]
    plans = (
        frame["plan"].fillna("other").astype(str).str.lower().to_numpy()
        if "plan" in frame
        else np.full(n, "other")
    )
    price = (
        pd.Series(plans)
        .map(lambda p: float(plan_prices.get(p, plan_prices["other"])))
        .to_numpy(dtype=np.float64)
    )
    foreign = rng.random(n) < float(params["foreign_card_share"])
    issuer = np.where(foreign, rng.choice(np.array(["US", "GB", "DE", "FR", "BR"], dtype=object), n), country)
    cancelled = to_hours(frame["cancelled_at"].to_numpy()) if "cancelled_at" in frame else np.full(n, np.inf)
    life = float(params["card_life_months"])
    sigma = float(params["member_fragility_sigma"])
    return _Members(
        member_id=frame["member_id"].astype(str).to_numpy(dtype=object),
        zone=ci,
        country=country,
        currency=countries.currency[ci],
        usd_per_unit=countries.usd_per_unit[ci],
        minor_unit=countries.minor_unit[ci],
        price_usd=price,
        schedule=_choice(rng, _by(params["pay_schedule_share"], SCHEDULES), n),
        phase=rng.integers(0, 2, n),
        card_seq=np.ones(n, dtype=np.int64),
        brand=np.array(BRANDS, dtype=object)[_choice(rng, _by(params["brand_share"], BRANDS), n)],
        funding=_choice(rng, _by(params["funding_share"], FUNDING), n),
        issuer_country=issuer.astype(object),
        expires_at=start_h + rng.uniform(0, life, n) * 730.0,
        cancelled_at=cancelled,
        card_failures=np.zeros(n, dtype=np.int64),
        card_successes=np.zeros(n, dtype=np.int64),
        recent=np.full((n, RECENT_SLOTS), np.nan),
        lapsed=np.zeros(n, dtype=bool),
        fragility=np.exp(sigma * rng.standard_normal(n) - sigma * sigma / 2.0),
    )


class _Log:
    """Attempt rows collected as arrays, assembled into one frame at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, **cols: np.ndarray) -> None:
        self.parts.append(cols)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in ATTEMPT_COLUMNS})
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        df = pd.DataFrame(cols)
        df["attempted_at"] = from_hours(df.pop("t").to_numpy())
        df["attempt_id"] = df["invoice_id"].astype(str) + "-" + df["attempt_number"].astype(str)
        df["amount"] = df["amount"].round(2)
        df = df.sort_values(["attempted_at", "attempt_id"], kind="stable").reset_index(drop=True)
        return df[list(ATTEMPT_COLUMNS)]


class _Engine:
    """Runs dunning for a batch of failed invoices (one per member) with one policy."""

    def __init__(
        self,
        members: _Members,
        policy: RetryPolicy,
        rng: np.random.Generator,
        params: dict[str, Any],
        router: ProcessorRouter,
        gate: Gate,
        log_: _Log,
        synthetic_cancels: bool,
    ) -> None:
        self.m = members
        self.policy = policy
        self.rng = rng
        self.p = params
        self.router = router
        self.gate = gate
        self.log = log_
        self.synthetic_cancels = synthetic_cancels
        regions = ("NA", "EU", "LATAM", "APAC", "EMEA", "OTHER")
        approval = params["processor_approval"]
        self.approval = np.array([[float(approval[str(n)][r]) for r in regions] for n in router.names])
        self.region_index = {r: i for i, r in enumerate(regions)}

    # -- attempt bookkeeping -------------------------------------------------------------------------
    def _record(
        self,
        midx: np.ndarray,
        invoice: np.ndarray,
        amount: np.ndarray,
        t: np.ndarray,
        number: np.ndarray,
        ok: np.ndarray,
        code: np.ndarray,
        mac: np.ndarray,
        processor: np.ndarray,
        policy: np.ndarray,
        propensity: np.ndarray,
    ) -> None:
        m = self.m
        self.log.add(
            member_id=m.member_id[midx],
            invoice_id=invoice,
            card_id=m.card_id(midx),
            amount=amount,
            currency=m.currency[midx],
            t=t,
            attempt_number=number,
            outcome=np.where(ok, "succeeded", "failed").astype(object),
            decline_code=_blank(code, ok),
            merchant_advice_code=_blank(mac, ok | (mac == "")),
            card_brand=m.brand[midx],
            funding_type=np.array(FUNDING, dtype=object)[m.funding[midx]],
            issuer_country=m.issuer_country[midx],
            processor=processor.astype(object),
            policy=policy.astype(object),
            propensity=propensity.astype(np.float64),
        )
        # member-level card history (the gate's 15-in-30 cap and the card's past outcomes)
        m.recent[midx, 1:] = m.recent[midx, :-1]
        m.recent[midx, 0] = t
        m.card_failures[midx] += ~ok
        m.card_successes[midx] += ok

    # -- the reasons behind a failure ----------------------------------------------------------------
    def _draw_failures(self, midx: np.ndarray, t: np.ndarray, expired: np.ndarray) -> dict[str, np.ndarray]:
        rng, p, m = self.rng, self.p, self.m
        n = len(midx)
        funding = m.funding[midx]
        mix = np.array([[float(p["reason_mix"][f][g]) for g in REASON_GROUPS] for f in FUNDING])
        group = _rows_choice(rng, mix[funding])
        group = np.where(expired, REASON_GROUPS.index("data"), group)
        code = np.empty(n, dtype=object)
        for gi, g in enumerate(REASON_GROUPS):
            sel = group == gi
            if sel.any():
                names = np.array(list(p["codes"][g]), dtype=object)
                code[sel] = names[_choice(rng, _by(p["codes"][g], tuple(names)), int(sel.sum()))]
        code = np.where(expired, "expired_card", code)
        generic = group == REASON_GROUPS.index("generic")
        funds_like = generic & (rng.random(n) < float(p["generic_funds_like_share"]))
        dormant_share = np.where(
            generic, float(p["dormant_share"]["generic"]), float(p["dormant_share"]["funds"])
        )
        return {
            "group": group,
            "code": code,
            "funds_like": (group == REASON_GROUPS.index("funds")) | funds_like,
            "dormant": rng.random(n) < dormant_share,
            "outage_end": t + rng.exponential(float(p["transient_outage_hours_mean"]), n),
            "has_mac": (m.brand[midx] == "mastercard") & (rng.random(n) < float(p["mac_share"])),
            "key": rng.integers(1, 2**62, n, dtype=np.int64),
        }

    def _mac(
        self, midx: np.ndarray, state: dict[str, np.ndarray], t: np.ndarray, code: np.ndarray
    ) -> np.ndarray:
        m = self.m
        group = state["group"]
        mac = np.full(len(midx), "", dtype=object)
        table = self.p["mac_by_group"]
        for gi, g in enumerate(REASON_GROUPS):
            if g != "funds" and table[g] != "wait_until_payday":
                mac[group == gi] = table[g]
        revoked = np.isin(code.astype(str), ["stop_payment_order", "revocation_of_authorization"])
        mac[revoked] = "21"
        waiting = (
            state["funds_like"]
            & (group != REASON_GROUPS.index("hard"))
            & (group != REASON_GROUPS.index("data"))
        )
        if waiting.any():
            countries, zone = load_countries(), m.zone[midx]
            local_day = np.floor(countries.to_local(zone, t) / 24.0)
            _, nxt = _paydays(local_day, m.schedule[midx], m.phase[midx])
            hours_to = countries.to_utc(zone, nxt * 24.0 + float(self.p["funds_arrival_local_hour"])) - t
            k = np.searchsorted(_MAC_WAITS, hours_to, side="right") - 1
            mac = np.where(waiting, np.where(k >= 0, _MAC_CODES[np.clip(k, 0, 6)], ""), mac)
        return np.where(state["has_mac"], mac, "").astype(object)

    def _success(
        self,
        midx: np.ndarray,
        state: dict[str, np.ndarray],
        t: np.ndarray,
        first: np.ndarray,
        processor_idx: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether an attempt at t succeeds, and whether the acquirer (not the issuer) declined it."""
        rng, p, m = self.rng, self.p, self.m
        n = len(midx)
        funding = m.funding[midx]
        group = state["group"]
        arrival = float(p["funds_arrival_local_hour"])
        countries, zone = load_countries(), m.zone[midx]
        local_day = np.floor((countries.to_local(zone, t) - arrival) / 24.0)
        prev, _ = _paydays(local_day, m.schedule[midx], m.phase[midx])
        payday_utc = countries.to_utc(zone, prev * 24.0 + arrival)
        q = _by(p["payday_funded_prob"], FUNDING)[funding]
        tau = _by(p["funded_hours_mean"], FUNDING)[funding]
        funded = (_hash_uniform(state["key"], prev, 1) < q) & ~state["dormant"] & (payday_utc > first)
        lasts = -tau * np.log(np.maximum(_hash_uniform(state["key"], prev, 2), 1e-12))
        funds_ok = (funded & (t - payday_utc < lasts)) | (
            ~state["dormant"] & (rng.random(n) < float(p["base_success"]))
        )
        generic = group == REASON_GROUPS.index("generic")
        generic_ok = (
            ~state["dormant"] & (t - first >= 24.0) & (rng.random(n) < float(p["generic_retry_success"]))
        )
        transient_ok = (t >= state["outage_end"]) & (rng.random(n) < float(p["transient_success_after"]))
        issuer_ok = np.select(
            [state["funds_like"], generic, group == REASON_GROUPS.index("transient")],
            [funds_ok, generic_ok, transient_ok],
            False,
        )
        region = load_countries().region[load_countries().index(m.issuer_country[midx])]
        ridx = np.array([self.region_index.get(str(r), 5) for r in region])
        acquirer_ok = rng.random(n) < self.approval[processor_idx, ridx]
        return issuer_ok & acquirer_ok, issuer_ok & ~acquirer_ok

    def success_probability(
        self, midx: np.ndarray, state: dict[str, np.ndarray], times: np.ndarray, first: np.ndarray
    ) -> np.ndarray:
        """(n, K, P) true chance that an attempt at each of `times` (n, K) through each processor succeeds,
        from the hidden state of each failure. Benchmarks only (the oracle upper bound): no learned policy
        ever receives it."""
        p, m = self.p, self.m
        n, k = times.shape
        funding = m.funding[midx][:, None]
        group = state["group"][:, None]
        dormant = state["dormant"][:, None]
        arrival = float(p["funds_arrival_local_hour"])
        countries, zone = load_countries(), m.zone[midx][:, None]
        local_day = np.floor((countries.to_local(zone, times) - arrival) / 24.0)
        sched = np.broadcast_to(m.schedule[midx][:, None], (n, k))
        phase = np.broadcast_to(m.phase[midx][:, None], (n, k))
        prev, _ = _paydays(local_day.ravel(), sched.ravel(), phase.ravel())
        prev = prev.reshape(n, k)
        payday_utc = countries.to_utc(zone, prev * 24.0 + arrival)
        key = np.broadcast_to(state["key"][:, None], (n, k))
        q = _by(p["payday_funded_prob"], FUNDING)[funding]
        tau = _by(p["funded_hours_mean"], FUNDING)[funding]
        funded = (
            (_hash_uniform(key.ravel(), prev.ravel(), 1).reshape(n, k) < q)
            & ~dormant
            & (payday_utc > first[:, None])
        )
        lasts = -tau * np.log(np.maximum(_hash_uniform(key.ravel(), prev.ravel(), 2).reshape(n, k), 1e-12))
        base = float(p["base_success"]) * ~dormant
        funds_p = np.where(funded & (times - payday_utc < lasts), 1.0, base)
        generic_p = (~dormant & (times - first[:, None] >= 24.0)) * float(p["generic_retry_success"])
        transient_p = (times >= state["outage_end"][:, None]) * float(p["transient_success_after"])
        issuer_p = np.select(
            [
                state["funds_like"][:, None],
                group == REASON_GROUPS.index("generic"),
                group == REASON_GROUPS.index("transient"),
            ],
            [funds_p, generic_p, transient_p],
            0.0,
        )
        region = load_countries().region[load_countries().index(m.issuer_country[midx])]
        ridx = np.array([self.region_index.get(str(r), 5) for r in region], dtype=np.int64)
        approval = self.approval[:, ridx].T  # (n, P)
        return issuer_p[:, :, None] * approval[:, None, :]

    # -- dunning ---------------------------------------------------------------------------------------
    def run(
        self,
        midx: np.ndarray,
        invoice: np.ndarray,
        amount: np.ndarray,
        first: np.ndarray,
        expired: np.ndarray,
    ) -> np.ndarray:
        """Dunning for invoices whose first attempt (at `first`, already logged) failed. Returns recovered."""
        rng, p, m, rules = self.rng, self.p, self.m, self.gate.rules
        n = len(midx)
        state = self._draw_failures(midx, first, expired)
        code = state["code"].copy()
        mac = self._mac(midx, state, first, code)
        # the first attempt's row is written by the caller; patch in its code and MAC
        self._last_first_codes = (code.copy(), mac.copy())
        window_end = first + rules.dunning_window_days * 24.0
        cancel = m.cancelled_at[midx].copy()
        if self.synthetic_cancels:
            hazard = float(p["dunning_cancel_hazard_per_day"])
            cancel = np.minimum(cancel, first + rng.exponential(24.0 / max(hazard, 1e-9), n))
            m.cancelled_at[midx] = cancel  # kept, so that the log's audit can check no charge followed it
        failed_at = first.copy()
        attempt_no = np.ones(n, dtype=np.int64)
        processor = np.full(n, self.router.names[self.router.default_index], dtype=object)
        active = np.ones(n, dtype=bool)
        recovered = np.zeros(n, dtype=bool)
        asked = np.zeros(n, dtype=bool)
        update_at = np.full(n, np.inf)
        retry_at = np.full(n, np.inf)
        retry_proc = processor.copy()
        retry_prop = np.ones(n)
        need = np.ones(n, dtype=bool)
        for _ in range(64):
            if not active.any():
                break
            todo = np.flatnonzero(active & need)
            if todo.size:
                charges = FailedCharges(
                    invoice_id=invoice[todo],
                    member_id=m.member_id[midx[todo]],
                    card_id=m.card_id(midx[todo]),
                    amount=amount[todo],
                    currency=m.currency[midx[todo]],
                    decline_code=code[todo],
                    merchant_advice_code=mac[todo],
                    card_brand=m.brand[midx[todo]],
                    funding_type=np.array(FUNDING, dtype=object)[m.funding[midx[todo]]],
                    issuer_country=m.issuer_country[midx[todo]],
                    attempt_number=attempt_no[todo],
                    failed_at=failed_at[todo],
                    first_failed_at=first[todo],
                    card_updated=np.zeros(todo.size, dtype=bool),
                    cancelled_at=np.full(todo.size, np.inf),
                    card_failures=m.card_failures[midx[todo]],
                    card_successes=m.card_successes[midx[todo]],
                    last_processor=processor[todo],
                    recent_attempts=m.recent[midx[todo]].copy(),
                )
                bind = getattr(self.policy, "bind_truth", None)
                if bind is not None:  # the benchmark's oracle only
                    sub = {k: v[todo] for k, v in state.items()}
                    rows, t0 = midx[todo], first[todo]
                    bind(lambda times, r=rows, s=sub, f=t0: self.success_probability(r, s, times, f))
                d = self.policy.decide(charges, gate=self.gate, rng=rng)
                retry_at[todo] = d.retry_at
                retry_proc[todo] = d.processor
                retry_prop[todo] = d.propensity
                new_ask = d.ask_update & ~asked[todo]
                if new_ask.any():
                    ai = todo[new_ask]
                    asked[ai] = True
                    days = (failed_at[ai] - first[ai]) / 24.0
                    respond = rng.random(ai.size) < float(p["member_update_prob"]) * np.exp(
                        -days / float(p["member_update_decay_days"])
                    )
                    when = np.maximum(
                        failed_at[ai] + rng.exponential(float(p["member_update_delay_hours_mean"]), ai.size),
                        failed_at[ai] + rules.min_gap_hours,
                    )
                    update_at[ai] = np.where(
                        respond & (when <= window_end[ai]) & (when < cancel[ai]), when, np.inf
                    )
                need[todo] = False
            event = np.minimum(retry_at, update_at)
            idle = active & ~np.isfinite(event)
            active &= ~idle
            # an attempt after the member cancelled or outside the window is never made
            blocked = active & ((event >= cancel) | (event > window_end))
            active &= ~blocked
            go = np.flatnonzero(active)
            if go.size == 0:
                break
            is_update = update_at[go] <= retry_at[go]
            t = event[go]
            gm = midx[go]
            # member entered a new card: charge it now (customer-initiated, propensity 1)
            up = go[is_update]
            if up.size:
                m.new_card(midx[up], rng, first[up], p)
                update_at[up] = np.inf
                asked[up] = False
            pidx = np.where(is_update, self.router.default_index, self.router.index_of(retry_proc[go]))
            st = {k: v[go] for k, v in state.items()}
            ok, acquirer_declined = self._success(gm, st, t, first[go], pidx)
            ok = np.where(is_update, rng.random(go.size) < float(p["new_card_success"]), ok)
            # a new card that fails behaves like a funds decline on that card
            if up.size:
                fails_up = go[is_update & ~ok]
                state["group"][fails_up] = REASON_GROUPS.index("funds")
                state["funds_like"][fails_up] = True
                state["dormant"][fails_up] = False
                code[fails_up] = "insufficient_funds"
            acquirer_declined &= ~is_update
            new_code = np.where(acquirer_declined, "do_not_honor", code[go])
            new_mac = self._mac(gm, {k: v[go] for k, v in state.items()}, t, new_code.astype(object))
            new_mac = np.where(acquirer_declined, "", new_mac)
            attempt_no[go] += 1
            self._record(
                gm,
                invoice[go],
                amount[go],
                t,
                attempt_no[go],
                ok,
                new_code.astype(object),
                new_mac.astype(object),
                self.router.names[pidx],
                np.where(is_update, "member_update", self.policy.name).astype(object),
                np.where(is_update, 1.0, retry_prop[go]),
            )
            code[go] = np.where(ok, code[go], new_code)
            mac[go] = np.where(ok, mac[go], new_mac)
            failed_at[go] = np.where(ok, failed_at[go], t)
            processor[go] = self.router.names[pidx]
            # a pending card update lands no sooner than the minimum gap after this attempt
            pending = np.isfinite(update_at[go])
            update_at[go] = np.where(pending, np.maximum(update_at[go], t + rules.min_gap_hours), np.inf)
            recovered[go[ok]] = True
            active[go[ok]] = False
            retry_at[go] = np.inf
            need[go[~ok]] = True
        return recovered


def _initial_attempts(
    engine: _Engine,
    midx: np.ndarray,
    due: np.ndarray,
    month_tag: str,
    rng: np.random.Generator,
    params: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Log the scheduled renewal charges; run dunning on the failures. Returns (invoice ids, recovered|paid)."""
    m = engine.m
    n = len(midx)
    invoice = (pd.Series(m.member_id[midx], dtype=str) + "-" + month_tag).radd("inv-").to_numpy(dtype=object)
    amount = in_minor_units(m.price_usd[midx] / m.usd_per_unit[midx], m.minor_unit[midx])
    expiring = m.expires_at[midx] <= due
    updater = expiring & (rng.random(n) < float(params["account_updater_share"]))
    if updater.any():
        m.new_card(midx[updater], rng, due[updater], params)
    expired = expiring & ~updater
    fail_rate = np.minimum(
        _by(params["first_failure_rate"], FUNDING)[m.funding[midx]] * m.fragility[midx], 0.9
    )
    failed = expired | (rng.random(n) < fail_rate)
    fidx = np.flatnonzero(failed)
    paid = ~failed
    # first attempts that succeed
    s = np.flatnonzero(~failed)
    router = engine.router
    default = np.full(n, router.names[router.default_index], dtype=object)
    if s.size:
        engine._record(
            midx[s],
            invoice[s],
            amount[s],
            due[s],
            np.ones(s.size, dtype=np.int64),
            np.ones(s.size, dtype=bool),
            np.full(s.size, None, dtype=object),
            np.full(s.size, "", dtype=object),
            default[s],
            np.full(s.size, "renewal", dtype=object),
            np.ones(s.size),
        )
    if fidx.size:
        # draw the failure reasons first so the first row carries the right code
        part_start = len(engine.log.parts)
        engine._record(
            midx[fidx],
            invoice[fidx],
            amount[fidx],
            due[fidx],
            np.ones(fidx.size, dtype=np.int64),
            np.zeros(fidx.size, dtype=bool),
            np.full(fidx.size, "generic_decline", dtype=object),
            np.full(fidx.size, "", dtype=object),
            default[fidx],
            np.full(fidx.size, "renewal", dtype=object),
            np.ones(fidx.size),
        )
        rec = engine.run(midx[fidx], invoice[fidx], amount[fidx], due[fidx], expired[fidx])
        codes, macs = engine._last_first_codes
        row = engine.log.parts[part_start]
        row["decline_code"] = codes.astype(object)
        row["merchant_advice_code"] = _blank(macs, macs == "")
        paid[fidx] = rec
    return invoice, paid


def simulate_payment_logs(
    members: pd.DataFrame, start: date, end: date, seed: int, *, policy: str | RetryPolicy = "fixed"
) -> pd.DataFrame:
    """The attempts of `simulate_payment_world` (rows with exactly the `payment_attempts` columns)."""
    return simulate_payment_world(members, start, end, seed, policy=policy)[0]


def simulate_payment_world(
    members: pd.DataFrame, start: date, end: date, seed: int, *, policy: str | RetryPolicy = "fixed"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly renewal charges and dunning retries for `members` between `start` and `end` (inclusive).

    `members` needs member_id; country, plan, signup_date and cancelled_at are used when present. Each
    member renews monthly on their signup day (capped at 28); a renewal not recovered within the dunning
    window lapses the membership (no later renewals). `policy="fixed"` logs with the epsilon-randomised
    strongest fixed schedule, so every retry row has a propensity > 0 for off-policy evaluation.
    Returns (attempts with exactly the `payment_attempts` columns, cards: card_id, member_id, expires_at
    for every card on file during the run, as a processor's stored card objects report them).
    """
    require_fields(members.columns, ("member_id",), "members")
    if end < start:
        raise InputError(f"end must be on or after start, got start={start} end={end}")
    pol = _resolve_policy(policy)
    params = load_params()
    rng = np.random.default_rng(seed)
    start_h = float(to_hours([pd.Timestamp(start)])[0])
    mem = _make_members(members.reset_index(drop=True), start_h, rng, params)
    n = len(mem.member_id)
    mem.note_cards(np.arange(n))
    if "signup_date" in members.columns:
        signup = pd.to_datetime(members["signup_date"].reset_index(drop=True)).fillna(pd.Timestamp(start))
    else:
        signup = pd.Series(pd.Timestamp(start) - pd.to_timedelta(rng.integers(30, 900, n), unit="D"))
    signup_h = to_hours(signup.to_numpy())
    bill_day = np.minimum(signup.dt.day.to_numpy(), 28)
    charge_hour = rng.uniform(0.0, 24.0, n)  # the billing batch runs through the day (UTC)
    log_ = _Log()
    engine = _Engine(mem, pol, rng, params, load_router(), Gate(), log_, synthetic_cancels=False)
    month = pd.Timestamp(start).to_period("M")
    last = pd.Timestamp(end).to_period("M")
    while month <= last:
        first_day = month.start_time
        due_dates = first_day + pd.to_timedelta(bill_day - 1, unit="D")
        due = to_hours(due_dates.to_numpy()) + charge_hour
        in_range = (due >= start_h) & (due < float(to_hours([pd.Timestamp(end) + pd.Timedelta(days=1)])[0]))
        eligible = in_range & (due > signup_h + 24.0 * 27) & (due < mem.cancelled_at) & ~mem.lapsed
        midx = np.flatnonzero(eligible)
        if midx.size:
            _, paid = _initial_attempts(engine, midx, due[midx], month.strftime("%Y%m"), rng, params)
            mem.lapsed[midx[~paid]] = True
        month += 1
    frame = log_.frame()
    # dunning that would continue past `end` has not happened yet: keep only what the log holds by then
    cutoff = pd.Timestamp(end)
    if cutoff.tzinfo is not None:
        cutoff = cutoff.tz_convert("UTC").tz_localize(None)
    if not isinstance(end, datetime):  # a date: the whole day counts
        cutoff = cutoff + pd.Timedelta(days=1)
    frame = frame[frame["attempted_at"] < cutoff]
    frame = frame.reset_index(drop=True)
    log.info("simulated %d attempts for %d members (%s)", len(frame), n, pol.name)
    cards = mem.cards_frame()
    cards = cards[cards["card_id"].isin(set(frame["card_id"].astype(str)))].reset_index(drop=True)
    return frame, cards


def _resolve_policy(policy: str | RetryPolicy) -> RetryPolicy:
    if isinstance(policy, RetryPolicy):
        return policy
    if policy == "fixed":
        return fixed_policy(logging=True)
    raise InputError(
        f"policy must be 'fixed' or a RetryPolicy (train a SmartRetryPolicy from logs first), got '{policy}'"
    )


def simulate_dunning(
    n_invoices: int, seed: int, policy: str | RetryPolicy = "fixed", *, start: date = date(2025, 1, 1)
) -> pd.DataFrame:
    """`n_invoices` renewals whose first charge failed, spread over two months from `start`, each with its
    own synthetic member (country mix in `_SYNTH_COUNTRIES`), followed by dunning under `policy`.

    Members may cancel during dunning (`dunning_cancel_hazard_per_day`). Returns payment_attempts rows.
    """
    if n_invoices < 1:
        raise InputError(f"n_invoices must be >= 1, got {n_invoices}")
    pol = _resolve_policy(policy)
    params = load_params()
    rng = np.random.default_rng(seed)
    names = np.array(list(_SYNTH_COUNTRIES), dtype=object)
    country = names[_choice(rng, np.array(list(_SYNTH_COUNTRIES.values())), n_invoices)]
    plans = np.array(["standard_with_ads", "standard", "premium"], dtype=object)[
        _choice(rng, np.array([0.4, 0.4, 0.2]), n_invoices)
    ]
    frame = pd.DataFrame(
        {"member_id": [f"s{seed}-m{i}" for i in range(n_invoices)], "country": country, "plan": plans}
    )
    start_h = float(to_hours([pd.Timestamp(start)])[0])
    mem = _make_members(frame, start_h, rng, params)
    # funding conditional on failure: share x failure rate
    f_share = _by(params["funding_share"], FUNDING) * _by(params["first_failure_rate"], FUNDING)
    mem.funding = _choice(rng, f_share, n_invoices)
    due = start_h + rng.uniform(0, 60 * 24.0, n_invoices)
    expired = rng.random(n_invoices) < 0.0
    log_ = _Log()
    engine = _Engine(mem, pol, rng, params, load_router(), Gate(), log_, synthetic_cancels=True)
    midx = np.arange(n_invoices)
    invoice = np.array([f"inv-s{seed}-{i}" for i in range(n_invoices)], dtype=object)
    amount = in_minor_units(mem.price_usd / mem.usd_per_unit, mem.minor_unit)
    default = np.full(n_invoices, engine.router.names[engine.router.default_index], dtype=object)
    engine._record(
        midx,
        invoice,
        amount,
        due,
        np.ones(n_invoices, dtype=np.int64),
        np.zeros(n_invoices, dtype=bool),
        np.full(n_invoices, "generic_decline", dtype=object),
        np.full(n_invoices, "", dtype=object),
        default,
        np.full(n_invoices, "renewal", dtype=object),
        np.ones(n_invoices),
    )
    engine.run(midx, invoice, amount, due, expired)
    codes, macs = engine._last_first_codes
    engine.log.parts[0]["decline_code"] = codes.astype(object)
    engine.log.parts[0]["merchant_advice_code"] = _blank(macs, macs == "")
    attempts = log_.frame()
    # the synthetic members' cancellations, for `summarize`'s audit (no charge after a cancellation); a
    # plain dict (member_id -> ISO time): pandas compares attrs when it combines frames
    cancelled = np.flatnonzero(np.isfinite(mem.cancelled_at))
    attempts.attrs["cancelled_at"] = dict(
        zip(mem.member_id[cancelled].tolist(), from_hours(mem.cancelled_at[cancelled]).astype(str).tolist())
    )
    return attempts


@dataclass
class SimulationSummary:
    failed_invoices: int
    recovered_invoices: int
    recovery_rate: float
    recovered_revenue: float
    attempts: int
    attempts_per_recovery: float
    rule_violations: int
    median_days_to_recovery: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(attempts: pd.DataFrame, members: pd.DataFrame | None = None) -> SimulationSummary:
    """Recovery metrics over the invoices whose first charge failed. Revenue is in USD (countries.csv).

    attempts = every attempt after an invoice's first (retries and charges of member-updated cards);
    rule_violations = rows `audit_attempts` flags, with `members`' cancellations (by default the ones
    `simulate_dunning` attaches to its log) checked too.
    """
    if members is None and attempts.attrs.get("cancelled_at"):
        cancels = attempts.attrs["cancelled_at"]
        members = pd.DataFrame({"member_id": list(cancels), "cancelled_at": pd.to_datetime(list(cancels.values()))})
    if attempts.empty:
        return SimulationSummary(0, 0, 0.0, 0.0, 0, 0.0, 0, float("nan"))
    df = attempts.sort_values(["invoice_id", "attempted_at", "attempt_number"], kind="stable")
    first = df.groupby("invoice_id", sort=False).head(1)
    failed_inv = first.loc[first["outcome"] == "failed", "invoice_id"]
    dun = df[df["invoice_id"].isin(failed_inv)]
    later = dun[dun["attempt_number"] > 1]
    wins = later[later["outcome"] == "succeeded"].drop_duplicates("invoice_id")
    charges = (
        FailedCharges.build(
            decline_code="x",
            amount=wins["amount"].astype(float).to_numpy(),
            failed_at=np.zeros(len(wins)),
            currency=wins["currency"].to_numpy(),
        )
        if len(wins)
        else None
    )
    revenue = float(usd_amount(charges).sum()) if charges is not None else 0.0
    t_first = first.set_index("invoice_id")["attempted_at"]
    days = pd.to_datetime(wins["attempted_at"]).to_numpy() - pd.to_datetime(
        t_first.reindex(wins["invoice_id"]).to_numpy()
    )
    days_f = pd.to_timedelta(days).total_seconds().to_numpy() / 86400.0 if len(wins) else np.array([])
    violations = audit_attempts(attempts, members, load_rules())
    n_failed = len(failed_inv)
    n_rec = len(wins)
    return SimulationSummary(
        failed_invoices=n_failed,
        recovered_invoices=n_rec,
        recovery_rate=n_rec / n_failed if n_failed else 0.0,
        recovered_revenue=round(revenue, 2),
        attempts=len(later),
        attempts_per_recovery=len(later) / n_rec if n_rec else float("inf"),
        rule_violations=len(violations),
        median_days_to_recovery=float(np.median(days_f)) if len(days_f) else float("nan"),
    )
