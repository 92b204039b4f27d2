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


def test_export_writes_one_parquet_file_per_table(db_path: Path, tmp_path: Path) -> None:
    with Store(db_path) as store:
        store.ingest([MEMBERS, TITLES])
        written = store.export_parquet(tmp_path / "out")
    assert [p.stem for p in written] == list(TABLE_ORDER)
    members = pd.read_parquet(tmp_path / "out" / "members.parquet")
    assert list(members.columns) == list(SCHEMA["members"].column_names)
    assert sorted(members["member_id"]) == ["m1", "m2"]
