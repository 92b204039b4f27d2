"""`limelight ingest` and `limelight info` through the real CLI: real MovieLens, bad input, generic mapping, downloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import digest, run, write

INFO_KEYS = ("titles", "members", "ratings", "viewing_events", "engagement_rows", "engagement_hours",
             "payment_attempts")  # fmt: skip


def info(db: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code, out, _ = run(["info", "--db", str(db), "--json"], capsys)
    assert code == 0
    return json.loads(out)




def test_ml_latest_small_gives_100836_ratings_610_members_9742_titles(
    shared_data: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["ingest", str(shared_data / "movielens" / "ml-latest-small"), "--db", str(db_path)], capsys
    )
    assert code == 0, err
    summary = info(db_path, capsys)
    for key in INFO_KEYS:
        assert isinstance(summary[key], int)
    assert (summary["ratings"], summary["members"], summary["titles"]) == (100_836, 610, 9_742)
    assert (summary["viewing_events"], summary["engagement_rows"], summary["payment_attempts"]) == (0, 0, 0)


@pytest.fixture()
def small_store(tiny_store: Path) -> Path:
    return tiny_store


BAD_RATINGS = [
    (
        "userId,movieId,timestamp\n1,10,964982703\n",
        "ratings.csv, row 1, column 'rating': required column is missing from the header",
    ),
    (
        "userId,movieId,rating,timestamp\n1,10,4.0,964982800\n2,10,abc,964982801\n",
        "ratings.csv, row 3, column 'rating': 'abc' is not a number",
    ),
    (
        "userId,movieId,rating,timestamp\n1,10,4.0,964982800\n1,20,5,last tuesday\n",
        "ratings.csv, row 3, column 'timestamp': 'last tuesday' is not a number",
    ),
    (
        "userId,movieId,rating,timestamp\n1,10,4.0,964982800\n1,20,5,964982801\n999,10,2,964982802\n",
        "ratings.csv, row 4, column 'userId': unknown member '999' (not in this batch nor in the store)",
    ),
    (
        "userId,movieId,rating,timestamp\n1,77,4.0,964982800\n",
        "ratings.csv, row 2, column 'movieId': unknown title '77'",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"),
    BAD_RATINGS,
    ids=["missing-column", "bad-number", "bad-epoch", "unknown-member", "unknown-title"],
)
def test_a_malformed_ratings_file_is_refused_and_the_store_is_unchanged(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    bad = write(tmp_path / "incoming" / "ratings.csv", text)
    before = digest(small_store)
    code, _, err = run(["ingest", str(bad), "--db", str(small_store)], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert digest(small_store) == before


def test_a_bad_date_in_a_mapped_file_names_row_and_column(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = write(tmp_path / "members.csv", "id,joined,country\n3,2024-01-05,GB\n4,soon,US\n")
    before = digest(small_store)
    code, _, err = run(
        [
            "ingest",
            str(members),
            "--db",
            str(small_store),
            "--table",
            "members",
            "--map",
            "member_id=id",
            "--map",
            "signup_date=joined",
            "--set",
            "source=crm",
        ],
        capsys,
    )
    assert code == 2
    assert "members.csv, row 3, column 'joined': 'soon' is not a date" in err
    assert digest(small_store) == before


def test_a_decimal_comma_is_refused_not_read_as_a_thousands_separator(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """"3,5" used to lose its comma and load as 35 (or fail the rating range naming 35, not the cell)."""
    ratings = write(tmp_path / "new" / "ratings.csv",
                    "userId,movieId,rating,timestamp\n1,21,4,964990000\n1,22,\"3,5\",964990001\n")
    before = digest(small_store)
    code, _, err = run(["ingest", str(ratings), "--db", str(small_store)], capsys)
    assert code == 2
    assert "ratings.csv, row 3, column 'rating': '3,5' is not a number (commas may only group thousands" in err
    assert digest(small_store) == before


def test_the_same_file_twice_adds_nothing(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    more = write(tmp_path / "new" / "ratings.csv", "userId,movieId,rating,timestamp\n1,20,2.5,964990000\n")
    code, out, _ = run(["ingest", str(more), "--db", str(small_store), "--json"], capsys)
    assert code == 0 and json.loads(out)["inserted"] == {"ratings": 1}
    code, out, _ = run(["ingest", str(more), "--db", str(small_store), "--json"], capsys)
    assert code == 0 and json.loads(out)["inserted"] == {"ratings": 0}
    assert info(small_store, capsys)["ratings"] == 3


def test_generic_loader_maps_columns_into_a_table(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thumbs = write(
        tmp_path / "thumbs.tsv",
        "who\twhat\tvote\twhen\n1\t20\t1\t2024-03-01T10:00:00Z\n2\t10\t-1\t1709287200\n",
    )
    code, out, err = run(
        [
            "ingest",
            str(thumbs),
            "--db",
            str(small_store),
            "--json",
            "--table",
            "ratings",
            "--map",
            "member_id=who",
            "--map",
            "title_id=what",
            "--map",
            "rating=vote",
            "--map",
            "rated_at=when",
            "--set",
            "scale=thumbs",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["inserted"] == {"ratings": 2}
    from limelight.spine.store import Store

    with Store(small_store, read_only=True) as store:
        rows = store.query(
            "SELECT member_id, rating, rated_at, scale FROM ratings WHERE scale = 'thumbs' ORDER BY 1"
        )
    # An ISO time with 'Z' and epoch seconds in one column both land as the same UTC instant.
    assert rows["rated_at"].astype(str).tolist() == ["2024-03-01 10:00:00", "2024-03-01 10:00:00"]
    assert rows["rating"].tolist() == [1.0, -1.0]


def test_parquet_with_spine_column_names_needs_no_mapping(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    path = tmp_path / "members.parquet"
    pd.DataFrame({"member_id": ["5", "6"], "country": ["FR", "JP"], "source": ["app", "app"]}).to_parquet(
        path
    )
    code, out, err = run(["ingest", str(path), "--db", str(small_store), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["inserted"] == {"members": 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "watchlist"], "--table must be one of titles, people"),
        (["--table", "ratings", "--map", "stars=rating"], "table ratings has no column 'stars'"),
        (["--table", "ratings", "--map", "rating=score"], "the file has no column 'score'"),
        (["--table", "ratings", "--map", "member_id"], "--map must be SPINE_COLUMN=VALUE, got 'member_id'"),
        (["--map", "member_id=userId"], "--map and --set need --table"),
        (["--table", "ratings"], "mine.csv, row 1, column 'scale': table ratings requires this column"),
    ],
)
def test_generic_loader_refuses_unknown_tables_and_columns(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = write(tmp_path / "mine.csv", "member_id,title_id,rating,rated_at\n1,10,4,2024-01-01\n")
    code, _, err = run(["ingest", str(path), "--db", str(small_store), *args], capsys)
    assert code == 2
    assert message in err


def test_a_file_of_no_known_format_names_the_columns_expected(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "sales.csv", "region,revenue\nEMEA,12\n")
    code, _, err = run(["ingest", str(path), "--db", str(db_path)], capsys)
    assert code == 2
    assert "sales.csv: cannot tell which spine table this file fills: its columns are region, revenue" in err
    assert "ratings: member_id, title_id, rating, rated_at, scale" in err
    assert not db_path.exists()


def test_a_missing_path_and_an_unknown_dataset_are_one_sentence(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["ingest", str(tmp_path / "nope.csv"), "--db", str(db_path)], capsys)
    assert code == 2 and "does not exist" in err
    code, _, err = run(["ingest", "--dataset", "movielens-7m", "--db", str(db_path)], capsys)
    assert code == 2 and "--dataset must be one of movielens-latest-small" in err


def test_offline_download_is_a_clear_error(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from limelight.spine.loaders import datasets

    monkeypatch.setenv("LIMELIGHT_CACHE_DIR", str(tmp_path / "cache"))
    from limelight.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setitem(
        datasets.DATASETS,
        "movielens-latest-small",
        replace(datasets.DATASETS["movielens-latest-small"], url="http://127.0.0.1:9/ml-latest-small.zip"),
    )
    try:
        code, _, err = run(["ingest", "--dataset", "movielens-latest-small", "--db", str(db_path)], capsys)
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert "could not download http://127.0.0.1:9/ml-latest-small.zip" in err
    assert "limelight ingest FOLDER" in err
    assert not db_path.exists()


def test_a_country_must_be_a_two_letter_code_in_any_case(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'usa' was stored as given (the API refuses it), so no availability or Top 10 rule matched it."""
    members = write(tmp_path / "members.csv", "id,country\n31,us\n32,usa\n")
    before = digest(small_store)
    argv = ["ingest", str(members), "--db", str(small_store), "--table", "members", "--map", "member_id=id",
            "--set", "source=crm"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "members.csv, row 3, column 'country': must be a two-letter country code" in err
    assert "got 'usa'" in err and digest(small_store) == before
    write(members, "id,country\n31,us\n32, gb \n")
    code, _, err = run(argv, capsys)
    assert code == 0, err
    import duckdb

    with duckdb.connect(str(small_store), read_only=True) as con:
        stored = con.execute("SELECT member_id, country FROM members WHERE member_id IN ('31', '32') ORDER BY 1").fetchall()
    assert stored == [("31", "US"), ("32", "GB")]
