"""Explanations: every recommendation names the real titles and attributes that earned it."""

from __future__ import annotations

import pytest
from home_world import shared_engine

from limelight.personalize.engine import PersonalizationEngine
from limelight.personalize.explain import AttributeContribution, attribute_phrase, compose_sentence


@pytest.fixture(scope="module")
def engine() -> PersonalizationEngine:
    return shared_engine()


def history_ids(engine: PersonalizationEngine, member: str) -> set[str]:
    pieces = engine.histories.get(member).pieces
    return {engine.catalog.root_of[t] for t in pieces["title_id"]}


def test_sentence_names_the_title_and_the_genre() -> None:
    _, _, phrase = attribute_phrase("genre:Thriller")
    genre = AttributeContribution(kind="genre", value="Thriller", phrase=phrase, weight=1.0)
    assert compose_sentence(titles=["Dark"], attributes=[genre]) == "Because you watched Dark and liked thrillers"
    assert compose_sentence(titles=[], attributes=[], popular_in="Brazil") == "Popular in Brazil this week"
    assert compose_sentence(titles=[], attributes=[], new_on_service=True) == "New on limelight"
    assert compose_sentence(titles=["A"], attributes=[], progress="Continue Season 2, Episode 4") == (
        "Continue Season 2, Episode 4"
    )
    assert compose_sentence(titles=["A", "B", "C"], attributes=[]) == "Because you watched A and B"


def test_every_recommendation_names_titles_the_member_watched(engine: PersonalizationEngine) -> None:
    for member in ("m000", "m001", "m002", "m003", "series_fan"):
        watched = history_ids(engine, member)
        names = {engine.title(t).name for t in watched}
        for rec in engine.recommend(member, k=10):
            assert rec.because, (member, rec)
            assert set(rec.because) <= watched
            assert any(name in rec.reason for name in {engine.title(b).name for b in rec.because})
            why = engine.explain(member, rec.title_id)
            assert why.because_titles, (member, rec.title_id)
            assert {t.title_id for t in why.because_titles} <= watched
            assert any(t.name in why.sentence for t in why.because_titles)
            assert all(n in names for n in (t.name for t in why.because_titles))


def test_a_list_reason_names_the_title_explain_ranks_first(engine: PersonalizationEngine) -> None:
    # The list's "Because you watched X" and `explain` read one source: X is explain's strongest title.
    members = list(engine.histories.member_ids)[:60]
    checked = 0
    for member in members:
        for rec in engine.recommend(member, k=10):
            if rec.because:
                why = engine.explain(member, rec.title_id)
                assert why.because_titles[0].title_id == rec.because[0], (member, rec.title_id)
                checked += 1
    assert checked > 300


def test_collaborative_contributions_are_positive_and_strongest_first(engine: PersonalizationEngine) -> None:
    recs = engine.recommend("m002", k=10)
    rec = next(r for r in recs if engine.views_[engine.catalog.axis_index[r.title_id]] > 0)
    why = engine.explain("m002", rec.title_id)
    weights = [t.weight for t in why.because_titles]
    assert weights and all(w > 0 for w in weights)
    assert weights == sorted(weights, reverse=True)
    idx = engine.catalog.axis_index[rec.title_id]
    assert why.collaborative_share == pytest.approx(1 - engine.content_weight_[idx])
    assert why.collaborative_share > 0


def test_home_row_reasons_name_history_titles(engine: PersonalizationEngine) -> None:
    watched = history_ids(engine, "m003")
    for row in engine.home("m003", max_rows=12, per_row=5).rows:
        for item in row.items:
            assert item.reason
            if row.row_kind in ("top_picks", "because_you_watched"):
                assert item.because and set(item.because) <= watched


def test_continue_watching_explains_the_episode(engine: PersonalizationEngine) -> None:
    why = engine.explain("series_fan", "dark")
    assert why.sentence == "Continue Season 2, Episode 1"
    assert why.progress == "Continue Season 2, Episode 1"


def test_popular_and_new_titles_say_so_for_a_member_with_no_history(engine: PersonalizationEngine) -> None:
    top10 = next(r for r in engine.home("newbie").rows if r.row_kind == "top10")
    first = top10.items[0].title_id
    why = engine.explain("newbie", first)
    assert why.sentence == "Popular in Brazil this week"
    assert why.popular_in == "Brazil" and why.popularity_rank == 1
    assert why.because_titles == []
    assert engine.explain("newbie", "new2").sentence == "New on limelight"


def test_a_game_reason_says_played(engine: PersonalizationEngine) -> None:
    row = next(r for r in engine.home("m000", max_rows=12, per_row=4).rows if r.row_kind == "games")
    assert any(i.reason.startswith("Because you played Puzzle Quest 0") for i in row.items)
