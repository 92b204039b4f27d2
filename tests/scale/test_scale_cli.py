"""`limelight scale`: the world as Parquet, then the pipelines over it, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from limelight.cli.app import app


def test_scale_writes_the_world_as_parquet_and_runs_the_pipelines_over_it(tmp_path: Path) -> None:
    runner = CliRunner()
    world = tmp_path / "world"
    made = runner.invoke(app, ["scale", "world", "--out", str(world), "--events", "2000", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["counts"]["viewing_events"] == 2_000
    assert (world / "viewing_events").is_dir() and (world / "titles.parquet").exists()

    out = tmp_path / "interactions.parquet"
    ran = runner.invoke(
        app,
        ["scale", "interactions", "--parquet", str(world), "--out", str(out), "--engine", "duckdb", "--json"],
    )
    assert ran.exit_code == 0, ran.output
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["member_id", "title_id", "weight", "last_at"]
    assert json.loads(ran.output)["rows"] == len(frame) > 0

    views = tmp_path / "views.parquet"
    ran = runner.invoke(
        app,
        ["scale", "views", "--parquet", str(world), "--out", str(views), "--start", "2025-11-01",
         "--end", "2026-11-01", "--country", "US", "--engine", "duckdb"],
    )
    assert ran.exit_code == 0, ran.output
    assert pd.read_parquet(views)["hours_viewed"].sum() > 0


def test_scale_refuses_an_unknown_engine_in_one_sentence(tmp_path: Path) -> None:
    import pytest

    from limelight.cli.app import main

    with pytest.raises(SystemExit) as stopped:
        main(["scale", "interactions", "--parquet", str(tmp_path), "--out", str(tmp_path / "x"), "--engine", "flink"])
    assert stopped.value.code == 2


def test_scale_run_builds_every_pipeline_asked_for_in_one_session(tmp_path: Path) -> None:
    from limelight.spine.world import write_world_parquet

    world = tmp_path / "world"
    write_world_parquet(world, events=2_000, seed=3, payments=False)
    runner = CliRunner()
    out = tmp_path / "out"
    ran = runner.invoke(
        app,
        ["scale", "run", "interactions", "views", "--parquet", str(world), "--out", str(out),
         "--start", "2025-11-01", "--end", "2026-11-01", "--engine", "duckdb", "--json"],
    )
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.output)
    assert [job["name"] for job in summary["pipelines"]] == ["interactions", "views"]
    alone = tmp_path / "alone.parquet"
    runner.invoke(app, ["scale", "views", "--parquet", str(world), "--out", str(alone),
                        "--start", "2025-11-01", "--end", "2026-11-01", "--engine", "duckdb"])
    together = pd.read_parquet(out / "views.parquet").sort_values("title_id", ignore_index=True)
    pd.testing.assert_frame_equal(together, pd.read_parquet(alone).sort_values("title_id", ignore_index=True))
    assert summary["pipelines"][0]["rows"] == len(pd.read_parquet(out / "interactions.parquet")) > 0


def test_scale_run_refuses_views_without_a_window_and_unknown_pipelines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from limelight.cli.app import main

    for args, named in ((["views"], "--start and --end"), (["interactions", "ratings-by-moon"], "ratings-by-moon")):
        with pytest.raises(SystemExit) as stopped:
            main(["scale", "run", *args, "--parquet", str(tmp_path), "--out", str(tmp_path / "o")])
        assert stopped.value.code == 2
        assert named in capsys.readouterr().err


@pytest.mark.spark
def test_scale_run_on_spark_writes_what_duckdb_writes(spark: object, tmp_path: Path) -> None:
    from limelight.spine.world import write_world_parquet

    world = tmp_path / "world"
    write_world_parquet(world, events=2_000, seed=6, payments=False)
    runner = CliRunner()
    outputs = {}
    for engine in ("duckdb", "spark"):
        ran = runner.invoke(
            app,
            ["scale", "run", "views", "interactions", "--parquet", str(world), "--out", str(tmp_path / engine),
             "--start", "2025-06-01", "--end", "2026-06-01", "--engine", engine, "--json"],
        )
        assert ran.exit_code == 0, ran.output
        outputs[engine] = json.loads(ran.output)
    assert [job["rows"] for job in outputs["spark"]["pipelines"]] == [job["rows"] for job in outputs["duckdb"]["pipelines"]]
    # a rerun replaces its output on both engines (Spark used to stop on PATH_ALREADY_EXISTS with a Java stack)
    for engine in ("duckdb", "spark"):
        again = runner.invoke(
            app,
            ["scale", "run", "views", "--parquet", str(world), "--out", str(tmp_path / engine),
             "--start", "2025-06-01", "--end", "2026-06-01", "--engine", engine, "--json"],
        )
        assert again.exit_code == 0, again.output
    # a Spark output folder is no file for DuckDB to write: refused in one sentence
    refused = runner.invoke(
        app, ["scale", "interactions", "--parquet", str(world), "--out", str(tmp_path / "spark" / "interactions.parquet"),
              "--engine", "duckdb"],
    )
    assert "is a folder (a Spark run's output?)" in str(refused.exception)  # the root app exits 2 on it
    for name, keys in (("views", ["title_id"]), ("interactions", ["member_id", "title_id"])):
        duck = pd.read_parquet(tmp_path / "duckdb" / f"{name}.parquet").sort_values(keys, ignore_index=True)
        sparkling = pd.read_parquet(tmp_path / "spark" / f"{name}.parquet").sort_values(keys, ignore_index=True)
        assert len(duck) > 10
        pd.testing.assert_frame_equal(duck, sparkling, check_dtype=False, check_exact=False, rtol=1e-9)


def test_scale_world_by_month_writes_month_folders_that_the_pipelines_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = CliRunner()
    world = tmp_path / "world"
    made = runner.invoke(app, ["scale", "world", "--out", str(world), "--events", "2000", "--partition-by", "month"])
    assert made.exit_code == 0, made.output
    assert all(p.name.startswith("month=") for p in (world / "viewing_events").iterdir())
    views = tmp_path / "views.parquet"
    ran = runner.invoke(app, ["scale", "views", "--parquet", str(world), "--out", str(views), "--start", "2026-10-01",
                              "--end", "2026-11-01", "--engine", "duckdb"])
    assert ran.exit_code == 0, ran.output
    assert pd.read_parquet(views)["hours_viewed"].sum() > 0
    from limelight.cli.app import main

    with pytest.raises(SystemExit) as stopped:
        main(["scale", "world", "--out", str(tmp_path / "w2"), "--events", "2000", "--partition-by", "week"])
    assert "--partition-by must be one of none, month" in capsys.readouterr().err
    assert stopped.value.code == 2 and not (tmp_path / "w2").exists()  # refused before anything is written


def test_scale_refuses_an_output_it_cannot_write_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from limelight.cli.app import main

    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for args in (["world", "--out", str(a_file), "--events", "2000"],
                 ["run", "interactions", "--parquet", str(tmp_path), "--out", str(a_file / "o")],
                 ["interactions", "--parquet", str(tmp_path), "--out", "/proc/limelight/x.parquet"]):
        with pytest.raises(SystemExit) as stopped:
            main(["scale", *args])
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and "--out" in err and "Traceback" not in err, (args, err)
    assert a_file.read_text() == "not a folder"


def test_an_input_url_whose_filesystem_is_missing_is_refused_before_any_engine_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli_runner import run_cli

    code, _, err = run_cli(
        capsys, "scale", "interactions", "--parquet", "nosuchfs://bucket/world", "--out", str(tmp_path / "i.parquet"),
        "--engine", "spark",
    )  # fmt: skip
    assert code == 2 and "--parquet nosuchfs://bucket/world cannot be read here" in err, err


@pytest.fixture()
def small_world(tmp_path: Path) -> Path:
    from limelight.spine.world import write_world_parquet

    world = tmp_path / "world"
    write_world_parquet(world, events=2_000, seed=5)
    return world


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], message: str) -> None:
    from cli_runner import run

    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err, (code, err)


def test_an_unreadable_events_table_is_an_error_not_a_switch_to_ratings(
    small_world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--source auto` read any failure to read the events as "no events" and wrote the ratings'
    interactions with exit 0 (a Spark-engine audit)."""
    events = small_world / "viewing_events"
    (events / "part-99999.parquet").write_bytes(b"not parquet at all")  # one bad part among good ones
    out = tmp_path / "i.parquet"
    _refused(["scale", "interactions", "--parquet", str(small_world), "--out", str(out), "--engine", "duckdb"],
             capsys, "No magic bytes found")  # DuckDB's reason, in one sentence
    assert not out.exists()
    for part in events.rglob("*.parquet"):
        part.write_bytes(b"not parquet at all")  # every part bad: the schema cannot even be read
    _refused(["scale", "interactions", "--parquet", str(small_world), "--out", str(out), "--engine", "duckdb"],
             capsys, "duckdb could not read the data source")
    assert not out.exists()


def test_a_missing_column_or_an_unfinished_table_is_one_sentence_and_a_refused_run_writes_nothing(
    small_world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = small_world / "viewing_events"
    for part in events.rglob("*.parquet"):
        pd.read_parquet(part).drop(columns="country").to_parquet(part)
    out = tmp_path / "run"
    _refused(["scale", "run", "interactions", "views", "--parquet", str(small_world), "--out", str(out),
              "--start", "2020-01-01", "--end", "2027-01-01", "--country", "US", "--engine", "duckdb"],
             capsys, "a country filter needs a country column in viewing_events")
    assert not out.exists()  # interactions was not written before views was refused
    for part in events.rglob("*.parquet"):
        pd.read_parquet(part).drop(columns="seconds_viewed").to_parquet(part)
    _refused(["scale", "interactions", "--parquet", str(small_world), "--out", str(tmp_path / "i.parquet"),
              "--engine", "duckdb"], capsys, "the viewing_events table must have a 'seconds_viewed' column")
    (events / "_temporary").mkdir()
    _refused(["scale", "interactions", "--parquet", str(small_world), "--out", str(tmp_path / "i.parquet"),
              "--engine", "duckdb"], capsys, "holds an unfinished Spark write")


def test_a_window_with_an_offset_is_read_in_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from limelight.spine.pipelines import _as_timestamp

    assert _as_timestamp("2026-01-01T09:00+09:00", "start") == datetime(2026, 1, 1, 0, 0)
    tokyo = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert _as_timestamp(tokyo, "start") == datetime(2026, 1, 1, 0, 0)  # not the machine's local time
    assert _as_timestamp(datetime(2026, 1, 1, 5, tzinfo=UTC), "end") == datetime(2026, 1, 1, 5, 0)
    assert _as_timestamp("2026-01-01", "start") == datetime(2026, 1, 1)
