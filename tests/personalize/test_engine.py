"""The engine facade the service calls: lists, cards, errors, fold-in, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from home_world import NOW, shared_engine, shared_store_path

from limelight.errors import InputError, NotFoundError
from limelight.personalize.coldstart import PopularityRecommender
from limelight.personalize.engine import PersonalizationEngine
from limelight.personalize.rows import HomePage, RecommendedTitle
from limelight.spine.store import Store


@pytest.fixture(scope="module")
def store_path() -> Path:
    return shared_store_path()


@pytest.fixture(scope="module")
def engine() -> PersonalizationEngine:
    return shared_engine()


def fresh(store_path: Path, **kwargs: object) -> PersonalizationEngine:
    with Store(store_path, read_only=True) as store:
        return PersonalizationEngine.from_store(store, now=NOW, **kwargs)  # type: ignore[arg-type]


def store_with(store_path: Path, folder: Path, rows: list[tuple[str, str, pd.Timestamp, int]],
               new_members: list[str]) -> tuple[Path, pd.DataFrame]:
    """A copy of the shared store holding these viewing events (member, title, started_at, seconds) in
    Brazil, and the events as the service would receive them."""
    import shutil

    from limelight.spine.validate import Rows

    events = pd.DataFrame(
        {
            "event_id": [f"extra-{i}" for i in range(len(rows))],
            "member_id": [r[0] for r in rows],
            "title_id": [r[1] for r in rows],
            "started_at": [r[2] for r in rows],
            "seconds_viewed": [r[3] for r in rows],
            "country": ["BR"] * len(rows),
        }
    )
    path = folder / "with-events.duckdb"
    shutil.copy(store_path, path)
    with Store(path) as store:
        members = pd.DataFrame({"member_id": new_members, "country": "BR", "source": "test"})
        store.ingest([Rows("members", members, "members.csv"), Rows("viewing_events", events, "events.csv")])
    return path, events


def test_recommend_returns_k_unseen_titles_with_reasons(engine: PersonalizationEngine) -> None:
    recs = engine.recommend("m001", k=7)
    assert len(recs) == 7
    assert all(isinstance(r, RecommendedTitle) for r in recs)
    seen = set(engine.histories.get("m001").pieces["title_id"])
    assert not seen & {r.title_id for r in recs}
    assert all(r.reason for r in recs)
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_recommendations_follow_the_members_taste(engine: PersonalizationEngine) -> None:
    # m001 watches comedies only; most of their top 5 should be comedies.
    recs = engine.recommend("m001", k=5)
    assert sum("Comedy" in r.genres for r in recs) >= 3


def test_unknown_member_and_title_raise_not_found(engine: PersonalizationEngine) -> None:
    with pytest.raises(NotFoundError, match="member 'ghost'"):
        engine.recommend("ghost")
    with pytest.raises(NotFoundError):
        engine.home("ghost")
    with pytest.raises(NotFoundError, match="title 'nope'"):
        engine.similar("nope")
    with pytest.raises(NotFoundError):
        engine.title("nope")
    with pytest.raises(NotFoundError):
        engine.explain("m001", "nope")
    assert engine.has_member("m001") and not engine.has_member("ghost")


def test_bad_sizes_raise_input_error(engine: PersonalizationEngine) -> None:
    with pytest.raises(InputError, match="k must be"):
        engine.recommend("m001", k=0)
    with pytest.raises(InputError, match="per_row"):
        engine.home("m001", per_row=0)


def test_title_card_has_credits_and_parent(engine: PersonalizationEngine) -> None:
    card = engine.title("thr00")
    assert card.name == "Thriller Film 0" and card.kind == "film" and card.genres == ["Thriller"]
    assert card.runtime_minutes == 100 and card.maturity_rating == "TV-PG"
    assert {c.name for c in card.credits} == {"Actor 0", "Actor 5"}
    episode = engine.title("dark-s2e1")
    assert episode.kind == "episode" and episode.parent_id == "dark-s2" and episode.episode_number == 1


def test_synthetic_is_false_for_non_demo_sources(engine: PersonalizationEngine) -> None:
    assert engine.synthetic is False
    assert engine.home("m001").synthetic is False


def test_similar_titles_share_the_anchors_audience(engine: PersonalizationEngine) -> None:
    similar = engine.similar("doc00", k=5)
    assert len(similar) >= 3
    assert "doc00" not in {s.title_id for s in similar}
    assert sum("Documentary" in s.genres for s in similar) >= 3
    # An episode id resolves to its series.
    assert {s.title_id for s in engine.similar("dark-s1e1", k=3)} == {s.title_id for s in engine.similar("dark", k=3)}


def test_home_page_serialises(engine: PersonalizationEngine) -> None:
    page = engine.home("m002", max_rows=5, per_row=4)
    assert isinstance(page, HomePage)
    assert 1 <= len(page.rows) <= 5
    assert all(len(r.items) <= 4 for r in page.rows)
    payload = page.model_dump(mode="json")
    assert payload["member_id"] == "m002" and payload["rows"][0]["items"][0]["title_id"]


def test_observe_folds_new_viewing_into_recommendations(store_path: Path) -> None:
    eng = fresh(store_path)
    before = [r.title_id for r in eng.recommend("newbie", k=5)]
    events = pd.DataFrame(
        {
            "member_id": ["newbie"] * 4,
            "title_id": ["doc00", "doc01", "doc02", "doc03"],
            "started_at": [NOW] * 4,
            "seconds_viewed": [6000] * 4,
        }
    )
    assert eng.observe(events) == 4
    after = eng.recommend("newbie", k=5)
    assert [r.title_id for r in after] != before
    assert not {"doc00", "doc01", "doc02", "doc03"} & {r.title_id for r in after}
    assert sum("Documentary" in r.genres for r in after) >= 3
    assert any(set(r.because) & {"doc00", "doc01", "doc02", "doc03"} for r in after)


def test_observe_gives_the_histories_a_reload_from_the_store_would(store_path: Path, tmp_path: Path) -> None:
    """Folding a batch in for many members at once (existing, new, one resuming an episode, one rewatching)
    leaves each member's titles, times and progress exactly as loading the same events from the store."""
    hours = [
        ("m000", "doc00", 1, 6000), ("m000", "thr01", 2, 1200), ("m001", "dark-s1e1", 1, 3000),
        ("m001", "dark-s1e2", 3, 900), ("series_fan", "dark-s2e1", 4, 1800), ("series_fan", "dark-s1e1", 5, 600),
        ("newcomer", "com03", 1, 6000), ("newcomer", "com04", 2, 100), ("m002", "thr00", 6, 6000),
    ]  # fmt: skip
    now = pd.Timestamp(NOW).tz_convert(None)
    path, events = store_with(store_path, tmp_path, [(m, t, now - pd.Timedelta(hours=10 - h), s) for m, t, h, s in hours],
                              ["newcomer"])
    folded = fresh(store_path)
    folded.observe(events)
    reloaded = fresh(path)
    for member in pd.unique(events["member_id"]):
        a, b = folded.histories.get(member), reloaded.histories.get(member)
        assert a.titles.tolist() == b.titles.tolist(), member
        np.testing.assert_allclose(a.last_at, b.last_at)
        cols = ["root_idx", "play_id", "state", "label"]
        pd.testing.assert_frame_equal(a.progress[cols], b.progress[cols], check_dtype=False)


def test_a_rewatch_resumes_where_the_new_viewing_is_and_finishing_the_credits_is_no_rewatch(
    store_path: Path, tmp_path: Path
) -> None:
    """thr10 (100 minutes) watched through a month ago and 30 minutes of it tonight: Continue Watching offers
    the rewatch at 30%, not "finished" at 130%. thr11 watched to 92% and then its last 8 minutes: finished.
    The same from the store and folded in from events."""
    days = [("thr10", 30, 6000), ("thr10", 0.1, 1800), ("thr11", 3, 5520), ("thr11", 2.9, 480)]
    now = pd.Timestamp(NOW).tz_convert(None)
    path, events = store_with(store_path, tmp_path, [("rewatcher", t, now - pd.Timedelta(days=d), s) for t, d, s in days],
                              ["rewatcher"])
    folded = fresh(store_path)
    for i in range(len(events)):  # one event at a time, as the service receives them
        folded.observe(events.iloc[[i]])
    for eng in (fresh(path), folded):
        row = eng.home("rewatcher").rows[0]
        assert row.row_kind == "continue_watching"
        assert [(item.title_id, item.reason) for item in row.items] == [("thr10", "Resume")]
        progress = eng.histories.get("rewatcher").progress.set_index("play_id")
        assert progress.loc["thr10", "fraction"] == pytest.approx(0.3)
        assert progress.loc["thr11", "state"] == "finished"


def test_observe_creates_new_members_and_skips_unknown_titles(store_path: Path) -> None:
    eng = fresh(store_path)
    assert not eng.has_member("walk-in")
    events = pd.DataFrame(
        {
            "member_id": ["walk-in", "walk-in", "walk-in"],
            "title_id": ["thr00", "thr02", "not-a-title"],
            "started_at": ["2026-11-20T10:00:00Z"] * 3,
            "seconds_viewed": [6000, 6000, 10],
            "country": ["BR", "BR", "BR"],
        }
    )
    assert eng.observe(events) == 2
    assert eng.has_member("walk-in")
    recs = eng.recommend("walk-in", k=5)
    assert sum("Thriller" in r.genres for r in recs) >= 3
    # A Brazilian walk-in never gets the US-only thriller.
    assert "thr03" not in {r.title_id for r in eng.recommend("walk-in", k=60)}


def test_observe_partial_episode_puts_it_in_continue_watching(store_path: Path) -> None:
    eng = fresh(store_path)
    events = pd.DataFrame(
        {"member_id": ["m001"], "title_id": ["office-s1e2"], "started_at": [NOW], "seconds_viewed": [600]}
    )
    eng.observe(events)
    rows = {r.row_kind: r for r in eng.home("m001").rows}
    item = rows["continue_watching"].items[0]
    assert item.title_id == "office-s1e2" and item.name == "The Office"
    assert item.reason == "Continue Season 1, Episode 2"


def test_a_few_seconds_of_a_title_are_a_sample_not_a_watch(store_path: Path) -> None:
    """A trailer's autoplay used to hide the title from every row and name it in "Because you watched"."""
    eng = fresh(store_path)
    picks = [r.title_id for r in eng.recommend("kid", k=5)]
    sampled = picks[0]
    eng.observe(pd.DataFrame({"member_id": ["kid"], "title_id": [sampled], "started_at": [NOW],
                              "seconds_viewed": [30]}))  # 30 s of a 95-minute film: under 2%
    assert eng.catalog.index_of(sampled) not in eng.view("kid").recent.tolist()
    after = eng.recommend("kid", k=40)
    assert sampled in [r.title_id for r in after]  # still offered
    assert not [r for r in after if sampled in r.because]  # and never a reason
    eng.observe(pd.DataFrame({"member_id": ["kid"], "title_id": [sampled], "started_at": [NOW],
                              "seconds_viewed": [20 * 60]}))  # then 20 minutes more: started
    assert eng.catalog.index_of(sampled) in eng.view("kid").recent.tolist()
    assert sampled in [i.title_id for r in eng.home("kid").rows if r.row_kind == "continue_watching" for i in r.items]


def test_observe_rejects_events_without_required_columns(engine: PersonalizationEngine) -> None:
    with pytest.raises(InputError, match="seconds_viewed"):
        engine.observe(pd.DataFrame({"member_id": ["m001"], "title_id": ["thr00"], "started_at": [NOW]}))


def test_reads_are_safe_while_events_arrive(store_path: Path) -> None:
    eng = fresh(store_path)
    members = [f"m{i:03d}" for i in range(12)]
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(2):
                for m in members:
                    eng.home(m, per_row=4)
                    eng.recommend(m, k=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def write() -> None:
        try:
            for j, m in enumerate(members):
                eng.observe(pd.DataFrame({"member_id": [m], "title_id": [f"doc{j % 12:02d}"],
                                          "started_at": [NOW], "seconds_viewed": [6000]}))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(2)] + [threading.Thread(target=write)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(f"doc{j % 12:02d}" in set(eng.histories.get(m).pieces["title_id"]) for j, m in enumerate(members))


def test_a_given_model_is_used_and_an_unfitted_one_is_fitted(store_path: Path) -> None:
    eng = fresh(store_path, model=PopularityRecommender())
    assert isinstance(eng.model, PopularityRecommender) and eng.model.is_fitted()
    assert len(eng.recommend("m001", k=3)) == 3


def test_a_model_fitted_on_another_title_axis_is_mapped(store_path: Path, engine: PersonalizationEngine) -> None:
    from limelight.personalize.base import Interactions

    # Fit on a frame that knows only some titles, in another order.
    frame = engine.histories.pieces[engine.histories.pieces["title_id"].str.startswith(("doc", "com"))]
    model = PopularityRecommender().fit(Interactions.from_frame(frame.iloc[::-1]))
    eng = fresh(store_path, model=model)
    recs = eng.recommend("m000", k=5)
    assert len(recs) == 5
    scores = eng._cf_scores(eng.histories.get("m000").row(eng.catalog.n_titles))[0]
    thriller = eng.catalog.axis_index["thr00"]
    assert scores[thriller] == 0.0 and np.max(scores) > 0


def test_cli_home_prints_rows_with_reasons(store_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from limelight.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["home", "series_fan", "--db", str(store_path), "--per-row", "3"])
    assert result.exit_code == 0, result.output
    assert "Continue Watching" in result.output and "Continue Season 2, Episode 1" in result.output
    result = runner.invoke(app, ["explain", "series_fan", "dark", "--db", str(store_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sentence"] == "Continue Season 2, Episode 1"
    result = runner.invoke(app, ["similar", "thr01", "--db", str(store_path), "--member", "kid", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) and all(i["reason"] == "Like Thriller Film 1" for i in json.loads(result.output))


def test_next_episode_skips_episodes_the_member_already_finished(store_path: Path) -> None:
    """Rewatching S1E2 after finishing S1E3 and S2E1 must offer S2E2, not send them back to S1E3."""
    eng = fresh(store_path)
    episodes = ["dark-s1e1", "dark-s1e2", "dark-s1e3", "dark-s2e1", "dark-s1e2"]  # the last is the rewatch
    events = pd.DataFrame(
        {
            "member_id": ["rewatcher"] * len(episodes),
            "title_id": episodes,
            "started_at": [pd.Timestamp(NOW) - pd.Timedelta(days=10 - i) for i in range(len(episodes))],
            "seconds_viewed": [3000] * len(episodes),  # 50-minute episodes, watched through
            "country": ["US"] * len(episodes),
        }
    )
    eng.observe(events)
    row = eng.home("rewatcher").rows[0]
    assert row.row_kind == "continue_watching"
    assert row.items[0].title_id == "dark-s2e2" and row.items[0].reason == "Next: Season 2, Episode 2"


@pytest.mark.parametrize(
    ("column", "value"),
    [("release_date", (NOW + pd.Timedelta(days=30)).date()), ("available_countries", ["DE"]),
     ("maturity_rating", "NC-17")],
    ids=["next-season-not-out", "not-licensed-in-their-country", "rated-above-their-profile"],
)
def test_continue_watching_offers_only_an_episode_the_member_may_play(
    store_path: Path, tmp_path: Path, column: str, value: object
) -> None:
    """next_up (Brazil) finished Dark's first season; season 2, episode 1 is the next one. Episodes carry
    their own release date, countries and rating, and the episode is checked, not only the series."""
    import shutil

    import duckdb

    path = tmp_path / "world.duckdb"
    shutil.copy(store_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"UPDATE titles SET {column} = ? WHERE title_id = 'dark-s2e1'", [value])
    if column == "maturity_rating":  # a profile limited to TV-MA (level 4 of 5)
        assert fresh(path).members.maturity_limit["next_up"] < 5
    eng = fresh(path)
    shown = [(row.row_kind, item.title_id) for row in eng.home("next_up").rows for item in row.items]
    assert ("continue_watching", "dark-s2e1") not in shown
    assert eng.explain("next_up", "dark").progress is None
    assert ("continue_watching", "dark-s2e1") in [
        (row.row_kind, item.title_id) for row in fresh(store_path).home("next_up").rows for item in row.items
    ]


def test_metadata_speaks_for_new_titles_and_fades_for_old_ones_with_few_views() -> None:
    """A title out for years with few views was passed over: its list score is the viewing's, not its
    genres' (on MovieLens, films with one rating and the member's genre filled the top 10)."""
    from home_world import shared_engine

    from limelight.personalize.coldstart import content_weight

    eng = shared_engine()
    by_views = content_weight(eng.views_, eng.content_shrinkage)
    fresh, old = eng.catalog.index_of("new0"), eng.catalog.index_of("thr10")  # 5 days old; 700 days old
    assert eng.views_[old] > 0
    assert eng.content_weight_[fresh] == pytest.approx(by_views[fresh])
    assert eng.content_weight_[old] < 0.01 * by_views[old]


def test_member_views_are_kept_for_the_most_recent_members_only() -> None:
    """One view per member was kept for ever (44 KB a member on the 50k demo: 44 GB for a million)."""
    from home_world import shared_store_path

    with Store(shared_store_path(), read_only=True) as store:
        eng = PersonalizationEngine.from_store(store, max_views=5)
    members = list(eng.histories.member_ids)[:12]
    first = eng.recommend(members[0], k=5)
    for member in members[1:]:
        eng.home(member)
    assert len(eng._views) == 5 and members[0] not in eng._views
    assert [r.title_id for r in eng.recommend(members[0], k=5)] == [r.title_id for r in first]  # rebuilt alike
