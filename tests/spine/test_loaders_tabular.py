"""The generic CSV/TSV/Parquet loader and the delimited reader's row numbers and refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError, InputError
from limelight.spine.loaders import read_tabular
from limelight.spine.loaders._common import read_delimited
from limelight.spine.loaders.tabular import guess_table
from limelight.spine.store import Store


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_row_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", 'a,b\n1,x\n\n2,"two\nlines"\n3,w\n')
    frame = read_delimited(path)
    assert frame.index.tolist() == [2, 4, 6]
    assert frame["b"].tolist() == ["x", "two\nlines", "w"]


def test_a_ragged_row_and_a_wrong_encoding_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"t.csv, row 3: has 3 fields where the header has 2"):
        read_delimited(write(tmp_path / "t.csv", "a,b\n1,x\n2,y,9\n"))
    (tmp_path / "l.csv").write_bytes(b"a,b\n1,caf\xe9\n")
    with pytest.raises(DataError, match=r"l.csv: is not utf-8 text"):
        read_delimited(tmp_path / "l.csv")
    with pytest.raises(DataError, match=r"e.csv: the file is empty"):
        read_delimited(write(tmp_path / "e.csv", ""))


def test_the_table_is_guessed_from_spine_column_names() -> None:
    assert guess_table({"member_id", "title_id", "rating", "rated_at", "scale"}) == "ratings"
    assert guess_table({"member_id", "country"}) == "members"
    assert guess_table({"title_id", "name", "kind", "genres"}) == "titles"
    assert guess_table({"region", "revenue"}) is None


def test_lists_epochs_and_defaults(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path / "catalog.csv", "id,title,type,genres,out\nt1,Heat,film,Crime|Drama,818985600\n"
                                           "t2,Up,film,\"Animation, Family\",2009-05-29\n")  # fmt: skip
    [rows] = read_tabular(path, "titles", {"title_id": "id", "name": "title", "kind": "type",
                                           "release_date": "out"})  # fmt: skip
    assert rows.frame["source"].tolist() == ["catalog.csv", "catalog.csv"]  # source defaults to the file name
    with Store(db_path) as store:
        store.ingest([rows])
        got = store.query("SELECT title_id, genres, release_date FROM titles ORDER BY title_id")
    assert [list(g) for g in got["genres"]] == [["Crime", "Drama"], ["Animation", "Family"]]
    assert got["release_date"].astype(str).tolist() == ["1995-12-15", "2009-05-29"]


def test_parquet_rows_count_from_one_and_types_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame({"event_id": ["e1", "e2"], "member_id": ["m", "m"], "title_id": ["t", "t"],
                  "started_at": pd.to_datetime(["2024-01-01 20:00", "2024-01-02 21:00"]),
                  "seconds_viewed": [1200, -5]}).to_parquet(path)  # fmt: skip
    [rows] = read_tabular(path)
    assert rows.table == "viewing_events" and rows.line_numbers.tolist() == [1, 2]
    with pytest.raises(
        DataError, match=r"events.parquet, row 2, column 'seconds_viewed': must be at least 0, got -5"
    ):
        Store(tmp_path / "s.duckdb").ingest([rows])


def test_mapping_errors_are_one_sentence(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "u,t,r\n1,2,3\n")
    with pytest.raises(InputError, match="--table must be one of titles"):
        read_tabular(path, "watchlist")
    with pytest.raises(InputError, match="table ratings has no column 'stars'"):
        read_tabular(path, "ratings", {"stars": "r"})
    with pytest.raises(
        DataError, match=r"--map rating=score: the file has no column 'score' \(its columns are u, t, r\)"
    ):
        read_tabular(path, "ratings", {"rating": "score"})
    with pytest.raises(InputError, match="--map and --set need --table"):
        read_tabular(path, None, {"rating": "r"})


def test_times_whose_offset_changes_with_daylight_saving_are_one_column_of_utc_instants() -> None:
    """A log written in New York local time carries -05:00 in winter and -04:00 in summer; pandas calls
    that "mixed timezones" unless told to read instants (payments train/evaluate/churn used to fail)."""
    import numpy as np
    import pandas as pd

    from limelight.spine.loaders._common import parse_dates

    values = pd.Series(["2025-01-15T09:00:00-05:00", "2025-07-15T09:00:00-04:00", "2025-07-15T13:00:00", ""])
    out = parse_dates(values, "log.csv", np.arange(2, 6), "attempted_at")
    assert list(out[:3]) == [pd.Timestamp("2025-01-15 14:00"), pd.Timestamp("2025-07-15 13:00"), pd.Timestamp("2025-07-15 13:00")]
    assert out.dt.tz is None and pd.isna(out.iloc[3])


def test_thousands_separators_group_thousands_and_nothing_else() -> None:
    import numpy as np

    from limelight.spine.loaders._common import parse_numbers

    lines = np.arange(2, 7)
    got = parse_numbers(pd.Series(["1,234,000", "12", "1_000", "-1,000.5", None], dtype="string"), "f.csv", lines, "h")
    assert got.tolist()[:4] == [1_234_000.0, 12.0, 1_000.0, -1_000.5] and pd.isna(got.iloc[4])
    for cell in ("1,5", "1,2,3", "12,34", "1,234,56"):  # a decimal comma, or a list: never a number
        with pytest.raises(DataError, match=rf"f.csv, row 3, column 'h': '{cell}' is not a number \(commas"):
            parse_numbers(pd.Series(["1", cell], dtype="string"), "f.csv", lines[:2], "h")
