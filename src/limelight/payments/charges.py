"""Failed charges as columns of numpy arrays: what the gate, the policies and the model all read.

Times are float hours since 1970-01-01 UTC (fast to compare and add); `to_hours` / `from_hours` convert
at the edges. Local time comes from the issuer country's IANA time zone (`rules/countries.csv`), summer
time included: a payday's money lands at the same wall-clock hour all year, not an hour late from March
to October.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import InputError

__all__ = [
    "RECENT_SLOTS",
    "Countries",
    "FailedCharges",
    "from_hours",
    "load_countries",
    "local_calendar",
    "to_hours",
]

# How many of a card's most recent attempt times the gate keeps (enough for Visa's 15 in 30 days).
RECENT_SLOTS = 16
_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


def to_hours(values: Any) -> np.ndarray:
    """UTC timestamps (anything pandas reads) -> float hours since the epoch; NaT -> +inf."""
    ts = pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(None)
    arr = ts.to_numpy(dtype="datetime64[ms]")  # milliseconds: a failure at 10:00:00.4 is not at 10:00:00
    out = (arr - _EPOCH).astype("timedelta64[ms]").astype(np.float64) / 3_600_000.0
    out[np.isnat(arr)] = np.inf
    return out


def from_hours(hours: np.ndarray) -> pd.DatetimeIndex:
    """Float hours since the epoch -> naive UTC timestamps (seconds precision), rounded UP to the second:
    a retry time is an earliest allowed time (a MAC 24 wait of one hour must not end 0.4 s early)."""
    secs = np.ceil(np.round(np.asarray(hours, dtype=np.float64) * 3600.0, 6)).astype("int64")
    return pd.DatetimeIndex(secs.astype("datetime64[s]"))


# Years the offset tables cover; a timestamp outside them takes the nearest covered year's rules.
_FIRST_YEAR, _LAST_YEAR = 1900, 2199


@lru_cache(maxsize=4096)
def _year_offsets(zone: str, year: int) -> np.ndarray:
    """UTC offset (hours) of `zone` for every UTC hour of `year`, from the IANA database via pandas.

    Every zone's changes fall on a whole UTC hour, so one value per hour is exact."""
    start = pd.Timestamp(year=year, month=1, day=1)
    utc = pd.date_range(start, pd.Timestamp(year=year + 1, month=1, day=1), freq="h", inclusive="left")
    wall = utc.tz_localize("UTC").tz_convert(zone).tz_localize(None)
    return ((wall - utc) / pd.Timedelta(hours=1)).to_numpy(dtype=np.float32)


def _year_of(hours: np.ndarray) -> np.ndarray:
    return (hours.astype(np.int64).astype("datetime64[h]").astype("datetime64[Y]").astype(np.int64)) + 1970


@dataclass(frozen=True)
class Countries:
    code_index: dict[str, int]
    time_zone: np.ndarray  # object: IANA zone names
    region: np.ndarray  # object
    currency: np.ndarray  # object
    usd_per_unit: np.ndarray
    minor_unit: np.ndarray  # int: the currency's decimals (ISO 4217 exponent; JPY and KRW have none)

    def index(self, countries: np.ndarray) -> np.ndarray:
        """Row of each country in the table; unknown countries get the last row (UTC, 'OTHER', USD)."""
        from limelight.payments.rules import lookup_unique

        other = len(self.time_zone) - 1
        return lookup_unique(countries, lambda u: self.code_index.get(str(u).upper(), other), np.int64)

    def offsets(self, rows: np.ndarray, utc_hours: np.ndarray) -> np.ndarray:
        """UTC offset in hours of each row's zone at each UTC instant (`rows` and `utc_hours` broadcast);
        non-finite hours get 0. One table of offsets per hour over the years spanned, gathered at once."""
        rows_b, hours_b = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64), np.asarray(utc_hours, dtype=np.float64)
        )
        out = np.zeros(hours_b.shape, dtype=np.float64)
        hour = np.floor(hours_b)
        finite = np.isfinite(hour)
        if not finite.any():
            return out
        lo_y, hi_y = (int(y) for y in _year_of(np.array([hour[finite].min(), hour[finite].max()])))
        lo_y, hi_y = max(min(lo_y, _LAST_YEAR), _FIRST_YEAR), max(min(hi_y, _LAST_YEAR), _FIRST_YEAR)
        base = (np.datetime64(f"{lo_y}-01-01", "h") - np.datetime64("1970-01-01", "h")).astype(np.int64)
        span = (
            np.datetime64(f"{hi_y + 1}-01-01", "h") - np.datetime64(f"{lo_y}-01-01", "h")
        ).astype(np.int64)
        r = rows_b[finite]
        pos = np.clip(hour[finite].astype(np.int64) - base, 0, span - 1)
        table = np.zeros((len(self.time_zone), span), dtype=np.float32)
        for z in np.flatnonzero(np.bincount(r, minlength=len(self.time_zone))):
            table[z] = np.concatenate([_year_offsets(str(self.time_zone[z]), y) for y in range(lo_y, hi_y + 1)])
        out[finite] = table[r, pos]
        return out

    def to_local(self, rows: np.ndarray, utc_hours: np.ndarray) -> np.ndarray:
        """UTC hours -> the same instants on each row's local wall clock (as hours since the epoch)."""
        return np.asarray(utc_hours, dtype=np.float64) + self.offsets(rows, utc_hours)

    def to_utc(self, rows: np.ndarray, local_hours: np.ndarray) -> np.ndarray:
        """Local wall-clock hours -> UTC hours. A wall time the spring change skips, or the autumn change
        repeats, maps to one of the instants beside it (deterministically); every other time is exact."""
        local = np.asarray(local_hours, dtype=np.float64)
        guess = local - self.offsets(rows, local)
        return local - self.offsets(rows, guess)


@lru_cache(maxsize=1)
def load_countries() -> Countries:
    text = (
        resources.files("limelight.payments").joinpath("rules", "countries.csv").read_text(encoding="utf-8")
    )
    rows = list(csv.DictReader(text.splitlines()))
    rows.append(
        {
            "country": "OTHER",
            "time_zone": "UTC",
            "region": "OTHER",
            "currency": "USD",
            "usd_per_unit": "1",
            "minor_unit": "2",
        }
    )
    return Countries(
        code_index={r["country"]: i for i, r in enumerate(rows)},
        time_zone=np.array([r["time_zone"] for r in rows], dtype=object),
        region=np.array([r["region"] for r in rows], dtype=object),
        currency=np.array([r["currency"] for r in rows], dtype=object),
        usd_per_unit=np.array([float(r["usd_per_unit"]) for r in rows]),
        minor_unit=np.array([int(r["minor_unit"]) for r in rows], dtype=np.int64),
    )


def in_minor_units(amount: np.ndarray, minor_unit: np.ndarray) -> np.ndarray:
    """Amounts rounded to what their currency can charge: cents, or whole yen and won (a simulated
    1,043.28 JPY could never be submitted)."""
    scale = 10.0 ** np.asarray(minor_unit, dtype=np.float64)
    return np.round(np.asarray(amount, dtype=np.float64) * scale) / scale


def _day_table(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day of week (Mon=0), day of month and days in month for epoch days."""
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    month_start = months.astype("datetime64[D]")
    next_month = (months + 1).astype("datetime64[D]")
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday
    dom = (d64 - month_start).astype(np.int64) + 1
    dim = (next_month - month_start).astype(np.int64)
    return dow, dom, dim


def local_calendar(hours: np.ndarray, utc_offset: np.ndarray) -> dict[str, np.ndarray]:
    """Local hour of day, day of week (Mon=0), day of month and days-in-month for UTC hours + offset
    (`Countries.offsets` at those hours)."""
    local = np.asarray(hours, dtype=np.float64) + utc_offset
    day = np.floor(local / 24.0)
    hour = local - day * 24.0
    finite = np.isfinite(day)
    days = np.where(finite, day, 0).astype(np.int64)
    lo, hi = (int(days.min()), int(days.max())) if days.size else (0, 0)
    if hi - lo < 20_000:
        # few distinct days: compute the calendar once per day and gather (grids repeat days a lot)
        dow_t, dom_t, dim_t = _day_table(np.arange(lo, hi + 1, dtype=np.int64))
        pos = days - lo
        dow, dom, dim = dow_t[pos], dom_t[pos], dim_t[pos]
    else:
        dow, dom, dim = _day_table(days)
    return {"local": local, "hour": hour, "day": days, "dow": dow, "dom": dom, "days_in_month": dim}


@dataclass
class FailedCharges:
    """n failed charges, one per invoice, each awaiting a decision about its next attempt.

    `failed_at` is the last failed attempt, `first_failed_at` the renewal's first failure (the dunning
    window runs from it). `card_updated` means the member gave new card data after the last failure.
    `recent_attempts` holds the card's latest attempt times (NaN-padded) for Visa's 15-in-30-days cap.
    """

    invoice_id: np.ndarray
    member_id: np.ndarray
    card_id: np.ndarray
    amount: np.ndarray  # float, invoice currency
    currency: np.ndarray
    decline_code: np.ndarray
    merchant_advice_code: np.ndarray  # "" where none
    card_brand: np.ndarray
    funding_type: np.ndarray
    issuer_country: np.ndarray
    attempt_number: np.ndarray  # attempts made so far on the invoice (>= 1)
    failed_at: np.ndarray
    first_failed_at: np.ndarray
    card_updated: np.ndarray
    cancelled_at: np.ndarray  # +inf when the member has not cancelled
    card_failures: np.ndarray  # failed attempts on this card up to and including the last failure
    card_successes: np.ndarray
    last_processor: np.ndarray
    recent_attempts: np.ndarray  # (n, RECENT_SLOTS)

    def __len__(self) -> int:
        return len(self.amount)

    def subset(self, idx: np.ndarray) -> FailedCharges:
        return FailedCharges(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @classmethod
    def build(
        cls,
        *,
        decline_code: Any,
        amount: Any,
        failed_at: Any,
        first_failed_at: Any = None,
        invoice_id: Any = None,
        member_id: Any = None,
        card_id: Any = None,
        currency: Any = "USD",
        merchant_advice_code: Any = "",
        card_brand: Any = "visa",
        funding_type: Any = "unknown",
        issuer_country: Any = "US",
        attempt_number: Any = 1,
        card_updated: Any = False,
        cancelled_at: Any = np.inf,
        card_failures: Any = None,
        card_successes: Any = 0,
        last_processor: Any = "atlas",
        card_attempts_30d: Any = None,
        recent_attempts: np.ndarray | None = None,
    ) -> FailedCharges:
        """Broadcast scalars and arrays into a validated batch (times as float hours since the epoch).

        Without `recent_attempts`, `card_attempts_30d` attempts are assumed to have happened at
        `failed_at` (the most conservative reading for the 15-in-30-days cap).
        """
        amount_arr = np.atleast_1d(np.asarray(amount, dtype=np.float64))
        n = len(amount_arr)

        def arr(value: Any, dtype: Any = object, name: str = "") -> np.ndarray:
            a = np.atleast_1d(np.asarray(value, dtype=dtype))
            if a.shape[0] == 1 and n != 1:
                a = np.repeat(a, n)
            if a.shape[0] != n:
                raise InputError(f"'{name}' must have {n} values like 'amount', got {a.shape[0]}")
            return a

        bad = ~np.isfinite(amount_arr) | (amount_arr < 0)
        if np.any(bad):
            got = amount_arr[np.flatnonzero(bad)[0]]
            raise InputError(f"'amount' must be a finite number of at least 0, got {got:g}")
        failed = arr(failed_at, np.float64, "failed_at")
        if np.any(~np.isfinite(failed)):
            raise InputError("'failed_at' must be a timestamp, got a missing value")
        first = (
            failed.copy() if first_failed_at is None else arr(first_failed_at, np.float64, "first_failed_at")
        )
        attempt = arr(attempt_number, np.int64, "attempt_number")
        if np.any(attempt < 1):
            raise InputError(f"'attempt_number' must be >= 1, got {int(attempt.min())}")
        fails = attempt.copy() if card_failures is None else arr(card_failures, np.int64, "card_failures")
        if recent_attempts is None:
            updated = arr(card_updated, bool, "card_updated")
            default = np.where(updated, 0, attempt)
            count = (
                default
                if card_attempts_30d is None
                else arr(card_attempts_30d, np.int64, "card_attempts_30d")
            )
            if np.any(count < 0):
                raise InputError("'card_attempts_30d' must be >= 0, got a negative value")
            # a caller's count can only add attempts: this invoice's own tries on the same card are at
            # least `attempt_number` (a count of 0 beside attempt 20 let a 21st try through the 15-in-30 cap)
            count = np.maximum(count, default)
            slots = np.arange(RECENT_SLOTS)[None, :]
            recent = np.where(slots < np.minimum(count, RECENT_SLOTS)[:, None], failed[:, None], np.nan)
        else:
            recent = np.asarray(recent_attempts, dtype=np.float64)
        ids = np.arange(n).astype(str).astype(object)
        mac = arr(merchant_advice_code, object, "merchant_advice_code")
        mac = _clean_mac(mac)
        return cls(
            invoice_id=ids if invoice_id is None else arr(invoice_id, object, "invoice_id"),
            member_id=ids if member_id is None else arr(member_id, object, "member_id"),
            card_id=ids if card_id is None else arr(card_id, object, "card_id"),
            amount=amount_arr,
            currency=arr(currency, object, "currency"),
            decline_code=arr(decline_code, object, "decline_code"),
            merchant_advice_code=mac,
            card_brand=np.char.lower(arr(card_brand, object, "card_brand").astype(str)).astype(object),
            funding_type=arr(funding_type, object, "funding_type"),
            issuer_country=np.char.upper(arr(issuer_country, object, "issuer_country").astype(str)).astype(
                object
            ),
            attempt_number=attempt,
            failed_at=failed,
            first_failed_at=first,
            card_updated=arr(card_updated, bool, "card_updated"),
            cancelled_at=arr(cancelled_at, np.float64, "cancelled_at"),
            card_failures=fails,
            card_successes=arr(card_successes, np.int64, "card_successes"),
            last_processor=arr(last_processor, object, "last_processor"),
            recent_attempts=recent,
        )


def _clean_mac(mac: np.ndarray) -> np.ndarray:
    from limelight.payments.rules import lookup_unique, normalise_mac

    return lookup_unique(np.asarray(mac, dtype=object), normalise_mac, object)


#: what one failed charge from a caller may say (the CLI's next-attempt and the API's take the same)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_ATTEMPT_NUMBER = 100
MAX_CARD_ATTEMPTS_30D = 1000


def one_failed_charge(
    *,
    failed_at: datetime,
    first_failed_at: datetime | None,
    attempt_number: int,
    card_attempts_30d: int | None,
    cancelled: bool,
    name: Callable[[str], str] = str,
    **charge: Any,
) -> FailedCharges:
    """One caller's failed charge, checked, as a batch of one (`name` spells a field as the caller
    knows it: `--first-failed-at` on the command line, `first_failed_at` in the API). A time without
    an offset is UTC.

    A retry of an invoice (attempt 2 and later) needs `first_failed_at`: without it the dunning window
    would start again at the latest failure, and a renewal that first failed 20 days ago would get 21
    more days of retries.
    """
    for field_name, ts in (("failed_at", failed_at), ("first_failed_at", first_failed_at)):
        if ts is not None and not EARLIEST_YEAR <= ts.year <= LATEST_YEAR:
            raise InputError(
                f"{name(field_name)} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}, got {ts.isoformat()}"
            )
    if not 1 <= attempt_number <= MAX_ATTEMPT_NUMBER:
        raise InputError(f"{name('attempt_number')} must be between 1 and {MAX_ATTEMPT_NUMBER}, got {attempt_number}")
    if card_attempts_30d is not None and not 0 <= card_attempts_30d <= MAX_CARD_ATTEMPTS_30D:
        raise InputError(
            f"{name('card_attempts_30d')} must be between 0 and {MAX_CARD_ATTEMPTS_30D}, got {card_attempts_30d}"
        )
    if attempt_number > 1 and first_failed_at is None:
        raise InputError(
            f"{name('first_failed_at')} is needed from attempt 2 on: the dunning window runs from the renewal's "
            "first failure, not the latest"
        )
    failed = float(to_hours([failed_at])[0])
    first = failed if first_failed_at is None else float(to_hours([first_failed_at])[0])
    if first > failed:
        raise InputError(f"{name('first_failed_at')} must not be after {name('failed_at')}")
    return FailedCharges.build(
        failed_at=failed,
        first_failed_at=first,
        attempt_number=attempt_number,
        card_attempts_30d=card_attempts_30d,
        cancelled_at=failed if cancelled else float("inf"),
        **charge,
    )
