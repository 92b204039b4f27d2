"""MovieLens in its three layouts: CSV (real ml-latest-small), ml-100k and ml-1m (small fixtures written here)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.spine.loaders.movielens import is_movielens_folder, read_movielens, read_movielens_file
from limelight.spine.store import Store


def _by_table(batch: list) -> dict[str, pd.DataFrame]:
    return {r.table: r.frame for r in batch}


@pytest.fixture(scope="session")
def latest_small(shared_data: Path) -> list:
    return read_movielens(shared_data / "movielens" / "ml-latest-small")


def test_csv_layout_reads_every_table_of_ml_latest_small(latest_small: list) -> None:
    tables = _by_table(latest_small)
    assert {k: len(v) for k, v in tables.items()} == {
        "titles": 9_742,
        "members": 610,
        "ratings": 100_836,
        "tags": 3_683,
    }
    toy_story = tables["titles"].iloc[0]
    assert (toy_story["title_id"], toy_story["name"]) == ("1", "Toy Story")
    assert toy_story["release_date"] == pd.Timestamp("1995-01-01")
    assert list(toy_story["genres"]) == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert (toy_story["imdb_id"], toy_story["tmdb_id"]) == ("tt0114709", "862")
    first = tables["ratings"].iloc[0]
    # 964982703 epoch seconds is 2000-07-30 18:45:03 UTC.
    assert (first["member_id"], first["title_id"], first["rating"]) == ("1", "1", 4.0)
    assert first["rated_at"] == pd.Timestamp("2000-07-30 18:45:03")
    assert set(tables["ratings"]["scale"]) == {"stars"}
    ratings_rows = next(r for r in latest_small if r.table == "ratings")
    assert (
        ratings_rows.line_numbers[0] == 2 and ratings_rows.frame.attrs["source_columns"]["rating"] == "rating"
    )


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_titles_without_year_or_genres_and_links_with_blanks(tmp_path: Path, db_path: Path) -> None:
    folder = tmp_path / "ml"
    _write(
        folder / "movies.csv",
        'movieId,title,genres\n10,"Matrix, The (1999)",Action|Sci-Fi\n'
        "20,Babylon 5,(no genres listed)\n30,Cosmos (1980–1981) ,Documentary\n",
    )
    _write(folder / "links.csv", "movieId,imdbId,tmdbId\n10,0133093,603\n20,0105946,\n")
    _write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n7,10,4.5,0\n8,20,3,86400\n")
    _write(folder / "tags.csv", "userId,movieId,tag,timestamp\n9,30,space,60\n")
    tables = _by_table(read_movielens(folder))
    titles = tables["titles"].set_index("title_id")
    assert titles.loc["10", "name"] == "Matrix, The"
    assert titles.loc["20", "name"] == "Babylon 5" and pd.isna(titles.loc["20", "release_date"])
    assert titles.loc["20", "genres"] is None and pd.isna(titles.loc["20", "tmdb_id"])
    assert titles.loc["30", "release_date"] == pd.Timestamp("1980-01-01")
    assert pd.isna(titles.loc["30", "imdb_id"])
    # Members come from ratings and tags: the tagger 9 never rated.
    assert sorted(tables["members"]["member_id"]) == ["7", "8", "9"]
    assert tables["ratings"]["rated_at"].tolist() == [pd.Timestamp("1970-01-01"), pd.Timestamp("1970-01-02")]
    with Store(db_path) as store:
        report = store.ingest(read_movielens(folder))
        assert report.inserted == {"titles": 3, "members": 3, "ratings": 2, "tags": 1}


def test_ml_100k_layout(tmp_path: Path, db_path: Path) -> None:
    folder = tmp_path / "ml-100k"
    genres = [
        "unknown",
        "Action",
        "Adventure",
        "Animation",
        "Children's",
        "Comedy",
        "Crime",
        "Documentary",
        "Drama",
        "Fantasy",
        "Film-Noir",
        "Horror",
        "Musical",
        "Mystery",
        "Romance",
        "Sci-Fi",
        "Thriller",
        "War",
        "Western",
    ]
    _write(folder / "u.genre", "".join(f"{g}|{i}\n" for i, g in enumerate(genres)) + "\n")

    def flags(*on: str) -> str:
        return "|".join("1" if g in on else "0" for g in genres)

    kids = flags("Animation", "Children's", "Comedy")
    _write(
        folder / "u.item",
        f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|{kids}\n"
        f"2|Café Society (1995)|||http://x|{flags('Drama')}\n"
        f"267|unknown||||{flags('unknown')}\n",
        encoding="latin-1",
    )
    _write(folder / "u.data", "196\t1\t3\t881250949\n186\t2\t3\t891717742\n196\t267\t1\t878887116\n")
    assert is_movielens_folder(folder) == "100k"
    tables = _by_table(read_movielens(folder))
    titles = tables["titles"].set_index("title_id")
    assert titles.loc["1", "name"] == "Toy Story"
    assert list(titles.loc["1", "genres"]) == ["Animation", "Children's", "Comedy"]
    assert titles.loc["1", "release_date"] == pd.Timestamp("1995-01-01")
    assert titles.loc["2", "name"] == "Café Society"  # latin-1 decoded
    assert titles.loc["2", "release_date"] == pd.Timestamp("1995-01-01")  # from the title's year
    assert sorted(tables["members"]["member_id"]) == ["186", "196"]
    ratings = next(r for r in read_movielens(folder) if r.table == "ratings")
    assert ratings.line_numbers.tolist() == [1, 2, 3]  # no header: the first record is row 1
    with Store(db_path) as store:
        assert store.ingest(read_movielens(folder)).inserted == {"titles": 3, "members": 2, "ratings": 3}


def test_ml_1m_layout(tmp_path: Path, db_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    _write(
        folder / "movies.dat",
        "1::Toy Story (1995)::Animation|Children's|Comedy\n"
        "2::Jumanji: The Game (1995)::Adventure\n3::Amélie (2001)::Comedy|Romance\n",
        encoding="latin-1",
    )
    _write(folder / "ratings.dat", "1::1::5::978300760\n1::3::3::978302109\n2::2::4::978301968\n")
    assert is_movielens_folder(folder) == "1m"
    tables = _by_table(read_movielens(folder))
    titles = tables["titles"].set_index("title_id")
    assert titles.loc["2", "name"] == "Jumanji: The Game"
    assert titles.loc["3", "name"] == "Amélie" and list(titles.loc["3", "genres"]) == ["Comedy", "Romance"]
    assert tables["ratings"]["rating"].tolist() == [5.0, 3.0, 4.0]
    assert tables["ratings"]["rated_at"].iloc[0] == pd.Timestamp("2000-12-31 22:12:40")
    with Store(db_path) as store:
        assert store.ingest(read_movielens(folder)).inserted == {"titles": 3, "members": 2, "ratings": 3}


def test_ml_1m_bad_rating_names_line_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    _write(folder / "ratings.dat", "1::1::5::978300760\n1::3::x::978302109\n")
    with pytest.raises(DataError, match=r"ratings.dat, row 2, column 'Rating': 'x' is not a number"):
        read_movielens(folder)


def test_a_lone_ratings_file_adds_ratings_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    assert [r.table for r in read_movielens_file(path)] == ["ratings"]


def test_a_folder_without_movielens_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a MovieLens folder"):
        read_movielens(tmp_path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "ml"
    _write(folder / "ratings.csv", "userId,movieId,score,timestamp\n1,1,4,0\n")
    with pytest.raises(
        DataError, match=r"ratings.csv, row 1, column 'rating': required column is missing from the header"
    ):
        read_movielens(folder)


def test_two_movielens_releases_that_reuse_an_id_are_refused_not_merged(tmp_path: Path, db_path: Path) -> None:
    """ml-100k's film 2 is GoldenEye, ml-latest-small's is Jumanji: the second load must not hang its ratings
    on the first one's film (it used to be skipped without a word, and the ratings landed on Jumanji)."""

    def release(name: str, film_two: str) -> Path:
        folder = tmp_path / name / "ml-100k"
        _write(folder / "u.genre", "unknown|0\nDrama|1\n\n")
        _write(folder / "u.item", f"1|Toy Story (1995)|01-Jan-1995|||0|1\n2|{film_two}|01-Jan-1995|||0|1\n",
               encoding="latin-1")
        _write(folder / "u.data", "1\t2\t5\t874965758\n")
        return folder

    with Store(db_path) as store:
        store.ingest(read_movielens(release("a", "Jumanji (1995)")))
        with pytest.raises(DataError) as refused:
            store.ingest(read_movielens(release("b", "GoldenEye (1995)")))
        assert (refused.value.row, refused.value.column) == (2, "movie title")
        assert "already holds titles (title_id '2') with name 'Jumanji', and this row says 'GoldenEye'" in str(
            refused.value
        )
        assert store.count("ratings") == 1


def test_ml100k_titles_keep_their_quotes_and_ml1m_counts_fields_in_its_own_terms(tmp_path: Path) -> None:
    """The pipe files have no quoting convention: '"Quotes" in title' lost its quotes. A short ratings.dat
    row was reported as '5 fields where the header has 7' (counted on ':' in a file with no header)."""
    folder = tmp_path / "ml-100k"
    _write(folder / "u.genre", "unknown|0\nDrama|1\n\n")
    _write(folder / "u.item", '1|"Quotes" in title (1996)|01-Jan-1996|||0|1\n2|Say "Hi" (1995)|01-Jan-1995|||0|1\n',
           encoding="latin-1")
    _write(folder / "u.data", "1\t2\t5\t874965758\n")
    titles = next(r.frame for r in read_movielens(folder) if r.table == "titles")
    assert sorted(titles["name"]) == ['"Quotes" in title', 'Say "Hi"']
    ml1m = tmp_path / "ml-1m"
    _write(ml1m / "ratings.dat", "1::1::5::978300760\n1::2::5\n")
    with pytest.raises(DataError, match=r"^ratings.dat, row 2: must have 4 fields separated by '::'"):
        read_movielens(ml1m)
