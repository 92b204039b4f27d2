"""`limelight scale`: the world as Parquet, then the pipelines over it, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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
