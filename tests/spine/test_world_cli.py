"""`limelight demo`: builds the world, prints a summary that says it is synthetic, refuses bad sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from limelight.cli.app import app, main


def test_demo_builds_the_world_and_says_it_is_synthetic(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--events", "2000", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC DEMO WORLD" in result.output
    assert "Most-watched titles" in result.output
    again = CliRunner().invoke(app, ["demo", "--db", str(db), "--events", "2000", "--seed", "4", "--json"])
    payload = json.loads(again.output)
    assert payload["synthetic"] is True and sum(payload["counts"].values()) == 0


def test_demo_refuses_fewer_than_a_thousand_events(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "x.duckdb"), "--events", "10"])
    assert result.exit_code == 2
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [(["--model", "nope"], "model must be one of"), (["--parquet", "out"], "leave out --parquet")],
)
def test_demo_serve_refuses_a_bad_model_or_parquet_before_building_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], says: str
) -> None:
    db = tmp_path / "x.duckdb"
    with pytest.raises(SystemExit) as info:
        main(["demo", "--db", str(db), "--events", "2000", "--serve", *extra])
    err = capsys.readouterr().err
    assert info.value.code == 2 and says in err and "Traceback" not in err
    assert not db.exists() and not (tmp_path / "out").exists()
