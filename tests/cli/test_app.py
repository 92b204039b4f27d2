"""The root command: readable help, and a user mistake becomes one sentence with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.cli.app import main


def test_help_lists_the_core_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("ingest", "info", "demo"):
        assert command in out


def test_info_on_a_missing_store_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.duckdb"
    with pytest.raises(SystemExit) as exit_info:
        main(["info", "--db", str(missing)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert "Traceback" not in err
    assert not missing.exists()
