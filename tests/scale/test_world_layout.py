"""The Parquet world is laid out as an appended event log: time-ordered parts whose row groups a window can skip."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

import limelight.spine.world.parquet as world_parquet  # where the row-group size is read
from limelight.spine.world import write_world_parquet


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
