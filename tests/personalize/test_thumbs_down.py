"""A thumbs-down: the title is gone from the member's page, and it never speaks for other titles.

It used to count as part of their history like any viewing: a half-watched film they had rated down sat
in Continue Watching, headed "Because You Watched …" rows and was the named reason for other titles
(4,451 reasons and 134 Continue Watching items over 400 members of a fresh 100k-event demo world).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from home_world import NOW, mentions_on_page, world_frames

from limelight.personalize.batch import read_store_interactions
from limelight.personalize.engine import PersonalizationEngine
from limelight.spine.store import Rows, Store


def _at(days_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW).tz_convert(None) - pd.Timedelta(days=days_ago)


RATINGS = pd.DataFrame(
    [
        # film_half half-watched thr01 a day ago, then rated it down
        ("film_half", "thr01", -1.0, _at(0.5), "thumbs"),
        # series_fan is mid-way through season 2 of "dark": a thumbs-down on one episode is one on the series
        ("series_fan", "dark-s2e1", -1.0, _at(0.5), "thumbs"),
        # br_thriller rated thr00 down, then changed their mind: their latest rating counts
        ("br_thriller", "thr00", -1.0, _at(2.0), "thumbs"),
        ("br_thriller", "thr00", 1.0, _at(0.5), "thumbs"),
    ],
    columns=["member_id", "title_id", "rating", "rated_at", "scale"],
)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thumbs") / "spine.duckdb"
    frames = {**world_frames(), "ratings": RATINGS}
    with Store(path) as store:
        store.ingest([Rows(name, frame, origin=f"test:{name}") for name, frame in frames.items()])
    return path


@pytest.fixture(scope="module")
def engine(store_path: Path) -> PersonalizationEngine:
    with Store(store_path, read_only=True) as store:
        return PersonalizationEngine.from_store(store, now=NOW)


@pytest.mark.parametrize(("member", "disliked"), [("film_half", "thr01"), ("series_fan", "dark")])
def test_a_disliked_title_is_nowhere_on_the_page(engine: PersonalizationEngine, member: str, disliked: str) -> None:
    assert mentions_on_page(engine, member, disliked) == []
    listed = engine.recommend(member, k=200)
    assert disliked not in {i.title_id for i in listed} | {b for i in listed for b in i.because}
    assert disliked not in {s.title_id for s in engine.similar("thr02", k=60, member_id=member)}
    assert disliked not in [t.title_id for t in engine.explain(member, listed[0].title_id).because_titles]


def test_a_disliked_title_is_not_a_positive_for_the_model(engine: PersonalizationEngine) -> None:
    matrix = engine.histories.matrix()
    row = engine.histories.member_pos["film_half"]
    assert matrix[row, engine.catalog.index_of("thr01")] == 0
    assert matrix[row, engine.catalog.index_of("thr05")] == 1  # their other films still count
    series_fan = engine.histories.member_pos["series_fan"]
    assert matrix[series_fan, engine.catalog.index_of("dark")] == 0


def test_the_latest_thumbs_rating_decides(engine: PersonalizationEngine) -> None:
    view = engine.view("br_thriller")
    thr00 = engine.catalog.index_of("thr00")
    assert not view.disliked[thr00] and view.seen[thr00]


def test_evaluate_from_the_store_reads_what_the_service_trains_on(
    engine: PersonalizationEngine, store_path: Path
) -> None:
    frame = read_store_interactions(store_path)
    pairs = set(zip(frame["member_id"], frame["title_id"], strict=True))
    assert ("film_half", "thr01") not in pairs and ("series_fan", "dark") not in pairs
    assert ("br_thriller", "thr00") in pairs and ("film_half", "thr05") in pairs
    matrix = engine.histories.matrix()
    assert len(frame) == matrix.nnz
    titles = np.asarray(engine.catalog.axis_ids, dtype=object)
    rows, cols = matrix.nonzero()
    service = set(zip(np.asarray(engine.histories.member_ids, dtype=object)[rows], titles[cols], strict=True))
    assert pairs == service


def test_a_disliked_series_stays_disliked_when_another_episode_is_watched(store_path: Path) -> None:
    with Store(store_path, read_only=True) as store:
        eng = PersonalizationEngine.from_store(store, now=NOW)
    eng.observe(pd.DataFrame({"event_id": ["fan-next"], "member_id": ["series_fan"], "title_id": ["dark-s2e2"],
                              "started_at": [_at(0.1)], "seconds_viewed": [20 * 60]}))
    view = eng.view("series_fan")
    assert view.disliked[eng.catalog.index_of("dark")]
    page = eng.home("series_fan", max_rows=20, per_row=40)
    assert "dark" not in {item.title_id for row in page.rows for item in row.items}
