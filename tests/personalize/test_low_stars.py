"""A film the member rated below "liked" stays seen, but it never speaks for other titles.

A 1.5-star rating used to count like any other: on MovieLens pages the film a member had panned headed
"Because You Rated …" rows and was the named reason for other films — the service telling a member it
recommended something because of a film they said they did not like.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from home_world import NOW, mentions_on_page, world_frames

from limelight.personalize.engine import PersonalizationEngine
from limelight.personalize.foldin import LIKED_STARS
from limelight.spine.store import Rows, Store


def _at(days_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW).tz_convert(None) - pd.Timedelta(days=days_ago)


def _latest_film(events: pd.DataFrame, member: str) -> str:
    mine = events[(events["member_id"] == member) & ~events["title_id"].str.startswith("game")].sort_values("started_at")
    return str(mine["title_id"].iloc[-1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[PersonalizationEngine, dict[str, str]]:
    frames = world_frames()
    events = frames["viewing_events"]
    panned = {m: _latest_film(events, m) for m in ("m000", "m001", "m002", "m003")}
    liked = _latest_film(events, "m004")
    rows = [(m, t, 1.5, _at(0.1), "stars") for m, t in panned.items()]
    rows += [
        ("m004", liked, 2.0, _at(3.0), "stars"),  # panned it first, then came round: the latest rating counts
        ("m004", liked, 4.0, _at(0.1), "stars"),
        ("m005", _latest_film(events, "m005"), LIKED_STARS, _at(0.1), "stars"),  # "liked it" is liked
        ("series_fan", "dark-s1e1", 1.0, _at(4.0), "stars"),  # one weak episode, then a great one
        ("series_fan", "dark-s1e3", 5.0, _at(2.0), "stars"),
        ("next_up", "dark-s1e2", 1.0, _at(1.0), "stars"),  # the series' latest word is low
        ("series_fan", "dark", 1.0, _at(0.2), "thumbs"),  # a thumbs-up for the series they watch
        ("m008", "dark-s1e1", 1.0, _at(4.0), "stars"),  # a weak episode, then 5 stars for the whole series
        ("m008", "dark", 5.0, _at(1.0), "stars"),
    ]
    ratings = pd.DataFrame(rows, columns=["member_id", "title_id", "rating", "rated_at", "scale"])
    path: Path = tmp_path_factory.mktemp("low-stars") / "spine.duckdb"
    with Store(path) as store:
        store.ingest([Rows(name, frame, origin=f"test:{name}") for name, frame in {**frames, "ratings": ratings}.items()])
    with Store(path, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store, now=NOW)
    return engine, {**panned, "m004": liked, "m005": _latest_film(events, "m005")}


@pytest.mark.parametrize("member", ["m000", "m001", "m002", "m003"])
def test_a_panned_film_is_seen_but_never_a_reason(world: tuple[PersonalizationEngine, dict[str, str]],
                                                  member: str) -> None:
    engine, films = world
    panned = films[member]
    view = engine.view(member)
    assert view.seen[engine.catalog.index_of(panned)]  # they saw it: not offered back
    assert mentions_on_page(engine, member, panned) == []
    listed = engine.recommend(member, k=10)
    assert listed and all(panned not in [t.title_id for t in engine.explain(member, item.title_id).because_titles]
               for item in listed)


def test_the_film_still_counts_for_the_model(world: tuple[PersonalizationEngine, dict[str, str]]) -> None:
    """They watched it: what people who watch it also watch still predicts them (only a thumbs-down
    takes a title out of the model's positives)."""
    engine, films = world
    matrix = engine.histories.matrix()
    assert matrix[engine.histories.member_pos["m000"], engine.catalog.index_of(films["m000"])] == 1


@pytest.mark.parametrize("member", ["m004", "m005"])
def test_a_liked_latest_rating_may_be_named(world: tuple[PersonalizationEngine, dict[str, str]], member: str) -> None:
    engine, films = world
    assert engine.view(member).nameable[engine.catalog.index_of(films[member])]
    named = {b for item in engine.recommend(member, k=20) for b in item.because}
    assert films[member] in named  # their most recent film, liked: the reason it always was


def test_a_series_is_judged_by_its_latest_episode_rating(world: tuple[PersonalizationEngine, dict[str, str]]) -> None:
    engine, _ = world
    dark = engine.catalog.index_of("dark")
    assert engine.view("series_fan").nameable[dark]  # a 1-star episode, then a 5-star one
    assert engine.view("m008").nameable[dark]  # a 1-star episode, then 5 stars for the series itself
    assert not engine.view("next_up").nameable[dark]


def test_a_series_rated_as_a_whole_and_watched_is_watched_not_rated(
    world: tuple[PersonalizationEngine, dict[str, str]],
) -> None:
    """The demo said "Because You Rated Falling Canyon" to a member with 82 viewings of its episodes."""
    engine, _ = world
    view = engine.view("series_fan")
    dark = engine.catalog.index_of("dark")
    assert view.rated is not None and not view.rated[dark] and view.seen[dark]
    named = [r.reason for r in engine.recommend("series_fan", k=30) if "Dark" in r.reason]
    assert not [r for r in named if "rated Dark" in r], named
