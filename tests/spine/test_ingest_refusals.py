"""`limelight ingest` refuses values the spine cannot hold or that cannot be meant, with the file, row and column,
exit code 2 and the store unchanged: repeated header columns, infinities, ratings off their scale, numbers
too large for their column, epoch times far out of range, and files whose table is only a guess."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_runner import digest, run, write
from limelight.errors import DataError
from limelight.spine.loaders._common import read_delimited
from limelight.spine.loaders.tabular import guess_table, read_tabular
from limelight.spine.schema import SCHEMA
from limelight.spine.store import Store
from limelight.spine.validate import Rows, coerce_rows


@pytest.fixture()
def store(tiny_store: Path) -> Path:
    return tiny_store


RATINGS = "member_id,title_id,rating,rated_at,scale\n"
EVENTS = "event_id,member_id,title_id,started_at,seconds_viewed\n"
BAD_FILES = {
    "duplicated-header": (
        "incoming/ratings.csv",
        "userId,movieId,rating,rating,timestamp\n1,20,4.0,3,964982800\n",
        "ratings.csv, row 1, column 'rating': the header names this column twice (columns 3 and 4)",
    ),
    "duplicated-header-generic": (
        "scores.csv",
        "member_id,title_id,rating, rating ,rated_at,scale\n1,20,4,3,2024-01-01,stars\n",
        "scores.csv, row 1, column 'rating': the header names this column twice (columns 3 and 4)",
    ),
    "infinite-rating": (
        "scores.csv",
        RATINGS + "1,20,4,2024-01-01,stars\n1,10,inf,2024-01-02,stars\n",
        "scores.csv, row 3, column 'rating': 'inf' is not a finite number",
    ),
    "stars-off-scale": (
        "scores.csv",
        RATINGS + "1,20,4,2024-01-01,stars\n2,10,99,2024-01-02,stars\n",
        "scores.csv, row 3, column 'rating': must be from 0.5 to 5 on the stars scale, got 99",
    ),
    "stars-below-scale": (
        "scores.csv",
        RATINGS + "1,20,0,2024-01-01,stars\n",
        "scores.csv, row 2, column 'rating': must be from 0.5 to 5 on the stars scale, got 0",
    ),
    "thumbs-off-scale": (
        "scores.csv",
        RATINGS + "1,20,1,2024-01-01,thumbs\n1,10,3,2024-01-01,thumbs\n",
        "scores.csv, row 3, column 'rating': must be -1, 1 or 2 on the thumbs scale, got 3",
    ),
    "movielens-stars-off-scale": (
        "incoming/ratings.csv",
        "userId,movieId,rating,timestamp\n1,20,55,964982800\n",
        "ratings.csv, row 2, column 'rating': must be from 0.5 to 5 on the stars scale, got 55",
    ),
    "ratings-without-rating": (
        "scores.csv",
        "member_id,title_id,rated_at\n1,20,2024-01-01\n",
        "scores.csv: cannot tell which spine table this file fills: its columns are member_id, title_id, rated_at",
    ),
    "int32-overflow": (
        "events.csv",
        EVENTS + "e1,1,20,2024-01-01,60\ne2,1,20,2024-01-01,99999999999\n",
        "events.csv, row 3, column 'seconds_viewed': must be between -2147483648 and 2147483647 "
        "(a 32-bit whole number), got 99999999999",
    ),
    "epoch-far-future": (
        "events.csv",
        EVENTS + "e1,1,20,99999999999,60\n",
        "events.csv, row 2, column 'started_at': '99999999999' seconds since 1970 is not a date "
        "from 1800-01-01 to 2199-12-31",
    ),
    "movielens-epoch-overflow": (
        "incoming/ratings.csv",
        "userId,movieId,rating,timestamp\n1,20,4,964982800\n2,10,4,99999999999999\n",
        "ratings.csv, row 3, column 'timestamp': '99999999999999' seconds since 1970 is not a date",
    ),
    "date-far-future": (
        "scores.csv",
        RATINGS + "1,20,4,5000-01-01,stars\n",
        "scores.csv, row 2, column 'rated_at': must be a date from 1800-01-01 to 2199-12-31, got '5000-01-01'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_value_the_spine_cannot_mean_is_refused_and_the_store_is_unchanged(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, text, message = BAD_FILES[case]
    path = write(tmp_path / name, text)
    before = digest(store)
    code, _, err = run(["ingest", str(path), "--db", str(store)], capsys)
    assert code == 2, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert digest(store) == before


def test_ratings_on_their_scale_are_still_taken(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "scores.csv", RATINGS + "1,20,0.5,2024-01-01,stars\n2,10,5,2024-01-01,stars\n"
                                                    "1,10,-1,2024-02-01,thumbs\n2,20,2,2024-02-01,thumbs\n")  # fmt: skip
    code, _, err = run(["ingest", str(path), "--db", str(store), "--json"], capsys)
    assert code == 0, err
    with Store(store, read_only=True) as s:
        assert s.count("ratings") == 6


def test_a_parquet_epoch_out_of_range_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame({"event_id": ["e1", "e2"], "member_id": ["1", "1"], "title_id": ["20", "20"],
                  "started_at": [1_700_000_000, 10**15], "seconds_viewed": [60, 60]}).to_parquet(path)  # fmt: skip
    with pytest.raises(DataError, match=r"events.parquet, row 2, column 'started_at': '1000000000000000' seconds"):
        read_tabular(path)


def test_integer_and_decimal_columns_are_range_checked_against_their_duckdb_type() -> None:
    events = pd.DataFrame({"event_id": ["e1", "e2"], "member_id": ["m", "m"], "title_id": ["t", "t"],
                           "started_at": ["2024-01-01", "2024-01-02"], "seconds_viewed": [2**31 - 1, 2**31]})  # fmt: skip
    with pytest.raises(DataError, match=r"e.csv, row 2, column 'seconds_viewed': must be between"):
        coerce_rows(Rows("viewing_events", events, "e.csv"), SCHEMA["viewing_events"])
    subs = pd.DataFrame({"region": ["a", "b"], "as_of": ["2024-01-01"] * 2, "source": ["s"] * 2,
                         "paid_memberships": [np.float64(9.3e18), np.float64(9.2e18)]})  # fmt: skip
    with pytest.raises(DataError, match=r"s.csv, row 1, column 'paid_memberships': must be between"):
        coerce_rows(Rows("subscribers", subs, "s.csv"), SCHEMA["subscribers"])
    pay = pd.DataFrame({"attempt_id": ["a"], "member_id": ["m"], "invoice_id": ["i"], "amount": ["1e12"],
                        "currency": ["USD"], "attempted_at": ["2024-01-01"], "outcome": ["failed"]})  # fmt: skip
    with pytest.raises(DataError, match=r"p.csv, row 1, column 'amount': must be below 10,000,000,000"):
        coerce_rows(Rows("payment_attempts", pay, "p.csv"), SCHEMA["payment_attempts"])
    # below the bound as typed, but DECIMAL(12,2) stores it rounded to cents: 10,000,000,000.00
    with pytest.raises(DataError, match=r"p.csv, row 1, column 'amount': must be below 10,000,000,000"):
        coerce_rows(Rows("payment_attempts", pay.assign(amount=["9999999999.999"]), "p.csv"), SCHEMA["payment_attempts"])
    titles = pd.DataFrame({"title_id": ["t"], "name": ["n"], "kind": ["film"], "source": ["s"],
                           "runtime_minutes": [float("-inf")]})  # fmt: skip
    with pytest.raises(DataError, match=r"t.csv, row 1, column 'runtime_minutes': '-inf' is not a finite number"):
        coerce_rows(Rows("titles", titles, "t.csv"), SCHEMA["titles"])


def test_the_header_check_is_central_to_every_delimited_reader(tmp_path: Path) -> None:
    path = write(tmp_path / "t.tsv", "\n\na\tb\ta\n1\t2\t3\n")
    with pytest.raises(DataError, match=r"t.tsv, row 3, column 'a': the header names this column twice"):
        read_delimited(path, sep="\t")
    headerless = write(tmp_path / "h.csv", "1,1,2\n")  # no header: repeated values are data
    assert read_delimited(headerless, names=["a", "b", "c"])["c"].tolist() == ["2"]


def test_the_table_is_guessed_only_when_every_column_belongs_to_it() -> None:
    assert guess_table({"member_id", "title_id", "rated_at"}) is None  # was 'members', dropping two columns
    assert guess_table({"member_id", "email"}) is None
    assert guess_table({"member_id", "country", "source"}) == "members"
    assert guess_table({"member_id", "title_id", "rating", "rated_at", "scale"}) == "ratings"


def test_a_file_that_fits_no_table_names_the_nearest_and_what_each_lacks(tmp_path: Path) -> None:
    path = write(tmp_path / "scores.csv", "member_id,title_id,rated_at\n1,20,2024-01-01\n")
    with pytest.raises(DataError) as info:
        read_tabular(path)
    message = str(info.value)
    assert "nearest: ratings (needs rating, scale)" in message
    assert "tags (needs tag, tagged_at and has no rated_at)" in message
    assert "members (has no title_id, rated_at)" in message  # the table the guess used to take
    assert "give --table NAME" in message
    [rows] = read_tabular(path, "ratings", constants={"rating": "4", "scale": "stars"})  # --table still loads it
    assert rows.table == "ratings"


def test_parquet_columns_of_the_wrong_kind_are_named_not_a_traceback(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    event = {"event_id": ["e1"], "member_id": ["1"], "title_id": ["10"], "started_at": [pd.Timestamp("2024-01-01")],
             "seconds_viewed": [60]}  # fmt: skip
    cases = {
        "binary": ({**event, "event_id": pa.array([b"e1"], pa.binary())},
                   "row 1, column 'event_id': holds binary data, not text or numbers"),
        "boolean": ({**event, "seconds_viewed": [True]},
                    "row 1, column 'seconds_viewed': 'True' is a yes/no value, not a number"),
    }  # fmt: skip
    before = digest(store)
    for name, (columns, message) in cases.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(columns), path)
        code, _, err = run(["ingest", str(path), "--db", str(store), "--table", "viewing_events"], capsys)
        assert code == 2 and f"{name}.parquet, {message}" in err, err
    assert digest(store) == before


def test_export_to_a_path_it_cannot_write_or_from_a_file_without_spine_tables_says_so(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    taken = write(tmp_path / "a-file", "x")
    code, _, err = run(["export", str(taken), "--db", str(store)], capsys)
    assert code == 2 and f"cannot write the export to {taken}" in err
    blank = tmp_path / "blank.duckdb"
    duckdb.connect(str(blank)).close()
    code, _, err = run(["export", str(tmp_path / "out"), "--db", str(blank)], capsys)
    assert code == 2 and "holds no spine tables, so there is nothing to export" in err


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (["CREATE TABLE foo(x INT)"], "is a DuckDB database but not a limelight store (it holds foo and none"),
        (["CREATE TABLE members(x INT, y INT)", "CREATE TABLE titles(title_id VARCHAR)"],
         "its table 'members' has no 'member_id' column"),
    ],
)
def test_another_programs_duckdb_file_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tables: list[str], message: str
) -> None:
    """It used to get the spine's tables created into it, or a traceback after a partial write."""
    import hashlib

    import duckdb

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        for sql in tables:
            con.execute(sql)
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    members = write(tmp_path / "members.csv", "member_id,country\nm1,US\n")
    for args in (["ingest", str(members)], ["info"], ["home", "m1"], ["keys", "create", "--role", "admin"],
                 ["train", "--model", "popularity"]):
        code, _, err = run([*args, "--db", str(other)], capsys)
        assert code == 2 and message in err, (args, err)
        assert "Traceback" not in err
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
