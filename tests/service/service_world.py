"""A small generated world for the service tests: three genres, a series, 60 members who each like one genre."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from limelight.service.keys import create_key
from limelight.spine.store import Rows, Store

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GENRES = ("Thriller", "Comedy", "Drama")
ROLES = ("service", "ingest", "analyst", "admin")


def _ts(days_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW - timedelta(days=days_ago)).tz_convert(None)


def world_frames(seed: int = 5, n_members: int = 60, source: str = "test") -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    titles, credits = [], []
    people = [{"person_id": f"p{i}", "name": f"Performer {i}", "source": source} for i in range(12)]
    for g, genre in enumerate(GENRES):
        for j in range(10):
            tid = f"{genre[:3].lower()}{j:02d}"
            titles.append(dict(title_id=tid, name=f"{genre} Film {j}", kind="film", runtime_minutes=100.0,
                               release_date=_ts(300 + 20 * j), genres=[genre], original_language="en",
                               maturity_rating="TV-14", source=source))
            credits.append(dict(title_id=tid, person_id=f"p{g * 4 + j % 4}", role="performer", credit_order=0))
    members, events = [], []
    for m in range(n_members):
        mid = f"m{m:03d}"
        members.append(dict(member_id=mid, country="US", plan="standard", maturity_limit="TV-MA", source=source))
        genre = GENRES[m % len(GENRES)]
        for k, j in enumerate(rng.choice(10, size=5, replace=False)):
            events.append(dict(event_id=f"seed-{m}-{k}", member_id=mid, title_id=f"{genre[:3].lower()}{j:02d}",
                               started_at=_ts(float(rng.uniform(1, 60))), seconds_viewed=int(6000 * rng.uniform(0.5, 1)),
                               device="tv", country="US"))
    return {
        "titles": pd.DataFrame(titles),
        "people": pd.DataFrame(people),
        "credits": pd.DataFrame(credits),
        "members": pd.DataFrame(members),
        "viewing_events": pd.DataFrame(events),
    }


def build_world(path: Path, **kwargs: object) -> dict[str, str]:
    """Write the world to `path` and return one key per role (plus a `person` key for p1)."""
    frames = world_frames(**kwargs)  # type: ignore[arg-type]
    with Store(path) as store:
        store.ingest([Rows(name, frame, origin=f"test:{name}") for name, frame in frames.items()])
    keys: dict[str, str] = {}
    con = duckdb.connect(str(path))
    try:
        for role in ROLES:
            keys[role], _ = create_key(con, role, label=f"test {role}")
        keys["person"], _ = create_key(con, "person", person_id="p1", label="test person p1")
        keys["slow"], _ = create_key(con, "service", rate_per_s=0.2, label="rate limited")
    finally:
        con.close()
    return keys
