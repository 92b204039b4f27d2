"""The demo world's members: countries, plans, signup dates, maturity limits, cancellations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from limelight.spine.world.common import (
    _CODES,
    _DEVICE_SHARE,
    _HISTORY_START_DAY,
    _MEMBER_LIMIT_SHARE,
    _MEMBER_LIMITS,
    _N_CLUSTERS,
    _PLAN_SHARE,
    _SHARE,
    _TODAY_DAY,
    PLANS,
    SOURCE,
    WorldSize,
    _cdf_pick,
    _dates,
    _days,
)


@dataclass
class MemberBase:
    frame: pd.DataFrame
    ids: pd.Index
    country: np.ndarray  # index into COUNTRIES
    cluster: np.ndarray
    limit_level: np.ndarray
    device: np.ndarray
    active_from: np.ndarray  # epoch seconds
    active_to: np.ndarray
    activity_cdf: np.ndarray


def build_members(size: WorldSize, rng: np.random.Generator) -> MemberBase:
    n = size.members
    ids = pd.Index(np.char.add("M", np.char.zfill(np.arange(1, n + 1).astype(str), 8)).astype(str))
    country = _cdf_pick(rng, _SHARE, n)
    # Growth: more members joined recently; the oldest joined in 2019.
    first = int(_days(date(2019, 1, 1)))
    signup = first + ((_TODAY_DAY - 1 - first) * rng.random(n) ** 0.65).astype(np.int64)
    cancel_day = signup + rng.exponential(420, n).astype(np.int64) + 30
    cancelled = (rng.random(n) < 0.35) & (cancel_day < _TODAY_DAY)
    cancel_seconds = cancel_day * 86_400 + rng.integers(0, 86_400, n)
    plan = PLANS[_cdf_pick(rng, _PLAN_SHARE, n)]
    limit = _cdf_pick(rng, _MEMBER_LIMIT_SHARE, n)
    # Countries lean towards different taste clusters.
    lean = np.random.default_rng(rng.integers(2**32)).dirichlet(np.full(_N_CLUSTERS, 0.6), len(_CODES))
    cluster = np.empty(n, np.int64)
    for c in range(len(_CODES)):
        mask = country == c
        cluster[mask] = _cdf_pick(rng, lean[c], int(mask.sum()))
    device = _cdf_pick(rng, _DEVICE_SHARE, n)
    active_from = np.maximum(signup, _HISTORY_START_DAY) * 86_400
    active_to = np.where(cancelled, cancel_seconds, _TODAY_DAY * 86_400)
    span = np.clip(active_to - active_from, 0, None).astype(np.float64)
    activity = rng.lognormal(0.0, 0.9, n) * span
    if activity.sum() <= 0:
        activity = np.ones(n)
    activity_cdf = np.cumsum(activity / activity.sum())
    activity_cdf[-1] = 1.0
    frame = pd.DataFrame(
        {
            "member_id": ids.to_numpy(dtype=object),
            "country": _CODES[country],
            "plan": plan,
            "signup_date": _dates(signup).astype("datetime64[s]"),
            "maturity_limit": _MEMBER_LIMITS[limit],
            "cancelled_at": pd.to_datetime(
                np.where(cancelled, cancel_seconds, np.iinfo(np.int64).min // 10**9 + 1), unit="s"
            ),
            "source": SOURCE,
        }
    )
    frame.loc[~cancelled, "cancelled_at"] = pd.NaT
    frame["signup_date"] = frame["signup_date"].dt.date
    return MemberBase(frame, ids, country, cluster, limit, device, active_from, active_to, activity_cdf)


