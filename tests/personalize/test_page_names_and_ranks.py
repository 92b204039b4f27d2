"""What a page names and what its ranks say: similar titles for a profile, reasons within the profile's
limit, one Top 10 rank everywhere, titles with no views matched on their metadata."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from home_world import NOW, build_store, shared_engine, shared_store_path

from limelight.personalize.engine import PersonalizationEngine
from limelight.personalize.explain import compose_sentence
from limelight.spine.store import Rows, Store

MEMBERS = [f"m{i:03d}" for i in range(0, 80, 7)] + ["series_fan", "film_half", "kid", "br_thriller", "newbie"]
ADULT = ("TV-MA", "TV-14", None)


@pytest.fixture(scope="module")
def engine() -> PersonalizationEngine:
    return shared_engine()


def rating(engine: PersonalizationEngine, title_id: str) -> str | None:
    return engine.title(title_id).maturity_rating


def test_more_like_this_for_a_profile_keeps_to_what_it_may_play(engine: PersonalizationEngine) -> None:
    mature = "thr01"  # TV-MA; its neighbours are mostly thrillers, half of them TV-MA
    assert any(rating(engine, s.title_id) == "TV-MA" for s in engine.similar(mature, k=20))  # a catalog page
    for_kid = engine.similar(mature, k=20, member_id="kid")
    assert for_kid and not [s.title_id for s in for_kid if rating(engine, s.title_id) in ADULT]
    assert all(s.reason == "Like Thriller Film 1" for s in for_kid)  # the kid has not watched it
    finished = engine.similar("thr01", k=30, member_id="film_half")  # finished thr05 and thr07
    assert not {"thr05", "thr07"} & {s.title_id for s in finished}
    assert finished[0].reason == "Because you watched Thriller Film 1"  # half-watched: it is in their history


def test_similar_titles_are_out_now() -> None:
    with Store(shared_store_path(), read_only=True) as store:
        before = PersonalizationEngine.from_store(store, now=NOW - timedelta(days=10))  # the "Fresh" films are not out
    listed = {s.title_id for t in ("dra01", "com01", "thr01", "doc01") for s in before.similar(t, k=60)}
    assert listed and not {t for t in listed if t.startswith("new")}


def test_a_title_nobody_has_watched_is_like_the_titles_its_metadata_is_like(engine: PersonalizationEngine) -> None:
    """A zero-view title has no collaborative row: mixing its zero CF half by the targets' views ranked
    them by how few views they had. Its neighbours now follow metadata alone."""
    cat = engine.catalog
    source = cat.index_of("new0")
    assert engine.views_[source] == 0
    neighbours = [cat.index_of(s.title_id) for s in engine.similar("new0", k=8)]
    released = np.flatnonzero(engine.released)
    released = released[released != source]
    alike = dict(zip(released.tolist(), engine.content.similarity(np.array([source]), released)[0], strict=True))
    best = sorted(alike.values(), reverse=True)[:8]
    assert [alike[i] for i in neighbours] == pytest.approx(best)


def test_reasons_never_name_a_title_above_the_profiles_limit(store_path: Path = shared_store_path()) -> None:
    """Someone watched a TV-MA thriller on the kids' profile: it is in the history (their viewing stays
    theirs), but no row header, item reason or explanation on that profile names it."""
    with Store(store_path, read_only=True) as store:
        eng = PersonalizationEngine.from_store(store, now=NOW)
    eng.observe(pd.DataFrame({"event_id": ["kid-mature"], "member_id": ["kid"], "title_id": ["thr01"],
                              "started_at": [pd.Timestamp(NOW).tz_convert(None)], "seconds_viewed": [95 * 60]}))
    assert eng.catalog.index_of("thr01") in eng.view("kid").recent.tolist()
    page = eng.home("kid", max_rows=20, per_row=30)
    assert not [r.title for r in page.rows if "Thriller Film 1" in r.title]
    items = [i for r in page.rows for i in r.items] + eng.recommend("kid", k=40)
    assert items and not [i for i in items if "thr01" in i.because or "Thriller Film 1" in i.reason]
    assert not [i.title_id for i in items if "thr01" in [t.title_id for t in eng.explain("kid", i.title_id).because_titles]]


@pytest.mark.parametrize("member", MEMBERS)
def test_a_top10_rank_is_the_same_in_the_row_the_reasons_and_explain(engine: PersonalizationEngine, member) -> None:
    page = engine.home(member, max_rows=20, per_row=30)
    row = next(r for r in page.rows if r.row_kind == "top10")
    ranked, place = engine.top10_of(engine.view(member))
    for item in row.items:
        rank = int(item.reason.split(" ")[0].lstrip("#"))
        assert engine.catalog.axis_ids[ranked[rank - 1]] == item.title_id
        why = engine.explain(member, item.title_id)
        assert (why.popularity_rank, why.popular_in) == (rank, place)


def test_a_finished_title_leaves_the_top10_without_moving_the_others_up(engine: PersonalizationEngine) -> None:
    view = engine.view("film_half")
    ranked, _ = engine.top10_of(view)
    finished = [r + 1 for r, i in enumerate(ranked.tolist()) if view.finished[i]]
    shown = [int(i.reason.split(" ")[0].lstrip("#"))
             for i in next(r for r in engine.home("film_half").rows if r.row_kind == "top10").items]
    assert finished and not set(finished) & set(shown)
    assert max(shown) > len(shown)  # a gap where the finished title stood


def test_a_published_weekly_top10_from_long_ago_does_not_stand_for_this_week(tmp_path: Path) -> None:
    with build_store(tmp_path / "s.duckdb") as store:
        weekly = pd.DataFrame({"week": ["2024-01-08"] * 3, "country": ["BR"] * 3, "category": ["Films"] * 3,
                               "weekly_rank": [1, 2, 3], "show_title": ["Drama Film 9", "Drama Film 8", "Doc 7"],
                               "title_id": ["dra09", "dra08", "doc07"]})
        store.ingest([Rows("top10_weekly", weekly, origin="test:top10")])
        eng = PersonalizationEngine.from_store(store, now=NOW)
    row = next(r for r in eng.home("newbie").rows if r.row_kind == "top10")
    assert [i.title_id for i in row.items][:3] != ["dra09", "dra08", "doc07"]  # the live ranking instead
    assert row.title == "Top 10 in Brazil This Week"


def test_a_member_without_a_country_sees_the_worlds_top10_called_that(store_path: Path = shared_store_path()) -> None:
    with Store(store_path, read_only=True) as store:
        eng = PersonalizationEngine.from_store(store, now=NOW)
    eng.observe(pd.DataFrame({"event_id": ["nc-1"], "member_id": ["no_country"], "title_id": ["com01"],
                              "started_at": [pd.Timestamp(NOW).tz_convert(None)], "seconds_viewed": [600]}))
    row = next(r for r in eng.home("no_country").rows if r.row_kind == "top10")
    assert row.title == "Top 10 in the World This Week"
    assert row.items[0].reason == "#1 in the World this week"
    assert eng.explain("no_country", row.items[0].title_id).popular_in == "the World"


def test_explanations_say_played_for_games_and_keep_two_titles_one_list(engine: PersonalizationEngine) -> None:
    games = [i for r in engine.home("m001", max_rows=20).rows if r.row_kind == "games" for i in r.items]
    assert games
    why = engine.explain("m001", games[0].title_id)
    if why.because_titles and all(engine.title(t.title_id).kind == "game" for t in why.because_titles[:2]):
        assert why.sentence.startswith("Because you played ")
    from limelight.personalize.explain import AttributeContribution

    genre = AttributeContribution(kind="genre", value="Horror", phrase="liked horror", weight=1.0)
    assert compose_sentence(titles=["A", "B"], attributes=[genre]) == "Because you watched A and B, and liked horror"
    assert compose_sentence(titles=["A"], attributes=[genre]) == "Because you watched A and liked horror"


def test_a_game_and_a_film_named_together_are_played_and_watched(engine: PersonalizationEngine) -> None:
    """"Because you watched Gentle Orbit and The Burning Voyage" — Gentle Orbit is a game (newcomer audit)."""
    assert compose_sentence(titles=["Gentle Orbit", "The Burning Voyage"], attributes=[],
                            verb=["played", "watched"]) == "Because you played Gentle Orbit and watched The Burning Voyage"
    assert compose_sentence(titles=["A", "B"], attributes=[], verb=["rated", "rated"]) == "Because you rated A and B"
    for member in ("m000", "m001", "m002", "m003"):
        for row in engine.home(member, max_rows=20).rows:
            for item in row.items:
                why = engine.explain(member, item.title_id)
                named = why.because_titles[:2]
                if len(named) == 2 and why.sentence.startswith("Because you") and not why.sentence.startswith("Because you rated"):
                    kinds = [engine.title(t.title_id).kind == "game" for t in named]
                    if kinds[0] != kinds[1]:  # one game, one not: each gets its own verb
                        assert "played" in why.sentence and "watched" in why.sentence, why.sentence


def test_a_short_verb_list_does_not_crash_a_sentence() -> None:
    assert compose_sentence(titles=["A", "B"], attributes=[], verb=["played"]) == "Because you played A and B"
    assert compose_sentence(titles=["A"], attributes=[], verb=[]) == "Because you watched A"
