"""What every part of the demo world shares: its clock, countries, languages, genres, plans,
devices, maturity levels and sizes, and the word lists its invented names are drawn from."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from limelight.errors import InputError

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




def _words() -> dict[str, Any]:
    from importlib import resources

    return tomllib.loads(resources.files("limelight.spine.world").joinpath("words.toml").read_text(encoding="utf-8"))


_WORDS = _words()
_ADJECTIVES = np.array(_WORDS["title_adjectives"])
_NOUNS = np.array(_WORDS["title_nouns"])
_FIRST = np.array(_WORDS["first_names"])
_LAST = np.array(_WORDS["last_names"])
