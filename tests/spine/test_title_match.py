"""Engagement names → catalog titles: exact first, fuzzy only when confirmed, ambiguity left unmatched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from limelight.spine.loaders import load_paths
from limelight.spine.loaders.title_match import match_titles, normalise_names
from limelight.spine.store import Store
from limelight.spine.validate import Rows

CATALOG = pd.DataFrame(
    {
        "title_id": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "ml1"],
        "name": ["The Crown", "True Grit", "Enola Holmes", "Pui Pui Molcar", "Perfect Stranger", "Extraction",
                 "Extraction", "Life in Color with David Attenborough", "Spider-Man", "Heat (1995)"],
        "kind": ["series", "film", "film", "series", "film", "film", "film", "series", "film", "film"],
        "release_date": ["2020-01-01", "1969-01-01", "2020-01-01", "2021-01-01", "2007-01-01", "2015-01-01",
                         "2020-01-01", "2021-01-01", "2002-01-01", None],
        "source": ["netflix_titles"] * 9 + ["movielens"],
    }
)  # fmt: skip


def _names(rows: list[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["title_name", "kind", "release_date"], index=np.arange(10, 10 + len(rows)))


def test_exact_names_match_through_seasons_native_titles_and_years() -> None:
    names = _names([
        ("The Crown: Season 4 // 더 크라운: 시즌 4", "show", "2020-11-15"),
        ("Enola Holmes", "film", "2020-09-23"),
        ("Extraction", "film", "2020-04-24"),
        ("Heat (1995)", None, None),
        ("SPIDER-MAN", "film", None),
    ])  # fmt: skip
    out = match_titles(names, CATALOG)
    assert list(out.index) == list(names.index)
    assert out["title_id"].tolist() == ["s1", "s3", "s7", "ml1", "s9"]
    assert out["title_match"].tolist() == ["exact"] * 5
    assert out["title_match_score"].tolist() == [1.0, 1.0, 1.0, 1.0, 0.9]  # no report year: unconfirmed


def test_other_films_sequels_and_ambiguous_names_stay_unmatched() -> None:
    names = _names([
        ("True Grit (2010)", "film", None),  # the catalog's is the 1969 film
        ("Enola Holmes 2", "film", "2022-11-04"),  # a sequel, not a spelling
        ("Extraction", "film", None),  # two catalog films of that name, no year to choose
        ("Perfect Strangers", "film", None),  # a look-alike with no year to confirm it
        ("The Crown", "film", None),  # the catalog's is a series
        ("Nothing Like It", None, None),
    ])  # fmt: skip
    out = match_titles(names, CATALOG)
    assert out["title_id"].isna().all()
    assert out["title_match"].isna().all()
    assert out["title_match_score"].isna().all()


def test_fuzzy_matches_only_when_kind_and_year_confirm_them() -> None:
    names = _names([
        ("Life in Colour with David Attenborough: Limited Series", None, "2021-04-22"),
        ("PUIPUI MOLCAR: Season 1", "show", "2021-01-05"),
        ("PUIPUI MOLCAR: Season 1", "show", None),
    ])  # fmt: skip
    out = match_titles(names, CATALOG)
    assert out["title_id"].tolist()[:2] == ["s8", "s4"]
    assert out["title_match"].tolist()[:2] == ["fuzzy", "fuzzy"]
    assert 0.95 <= out["title_match_score"].iloc[0] < 1.0
    assert pd.isna(out["title_id"].iloc[2])


def test_a_catalog_with_season_rows_gets_the_season_not_the_series() -> None:
    catalog = pd.DataFrame({
        "title_id": ["S1", "S1.1", "S1.2"], "name": ["Dark", "Dark: Season 1", "Dark: Season 2"],
        "kind": ["series", "season", "season"], "release_date": [None] * 3, "source": ["demo"] * 3,
        "parent_id": [None, "S1", "S1"], "season_number": [None, 1, 2],
    })  # fmt: skip
    out = match_titles(_names([("Dark: Season 2", "show", None), ("Dark: Season 3", "show", None)]), catalog)
    assert out["title_id"].tolist() == ["S1.2", "S1"]


def test_normalised_names_fold_case_accents_punctuation_and_native_parts() -> None:
    got = normalise_names(pd.Series(["Amélie & Me: Part 1!", "Élite // エリート", None]))
    assert got.tolist()[:2] == ["amelie and me part 1", "elite"]
    assert pd.isna(got.iloc[2])


def _engagement(names: list[str]) -> Rows:
    n = len(names)
    frame = pd.DataFrame({"source": "r.xlsx", "sheet": "Film", "row_number": np.arange(7, 7 + n),
                          "period_start": "2024-01-01", "period_end": "2024-06-30", "title_name": names,
                          "kind": "film", "hours_viewed": 1_000})  # fmt: skip
    return Rows("engagement", frame, "r.xlsx")


def test_the_store_links_reports_to_a_catalog_loaded_before_or_after(db_path: Path) -> None:
    titles = Rows("titles", CATALOG.drop(columns=["source"]).assign(source="netflix_titles"), "catalog.csv")
    with Store(db_path) as store:
        first = store.ingest([_engagement(["Enola Holmes", "Nobody Knows This One"])])
        assert first.linked == 0
        later = store.ingest([titles])
        assert later.linked == 1
        more = store.ingest([_engagement(["Enola Holmes", "Nobody Knows This One", "Spider-Man"])])
        assert more.inserted == {"engagement": 1}
        assert more.linked == 1
        rows = store.con.execute(
            "SELECT title_name, title_id, title_match FROM engagement ORDER BY row_number"
        ).fetchall()
    assert rows == [
        ("Enola Holmes", "s3", "exact"),
        ("Nobody Knows This One", None, None),
        ("Spider-Man", "s9", "exact"),
    ]


def test_a_store_made_before_the_match_columns_gains_them(db_path: Path) -> None:
    import duckdb

    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "CREATE TABLE engagement (source VARCHAR NOT NULL, sheet VARCHAR NOT NULL, row_number INTEGER NOT NULL, "
            "period_start DATE NOT NULL, period_end DATE NOT NULL, title_name VARCHAR NOT NULL, kind VARCHAR, "
            "available_globally BOOLEAN, release_date DATE, runtime_minutes DOUBLE, hours_viewed BIGINT NOT NULL, "
            "views BIGINT, title_id VARCHAR, PRIMARY KEY (source, sheet, row_number))"
        )
    with Store(db_path) as store:
        assert store.ingest([_engagement(["Heat"])]).inserted == {"engagement": 1}
        assert {"title_match", "title_match_score"} <= set(store.query("SELECT * FROM engagement").columns)


@pytest.fixture(scope="module")
def real_matches(shared_data: Path) -> pd.DataFrame:
    reports = load_paths(sorted((shared_data / "netflix" / "engagement").glob("*.xlsx")))
    engagement = pd.concat([r.frame for r in reports], ignore_index=True)
    catalog = pd.concat(
        [r.frame for r in load_paths([shared_data / "netflix" / "titles" / "netflix_titles.csv"]) if r.table == "titles"],
        ignore_index=True,
    )
    matched = match_titles(engagement, catalog)
    return engagement.drop(columns=list(matched.columns)).join(matched)


def test_real_reports_match_about_a_third_of_rows_to_the_2021_catalog(real_matches: pd.DataFrame) -> None:
    rate = real_matches["title_id"].notna().mean()
    assert 0.25 < rate < 0.5  # the catalog is from 2021; the reports list 2023-24 viewing of every title
    by_name = real_matches.drop_duplicates("title_name").set_index("title_name")
    assert by_name.loc["Bird Box", "title_id"] == "s4269"
    assert by_name.loc["Squid Game: Season 1 // 오징어 게임: 시즌 1", "title_id"] == "s34"
    assert pd.isna(by_name.loc["Extraction", "title_id"])  # the report's 2020 film; the catalog's is 2015
    assert set(real_matches["title_match"].dropna()) <= {"exact", "fuzzy"}
    scores = real_matches["title_match_score"].dropna()
    assert ((scores > 0) & (scores <= 1)).all()
