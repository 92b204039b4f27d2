"""Trainers' interactions straight from Parquet equal the pandas path; Spark broadcasts the title map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from limelight.errors import InputError, NotFoundError
from limelight.personalize.base import Interactions
from limelight.scale.parquet_interactions import interactions_from_events, interactions_from_parquet
from limelight.spine.engines import broadcast_small, connect
from limelight.spine.pipelines import interactions, series_units


def _equal(a: Interactions, b: Interactions) -> None:
    assert np.array_equal(a.member_ids, b.member_ids)
    assert np.array_equal(a.title_ids, b.title_ids)
    assert a.matrix.shape == b.matrix.shape
    assert a.matrix.nnz == b.matrix.nnz
    assert np.array_equal(a.matrix.indptr, b.matrix.indptr) and np.array_equal(a.matrix.indices, b.matrix.indices)
    # Duplicate pairs add up in float32; DuckDB's threads may sum them in another order than pandas,
    # so the last bit may differ (one ulp, 1.2e-7 at 1.0) — never more.
    np.testing.assert_allclose(a.matrix.data, b.matrix.data, rtol=1e-6, atol=0)


@pytest.fixture()
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 5_000
    return pd.DataFrame(
        {
            "member_id": [f"M{i:05d}" for i in rng.integers(0, 400, n)],
            "title_id": [f"tt{i:04d}" for i in rng.integers(0, 150, n)],  # duplicates add up
            "weight": rng.random(n).astype(np.float64),
        }
    )


def test_a_parquet_file_gives_the_same_matrix_and_ids_as_from_frame(tmp_path: Path, rows: pd.DataFrame) -> None:
    path = tmp_path / "interactions.parquet"
    rows.to_parquet(path)
    got = interactions_from_parquet(path)
    _equal(got, Interactions.from_frame(rows, weight_col="weight"))
    assert got.matrix.dtype == np.float32


def test_a_folder_of_parts_and_no_weight_column_count_each_row_once(tmp_path: Path, rows: pd.DataFrame) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    rows.iloc[:2_000].to_parquet(folder / "part-0.parquet")
    rows.iloc[2_000:].to_parquet(folder / "part-1.parquet")
    got = interactions_from_parquet(folder, weight_col=None)
    _equal(got, Interactions.from_frame(rows))


def test_a_model_title_axis_keeps_its_order_and_drops_unknown_titles(tmp_path: Path, rows: pd.DataFrame) -> None:
    path = tmp_path / "interactions.parquet"
    rows.to_parquet(path)
    axis = np.asarray([*sorted(rows["title_id"].unique())[::-1][:90], "tt-not-seen"], dtype=object)
    got = interactions_from_parquet(path, title_ids=axis)
    _equal(got, Interactions.from_frame(rows, weight_col="weight", title_ids=axis))
    assert got.matrix[:, -1].nnz == 0


def test_missing_columns_and_paths_are_refused_with_one_sentence(tmp_path: Path, rows: pd.DataFrame) -> None:
    path = tmp_path / "interactions.parquet"
    rows.drop(columns="title_id").to_parquet(path)
    with pytest.raises(InputError, match="must have columns member_id and title_id"):
        interactions_from_parquet(path)
    rows.to_parquet(path)
    with pytest.raises(InputError, match="must have a 'stars' column"):
        interactions_from_parquet(path, weight_col="stars")
    with pytest.raises(NotFoundError, match="does not exist"):
        interactions_from_parquet(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from limelight.spine.world import write_world_parquet

    folder = tmp_path_factory.mktemp("world")
    write_world_parquet(folder, events=4_000, seed=5, payments=False)
    return folder


def test_the_events_pipeline_goes_into_the_matrix_without_a_frame_of_its_rows(world: Path) -> None:
    frame = interactions(connect("duckdb", parquet_dir=world), source="events").to_pandas()
    assert len(frame) > 500
    _equal(interactions_from_events(world), Interactions.from_frame(frame, weight_col="weight"))


def test_broadcast_small_leaves_a_duckdb_expression_unchanged(world: Path) -> None:
    backend = connect("duckdb", parquet_dir=world)
    units = series_units(backend.table("titles"))
    assert broadcast_small(backend, units, "units") is units


@pytest.mark.spark
def test_spark_joins_events_to_the_title_map_by_broadcast_not_by_sorting_every_event(spark: Any, world: Path) -> None:
    backend = connect("spark", parquet_dir=world, spark=spark, tables=("titles", "viewing_events"))
    plan = spark.sql(str(backend.compile(interactions(backend, source="events", ordered=False))))
    text = plan._jdf.queryExecution().executedPlan().toString()
    assert "BroadcastHashJoin" in text
    assert "SortMergeJoin" not in text


def test_a_folder_spark_was_still_writing_is_refused_not_read_as_complete(tmp_path: Path) -> None:
    """A killed Spark job leaves its parts under _temporary/ and no _SUCCESS; both readers recursed into it."""
    from limelight.errors import DataError
    from limelight.personalize.batch import read_interactions

    folder = tmp_path / "interactions.parquet"
    part = folder / "_temporary" / "0" / "task_0"
    part.mkdir(parents=True)
    pd.DataFrame({"member_id": ["a"], "title_id": ["x"], "weight": [1.0]}).to_parquet(part / "part-0.parquet")
    with pytest.raises(DataError, match="unfinished Spark write"):
        interactions_from_parquet(folder)
    with pytest.raises(DataError, match="unfinished Spark write"):
        read_interactions(folder)
    (folder / "_SUCCESS").touch()  # committed: Spark leaves no _temporary then, but _SUCCESS is the signal
    assert interactions_from_parquet(folder).n_members == 1


def test_a_world_is_not_written_over_another(tmp_path: Path) -> None:
    from limelight.spine.world import write_world_parquet

    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "old.parquet").write_bytes(b"x")
    with pytest.raises(InputError, match="is not empty"):
        write_world_parquet(tmp_path / "world", events=1000, seed=1, payments=False)
