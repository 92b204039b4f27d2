"""The demo world's viewing events and thumbs ratings, one seeded chunk at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from limelight.spine.world.catalog import Catalog, _months
from limelight.spine.world.common import _CODES, _DEVICE_SHARE, _N_CLUSTERS, DEVICES, _cdf_pick
from limelight.spine.world.members import MemberBase


def _fixed_width_ids(prefix: str, start: int, n: int, width: int = 10) -> pa.Array:
    """'E0000000042'-style ids as an Arrow string array, built from digits without Python strings."""
    numbers = np.arange(start, start + n, dtype=np.int64)
    digits = np.empty((n, width), dtype=np.uint8)
    for position in range(width - 1, -1, -1):
        digits[:, position] = 48 + numbers % 10
        numbers //= 10
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    body = np.hstack([np.broadcast_to(head, (n, len(head))), digits]).ravel()
    step = len(head) + width
    offsets = np.arange(0, n * step + 1, step, dtype=np.int32 if n * step < 2**31 else np.int64)
    kind = pa.string() if offsets.dtype == np.int32 else pa.large_string()
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(body)])


def _sample_titles(
    rng: np.random.Generator, catalog: Catalog, bucket: np.ndarray, flat_cdf: np.ndarray
) -> np.ndarray:
    """Draw a browsable title for each session from its (cluster, month) bucket's distribution."""
    n_b = len(catalog.b_ids)
    position = _sorted_search(flat_cdf, bucket + rng.random(bucket.size))
    return np.clip(position - bucket * n_b, 0, n_b - 1)


def _sorted_search(cdf: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """`searchsorted(cdf, keys, 'right')`, several times faster for random keys on a large cdf.

    NumPy narrows each binary search from the previous key's answer when keys come in order, so
    sorting the keys first turns random memory access into a sweep.
    """
    order = np.argsort(keys)
    out = np.empty(keys.size, dtype=np.int64)
    out[order] = np.searchsorted(cdf, keys[order], side="right")
    return out


def _flat_cdf(weights: np.ndarray) -> np.ndarray:
    """Per-bucket CDFs laid end to end: bucket b occupies (b, b+1]."""
    k, m, n = weights.shape
    w = weights.reshape(k * m, n)
    totals = w.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    cdf = np.cumsum(w / totals, axis=1)
    cdf[:, -1] = 1.0
    return (cdf + np.arange(k * m)[:, None]).ravel()


def _chunk_events(
    catalog: Catalog,
    members: MemberBase,
    flat_cdf: np.ndarray,
    n_events: int,
    first_event: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exactly `n_events` viewing events (and the ratings their sessions left)."""
    parts: list[dict[str, np.ndarray]] = []
    have = 0
    while have < n_events:
        # About 1.9 events per session on average; draw a little more than needed.
        n_sessions = max(64, int((n_events - have) / 1.9 * 1.1))
        part = _sessions(catalog, members, flat_cdf, n_sessions, rng)
        parts.append(part)
        have += len(part["member"])
    cols = {k: np.concatenate([p[k] for p in parts])[:n_events] for k in parts[0]}

    m_code = cols["member"]
    title_codes = cols["title_code"]
    events = pd.DataFrame(
        {
            "event_id": pd.arrays.ArrowStringArray(_fixed_width_ids("E", first_event, n_events)),
            "member_id": pd.Categorical.from_codes(m_code, categories=members.ids),
            "title_id": pd.Categorical.from_codes(title_codes, categories=catalog.title_categories),
            "started_at": cols["started_at"].astype("datetime64[s]").astype("datetime64[us]"),
            "seconds_viewed": cols["seconds"].astype(np.int32),
            "device": pd.Categorical.from_codes(cols["device"], categories=pd.Index(DEVICES.astype(str))),
            "country": pd.Categorical.from_codes(cols["country"], categories=pd.Index(_CODES.astype(str))),
        }
    )
    # Ratings: some sessions end in a thumbs rating that follows whether the title was finished.
    first = cols["session_first"] & (rng.random(n_events) < 0.09)
    idx = np.flatnonzero(first)
    finished = cols["session_finished"][idx]
    u = rng.random(idx.size)
    thumbs = np.where(
        finished,
        np.where(u < 0.08, -1.0, np.where(u < 0.35, 2.0, 1.0)),
        np.where(u < 0.7, -1.0, 1.0),
    )
    ratings = pd.DataFrame(
        {
            "member_id": pd.Categorical.from_codes(m_code[idx], categories=members.ids),
            "title_id": pd.Categorical.from_codes(
                catalog.b_code[cols["browsable"][idx]], categories=catalog.title_categories
            ),
            "rating": thumbs,
            "rated_at": (cols["session_end"][idx]).astype("datetime64[s]").astype("datetime64[us]"),
            "scale": pd.Categorical.from_codes(np.zeros(idx.size, np.int64), categories=pd.Index(["thumbs"])),
        }
    ).drop_duplicates(["member_id", "title_id", "rated_at"])
    return events, ratings.reset_index(drop=True)


def _sessions(
    catalog: Catalog, members: MemberBase, flat_cdf: np.ndarray, n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Sessions (a film, a game, or a run of consecutive episodes), expanded to one row per event."""
    n_c = len(_CODES)
    member = _sorted_search(members.activity_cdf, rng.random(n))
    member = np.minimum(member, len(members.activity_cdf) - 1)
    lo, hi = members.active_from[member], members.active_to[member]
    day_start = lo + ((hi - lo) * rng.random(n)).astype(np.int64)
    # Evenings are busiest: replace the time of day with a draw from an evening-heavy profile.
    hour_share = np.array([3, 2, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 8, 10, 11, 10, 8, 5], float)
    hours = _cdf_pick(rng, hour_share, n)
    start = (day_start // 86_400) * 86_400 + hours * 3_600 + rng.integers(0, 3_600, n)
    start = np.clip(start, lo, np.maximum(hi - 60, lo))
    country = members.country[member]
    travelling = rng.random(n) < 0.03
    country = np.where(travelling, rng.integers(0, n_c, n), country)

    months = _months()
    month = np.clip(np.searchsorted(months, start // 86_400, side="right") - 1, 0, len(months) - 2)
    n_months = len(months) - 1
    everyone = rng.random(n) < 0.15
    cluster = np.where(everyone, _N_CLUSTERS, members.cluster[member])
    bucket = cluster * n_months + month
    title = _sample_titles(rng, catalog, bucket, flat_cdf)
    # A title unavailable where the member is, too mature for the profile, or not yet out is not
    # watched: draw again (a few rounds), then drop what is still refused.
    for _ in range(6):
        refused = (
            ~catalog.b_available[title, country]
            | (catalog.b_level[title] > members.limit_level[member])
            | (catalog.b_release_day[title] * 86_400 > start)
        )
        if not refused.any():
            break
        title[refused] = _sample_titles(rng, catalog, bucket[refused], flat_cdf)
    keep = ~(
        ~catalog.b_available[title, country]
        | (catalog.b_level[title] > members.limit_level[member])
        | (catalog.b_release_day[title] * 86_400 > start)
    )
    member, start, country, title = member[keep], start[keep], country[keep], title[keep]
    n = member.size

    kind = catalog.b_kind[title]
    quality = catalog.b_quality[title]
    abandoned = rng.random(n) < (0.05 + 0.45 * (1.0 - quality) ** 2)

    # Series: the newest released season half the time, else any released one; start at its first
    # episode or somewhere in the middle (catching up), then a run of consecutive episodes.
    is_series = kind == 1
    n_seasons = catalog.series_n_seasons[title]
    first_season = catalog.series_season_start[title]
    released = np.zeros(n, np.int64)
    for j in range(int(n_seasons.max()) if n else 0):
        has = is_series & (j < n_seasons)
        idx = np.where(has, first_season + j, 0)
        released += has & (catalog.season_release_day[idx] * 86_400 <= start)
    released = np.maximum(released, 1)
    newest = rng.random(n) < 0.5
    season_pick = np.where(newest, released - 1, (rng.random(n) * released).astype(np.int64))
    season = np.where(is_series, first_season + season_pick, 0)
    eps_in_season = np.where(is_series, catalog.season_n_episodes[season], 1)
    from_start = rng.random(n) < 0.55
    first_ep = np.where(from_start, 0, (rng.random(n) * eps_in_season).astype(np.int64))
    run = np.where(abandoned, 1, 1 + rng.geometric(0.38, n) - 1 + (rng.random(n) < 0.5))
    run = np.where(is_series, np.clip(run, 1, eps_in_season - first_ep), 1).astype(np.int64)

    # Expand sessions into events.
    session = np.repeat(np.arange(n), run)
    offset = np.arange(session.size) - np.repeat(np.cumsum(run) - run, run)
    s_kind = kind[session]
    ep_index = np.where(
        s_kind == 1, catalog.season_episode_start[season[session]] + first_ep[session] + offset, 0
    )
    runtime_min = np.where(
        s_kind == 1, catalog.episode_runtime_min[ep_index], catalog.b_runtime_min[title[session]]
    )
    runtime_s = runtime_min * 60.0
    m = session.size
    is_last = np.r_[session[1:] != session[:-1], True] if m else np.zeros(0, bool)
    frac = rng.beta(7.0, 1.1, m)
    frac = np.where(is_last & (rng.random(m) < 0.3), rng.uniform(0.2, 0.9, m), frac)
    seconds = runtime_s * frac
    ab = abandoned[session]
    seconds = np.where(ab, rng.uniform(60.0, np.maximum(0.12 * runtime_s, 120.0), m), seconds)
    seconds = np.where(s_kind == 2, rng.lognormal(np.log(1_200.0), 0.6, m), seconds)
    # Back to back: each episode starts when the previous one ended plus a short pause.
    elapsed = np.cumsum(seconds + 20.0)
    elapsed_before = elapsed - (seconds + 20.0)
    session_origin = np.repeat(elapsed_before[np.cumsum(run) - run], run) if m else elapsed_before
    started = start[session] + (elapsed_before - session_origin).astype(np.int64)

    # A binge that runs past the member's cancellation (or past TODAY) stops there: nobody watches on
    # a lapsed membership or in the future.
    within = started < members.active_to[member[session]]
    session, offset, s_kind, ep_index, seconds, started = (
        a[within] for a in (session, offset, s_kind, ep_index, seconds, started)
    )
    m = session.size

    title_code = np.where(s_kind == 1, catalog.episode_code[ep_index], catalog.b_code[title[session]])
    main_device = members.device[member[session]]
    device = np.where(rng.random(m) < 0.7, main_device, _cdf_pick(rng, _DEVICE_SHARE, m))
    device = np.where((s_kind == 2) & (device == 0), 1, device)  # games: mostly phones
    ends = start + (elapsed[np.cumsum(run) - 1] - elapsed_before[np.cumsum(run) - run])
    session_end = np.minimum(ends, members.active_to[member])[session]
    cut = np.bincount(session, minlength=n) < run  # stopped at the cancellation: not a finished binge
    finished_session = ~abandoned & ~cut & (np.where(is_series, first_ep + run >= eps_in_season, True) | (run >= 3))
    return {
        "member": member[session],
        "title_code": title_code,
        "browsable": title[session],
        "started_at": started,
        "seconds": np.maximum(np.round(seconds), 1),
        "device": device,
        "country": country[session],
        "session_first": offset == 0,
        "session_finished": finished_session[session],
        "session_end": session_end.astype(np.int64),
    }


