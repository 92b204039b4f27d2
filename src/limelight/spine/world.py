"""The demo world: one seeded, coherent, synthetic streaming service, so every engine has data offline.

Everything here is invented and labelled so: every row that carries a source says `source='demo'`.
The world has a catalog (films; series → seasons → episodes; games) with runtimes, genres,
original languages, countries of origin, maturity ratings, availability by country and release
dates (a few after the world's "today", for 'New on' rows); people and credits (principal and
background performers, writers, directors, episodes worked); members in eleven countries with
plans, signup dates, maturity limits and cancellations; and viewing events with structure a real
service shows:

- long-tail popularity (Pareto-distributed title appeal),
- taste clusters (each member belongs to one; each cluster prefers some genres and languages,
  and countries lean towards different clusters),
- release-date decay (a title, or a series' newest season, is watched most in its first months),
- binge sessions (consecutive episodes of one season, back to back),
- abandoned titles (a few minutes viewed, more often for weak titles),
- devices (each member has a main device) and the country where the viewing happened
  (members travel a little; a title unavailable there is not watched there),

plus thumbs ratings that follow what was finished or abandoned, subscriber counts by country,
region and month computed from the member base, and, when `limelight.payments.simulator` is
present, the monthly renewals' payment attempts with their decline codes.

Same `seed` and `n_events` → the same world, whichever way it is consumed (`build_world` in
memory, `iter_world` in chunks, `build_demo_world` into the store, `write_world_parquet` to
Parquet): events are generated in fixed chunks of `EVENTS_PER_CHUNK`, each from its own seeded
stream. All of it is vectorised numpy; nothing loops over events.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from limelight.errors import InputError

__all__ = [
    "COUNTRIES",
    "EVENTS_PER_CHUNK",
    "PAYMENTS_MAX_MEMBERS",
    "ROW_GROUP_ROWS",
    "TIME_ORDER",
    "TODAY",
    "Catalog",
    "ProgressCallback",
    "WorldSize",
    "build_demo_world",
    "build_world",
    "iter_world",
    "world_size",
    "write_world_parquet",
]

log = logging.getLogger(__name__)

SOURCE = "demo"
TODAY = date(2026, 11, 1)  # the world's "today": fixed, so that a seed means one world
HISTORY_DAYS = 730  # viewing events cover the two years before TODAY
EVENTS_PER_CHUNK = 1_000_000
MAX_EVENTS = 2_000_000_000
PAYMENTS_MAX_MEMBERS = 100_000  # payments are simulated by default up to this many members (4M events)
ProgressCallback = Callable[[str, int, int], None]  # (step, done, total)

# code, share of members, region, main language, currency
COUNTRIES: tuple[tuple[str, float, str, str, str], ...] = (
    ("US", 0.28, "UCAN", "en", "USD"),
    ("CA", 0.05, "UCAN", "en", "CAD"),
    ("GB", 0.08, "EMEA", "en", "GBP"),
    ("DE", 0.07, "EMEA", "de", "EUR"),
    ("FR", 0.06, "EMEA", "fr", "EUR"),
    ("ES", 0.05, "EMEA", "es", "EUR"),
    ("BR", 0.10, "LATAM", "pt", "BRL"),
    ("MX", 0.07, "LATAM", "es", "MXN"),
    ("IN", 0.10, "APAC", "hi", "INR"),
    ("JP", 0.08, "APAC", "ja", "JPY"),
    ("KR", 0.06, "APAC", "ko", "KRW"),
)
_CODES = np.array([c[0] for c in COUNTRIES])
_SHARE = np.array([c[1] for c in COUNTRIES]) / sum(c[1] for c in COUNTRIES)
_REGION = np.array([c[2] for c in COUNTRIES])
_HOME_LANGUAGE = np.array([c[3] for c in COUNTRIES])

LANGUAGES = np.array(["en", "es", "ko", "ja", "hi", "fr", "de", "pt"])
_LANGUAGE_SHARE = np.array([0.52, 0.10, 0.09, 0.08, 0.07, 0.05, 0.05, 0.04])
# Where titles in each language are made (country of origin).
_ORIGIN_BY_LANGUAGE = {
    "en": (["US", "GB", "CA"], [0.75, 0.18, 0.07]),
    "es": (["ES", "MX"], [0.5, 0.5]),
    "ko": (["KR"], [1.0]),
    "ja": (["JP"], [1.0]),
    "hi": (["IN"], [1.0]),
    "fr": (["FR"], [1.0]),
    "de": (["DE"], [1.0]),
    "pt": (["BR"], [1.0]),
}

GENRES = np.array(
    [
        "Drama",
        "Comedy",
        "Thriller",
        "Action",
        "Romance",
        "Crime",
        "Documentary",
        "Animation",
        "Horror",
        "Sci-Fi",
        "Fantasy",
        "Family",
        "Reality",
        "Anime",
        "Music",
        "Sports",
    ]
)
GAME_GENRES = np.array(["Puzzle", "Action", "Strategy", "Arcade", "Adventure"])

# Maturity: the rating shown for each level, by kind; members carry a limit in TV terms.
_FILM_RATINGS = np.array(["G", "PG", "PG-13", "R"])
_TV_RATINGS = np.array(["TV-Y", "TV-PG", "TV-14", "TV-MA"])
_GAME_RATINGS = np.array(["E", "E10+", "T", "M"])
_LEVEL_SHARE = np.array([0.10, 0.22, 0.38, 0.30])
_MEMBER_LIMITS = np.array(["TV-Y", "TV-PG", "TV-14", "TV-MA"])
_MEMBER_LIMIT_SHARE = np.array([0.04, 0.05, 0.07, 0.84])

PLANS = np.array(["standard_with_ads", "standard", "premium"])
_PLAN_SHARE = np.array([0.32, 0.45, 0.23])
DEVICES = np.array(["tv", "mobile", "web", "tablet", "console"])
_DEVICE_SHARE = np.array([0.55, 0.22, 0.11, 0.08, 0.04])

_N_CLUSTERS = 10  # taste clusters; one more "everyone" bucket holds what is trending for all

_ADJECTIVES = np.array(
    [
        "Silent",
        "Crimson",
        "Hidden",
        "Last",
        "Broken",
        "Golden",
        "Midnight",
        "Lost",
        "Wild",
        "Quiet",
        "Burning",
        "Frozen",
        "Secret",
        "Distant",
        "Electric",
        "Hollow",
        "Velvet",
        "Bitter",
        "Restless",
        "Northern",
        "Paper",
        "Glass",
        "Iron",
        "Salt",
        "Copper",
        "Little",
        "Endless",
        "Final",
        "Savage",
        "Gentle",
        "Neon",
        "Pale",
        "Stolen",
        "Sunken",
        "Shattered",
        "Forgotten",
        "Rising",
        "Falling",
        "Second",
        "Brave",
    ]
)
_NOUNS = np.array(
    [
        "Harbor",
        "Kingdom",
        "Signal",
        "Garden",
        "River",
        "Empire",
        "Witness",
        "Orchard",
        "Frontier",
        "Protocol",
        "Lantern",
        "Season",
        "Horizon",
        "Station",
        "Letters",
        "Shadows",
        "Tide",
        "Verdict",
        "Circuit",
        "Parade",
        "Heist",
        "Academy",
        "Border",
        "Island",
        "Canyon",
        "Archive",
        "Machine",
        "Chorus",
        "Ballad",
        "Summit",
        "Voyage",
        "Cartel",
        "Mirror",
        "Forest",
        "Harvest",
        "Orbit",
        "Theory",
        "Passage",
        "Kitchen",
        "Crown",
    ]
)
_FIRST = np.array(
    [
        "Ana",
        "Ben",
        "Chloe",
        "Daniel",
        "Elena",
        "Farid",
        "Grace",
        "Hiro",
        "Isabel",
        "Jae",
        "Kavya",
        "Liam",
        "Mina",
        "Noah",
        "Olga",
        "Pedro",
        "Quinn",
        "Rosa",
        "Sven",
        "Tomas",
        "Uma",
        "Victor",
        "Wen",
        "Ximena",
        "Yuki",
        "Zara",
        "Amara",
        "Bruno",
        "Carmen",
        "Diego",
        "Emma",
        "Felix",
        "Gita",
        "Hana",
        "Ivan",
        "Julia",
        "Kenji",
        "Lucia",
        "Mateo",
        "Nadia",
    ]
)
_LAST = np.array(
    [
        "Silva",
        "Kim",
        "Tanaka",
        "Müller",
        "Dubois",
        "García",
        "Sharma",
        "Smith",
        "Jones",
        "Rossi",
        "Nowak",
        "Park",
        "Sato",
        "Costa",
        "López",
        "Brown",
        "Martin",
        "Singh",
        "Lee",
        "Ito",
        "Fischer",
        "Moreau",
        "Pereira",
        "Hernández",
        "Patel",
        "Wilson",
        "Taylor",
        "Schmidt",
        "Bernard",
        "Oliveira",
        "Kumar",
        "Choi",
        "Yamamoto",
        "Romero",
        "Clarke",
        "Weber",
        "Laurent",
        "Santos",
        "Flores",
        "Reddy",
    ]
)


@dataclass(frozen=True)
class WorldSize:
    """How big each part of the world is for a number of viewing events."""

    n_events: int
    members: int
    films: int
    series: int
    games: int
    people: int


def world_size(n_events: int) -> WorldSize:
    """Members grow with events (about 40 events each); the catalog grows slower, up to 5,000 titles.

    Browsable titles (films, series, games) ≈ 2.6 · n^0.456 — 60 at 1,000 events, about 4,000 at
    10M, capped at 5,000 so that item-item models (EASE) stay trainable on one machine.
    """
    if not 1_000 <= n_events <= MAX_EVENTS:
        raise InputError(f"events must be a whole number in [1000, {MAX_EVENTS}], got {n_events}")
    browsable = int(np.clip(round(2.6 * n_events**0.456), 40, 5_000))
    series = max(4, round(0.30 * browsable))
    games = max(2, round(0.04 * browsable))
    films = browsable - series - games
    members = int(np.clip(round(n_events / 40), 25, 50_000_000))
    return WorldSize(n_events, members, films, series, games, people=int(browsable * 4))


def _cdf_pick(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(probs / probs.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _names(
    rng: np.random.Generator, n: int, first: np.ndarray, second: np.ndarray, sep: str = " "
) -> np.ndarray:
    a = first[rng.integers(0, len(first), n)]
    b = second[rng.integers(0, len(second), n)]
    return np.char.add(np.char.add(a.astype(str), sep), b.astype(str))


def _days(d: np.ndarray | date) -> Any:
    """date(s) → days since the epoch."""
    return (np.asarray(d, dtype="datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64)


_TODAY_DAY = int(_days(TODAY))
_HISTORY_START_DAY = _TODAY_DAY - HISTORY_DAYS


def _dates(days: np.ndarray) -> np.ndarray:
    return (np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]")).astype("datetime64[s]")


# ---------------------------------------------------------------------------------------------
# catalog
# ---------------------------------------------------------------------------------------------


@dataclass
class Catalog:
    """The catalog as arrays (for the event generator) and as spine frames."""

    titles: pd.DataFrame
    people: pd.DataFrame
    credits: pd.DataFrame
    # browsable titles (films, series, games): index b
    b_ids: np.ndarray
    b_kind: np.ndarray  # 0 film, 1 series, 2 game
    b_release_day: np.ndarray
    b_runtime_min: np.ndarray  # film runtime; series: mean episode runtime; games: typical session
    b_level: np.ndarray  # maturity level 0..3
    b_quality: np.ndarray  # 0..1: how often it is finished
    b_available: np.ndarray  # (n_browsable, n_countries) bool
    b_weights: np.ndarray  # (clusters+1, months, n_browsable) sampling weights
    # seasons of series: for series b, its seasons are [season_start[b], season_start[b] + n_seasons[b])
    series_season_start: np.ndarray
    series_n_seasons: np.ndarray
    season_release_day: np.ndarray
    season_episode_start: np.ndarray  # index into episode arrays
    season_n_episodes: np.ndarray
    episode_ids: np.ndarray
    episode_runtime_min: np.ndarray
    # title-id categories used by the events' Categorical columns
    title_categories: pd.Index
    b_code: np.ndarray  # browsable index → category code
    episode_code: np.ndarray  # episode index → category code


def _genre_sets(rng: np.random.Generator, n: int, vocabulary: np.ndarray, share: np.ndarray) -> np.ndarray:
    """1-3 genres per title, as a (n, 3) index array with -1 for unused slots."""
    picks = np.full((n, 3), -1, dtype=np.int64)
    count = 1 + _cdf_pick(rng, np.array([0.45, 0.40, 0.15]), n)
    for slot in range(3):
        chosen = _cdf_pick(rng, share, n)
        picks[:, slot] = np.where(slot < count, chosen, -1)
    # A repeated genre in a later slot is dropped.
    picks[:, 1] = np.where(picks[:, 1] == picks[:, 0], -1, picks[:, 1])
    picks[:, 2] = np.where((picks[:, 2] == picks[:, 0]) | (picks[:, 2] == picks[:, 1]), -1, picks[:, 2])
    return picks


def _genre_lists(picks: np.ndarray, vocabulary: np.ndarray) -> list[list[str]]:
    # Catalog-sized (≤ ~40k titles): a comprehension over rows is fine here.
    return [[str(vocabulary[g]) for g in row if g >= 0] for row in picks]


def build_catalog(size: WorldSize, rng: np.random.Generator) -> Catalog:
    """Titles (films, series → seasons → episodes, games), people and credits, plus sampling tables."""
    n_f, n_s, n_g = size.films, size.series, size.games
    n_b = n_f + n_s + n_g
    kind = np.concatenate([np.zeros(n_f, np.int64), np.ones(n_s, np.int64), np.full(n_g, 2, np.int64)])
    b_ids = np.concatenate(
        [
            np.char.add("F", np.char.zfill(np.arange(1, n_f + 1).astype(str), 5)),
            np.char.add("S", np.char.zfill(np.arange(1, n_s + 1).astype(str), 4)),
            np.char.add("G", np.char.zfill(np.arange(1, n_g + 1).astype(str), 4)),
        ]
    ).astype(object)

    # Release dates: most of the catalog is older library; ~4% arrives after TODAY ("New on").
    span = _TODAY_DAY - int(_days(date(2012, 1, 1)))
    age = (span * rng.beta(1.1, 2.2, n_b)).astype(np.int64)
    release = _TODAY_DAY - age
    upcoming = rng.random(n_b) < 0.04
    release[upcoming] = _TODAY_DAY + rng.integers(3, 120, upcoming.sum())

    language = LANGUAGES[_cdf_pick(rng, _LANGUAGE_SHARE, n_b)]
    origin = np.empty(n_b, dtype=object)
    for lang, (countries, weights) in _ORIGIN_BY_LANGUAGE.items():
        mask = language == lang
        origin[mask] = np.asarray(countries)[_cdf_pick(rng, np.asarray(weights), int(mask.sum()))]
    level = _cdf_pick(rng, _LEVEL_SHARE, n_b)
    quality = rng.beta(5.0, 2.0, n_b)
    # Long tail: a few titles draw most of the viewing.
    appeal = rng.pareto(1.15, n_b) + 0.02

    genre_share = np.linspace(1.6, 0.4, len(GENRES))
    genre_picks = _genre_sets(rng, n_b, GENRES, genre_share)
    game_picks = _genre_sets(rng, n_g, GAME_GENRES, np.ones(len(GAME_GENRES)))
    genre_picks_games = genre_picks.copy()
    genre_picks_games[n_f + n_s :] = -1

    # Availability: 70% everywhere; the rest licensed in 3-9 countries, always their home country.
    n_c = len(_CODES)
    everywhere = rng.random(n_b) < 0.70
    licensed = rng.random((n_b, n_c)) < rng.uniform(0.25, 0.8, (n_b, 1))
    home = origin[:, None] == _CODES[None, :]
    available = everywhere[:, None] | licensed | home

    runtime = np.zeros(n_b)
    runtime[:n_f] = np.clip(rng.normal(105, 20, n_f), 70, 190).round()
    series_episode_runtime = rng.choice(np.array([24.0, 30.0, 45.0, 55.0]), n_s, p=[0.2, 0.25, 0.3, 0.25])
    runtime[n_f : n_f + n_s] = series_episode_runtime
    runtime[n_f + n_s :] = rng.uniform(15, 40, n_g).round()  # a typical play session

    # Seasons: 1-6 per series, a year apart; episodes 6-13 per season, released all at once.
    n_seasons = np.minimum(1 + rng.geometric(0.45, n_s) - 1 + (rng.random(n_s) < 0.6), 6).astype(np.int64)
    n_seasons = np.maximum(n_seasons, 1)
    season_start = np.concatenate([[0], np.cumsum(n_seasons)[:-1]]).astype(np.int64)
    n_season_total = int(n_seasons.sum())
    season_series = np.repeat(np.arange(n_s), n_seasons)
    season_number = np.arange(n_season_total) - season_start[season_series] + 1
    first_release = release[n_f : n_f + n_s]
    # Newer seasons of older series: count back from the first release so the newest lands near it.
    season_release = first_release[season_series] + (season_number - 1) * rng.integers(
        300, 430, n_season_total
    )
    n_episodes = rng.choice(np.array([6, 8, 10, 13]), n_season_total, p=[0.25, 0.35, 0.3, 0.1]).astype(
        np.int64
    )
    episode_start = np.concatenate([[0], np.cumsum(n_episodes)[:-1]]).astype(np.int64)
    n_ep_total = int(n_episodes.sum())
    episode_season = np.repeat(np.arange(n_season_total), n_episodes)
    episode_number = np.arange(n_ep_total) - episode_start[episode_season] + 1
    episode_runtime = np.clip(
        series_episode_runtime[season_series[episode_season]] + rng.normal(0, 3, n_ep_total), 18, 75
    ).round()

    series_ids = b_ids[n_f : n_f + n_s]
    season_ids = np.char.add(
        np.char.add(series_ids[season_series].astype(str), "."), season_number.astype(str)
    ).astype(object)
    episode_ids = np.char.add(
        np.char.add(season_ids[episode_season].astype(str), "."), np.char.zfill(episode_number.astype(str), 2)
    ).astype(object)

    # Names (invented), one per browsable title; seasons and episodes derive theirs.
    b_names = _names(rng, n_b, _ADJECTIVES, _NOUNS).astype(object)
    b_names = np.where(rng.random(n_b) < 0.5, np.char.add("The ", b_names.astype(str)), b_names).astype(
        object
    )
    series_names = b_names[n_f : n_f + n_s]
    season_names = np.char.add(
        np.char.add(series_names[season_series].astype(str), ": Season "), season_number.astype(str)
    ).astype(object)
    episode_names = np.char.add(
        np.char.add(season_names[episode_season].astype(str), ", Episode "), episode_number.astype(str)
    ).astype(object)

    ratings_by_kind = np.where(
        kind == 0, _FILM_RATINGS[level], np.where(kind == 1, _TV_RATINGS[level], _GAME_RATINGS[level])
    )
    genre_lists = _genre_lists(genre_picks_games, GENRES)
    for i, games in enumerate(_genre_lists(game_picks, GAME_GENRES)):
        genre_lists[n_f + n_s + i] = games
    avail_lists: list[list[str] | None] = [
        None if everywhere[i] else [str(c) for c in _CODES[available[i]]] for i in range(n_b)
    ]
    kind_words = np.array(["film", "series", "game"])[kind]
    b_frame = pd.DataFrame(
        {
            "title_id": b_ids,
            "name": b_names,
            "kind": kind_words,
            "parent_id": None,
            "season_number": pd.array([pd.NA] * n_b, dtype="Int64"),
            "episode_number": pd.array([pd.NA] * n_b, dtype="Int64"),
            "runtime_minutes": np.where(kind == 1, np.nan, runtime),
            "release_date": _dates(release).astype("datetime64[s]"),
            "genres": genre_lists,
            "original_language": language,
            "country_of_origin": origin,
            "maturity_rating": ratings_by_kind,
            "available_countries": avail_lists,
        }
    )
    b_frame.loc[kind == 1, "runtime_minutes"] = np.nan  # a series' runtime is its episodes'
    series_genres = [genre_lists[n_f + s] for s in range(n_s)]
    series_avail = [avail_lists[n_f + s] for s in range(n_s)]
    season_frame = pd.DataFrame(
        {
            "title_id": season_ids,
            "name": season_names,
            "kind": "season",
            "parent_id": series_ids[season_series],
            "season_number": pd.array(season_number, dtype="Int64"),
            "episode_number": pd.array([pd.NA] * n_season_total, dtype="Int64"),
            "runtime_minutes": np.nan,
            "release_date": _dates(season_release),
            "genres": [series_genres[s] for s in season_series],
            "original_language": language[n_f + season_series],
            "country_of_origin": origin[n_f + season_series],
            "maturity_rating": ratings_by_kind[n_f + season_series],
            "available_countries": [series_avail[s] for s in season_series],
        }
    )
    ep_series = season_series[episode_season]
    episode_frame = pd.DataFrame(
        {
            "title_id": episode_ids,
            "name": episode_names,
            "kind": "episode",
            "parent_id": season_ids[episode_season],
            "season_number": pd.array(season_number[episode_season], dtype="Int64"),
            "episode_number": pd.array(episode_number, dtype="Int64"),
            "runtime_minutes": episode_runtime,
            "release_date": _dates(season_release[episode_season]),
            "genres": [series_genres[s] for s in ep_series],
            "original_language": language[n_f + ep_series],
            "country_of_origin": origin[n_f + ep_series],
            "maturity_rating": ratings_by_kind[n_f + ep_series],
            "available_countries": [series_avail[s] for s in ep_series],
        }
    )
    titles = pd.concat([b_frame, season_frame, episode_frame], ignore_index=True)
    titles["imdb_id"] = None
    titles["tmdb_id"] = None
    titles["source"] = SOURCE
    titles["release_date"] = titles["release_date"].astype("datetime64[s]").dt.date

    people, credits = _people_and_credits(rng, size, b_ids, kind, n_seasons, season_start, n_episodes)

    # Sampling weights by taste cluster and month.
    sampling = _sampling_weights(
        rng, appeal, genre_picks, language, release, kind, season_start, n_seasons, season_release
    )

    categories = pd.Index(np.concatenate([b_ids, season_ids, episode_ids]).astype(str))
    b_code = np.arange(n_b, dtype=np.int64)
    episode_code = n_b + n_season_total + np.arange(n_ep_total, dtype=np.int64)
    series_season_start = np.zeros(n_b, np.int64)
    series_n_seasons = np.zeros(n_b, np.int64)
    series_season_start[n_f : n_f + n_s] = season_start
    series_n_seasons[n_f : n_f + n_s] = n_seasons
    return Catalog(
        titles=titles,
        people=people,
        credits=credits,
        b_ids=b_ids,
        b_kind=kind,
        b_release_day=release,
        b_runtime_min=runtime,
        b_level=level,
        b_quality=quality,
        b_available=available,
        b_weights=sampling,
        series_season_start=series_season_start,
        series_n_seasons=series_n_seasons,
        season_release_day=season_release,
        season_episode_start=episode_start,
        season_n_episodes=n_episodes,
        episode_ids=episode_ids,
        episode_runtime_min=episode_runtime,
        title_categories=categories,
        b_code=b_code,
        episode_code=episode_code,
    )


def _months() -> np.ndarray:
    """First day (as epoch days) of each month bucket of the viewing history, plus one past the end."""
    n = math.ceil(HISTORY_DAYS / 30.44) + 1
    return _HISTORY_START_DAY + np.round(np.arange(n + 1) * 30.44).astype(np.int64)


def _sampling_weights(
    rng: np.random.Generator,
    appeal: np.ndarray,
    genre_picks: np.ndarray,
    language: np.ndarray,
    release: np.ndarray,
    kind: np.ndarray,
    season_start: np.ndarray,
    n_seasons: np.ndarray,
    season_release: np.ndarray,
) -> np.ndarray:
    """(clusters + 1, months, titles): appeal × cluster taste × freshness, zero before release."""
    n_b = len(appeal)
    months = _months()
    mid = (months[:-1] + months[1:]) // 2
    n_m = len(mid)
    # Taste: each cluster prefers a few genres and one or two languages.
    genre_pref = rng.dirichlet(np.full(len(GENRES), 0.35), _N_CLUSTERS)
    lang_pref = np.full((_N_CLUSTERS, len(LANGUAGES)), 0.15)
    lang_pref[:, 0] = 1.0  # English-language titles travel everywhere
    home = rng.integers(0, len(LANGUAGES), _N_CLUSTERS)
    lang_pref[np.arange(_N_CLUSTERS), home] = 1.0
    lang_index = np.searchsorted(LANGUAGES, language, sorter=np.argsort(LANGUAGES))
    lang_index = np.argsort(LANGUAGES)[lang_index]
    match = np.zeros((_N_CLUSTERS, n_b))
    for slot in range(genre_picks.shape[1]):
        g = genre_picks[:, slot]
        ok = g >= 0
        match[:, ok] += genre_pref[:, g[ok]]
    taste = np.exp(6.0 * match) * lang_pref[:, lang_index]
    taste = np.vstack([taste, np.ones((1, n_b))])  # the "everyone" bucket

    # Freshness: watched most in the first ~3 months after a release (for a series, any season's).
    fresh = np.zeros((n_m, n_b))
    released = mid[:, None] >= release[None, :]
    age = (mid[:, None] - release[None, :]).astype(np.float64)
    fresh += np.where(released, np.exp(-np.maximum(age, 0) / 75.0), 0.0)
    n_f = int((kind == 0).sum())
    series_index = n_f + np.repeat(np.arange(len(n_seasons)), n_seasons)
    season_age = (mid[:, None] - season_release[None, :]).astype(np.float64)
    season_fresh = np.where(season_age >= 0, np.exp(-np.maximum(season_age, 0) / 60.0), 0.0)
    np.maximum.at(fresh.T, series_index, season_fresh.T)
    base = np.where(released, 0.15, 0.0)
    time_weight = base + fresh  # (months, titles)
    return (taste[:, None, :] * time_weight[None, :, :] * appeal[None, None, :]).astype(np.float64)


def _people_and_credits(
    rng: np.random.Generator,
    size: WorldSize,
    b_ids: np.ndarray,
    kind: np.ndarray,
    n_seasons: np.ndarray,
    season_start: np.ndarray,
    n_episodes: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_p = size.people
    person_ids = np.char.add("P", np.char.zfill(np.arange(1, n_p + 1).astype(str), 6)).astype(object)
    people = pd.DataFrame(
        {"person_id": person_ids, "name": _names(rng, n_p, _FIRST, _LAST), "source": SOURCE}
    )
    # Pools: 10% directors, 15% writers, the rest performers; some performers are stars.
    order = rng.permutation(n_p)
    n_dir, n_wri = max(2, n_p // 10), max(2, (n_p * 15) // 100)
    directors, writers, performers = order[:n_dir], order[n_dir : n_dir + n_wri], order[n_dir + n_wri :]
    star_power = rng.pareto(1.5, len(performers)) + 0.1

    n_b = len(b_ids)
    watchable = np.flatnonzero(kind != 2)  # games have no credits here
    series_mask = kind[watchable] == 1
    episodes_total = np.zeros(n_b, np.int64)
    series_pos = np.flatnonzero(kind == 1)
    season_totals = np.add.reduceat(n_episodes, season_start) if len(season_start) else np.array([], np.int64)
    episodes_total[series_pos] = season_totals

    frames = []

    def add(
        role: str, billing: str | None, counts: np.ndarray, pool: np.ndarray, p: np.ndarray | None
    ) -> None:
        title = np.repeat(watchable, counts)
        if title.size == 0:
            return
        if p is None:
            person = pool[rng.integers(0, len(pool), title.size)]
        else:
            person = pool[_cdf_pick(rng, p, title.size)]
        eps_total = episodes_total[title]
        is_series = kind[title] == 1
        if role == "performer" and billing == "principal":
            worked = rng.binomial(np.maximum(eps_total, 1), 0.9)
        elif role == "performer":
            worked = np.minimum(1 + rng.geometric(0.5, title.size) - 1, np.maximum(eps_total, 1))
        else:
            worked = np.maximum(
                1,
                rng.binomial(
                    np.maximum(eps_total, 1), 1.0 / np.maximum(counts[np.searchsorted(watchable, title)], 1)
                ),
            )
        frames.append(
            pd.DataFrame(
                {
                    "title_id": b_ids[title],
                    "person_id": person_ids[person],
                    "role": role,
                    "billing": billing,
                    "episodes_worked": pd.Series(np.maximum(worked, 1), dtype="Int64").where(is_series),
                }
            )
        )

    n_w = len(watchable)
    add("director", None, np.where(series_mask, rng.integers(2, 5, n_w), 1), directors, None)
    add(
        "writer", None, np.where(series_mask, rng.integers(2, 5, n_w), rng.integers(1, 3, n_w)), writers, None
    )
    add("performer", "principal", rng.integers(2, 6, n_w), performers, star_power)
    add("performer", "background", rng.integers(2, 9, n_w), performers, None)
    credits = pd.concat(frames, ignore_index=True).drop_duplicates(["title_id", "person_id", "role"])
    credits["episodes_worked"] = credits["episodes_worked"].astype("Int64")
    credits["credit_order"] = credits.groupby("title_id").cumcount().astype("Int64") + 1
    credits["character"] = ("Character " + credits["credit_order"].astype(str)).where(
        credits["role"] == "performer"
    )
    credits = credits[
        ["title_id", "person_id", "role", "billing", "episodes_worked", "character", "credit_order"]
    ]
    return people, credits.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# members
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# viewing events and ratings
# ---------------------------------------------------------------------------------------------


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

    title_code = np.where(s_kind == 1, catalog.episode_code[ep_index], catalog.b_code[title[session]])
    main_device = members.device[member[session]]
    device = np.where(rng.random(m) < 0.7, main_device, _cdf_pick(rng, _DEVICE_SHARE, m))
    device = np.where((s_kind == 2) & (device == 0), 1, device)  # games: mostly phones
    session_end = np.repeat(
        (start + (elapsed[np.cumsum(run) - 1] - elapsed_before[np.cumsum(run) - run])), run
    )
    finished_session = ~abandoned & (np.where(is_series, first_ep + run >= eps_in_season, True) | (run >= 3))
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


# ---------------------------------------------------------------------------------------------
# subscribers and payments
# ---------------------------------------------------------------------------------------------


def build_subscribers(members: pd.DataFrame, months_back: int = 36) -> pd.DataFrame:
    """Paid memberships at each month's first day, per country, per region and globally.

    A member counts from their signup date until their cancellation, so the counts are the member
    base itself, not a separate invention.
    """
    signup = _days(pd.to_datetime(members["signup_date"]).to_numpy().astype("datetime64[D]"))
    cancelled = pd.to_datetime(members["cancelled_at"])
    cancel = np.where(
        cancelled.notna(),
        _days(cancelled.fillna(pd.Timestamp(TODAY)).to_numpy().astype("datetime64[D]")),
        np.iinfo(np.int64).max,
    )
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


# ---------------------------------------------------------------------------------------------
# the world, in memory, in chunks, into the store, into Parquet
# ---------------------------------------------------------------------------------------------


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a whole number ≥ 0, got {seed!r}")
    return (
        np.random.default_rng(np.random.SeedSequence([int(seed), 1])),
        np.random.default_rng(np.random.SeedSequence([int(seed), 2])),
    )


def _chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 3, chunk]))


def iter_world(
    n_events: int = 100_000,
    seed: int = 7,
    *,
    payments: bool | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The world as (table name, frame) pairs in foreign-key order; events and ratings in chunks.

    Memory stays bounded by the catalog, the member base and one chunk of events.
    """
    if isinstance(n_events, bool) or not isinstance(n_events, int | np.integer):
        raise InputError(f"events must be a whole number, got {n_events!r}")
    size = world_size(int(n_events))
    catalog_rng, member_rng = _streams(seed)
    t0 = time.perf_counter()
    catalog = build_catalog(size, catalog_rng)
    members = build_members(size, member_rng)
    log.info("catalog and members in %.2fs: %s", time.perf_counter() - t0, size)
    yield "titles", catalog.titles
    yield "people", catalog.people
    yield "credits", catalog.credits
    yield "members", members.frame
    flat_cdf = _flat_cdf(catalog.b_weights)
    n_chunks = math.ceil(size.n_events / EVENTS_PER_CHUNK)
    done = 0
    for chunk in range(n_chunks):
        count = min(EVENTS_PER_CHUNK, size.n_events - done)
        events, ratings = _chunk_events(catalog, members, flat_cdf, count, done, _chunk_rng(seed, chunk))
        done += count
        yield "viewing_events", events
        yield "ratings", ratings
        if progress is not None:
            progress("viewing events", done, size.n_events)
    yield "subscribers", build_subscribers(members.frame)
    if payments is None:
        # The simulator walks every member's renewals month by month: seconds for thousands of
        # members, minutes for millions. Large worlds are for scale tests of viewing, not payments.
        payments = size.members <= PAYMENTS_MAX_MEMBERS
        if not payments:
            log.info(
                "no payments for %s members (more than %s); pass payments=True to force",
                size.members,
                PAYMENTS_MAX_MEMBERS,
            )
    if payments:
        attempts, cards = _payments(members.frame, seed)
        yield "cards", cards
        yield "payment_attempts", attempts


def build_world(
    n_events: int = 100_000, seed: int = 7, *, payments: bool | None = None
) -> dict[str, pd.DataFrame]:
    """The whole world in memory: one frame per spine table (events and ratings concatenated)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, frame in iter_world(n_events, seed, payments=payments):
        parts.setdefault(name, []).append(frame)
    out: dict[str, pd.DataFrame] = {}
    for name, frames in parts.items():
        if len(frames) == 1:
            out[name] = frames[0]
        else:
            out[name] = pd.concat(frames, ignore_index=True)
            for col, first in frames[0].items():
                if isinstance(first.dtype, pd.CategoricalDtype):
                    out[name][col] = pd.Categorical(out[name][col], categories=first.cat.categories)
    return out


def _summary(
    counts: dict[str, int], size: WorldSize, seed: int, seconds: float, where: str
) -> dict[str, Any]:
    return {
        "synthetic": True,
        "source": SOURCE,
        "note": "a synthetic demo world: every title, person, member and event is invented",
        "where": where,
        "seed": seed,
        "today": TODAY.isoformat(),
        "events_requested": size.n_events,
        "counts": counts,
        "seconds": round(seconds, 2),
    }


def build_demo_world(
    db_path: str | Path,
    *,
    events: int = 100_000,
    seed: int = 7,
    progress: ProgressCallback | None = None,
    payments: bool | None = None,
) -> dict[str, Any]:
    """Generate the world into the spine's DuckDB file (one transaction) and return a summary.

    Payments are simulated when `payments` is True, or by default for worlds of up to
    `PAYMENTS_MAX_MEMBERS` members. The summary holds counts per table, the countries with most members, the most-watched titles
    and the time taken. Building twice with the same seed adds nothing the second time.
    """
    from limelight.spine.store import Store

    size = world_size(events)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    with Store(db_path) as store:
        report = store.bulk_insert(iter_world(events, seed, payments=payments, progress=progress))
        for name, n in report.inserted.items():
            counts[name] = n
        summary = _summary(counts, size, seed, time.perf_counter() - t0, str(db_path))
        summary["members_by_country"] = dict(
            store.con.execute(
                "SELECT country, count(*) FROM members WHERE source = 'demo' GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        )
        top = store.query(
            """
            SELECT coalesce(s.title_id, t.title_id) AS title_id, any_value(coalesce(s.name, t.name)) AS name,
                   any_value(coalesce(s.kind, t.kind)) AS kind, round(sum(e.seconds_viewed) / 3600.0, 1) AS hours
            FROM viewing_events e JOIN titles t USING (title_id)
            LEFT JOIN titles se ON t.kind = 'episode' AND se.title_id = t.parent_id
            LEFT JOIN titles s ON s.title_id = se.parent_id
            WHERE t.source = 'demo'
            GROUP BY 1 ORDER BY hours DESC, 1 LIMIT 10
            """
        )
        summary["top_titles"] = top.to_dict("records")
    return summary


def write_world_parquet(
    folder: str | Path,
    *,
    events: int = 1_000_000,
    seed: int = 7,
    progress: ProgressCallback | None = None,
    payments: bool | None = None,
    compression: str = "snappy",
) -> dict[str, Any]:
    """Write the world as Parquet, one chunk at a time, never holding every event in memory.

    Small tables land as `<table>.parquet`; viewing events and ratings as folders of parts
    (`viewing_events/part-00000.parquet`, …), which DuckDB, Spark and pandas read as one table.
    Each part is sorted by time (`TIME_ORDER`) in row groups of `ROW_GROUP_ROWS` rows with
    min/max statistics and a page index, as an appended event log is: DuckDB skips the row groups
    outside a `started_at` window (Spark 4.0 pushes timestamp filters into Parquet only for
    UTC-adjusted timestamps, and the spine's are UTC-naive, so it reads them all).
    `folder` may be a local path or an fsspec URL (`s3://bucket/world`).
    """
    import fsspec
    import pyarrow.parquet as pq

    from limelight.spine.schema import SCHEMA

    size = world_size(events)
    fs, _, (root,) = fsspec.get_fs_token_paths(str(folder))
    fs.makedirs(root, exist_ok=True)
    counts: dict[str, int] = {}
    part_number: dict[str, int] = {}
    t0 = time.perf_counter()
    for name, frame in iter_world(events, seed, payments=payments, progress=progress):
        frame = frame[list(SCHEMA[name].column_names)] if name in SCHEMA else frame
        table = _arrow_table(name, frame)
        if name in ("viewing_events", "ratings"):
            fs.makedirs(f"{root}/{name}", exist_ok=True)
            n = part_number.get(name, 0)
            part_number[name] = n + 1
            path = f"{root}/{name}/part-{n:05d}.parquet"
        else:
            path = f"{root}/{name}.parquet"
        order = TIME_ORDER.get(name)
        if order is not None:
            # An event log is appended in time order: each part sorted by time (ties by a key, so
            # the file is the same for a seed) in row groups of ROW_GROUP_ROWS, whose min/max
            # statistics (and page index) let a time-window filter skip most of a part (DuckDB).
            table = table.sort_by([(column, "ascending") for column in order])
        with fs.open(path, "wb") as handle:
            pq.write_table(
                table,
                handle,
                compression=compression,
                row_group_size=ROW_GROUP_ROWS if order is not None else None,
                write_page_index=order is not None,
            )
        counts[name] = counts.get(name, 0) + table.num_rows
    return _summary(counts, size, seed, time.perf_counter() - t0, str(folder))


#: Sort keys of the time-ordered Parquet parts (`write_world_parquet`): time first, then a key
#: that makes the order total (an event's id; a rating's member, title and time are unique).
TIME_ORDER: dict[str, tuple[str, ...]] = {
    "viewing_events": ("started_at", "event_id"),
    "ratings": ("rated_at", "member_id", "title_id"),
}
#: Rows per Parquet row group in the time-ordered parts: 8 per part of 1M events, each spanning
#: about three months of a two-year world, so DuckDB reads about half of them for a one-year window.
ROW_GROUP_ROWS = 131_072


def _arrow_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """Arrow with plain strings (categoricals decoded) and UTC-naive microsecond timestamps."""
    from limelight.spine.schema import SCHEMA

    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            column = column.cast(pa.string())
        columns.append(column)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    spec = SCHEMA.get(name)
    if spec is not None:
        casts = {
            "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us"),
            "INTEGER": pa.int32(),
            "BIGINT": pa.int64(),
        }
        for col in spec.columns:
            target = casts.get(col.type)
            if target is not None and col.name in table.column_names:
                i = table.column_names.index(col.name)
                if table.schema.field(i).type != target:
                    table = table.set_column(i, col.name, table.column(i).cast(target))
    return table.replace_schema_metadata(None)
