"""Cold start: members with no history, titles with no views, and the hand-over to collaborative signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from home_world import NOW, _ts, build_store, shared_engine, world_frames

from limelight.personalize.coldstart import ContentModel, content_weight
from limelight.personalize.engine import PersonalizationEngine
from limelight.spine.store import Rows, Store


@pytest.fixture(scope="module")
def engine() -> PersonalizationEngine:
    return shared_engine()


def test_content_weight_starts_at_one_and_fades_with_views() -> None:
    w = content_weight(np.array([0, 1, 10, 100, 10_000]), shrinkage=10)
    assert w[0] == 1.0
    assert np.all(np.diff(w) < 0)
    assert w[-1] < 0.002
    assert np.all(content_weight(np.array([0, 5]), shrinkage=0) == 0)


def test_content_model_finds_titles_sharing_genre_and_cast(engine: PersonalizationEngine) -> None:
    model = ContentModel().fit(engine.catalog)
    idx = engine.catalog.axis_index["new0"]  # a thriller with Actor 0
    sims = model.similarity(np.array([idx]), np.arange(engine.catalog.n_titles))[0]
    sims[idx] = -1
    best = engine.catalog.axis_ids[int(np.argmax(sims))]
    assert engine.title(str(best)).genres == ["Thriller"]
    assert any(c.name == "Actor 0" for c in engine.title(str(best)).credits)


def test_a_member_with_no_history_gets_what_is_popular_in_their_country(engine: PersonalizationEngine) -> None:
    recs = engine.recommend("newbie", k=5)
    assert len(recs) == 5
    pop = engine.popularity.for_country("BR")
    expected = engine.catalog.axis_ids[np.argsort(-pop, kind="stable")]
    view = engine.view("newbie")
    allowed = [t for t in expected if view.allowed[engine.catalog.axis_index[t]]]
    assert [r.title_id for r in recs] == allowed[:5]
    assert any(r.reason == "Popular in Brazil this week" for r in recs)


def test_a_brand_new_title_reaches_members_who_watch_titles_like_it(engine: PersonalizationEngine) -> None:
    idx = engine.catalog.axis_index["new0"]
    assert engine.views_[idx] == 0  # no one has watched it
    recs = [r.title_id for r in engine.recommend("br_thriller", k=10)]
    assert "new0" in recs
    # The comedy released the same week does not rank above it for a thriller fan.
    full = [r.title_id for r in engine.recommend("br_thriller", k=100)]
    assert "new1" not in full or full.index("new0") < full.index("new1")
    why = engine.explain("br_thriller", "new0")
    assert why.collaborative_share == 0.0
    assert any(a.kind == "genre" and a.value == "Thriller" for a in why.because_attributes)
    watched = set(engine.histories.get("br_thriller").pieces["title_id"])
    assert why.because_titles and {t.title_id for t in why.because_titles} <= watched


def test_after_many_views_a_new_titles_score_is_driven_by_viewing_patterns(tmp_path: Path) -> None:
    frames = world_frames(n_members=240)
    fans = [f"m{i:03d}" for i in range(0, 240, 4)]  # thriller fans
    viewers, holdouts = fans[:-4], fans[-4:]
    extra = pd.DataFrame(
        {
            "event_id": [f"x{i}" for i in range(len(viewers))],
            "member_id": viewers,
            "title_id": "new0",
            "started_at": _ts(1),
            "seconds_viewed": 6000,
        }
    )
    frames["viewing_events"] = pd.concat([frames["viewing_events"], extra], ignore_index=True)
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([Rows(n, f, origin=f"test:{n}") for n, f in frames.items()])
        eng = PersonalizationEngine.from_store(store, now=NOW)
    idx = eng.catalog.axis_index["new0"]
    assert eng.views_[idx] == len(viewers)
    assert eng.content_weight_[idx] < 0.2
    for member in holdouts:
        parts = eng.score_breakdown(member, "new0")
        cf_share = (1 - parts["content_weight"]) * parts["collaborative"]
        assert cf_share > 3 * parts["content_weight"] * parts["content"]
        assert cf_share / parts["score"] > 0.75
        assert eng.explain(member, "new0").collaborative_share > 0.8
        assert "new0" in {r.title_id for r in eng.recommend(member, k=10)}


def test_fold_in_serves_a_new_member_with_the_models_own_scores(tmp_path: Path) -> None:
    als = pytest.importorskip("limelight.personalize.models").make_model("als", factors=8, iterations=5)
    with build_store(tmp_path / "s.duckdb") as store:
        eng = PersonalizationEngine.from_store(store, als, now=NOW)
    events = pd.DataFrame(
        {
            "member_id": ["arrival"] * 3,
            "title_id": ["com00", "com01", "com02"],
            "started_at": [NOW] * 3,
            "seconds_viewed": [6000] * 3,
            "country": ["US"] * 3,
        }
    )
    assert eng.observe(events) == 3
    recs = eng.recommend("arrival", k=5)
    assert sum("Comedy" in r.genres for r in recs) >= 3
    row = eng.histories.get("arrival").row(eng.catalog.n_titles)
    model_scores = eng.model.score(row)[0]
    top_model = int(np.argmax(np.where(row.toarray()[0] > 0, -np.inf, model_scores)))
    # The collaborative part of the arrival's scores is the model's own fold-in score.
    parts = eng.score_breakdown("arrival", str(eng.catalog.axis_ids[top_model]))
    assert parts["collaborative"] == pytest.approx(float(model_scores[top_model] / model_scores.max()), rel=1e-4)
