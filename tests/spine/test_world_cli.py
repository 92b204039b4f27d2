"""`limelight demo`: builds the world, prints a summary that says it is synthetic, refuses bad sizes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from limelight.cli.app import app


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
