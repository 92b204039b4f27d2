"""The store's promises: all-or-nothing, idempotent, foreign keys against batch and store, errors that name the cell."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.spine.schema import SCHEMA, TABLE_ORDER
from limelight.spine.store import Store
from limelight.spine.validate import Rows


def _rows(table: str, records: dict[str, list], origin: str = "test.csv", lines: list[int] | None = None,
          source_columns: dict[str, str] | None = None) -> Rows:  # fmt: skip
    frame = pd.DataFrame(records)
    frame.attrs["source_columns"] = source_columns or {}
    return Rows(table, frame, origin, None if lines is None else np.asarray(lines))


MEMBERS = _rows("members", {"member_id": ["m1", "m2"], "source": ["test", "test"]})
TITLES = _rows("titles", {"title_id": ["t1"], "name": ["Heat"], "kind": ["film"], "source": ["test"]})


def _ratings(member: str = "m1", rating: object = 4.0, when: str = "2024-01-01T00:00:00") -> Rows:
    return _rows("ratings", {"member_id": [member], "title_id": ["t1"], "rating": [rating], "rated_at": [when],
                             "scale": ["stars"]}, origin="ratings.csv", lines=[7],
                 source_columns={"member_id": "userId", "rating": "stars"})  # fmt: skip


def test_foreign_keys_resolve_within_the_batch_and_against_the_store(db_path: Path) -> None:
    with Store(db_path) as store:
        assert store.ingest([MEMBERS, TITLES, _ratings()]).inserted == {
            "titles": 1,
            "members": 2,
            "ratings": 1,
        }
    with Store(db_path) as store:  # a later batch may point at what is already stored
        assert store.ingest([_ratings("m2")]).inserted == {"ratings": 1}


def test_a_refused_batch_leaves_the_file_byte_for_byte_unchanged(db_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    good = _rows("members", {"member_id": ["m3"], "source": ["test"]})
    with pytest.raises(DataError, match=r"ratings.csv, row 7, column 'userId': unknown member 'ghost'"):
        Store(db_path).ingest([good, _ratings("ghost")])
    with pytest.raises(DataError, match=r"ratings.csv, row 7, column 'stars': 'lots' is not a number"):
        Store(db_path).ingest([good, _ratings(rating="lots")])
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    with Store(db_path, read_only=True) as store:
        assert store.count("members") == 2


def test_the_same_rows_twice_add_nothing(db_path: Path) -> None:
    batch = [MEMBERS, TITLES, _ratings()]
    with Store(db_path) as store:
        store.ingest(batch)
        again = store.ingest(batch)
    assert again.inserted == {"titles": 0, "members": 0, "ratings": 0}
    assert again.offered == {"titles": 1, "members": 2, "ratings": 1}


def test_rows_with_an_unknown_column_or_enum_value_are_refused(db_path: Path) -> None:
    with pytest.raises(DataError, match=r"column 'colour': unknown column for table titles"):
        Store(db_path).ingest([_rows("titles", {"title_id": ["t"], "name": ["x"], "kind": ["film"],
                                                "source": ["s"], "colour": ["red"]})])  # fmt: skip
    with pytest.raises(DataError, match=r"row 1, column 'kind': must be one of film, series"):
        Store(db_path).ingest([_rows("titles", {"title_id": ["t"], "name": ["x"], "kind": ["podcast"],
                                                "source": ["s"]})])  # fmt: skip
    assert not db_path.exists()


def test_info_reports_every_key_and_engagement_hours(db_path: Path) -> None:
    engagement = _rows("engagement", {
        "source": ["r.xlsx", "r.xlsx"], "sheet": ["TV", "TV"], "row_number": [7, 8],
        "period_start": ["2024-01-01"] * 2, "period_end": ["2024-06-30"] * 2, "title_name": ["A", "B"],
        "hours_viewed": [1_000_000, 250_000]})  # fmt: skip
    with Store(db_path) as store:
        store.ingest([engagement])
        summary = store.info()
    for key in ("titles", "members", "ratings", "viewing_events", "engagement_rows", "engagement_hours",
                "payment_attempts"):  # fmt: skip
        assert isinstance(summary[key], int)
    assert (summary["engagement_rows"], summary["engagement_hours"]) == (2, 1_250_000)
    assert summary["sources"] == ["r.xlsx"]  # every table's sources, not only titles' and members'


def _report(source: str, start: str, end: str, hours: list[int]) -> Rows:
    return _rows("engagement", {
        "source": [source] * 2, "sheet": ["TV", "TV"], "row_number": [7, 8], "period_start": [start] * 2,
        "period_end": [end] * 2, "title_name": ["A", "B"], "hours_viewed": hours})  # fmt: skip


def test_one_report_under_two_file_names_is_not_counted_twice(db_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([_report("r.xlsx", "2024-01-01", "2024-06-30", [1_000_000, 250_000])])
        with pytest.raises(DataError) as refused:  # the same report, saved as "r (1).xlsx"
            store.ingest([_report("r (1).xlsx", "2024-01-01", "2024-06-30", [1_000_000, 250_000])])
        assert "already holds this engagement row (period_start '2024-01-01', period_end '2024-06-30'" in str(
            refused.value
        ) and "as source 'r.xlsx'" in str(refused.value)
        # another half-year's report under the first one's file name: its rows are not the stored ones
        with pytest.raises(DataError, match=r"with period_start '2024-01-01', and this row says '2024-07-01'"):
            store.ingest([_report("r.xlsx", "2024-07-01", "2024-12-31", [5, 6])])
        assert store.info()["engagement_hours"] == 1_250_000


def test_one_report_under_two_file_names_in_one_load_is_not_counted_twice(db_path: Path) -> None:
    """Checked only against the store, a report and its renamed copy loaded together were both stored."""
    with Store(db_path) as store:
        store.ingest([_report("a.xlsx", "2023-07-01", "2023-12-31", [7, 8])])
        before = store.info()
        with pytest.raises(DataError) as refused:
            store.ingest([_report("r.xlsx", "2024-01-01", "2024-06-30", [1_000_000, 250_000]),
                          _report("r (1).xlsx", "2024-01-01", "2024-06-30", [1_000_000, 250_000])])
        message = str(refused.value)
        # (`_rows` names every part test.csv: the loaders name the workbook)
        assert message.startswith("test.csv, row 1, column 'period_start': this engagement row (period_start "
                                  "'2024-01-01', period_end '2024-06-30', sheet 'TV', row_number '7') repeats row 1 of "
                                  "test.csv, under another name"), message
        assert store.info() == before
        store.ingest([_report("r.xlsx", "2024-01-01", "2024-06-30", [1_000_000, 250_000])] * 2)  # one file twice
        assert store.info()["engagement_hours"] == 1_250_015


def test_export_writes_one_parquet_file_per_table(db_path: Path, tmp_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
        written = store.export_parquet(tmp_path / "out")
    assert [p.stem for p in written] == list(TABLE_ORDER)
    members = pd.read_parquet(tmp_path / "out" / "members.parquet")
    assert list(members.columns) == list(SCHEMA["members"].column_names)
    assert sorted(members["member_id"]) == ["m1", "m2"]


def test_an_export_folder_with_a_quote_is_a_folder_not_sql(db_path: Path, tmp_path: Path) -> None:
    planted = tmp_path / "planted.csv"
    folder = tmp_path / f"o' (FORMAT PARQUET); COPY (SELECT 1 AS x) TO '{planted}' (FORMAT CSV); --"
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
        written = store.export_parquet(folder)
    assert not planted.exists()
    assert all(p.parent == folder and p.exists() for p in written)
    assert sorted(pd.read_parquet(folder / "members.parquet")["member_id"]) == ["m1", "m2"]


def test_a_memory_limit_is_a_size_or_refused_in_words() -> None:
    from limelight.errors import InputError
    from limelight.spine.sql import memory_limit_setting

    assert memory_limit_setting("512MiB", "the limit") == "SET memory_limit='512MiB'"
    with pytest.raises(InputError, match="the limit must be a memory size such as 4GB"):
        memory_limit_setting("4GB'; COPY x TO 'y", "the limit")


def _events(ids: list[str], seconds: list[int], origin: str = "events.csv", first_line: int = 2) -> Rows:
    n = len(ids)
    return _rows("viewing_events", {"event_id": ids, "member_id": ["m1"] * n, "title_id": ["t1"] * n,
                                    "started_at": ["2024-01-01T20:00:00"] * n, "seconds_viewed": seconds},
                 origin=origin, lines=list(range(first_line, first_line + n)),
                 source_columns={"event_id": "id"})  # fmt: skip


def test_a_key_repeated_with_different_values_refuses_the_batch_naming_the_later_row(db_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    clash = _events(["e1", "e2", "e1"], [60, 70, 99])
    with pytest.raises(DataError, match=r"events.csv, row 4, column 'id': the key \(event_id 'e1'\) repeats row 2 "):
        Store(db_path).ingest([clash])
    across = [_events(["e1", "e2"], [60, 70]), _events(["e9", "e2"], [5, 71], origin="more.csv")]
    with pytest.raises(DataError, match=r"more.csv, row 3, column 'id': .* repeats row 3 of events.csv"):
        Store(db_path).ingest(across)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_exact_repeats_in_one_batch_are_stored_once(db_path: Path) -> None:
    same = [_events(["e1", "e2", "e1"], [60, 70, 60]), _events(["e2"], [70], origin="again.csv")]
    with Store(db_path) as store:
        report = store.ingest([MEMBERS, TITLES, *same])
        assert (report.offered["viewing_events"], report.inserted["viewing_events"]) == (2, 2)
        assert store.count("viewing_events") == 2


def test_only_rows_with_new_keys_are_inserted_and_a_stored_row_is_never_silently_changed(db_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES, _events(["e1", "e2"], [60, 70])])
        # e2 again with another figure: refused, naming the row and column, and nothing of the batch lands
        with pytest.raises(DataError) as refused:
            store.ingest([_events(["e2", "e3", "e4"], [999, 80, 90])])
        assert refused.value.row == 2 and refused.value.column == "seconds_viewed"
        assert "already holds viewing_events (event_id 'e2') with seconds_viewed '70'" in str(refused.value)
        assert store.count("viewing_events") == 2
        report = store.ingest([_events(["e2", "e3", "e4"], [70, 80, 90])])  # the same e2: only the new rows
        assert report.inserted == {"viewing_events": 2}
        stored = store.query("SELECT event_id, seconds_viewed FROM viewing_events ORDER BY 1")
    assert stored.values.tolist() == [["e1", 60], ["e2", 70], ["e3", 80], ["e4", 90]]


def test_keys_hold_on_a_store_created_with_primary_keys_and_new_stores_declare_none(db_path: Path,
                                                                                      tmp_path: Path) -> None:  # fmt: skip
    import duckdb

    from limelight.spine.schema import ddl, tables

    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:  # a file made by the store before keys moved to set-based checks
        for t in tables():
            con.execute(ddl(t))
    batch = [MEMBERS, TITLES, _events(["e1", "e2"], [60, 70])]
    for path in (old, db_path):
        with Store(path) as store:
            assert store.ingest(batch).total == 5
            assert store.ingest([*batch, _events(["e3"], [1])]).total == 1
            assert store.count("viewing_events") == 3
            declared = store.scalar("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'")
        assert (declared > 0) == (path == old)


def test_writers_in_threads_never_store_a_key_twice(db_path: Path) -> None:
    import threading

    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
    ids = [f"e{i}" for i in range(2_000)]
    batch = [_events(ids, list(range(2_000)))]
    totals: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write() -> None:
        try:
            with Store(db_path) as mine:
                assert mine.con is not None  # open read-write first: in one process, all connections must match
                start.wait()
                totals.append(mine.ingest(batch).total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(totals) == [0, 0, 0, 2_000]
    with Store(db_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) - count(DISTINCT event_id) FROM viewing_events") == 0
        assert store.count("viewing_events") == 2_000


def test_bulk_insert_refuses_a_repeated_key_with_different_values_and_writes_nothing(db_path: Path) -> None:
    members = pd.DataFrame({"member_id": ["m1", "m2", "m1"], "source": ["demo", "demo", "other"]})
    for col in SCHEMA["members"].column_names:
        if col not in members:
            members[col] = None
    with Store(db_path) as store:
        with pytest.raises(DataError, match=r"generated members, row 3, column 'member_id': the key"):
            store.bulk_insert([("members", members)])
        assert store.count("members") == 0
        report = store.bulk_insert([("members", members.iloc[:2]), ("members", members.iloc[[0]])])
        assert report.inserted == {"members": 2}
        assert report.offered == {"members": 3}


def test_categorical_text_columns_coerce_exactly_as_plain_strings_do() -> None:
    from limelight.spine.schema import table
    from limelight.spine.validate import coerce_rows

    plain = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "e4"], "member_id": [" m1", "m2 ", "m1", "m2"],
        "title_id": ["t1", "t2", "t1", "t2"], "started_at": ["2025-01-01 10:00"] * 4,
        "seconds_viewed": [60, 120, 30, 10], "device": ["tv", "  ", None, "phone"], "country": ["US", "US", "GB", "GB"],
    })  # fmt: skip
    as_categories = plain.astype({c: "category" for c in ("member_id", "device", "country")})
    expected = coerce_rows(Rows("viewing_events", plain, "plain.csv"), table("viewing_events"))
    got = coerce_rows(Rows("viewing_events", as_categories, "parts.parquet"), table("viewing_events"))
    pd.testing.assert_frame_equal(got, expected)
    assert got["device"].isna().tolist() == [False, True, True, False]  # a blank is missing, as in a spreadsheet
