"""The demo world's subscriber counts by country and month, and its simulated payments."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from limelight.spine.world.common import _CODES, _REGION, SOURCE, TODAY, _days

# From 2023-07-01: the 2023 agreements' success bonus applies to releases from 2024-01-01 and measures
# them against domestic subscribers at the July 1 on or before release, so the first base needed is
# July 2023's (TODAY is 2026-11-01).
MONTHS_BACK = 40


def build_subscribers(members: pd.DataFrame, months_back: int = MONTHS_BACK) -> pd.DataFrame:
    """Paid memberships at each month's first day (00:00), per country, per region and globally.

    A member counts from their signup date until their cancellation, so the counts are the member
    base itself, not a separate invention. A member who cancels during a month's first day still
    counted at its start.
    """
    signup = _days(pd.to_datetime(members["signup_date"]).to_numpy().astype("datetime64[D]"))
    cancelled = pd.to_datetime(members["cancelled_at"])
    # The first midnight at or after the cancellation: counted on every month start before it.
    elapsed = (cancelled.fillna(pd.Timestamp(TODAY)) - pd.Timestamp(0)) / pd.Timedelta(days=1)
    cancel_day = np.ceil(elapsed.to_numpy(dtype="float64")).astype(np.int64)
    cancel = np.where(cancelled.notna(), cancel_day, np.iinfo(np.int64).max)
    first_of_month = pd.date_range(end=pd.Timestamp(TODAY), periods=months_back + 1, freq="MS")
    days = _days(first_of_month.to_numpy().astype("datetime64[D]"))
    country = members["country"].to_numpy().astype(str)
    regions = dict(zip(_CODES, _REGION, strict=True))
    frames = []
    groups: dict[str, np.ndarray] = {code: country == code for code in _CODES}
    for region in dict.fromkeys(_REGION):
        groups[str(region)] = np.isin(country, [c for c, r in regions.items() if r == region])
    groups["global"] = np.ones(len(country), bool)
    for name, mask in groups.items():
        s = np.sort(signup[mask])
        c = np.sort(cancel[mask])
        active = np.searchsorted(s, days, side="right") - np.searchsorted(c, days, side="right")
        frames.append(
            pd.DataFrame({"region": name, "as_of": first_of_month.date, "paid_memberships": active})
        )
    out = pd.concat(frames, ignore_index=True)
    out["paid_memberships"] = out["paid_memberships"].astype(np.int64)
    out["source"] = SOURCE
    return out


def _payments(members: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last year's monthly renewals and their retries, and the cards they were charged to."""
    from limelight.payments.simulator import simulate_payment_world

    start = datetime(TODAY.year - 1, TODAY.month, 1)
    end = datetime(TODAY.year, TODAY.month, TODAY.day)
    return simulate_payment_world(members, start, end, seed)


