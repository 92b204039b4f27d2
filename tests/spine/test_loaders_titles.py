"""The Netflix titles catalog → titles, people and credits (real file)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.spine.loaders import read_netflix_titles
from limelight.spine.store import Store
from limelight.spine.validate import Rows


@pytest.fixture(scope="session")
def catalog(shared_data: Path) -> list[Rows]:
    return read_netflix_titles(shared_data / "netflix" / "titles" / "netflix_titles.csv")


def _table(batch: list[Rows], name: str) -> pd.DataFrame:
    return pd.concat([r.frame for r in batch if r.table == name], ignore_index=True)


def test_titles_map_kind_genres_country_rating_and_runtime(catalog: list[Rows]) -> None:
    titles = _table(catalog, "titles").set_index("title_id")
    assert len(titles) == 8_807
    assert titles["kind"].value_counts().to_dict() == {"film": 6_131, "series": 2_676}
    s1 = titles.loc["s1"]
    assert (s1["name"], s1["kind"], s1["runtime_minutes"], s1["release_date"]) == (
        "Dick Johnson Is Dead", "film", 90.0, "2020-01-01")  # fmt: skip
    assert (s1["country_of_origin"], s1["maturity_rating"], list(s1["genres"])) == (
        "US",
        "PG-13",
        ["Documentaries"],
    )
    s2 = titles.loc["s2"]
    assert s2["kind"] == "series" and pd.isna(s2["runtime_minutes"])  # '2 Seasons' is not a runtime
    assert list(s2["genres"]) == ["International TV Shows", "TV Dramas", "TV Mysteries"]
    assert s2["country_of_origin"] == "ZA"
    # Three rows carry the runtime in the rating column ('74 min'): runtime, no rating.
    louis = titles.loc["s5542"]
    assert louis["runtime_minutes"] == 74.0 and pd.isna(louis["maturity_rating"])
    codes = titles["country_of_origin"].dropna()
    assert codes.str.fullmatch(r"[A-Z]{2}").all()


def test_credits_directors_and_billed_cast_in_order(catalog: list[Rows]) -> None:
    credits = _table(catalog, "credits")
    s2 = credits[credits["title_id"] == "s2"].sort_values("credit_order")
    performers = s2[s2["role"] == "performer"]
    assert performers["person_id"].head(2).tolist() == ["Ama Qamata", "Khosi Ngema"]
    assert performers["credit_order"].tolist() == list(range(1, 20))
    assert performers["billing"].head(3).tolist() == ["principal"] * 3
    assert performers["billing"].iloc[3:].isna().all()
    s3 = credits[(credits["title_id"] == "s3") & (credits["role"] == "director")]
    assert s3["person_id"].tolist() == ["Julien Leclercq"]
    people = _table(catalog, "people")
    assert people["person_id"].is_unique and "Ama Qamata" in set(people["name"])


def test_row_numbers_follow_the_file_across_quoted_line_breaks(catalog: list[Rows]) -> None:
    titles = next(r for r in catalog if r.table == "titles")
    assert titles.line_numbers[0] == 2
    assert (
        titles.line_numbers[-1] == 8_810
    )  # 8,807 records on 8,810 lines: two descriptions hold a line break


def test_the_catalog_ingests_once(catalog: list[Rows], db_path: Path) -> None:
    with Store(db_path) as store:
        first = store.ingest(catalog)
        again = store.ingest(catalog)
    assert first.inserted["titles"] == 8_807 and first.inserted["credits"] == first.offered["credits"]
    assert sum(again.inserted.values()) == 0


def test_an_unknown_type_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "netflix_titles.csv"
    path.write_text(
        "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description\r\n"
        's1,Movie,A,,,"France, Spain",,2020,PG,90 min,Dramas,x\r\n'
        "s2,Podcast,B,,,,,2021,,1 Season,Talk,y\r\n",
        encoding="utf-8",
    )
    batch = read_netflix_titles(path)
    assert _table(batch, "titles")["country_of_origin"].tolist()[0] == "FR"
    with pytest.raises(DataError, match=r"netflix_titles.csv, row 3, column 'type': must be one of film"):
        Store(tmp_path / "s.duckdb").ingest(batch)


@pytest.mark.parametrize("duration", ["90 hours", "90 -90 min", "ninety"])
def test_a_duration_that_is_neither_minutes_nor_seasons_names_row_and_column(tmp_path: Path, duration: str) -> None:
    path = tmp_path / "netflix_titles.csv"
    path.write_text(
        "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description\n"
        "s1,Movie,A,,,,,2020,PG,90 min,Dramas,x\n"
        "s2,TV Show,B,,,,,2021,,2 Seasons,Talk,y\n"
        f"s3,Movie,C,,,,,2021,,{duration},Dramas,z\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=rf"netflix_titles.csv, row 4, column 'duration': '{duration}' is not a duration"):
        read_netflix_titles(path)
