"""A small generated world for the home-page engine tests: taste clusters, series, games, two countries.

Members each prefer one genre and watch titles of it in full; a few named members carry the
situations the rows must handle (a series in progress, a half-watched film, a kids profile, a
member in a country where some titles are not available).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.personalize.engine import PersonalizationEngine
from limelight.spine.store import Rows, Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GENRES = ["Thriller", "Comedy", "Drama", "Documentary"]
FILMS_PER_GENRE = 24
RUNTIME = 100  # minutes, films
EPISODE_RUNTIME = 50


def _ts(days_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW - timedelta(days=days_ago)).tz_convert(None)


def world_frames(seed: int = 3, n_members: int = 80) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    titles: list[dict[str, object]] = []
    people = [{"person_id": f"p{i}", "name": f"Actor {i}", "source": "test"} for i in range(40)]
    credits: list[dict[str, object]] = []
    for g, genre in enumerate(GENRES):
        for j in range(FILMS_PER_GENRE):
            tid = f"{genre[:3].lower()}{j:02d}"
            titles.append(
                dict(title_id=tid, name=f"{genre} Film {j}", kind="film", runtime_minutes=RUNTIME,
                     release_date=_ts(400 + 30 * j), genres=[genre], original_language="en",
                     maturity_rating="TV-MA" if (genre == "Thriller" and j % 2) else "TV-PG",
                     available_countries=None, source="test")
            )
            for p in (g * 10 + j % 5, g * 10 + 5 + j % 5):
                credits.append(dict(title_id=tid, person_id=f"p{p}", role="performer", credit_order=len(credits) % 3))
    # One thriller only licensed in the US.
    titles[3]["available_countries"] = ["US"]
    # Series "Dark" (Thriller) with two seasons of three episodes, and a comedy series.
    for sid, name, genre in (("dark", "Dark", "Thriller"), ("office", "The Office", "Comedy")):
        titles.append(dict(title_id=sid, name=name, kind="series", release_date=_ts(700), genres=[genre],
                           original_language="de" if sid == "dark" else "en", maturity_rating="TV-14",
                           available_countries=None, source="test"))
        for s in (1, 2):
            season = f"{sid}-s{s}"
            titles.append(dict(title_id=season, name=f"{name} Season {s}", kind="season", parent_id=sid,
                               season_number=s, source="test"))
            for e in (1, 2, 3):
                titles.append(dict(title_id=f"{season}e{e}", name=f"{name} S{s}E{e}", kind="episode",
                                   parent_id=season, season_number=s, episode_number=e,
                                   runtime_minutes=EPISODE_RUNTIME, source="test"))
    # Games.
    for j in range(4):
        titles.append(dict(title_id=f"game{j}", name=f"Puzzle Quest {j}", kind="game", genres=["Puzzle"],
                           release_date=_ts(200), maturity_rating="E", available_countries=None, source="test"))
    # New releases (last month), one per genre.
    for g, genre in enumerate(GENRES):
        titles.append(dict(title_id=f"new{g}", name=f"Fresh {genre}", kind="film", runtime_minutes=RUNTIME,
                           release_date=_ts(5 + g), genres=[genre], original_language="en",
                           maturity_rating="TV-PG", available_countries=None, source="test"))
        credits.append(dict(title_id=f"new{g}", person_id=f"p{g * 10}", role="performer", credit_order=0))

    members: list[dict[str, str | None]] = []
    events: list[dict[str, object]] = []
    ev = 0

    def watch(member: str, title: str, days_ago: float, fraction: float = 1.0, runtime: int = RUNTIME,
              country: str | None = None) -> None:
        nonlocal ev
        events.append(dict(event_id=f"e{ev}", member_id=member, title_id=title, started_at=_ts(days_ago),
                           seconds_viewed=int(runtime * 60 * fraction), device="tv", country=country))
        ev += 1

    for m in range(n_members):
        mid = f"m{m:03d}"
        country = "BR" if m % 2 else "US"
        members.append(dict(member_id=mid, country=country, plan="standard", maturity_limit="TV-MA", source="test"))
        genre = GENRES[m % len(GENRES)]
        picks = rng.choice(FILMS_PER_GENRE, size=7, replace=False)
        for k, j in enumerate(picks):
            watch(mid, f"{genre[:3].lower()}{j:02d}", days_ago=float(rng.uniform(0.5, 40) + k), country=country)
        if m % 3 == 0:
            watch(mid, f"game{m % 4}", days_ago=float(rng.uniform(1, 20)), fraction=0.0, country=country)
        if genre == "Thriller" and m % 8 == 0:
            for e in (1, 2, 3):
                watch(mid, f"dark-s1e{e}", days_ago=10 - e, runtime=EPISODE_RUNTIME, country=country)

    special = [
        # A series in progress: season 1 done, season 2 episode 1 half watched.
        ("series_fan", "BR", "TV-MA"),
        # Finished S1E3 of Dark: the next episode is S2E1.
        ("next_up", "BR", "TV-MA"),
        # Half of one thriller, and all of another (finished: hidden everywhere).
        ("film_half", "US", "TV-MA"),
        # A kids profile that watches comedies.
        ("kid", "US", "TV-Y7"),
        # Thriller fan in Brazil: the US-only thriller must not reach them.
        ("br_thriller", "BR", "TV-MA"),
        # Signed up, never watched anything.
        ("newbie", "BR", None),
        # Watched every episode of The Office to the end: the series is finished.
        ("binger", "US", "TV-MA"),
    ]
    for mid, country, limit in special:
        members.append({"member_id": mid, "country": country, "plan": "basic", "maturity_limit": limit,
                        "source": "test"})
    for e in (1, 2, 3):
        watch("series_fan", f"dark-s1e{e}", days_ago=6 - e, runtime=EPISODE_RUNTIME, country="BR")
    watch("series_fan", "dark-s2e1", days_ago=1, fraction=0.4, runtime=EPISODE_RUNTIME, country="BR")
    watch("series_fan", "thr00", days_ago=12)
    watch("series_fan", "thr02", days_ago=13)
    for e in (1, 2, 3):
        watch("next_up", f"dark-s1e{e}", days_ago=4 - e, runtime=EPISODE_RUNTIME, country="BR")
    watch("next_up", "thr04", days_ago=9)
    watch("film_half", "thr01", days_ago=1, fraction=0.5)
    watch("film_half", "thr05", days_ago=2, fraction=1.0)
    watch("film_half", "thr07", days_ago=3, fraction=1.0)
    for k, ep in enumerate(("office-s1e1", "office-s1e2", "office-s1e3", "office-s2e1", "office-s2e2", "office-s2e3")):
        watch("binger", ep, days_ago=8 - k, runtime=EPISODE_RUNTIME)
    watch("binger", "com01", days_ago=9)
    for j in (0, 2, 4):
        watch("kid", f"com{j:02d}", days_ago=j + 1)
    for j in (0, 2, 4, 6):
        watch("br_thriller", f"thr{j:02d}", days_ago=j + 1, country="BR")

    frames = {
        "titles": pd.DataFrame(titles),
        "people": pd.DataFrame(people),
        "credits": pd.DataFrame(credits),
        "members": pd.DataFrame(members),
        "viewing_events": pd.DataFrame(events),
    }
    return frames


_SHARED: dict[str, object] = {}


def shared_store_path() -> Path:
    """One default world per test process, written once (read it with `Store(path, read_only=True)`)."""
    if "path" not in _SHARED:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="limelight-home-world-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        build_store(folder / "spine.duckdb").close()
        _SHARED["path"] = folder / "spine.duckdb"
    return Path(str(_SHARED["path"]))


def shared_engine() -> PersonalizationEngine:
    """One engine on the default world per test process, for tests that only read."""
    if "engine" not in _SHARED:
        with Store(shared_store_path(), read_only=True) as store:
            _SHARED["engine"] = PersonalizationEngine.from_store(store, now=NOW)
    engine = _SHARED["engine"]
    assert isinstance(engine, PersonalizationEngine)
    return engine


def build_store(path: Path, **kwargs: object) -> Store:
    frames = world_frames(**kwargs)  # type: ignore[arg-type]
    store = Store(path)
    store.ingest([Rows(name, frame, origin=f"test:{name}") for name, frame in frames.items()])
    return store


def mentions_on_page(engine: PersonalizationEngine, member: str, title_id: str) -> list[str]:
    """Where a title shows on the member's page and in their recommendations: as an item, as a named
    reason, or in a row's header ([] when nowhere)."""
    page = engine.home(member, max_rows=20, per_row=40)
    found = [f"item of {row.title}" for row in page.rows for item in row.items if item.title_id == title_id]
    found += [f"reason in {row.title}" for row in page.rows for item in row.items if title_id in item.because]
    found += [f"header {row.title}" for row in page.rows if engine.title(title_id).name in row.title]
    listed = engine.recommend(member, k=100)
    found += [f"recommended #{i}" for i, item in enumerate(listed) if item.title_id == title_id]
    found += [f"reason for {item.title_id}" for item in listed if title_id in item.because]
    return found
