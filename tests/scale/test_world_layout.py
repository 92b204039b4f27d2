"""The Parquet world is laid out as an appended event log: time-ordered parts whose row groups a window can skip,
or month folders (Hive-style) whose files a window can skip on either engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import limelight.spine.world.parquet as world_parquet  # where the row-group size is read
from limelight.errors import InputError
from limelight.spine.engines import connect
from limelight.spine.pipelines import interactions, views_per_window
from limelight.spine.world import TIME_ORDER, write_world_parquet


def test_each_part_is_sorted_by_time_in_row_groups_whose_time_ranges_do_not_overlap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world_parquet, "ROW_GROUP_ROWS", 500)
    write_world_parquet(tmp_path / "w", events=3_000, seed=4, payments=False)
    for name, column in (("viewing_events", "started_at"), ("ratings", "rated_at")):
        for part in sorted((tmp_path / "w" / name).glob("*.parquet")):
            meta = pq.ParquetFile(part).metadata
            index = meta.schema.names.index(column)
            ranges = [
                (meta.row_group(i).column(index).statistics.min, meta.row_group(i).column(index).statistics.max)
                for i in range(meta.num_row_groups)
            ]
            if name == "viewing_events":
                assert meta.num_row_groups == 6
            assert all(lo <= hi for lo, hi in ranges)
            assert all(ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1)), part
            values = pq.read_table(part, columns=[column]).column(0).to_pylist()
            assert values == sorted(values)


def test_the_same_seed_writes_the_same_event_files(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        write_world_parquet(tmp_path / folder, events=2_000, seed=8, payments=False)
    first = sorted((tmp_path / "a" / "viewing_events").glob("*.parquet"))
    assert first
    for part in first:
        assert part.read_bytes() == (tmp_path / "b" / "viewing_events" / part.name).read_bytes()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same world twice: one folder of parts per event table, and Hive-style month folders."""
    root = tmp_path_factory.mktemp("layouts")
    write_world_parquet(root / "flat", events=6_000, seed=5, payments=False)
    write_world_parquet(root / "months", events=6_000, seed=5, payments=False, partition_by="month")
    return root / "flat", root / "months"


WINDOWS = (("2025-11-01", "2026-11-01"), ("2026-10-01", "2026-10-15"), ("2025-03-15 12:00", "2025-04-01"))


def test_month_folders_hold_each_events_month_and_the_same_rows(worlds: tuple[Path, Path]) -> None:
    flat, months = worlds
    for name, column in (("viewing_events", "started_at"), ("ratings", "rated_at")):
        folders = sorted(p for p in (months / name).iterdir())
        assert folders and all(p.name.startswith("month=") for p in folders)
        for folder in folders:
            times = pq.read_table(folder, columns=[column]).column(0).to_numpy()
            assert {str(t)[:7] for t in times.astype("datetime64[M]")} == {folder.name.removeprefix("month=")}
        a = pq.read_table(flat / name).to_pandas().sort_values(list(TIME_ORDER[name])).reset_index(drop=True)
        b = pq.read_table(months / name).to_pandas().drop(columns="month")
        b = b.sort_values(list(TIME_ORDER[name])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)
    with pytest.raises(InputError, match="partition_by"):
        write_world_parquet(flat.parent / "x", events=2_000, partition_by="day")


def test_duckdb_reads_only_the_months_a_window_touches_with_the_same_results(worlds: tuple[Path, Path]) -> None:
    flat, months = worlds
    a, b = connect("duckdb", parquet_dir=flat), connect("duckdb", parquet_dir=months)
    for start, end in WINDOWS:
        pd.testing.assert_frame_equal(views_per_window(a, start, end).execute(), views_per_window(b, start, end).execute())
    pd.testing.assert_frame_equal(interactions(a).execute(), interactions(b).execute())
    sql = str(b.compile(views_per_window(b, "2026-10-01", "2026-10-15")))
    plan = "\n".join(row[1] for row in b.con.execute(f"EXPLAIN ANALYZE {sql}").fetchall())
    folders = len(list((months / "viewing_events").iterdir()))
    assert f"Scanning Files: 1/{folders}" in plan  # one month folder of them all


@pytest.mark.spark
def test_spark_prunes_month_folders_with_the_same_results(spark: Any, worlds: tuple[Path, Path]) -> None:
    flat, months = worlds
    a = connect("spark", parquet_dir=flat, spark=spark, tables=("titles", "viewing_events"))
    b = connect("spark", parquet_dir=months, spark=spark, tables=("titles", "viewing_events"))
    for start, end in WINDOWS[:2]:
        pd.testing.assert_frame_equal(views_per_window(a, start, end).to_pandas(), views_per_window(b, start, end).to_pandas())
    plan = spark.sql(str(b.compile(views_per_window(b, "2026-10-01", "2026-10-15"))))
    text = plan._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters: [isnotnull(month" in text and "2026-10" in text
