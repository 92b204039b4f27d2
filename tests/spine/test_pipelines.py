"""The Ibis pipelines: right numbers on a hand-made spine, and the same rows on DuckDB and on Spark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import InputError
from limelight.spine.engines import connect
from limelight.spine.pipelines import interactions, views_per_window
from limelight.spine.store import Rows, Store


def _hand_made(path: Path) -> Path:
    titles = pd.DataFrame(
        {
            "title_id": ["f1", "s1", "s1.1", "s1.1.1", "s1.1.2", "g1"],
            "name": ["Film", "Show", "Show: Season 1", "Ep 1", "Ep 2", "Game"],
            "kind": ["film", "series", "season", "episode", "episode", "game"],
            "parent_id": [None, None, "s1", "s1.1", "s1.1", None],
            "season_number": [None, None, 1, 1, 1, None],
            "episode_number": [None, None, None, 1, 2, None],
            "runtime_minutes": [120.0, None, None, 30.0, 60.0, None],
            "source": "test",
        }
    )
    members = pd.DataFrame({"member_id": ["a", "b"], "country": ["US", "GB"], "source": "test"})
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(7)],
            "member_id": ["a", "a", "a", "a", "b", "b", "b"],
            "title_id": ["f1", "s1.1.1", "s1.1.2", "f1", "f1", "s1.1.2", "g1"],
            "started_at": pd.to_datetime(
                [
                    "2026-01-01 10:00",
                    "2026-01-02 20:00",
                    "2026-01-02 20:30",
                    "2026-01-03 09:00",
                    "2026-01-05 12:00",
                    "2026-02-01 08:00",
                    "2026-01-06 08:00",
                ]
            ),
            "seconds_viewed": [3600, 1800, 1800, 3600, 7200, 3600, 900],
            "device": "tv",
            "country": ["US", "US", "US", "US", "GB", "GB", "GB"],
        }
    )
    ratings = pd.DataFrame(
        {
            "member_id": ["a", "a", "b"],
            "title_id": ["f1", "f1", "s1.1.2"],
            "rating": [2.0, 4.5, 3.0],
            "rated_at": pd.to_datetime(["2026-01-01", "2026-01-09", "2026-02-02"]),
            "scale": "stars",
        }
    )
    with Store(path) as store:
        store.ingest(
            [
                Rows("titles", titles, "t"),
                Rows("members", members, "m"),
                Rows("viewing_events", events, "e"),
                Rows("ratings", ratings, "r"),
            ]
        )
    return path


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _hand_made(tmp_path_factory.mktemp("hand") / "spine.duckdb")


@pytest.fixture(scope="module")
def hand_parquet(hand_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hand-parquet")
    with Store(hand_db, read_only=True) as store:
        store.export_parquet(folder)
    return folder


def test_interactions_from_events_sum_watched_fractions_capped_and_roll_episodes_up_to_the_series(
    hand_db: Path,
) -> None:
    got = interactions(connect("duckdb", db=hand_db), source="events").to_pandas()
    rows = {(r.member_id, r.title_id): (r.weight, r.last_at) for r in got.itertuples()}
    assert rows[("a", "f1")][0] == pytest.approx(1.0)  # 0.5 + 0.5 of a 2-hour film
    assert rows[("a", "s1")][0] == pytest.approx(1.0)  # 1.0 + 0.5 episodes, capped at 1
    assert rows[("a", "s1")][1] == pd.Timestamp("2026-01-02 20:30")
    assert rows[("b", "f1")][0] == pytest.approx(1.0)  # 2 h of 2 h
    assert rows[("b", "g1")][0] == pytest.approx(1.0)  # a game has no runtime: one play counts 1
    assert len(got) == 5


def test_interactions_count_weight_and_a_higher_cap_keep_the_episode_total(hand_db: Path) -> None:
    backend = connect("duckdb", db=hand_db)
    counts = interactions(backend, source="events", weight="count").to_pandas()
    assert counts.set_index(["member_id", "title_id"]).loc[("a", "s1"), "weight"] == 2.0
    uncapped = interactions(backend, source="events", cap=10.0, roll_up="none").to_pandas()
    assert uncapped.set_index(["member_id", "title_id"]).loc[("a", "s1.1.1"), "weight"] == pytest.approx(1.0)
    assert uncapped.set_index(["member_id", "title_id"]).loc[("a", "f1"), "weight"] == pytest.approx(1.0)


def test_two_ratings_at_the_same_instant_keep_the_higher_on_duckdb(tmp_path: Path) -> None:
    """The tie-break without Java (the Spark half is in the parity test below)."""
    db = _hand_made(tmp_path / "tie.duckdb")
    with Store(db) as store:
        store.ingest([Rows("ratings", pd.DataFrame({
            "member_id": ["a", "a"], "title_id": ["s1.1.2", "s1.1.1"], "rating": [2.0, 1.0],
            "rated_at": pd.to_datetime(["2026-03-01", "2026-03-01"]), "scale": "stars"}), "r2")])
    got = interactions(connect("duckdb", db=db), source="ratings").to_pandas().set_index(["member_id", "title_id"])
    assert got.loc[("a", "s1"), "weight"] == 2.0


def test_interactions_from_ratings_keep_the_latest_rating(hand_db: Path) -> None:
    got = interactions(connect("duckdb", db=hand_db), source="ratings").to_pandas()
    by_key = got.set_index(["member_id", "title_id"])
    assert by_key.loc[("a", "f1"), "weight"] == 4.5
    assert by_key.loc[("b", "s1"), "weight"] == 3.0


def test_views_per_window_rolls_episodes_up_to_the_season_and_divides_by_its_total_runtime(
    hand_db: Path,
) -> None:
    got = views_per_window(connect("duckdb", db=hand_db), "2026-01-01", "2026-02-01").to_pandas()
    by_title = got.set_index("title_id")
    assert by_title.loc["s1.1", "runtime_hours"] == pytest.approx(1.5)
    assert by_title.loc["s1.1", "hours_viewed"] == pytest.approx(1.0)  # the Feb 1 event is outside
    assert by_title.loc["s1.1", "views"] == pytest.approx(1.0 / 1.5)
    assert by_title.loc["f1", "views"] == pytest.approx(4.0 / 2.0)
    assert pd.isna(by_title.loc["g1", "views"])
    assert got["title_id"].iloc[0] == "f1"  # most hours first


def test_views_per_window_keeps_only_the_countries_asked_for(hand_db: Path) -> None:
    got = views_per_window(connect("duckdb", db=hand_db), "2026-01-01", "2026-03-01", countries=["gb"])
    frame = got.to_pandas().set_index("title_id")
    assert frame.loc["f1", "hours_viewed"] == pytest.approx(2.0)
    assert frame.loc["s1.1", "hours_viewed"] == pytest.approx(1.0)


def test_pipelines_refuse_bad_arguments_with_one_sentence(hand_db: Path) -> None:
    backend = connect("duckdb", db=hand_db)
    with pytest.raises(InputError, match="end must be after start"):
        views_per_window(backend, "2026-02-01", "2026-01-01")
    with pytest.raises(InputError, match="source must be one of"):
        interactions(backend, source="clicks")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="engine must be one of"):
        connect("polars", db=hand_db)


def test_duckdb_reads_the_same_rows_from_parquet_as_from_the_store(hand_db: Path, hand_parquet: Path) -> None:
    a = interactions(connect("duckdb", db=hand_db)).to_pandas()
    b = interactions(connect("duckdb", parquet_dir=hand_parquet)).to_pandas()
    pd.testing.assert_frame_equal(a, b)


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    for col in a.columns:
        if pd.api.types.is_datetime64_any_dtype(a[col]):
            a[col] = a[col].dt.tz_localize(None) if a[col].dt.tz is not None else a[col]
            b[col] = b[col].dt.tz_localize(None) if b[col].dt.tz is not None else b[col]
            a[col] = a[col].astype("datetime64[us]")
            b[col] = b[col].astype("datetime64[us]")
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)


@pytest.fixture(scope="module")
def world_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from limelight.spine.world import write_world_parquet

    folder = tmp_path_factory.mktemp("world-parquet")
    write_world_parquet(folder, events=3_000, seed=2, payments=False)
    return folder


@pytest.mark.spark
def test_two_ratings_at_the_same_instant_keep_the_higher_on_both_engines(spark: object, tmp_path: Path) -> None:
    """Two episodes of a series rated 1 and 2 at one instant: DuckDB kept 1.0 and Spark 2.0 (argmax's tie)."""
    db = _hand_made(tmp_path / "tie.duckdb")
    with Store(db) as store:
        store.ingest([Rows("ratings", pd.DataFrame({
            "member_id": ["a", "a", "a", "a"], "title_id": ["s1.1.1", "s1.1.2", "s1.1.2", "s1.1.1"],
            "rating": [1.0, 2.0, 5.0, 4.0],
            "rated_at": pd.to_datetime(["2026-03-01", "2026-03-01", "2026-01-01", "2026-01-01"]),
            "scale": "stars"}), "r2")])
        store.export_parquet(tmp_path / "tie")
    engines = {"duckdb": connect("duckdb", db=db),
               "spark": connect("spark", parquet_dir=tmp_path / "tie", spark=spark, tables=("titles", "ratings"))}  # type: ignore[arg-type]
    for name, backend in engines.items():
        got = interactions(backend, source="ratings").to_pandas().set_index(["member_id", "title_id"])
        assert got.loc[("a", "s1"), "weight"] == 2.0, name
        assert pd.Timestamp(got.loc[("a", "s1"), "last_at"]) == pd.Timestamp("2026-03-01"), name


@pytest.mark.spark
def test_every_pipeline_gives_the_same_rows_on_spark_as_on_duckdb(spark: object, world_parquet: Path) -> None:
    duck = connect("duckdb", parquet_dir=world_parquet)
    needed = ("titles", "viewing_events", "ratings")
    sparkling = connect("spark", parquet_dir=world_parquet, spark=spark, tables=needed)  # type: ignore[arg-type]
    for kwargs in ({"source": "events"}, {"source": "ratings"}):
        expected = interactions(duck, **kwargs).to_pandas()  # type: ignore[arg-type]
        assert len(expected) > 100
        _same(expected, interactions(sparkling, **kwargs).to_pandas(), ["member_id", "title_id"])  # type: ignore[arg-type]
    expected = views_per_window(duck, "2025-06-01", "2026-06-01", countries=["US", "BR"]).to_pandas()
    assert expected["views"].notna().sum() > 10
    _same(
        expected,
        views_per_window(sparkling, "2025-06-01", "2026-06-01", countries=["US", "BR"]).to_pandas(),
        ["title_id"],
    )
