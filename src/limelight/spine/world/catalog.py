"""The demo world's catalog: films, series → seasons → episodes, games; people and credits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from limelight.spine.world.common import (
    _ADJECTIVES,
    _CODES,
    _FILM_RATINGS,
    _FIRST,
    _GAME_RATINGS,
    _HISTORY_START_DAY,
    _LANGUAGE_SHARE,
    _LAST,
    _LEVEL_SHARE,
    _N_CLUSTERS,
    _NOUNS,
    _ORIGIN_BY_LANGUAGE,
    _TODAY_DAY,
    _TV_RATINGS,
    GAME_GENRES,
    GENRES,
    HISTORY_DAYS,
    LANGUAGES,
    SOURCE,
    WorldSize,
    _cdf_pick,
    _dates,
    _days,
    _names,
)


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
    # The drawn date is the newest season's; earlier seasons come 300-430 days apart before it, so a
    # long-running series is old library with a recent season, seasons are in order, and only the ~4%
    # drawn as upcoming lie after TODAY. The series' own release date is its first season's.
    gaps = rng.integers(300, 430, n_season_total)
    after = np.cumsum(gaps)
    last_of_series = (season_start + n_seasons - 1)[season_series]
    season_release = release[n_f : n_f + n_s][season_series] - (after[last_of_series] - after)
    release[n_f : n_f + n_s] = season_release[season_start]
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


