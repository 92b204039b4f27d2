"""Pages built from ratings alone (MovieLens-like): what an audit on ml-latest-small found wrong.

Over ml-latest-small (`benchmarks/real_data_pages.py`): half of "More like this" for films with 50+ ratings
was genre twins rated once or never (metadata kept its full share between titles at any age); two films
with no year in their title, rated once each, were in 40% and 29% of members' top 10s (an unknown date
counted as new); and every page had a "Top 10 in the World This Week" made of 28 ratings by 7 people,
offering members films they had already rated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from limelight.personalize.engine import PersonalizationEngine
from limelight.spine.store import Rows, Store

NOW = pd.Timestamp("2018-09-24 12:00")
GENRES = ["Drama", "Comedy", "Thriller"]


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(5)
    titles = []
    for genre in GENRES:
        for j in range(8):  # well-known films, released years ago, rated by many
            titles.append(dict(title_id=f"{genre[:3]}{j}", name=f"{genre} Classic {j}", kind="film",
                               release_date=pd.Timestamp("1995-01-01") + pd.Timedelta(days=100 * j),
                               genres=[genre], source="test"))
        for j in range(12):  # obscure old films of the same genre, rated once
            titles.append(dict(title_id=f"{genre[:3]}x{j}", name=f"{genre} Obscure {j}", kind="film",
                               release_date=pd.Timestamp("1985-01-01"), genres=[genre], source="test"))
    titles.append(dict(title_id="nodate", name="A Film With No Year", kind="film", release_date=None,
                       genres=["Drama"], source="test"))  # rated once, two years ago
    titles.append(dict(title_id="fresh", name="Fresh Drama", kind="film", release_date=NOW - pd.Timedelta(days=3),
                       genres=["Drama"], source="test"))  # new: nobody has rated it yet
    titles.append(dict(title_id="fresh2", name="Fresh Drama Two", kind="film",
                       release_date=NOW - pd.Timedelta(days=4), genres=["Drama"], source="test"))  # rated twice
    members = [dict(member_id=f"u{i}", source="test") for i in range(120)]
    ratings = []
    for i in range(120):
        genre = GENRES[i % 3]
        for j in rng.choice(8, size=5, replace=False):
            day = rng.integers(30, 700)  # nobody rated in the last month but the three below
            ratings.append((f"u{i}", f"{genre[:3]}{j}", 4.0, NOW - pd.Timedelta(days=int(day))))
    for g, genre in enumerate(GENRES):
        for j in range(12):
            ratings.append((f"u{(g + 3 * j) % 120}", f"{genre[:3]}x{j}", 4.0, NOW - pd.Timedelta(days=400)))
    ratings.append(("u0", "nodate", 4.0, NOW - pd.Timedelta(days=700)))
    ratings += [("u0", "fresh2", 4.0, NOW - pd.Timedelta(days=2)), ("u3", "fresh2", 4.0, NOW - pd.Timedelta(days=2))]
    for i in range(3):  # the last week: three people, a dozen films each
        for j in range(12):
            ratings.append((f"u{i}", f"Comx{j}", 5.0, NOW - pd.Timedelta(days=i + 1, hours=j)))
    frame = pd.DataFrame(ratings, columns=["member_id", "title_id", "rating", "rated_at"]).assign(scale="stars")
    frame = frame.drop_duplicates(["member_id", "title_id"])
    return {"titles": pd.DataFrame(titles), "members": pd.DataFrame(members), "ratings": frame}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> PersonalizationEngine:
    path: Path = tmp_path_factory.mktemp("ratings-only") / "spine.duckdb"
    with Store(path) as store:
        store.ingest([Rows(name, frame, origin=f"test:{name}") for name, frame in _frames().items()])
    with Store(path, read_only=True) as store:
        return PersonalizationEngine.from_store(store, now=NOW.tz_localize("UTC").to_pydatetime())


def test_more_like_a_well_known_film_is_well_known_films_not_genre_twins_rated_once(engine) -> None:
    for film in ("Dra0", "Com3", "Thr5"):
        listed = [s.title_id for s in engine.similar(film, k=10)]
        assert listed and not [t for t in listed if "x" in t], (film, listed)


def test_a_film_with_no_date_is_as_old_as_its_first_rating(engine) -> None:
    cat = engine.catalog
    assert engine.content_weight_[cat.index_of("nodate")] < 0.01  # rated two years ago: not new
    assert engine.content_weight_[cat.index_of("fresh")] == pytest.approx(1.0)  # new and unrated: metadata
    why = engine.score_breakdown("u102", "nodate")  # listed, now, on its one co-rater's pattern alone
    assert why["score"] == pytest.approx((1 - why["content_weight"]) * why["collaborative"]
                                         + why["content_weight"] * why["content"], abs=1e-6)
    assert why["score"] < 0.1  # it was 0.73, nearly all of it the genre match
    assert "fresh" in {s.title_id for s in engine.similar("Dra0", k=10)}  # a new title still reaches members


def test_no_top10_row_from_a_handful_of_raters_and_no_rated_film_offered_back(engine) -> None:
    for member in engine.histories.member_ids:
        page = engine.home(member, max_rows=20, per_row=12)
        assert not [row.title for row in page.rows if row.row_kind == "top10"], member
        view = engine.view(member)
        shown = [item.title_id for row in page.rows for item in row.items]
        assert not [t for t in shown if view.seen[engine.catalog.index_of(t)]], member


def test_a_library_catalog_name_reads_article_first_on_pages() -> None:
    """MovieLens files "The Matrix" as "Matrix, The": a page said "Because you watched Matrix, The"."""
    from limelight.personalize.catalog import article_first

    names = pd.Series(["Matrix, The", "City of Lost Children, The (Cité des enfants perdus, La)", "Avventura, L'",
                       "Man and a Woman, A", "I, Robot", "Pulp Fiction", "Good, the Bad and the Ugly, The"])
    assert article_first(names).tolist() == [
        "The Matrix", "The City of Lost Children (Cité des enfants perdus, La)", "L'Avventura", "A Man and a Woman",
        "I, Robot", "Pulp Fiction", "The Good, the Bad and the Ugly"]


def test_ratings_only_members_are_told_what_they_rated_not_what_they_watched(engine) -> None:
    """MovieLens members rated films; they did not watch them on this service."""
    reasons = [r.reason for m in ("u4", "u5", "u6") for r in engine.recommend(m, k=5)]
    named = [r for r in reasons if r.startswith("Because you ")]
    assert named and all(r.startswith("Because you rated ") for r in named), reasons
    headers = [row.title for m in ("u4", "u5") for row in engine.home(m, max_rows=20).rows
               if row.row_kind == "because_you_watched"]
    assert headers and all(h.startswith("Because You Rated ") for h in headers), headers


def test_a_title_scored_mostly_on_metadata_is_explained_by_metadata_look_alikes(engine) -> None:
    """A new film rated twice is 83% metadata in its score; its reason named the member's titles with the
    largest collaborative contributions — each worth a sliver of a score that was mostly genre match."""
    cat = engine.catalog
    fresh2 = cat.index_of("fresh2")
    assert engine.content_weight_[fresh2] >= 0.5
    why = engine.explain("u6", "fresh2")  # a drama fan who has not rated it
    assert why.because_titles
    for t in why.because_titles:  # each named title's weight is its metadata likeness to the film
        alike = engine.content.similarity(np.array([fresh2]), np.array([cat.index_of(t.title_id)]))[0][0]
        assert t.weight == pytest.approx(float(alike), abs=1e-6)
