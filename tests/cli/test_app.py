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


def _bad_outputs(tmp_path: Path) -> list[tuple[str, str]]:
    a_file = tmp_path / "a.csv"
    a_file.write_text("member_id,title_id\nm1,t1\nm1,t2\nm2,t1\n")
    return [
        (str(a_file / "x.csv"), "cannot be written"),  # a file where a folder should be
        ("/proc/limelight/x.csv", "cannot be written"),  # root may write anywhere, except here
        (str(tmp_path), "is a folder"),
        ("s3://bucket/x.csv", "takes a local path"),  # a Path option would write a local folder "s3:"
    ]


def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for out, says in _bad_outputs(tmp_path):
        with pytest.raises(SystemExit) as exit_info:
            main(["recommend", "--interactions", str(tmp_path / "a.csv"), "--k", "1", "--model", "popularity",
                  "--out", out])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and says in err and "Traceback" not in err, (out, err)
    assert not (tmp_path / "s3:").exists()
    nested = tmp_path / "new" / "folders" / "recs.csv"  # missing folders are made, as before
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--interactions", str(tmp_path / "a.csv"), "--k", "1", "--model", "popularity",
              "--out", str(nested)])
    assert exit_info.value.code == 0
    assert nested.read_text().startswith("member_id,title_id,rank,score")


def test_check_output_on_urls_wants_the_filesystem_installed() -> None:
    from limelight.cli._common import check_output
    from limelight.errors import InputError

    check_output("memory://bucket/x.parquet")  # fsspec's own in-memory filesystem
    with pytest.raises(InputError, match="--out nosuchproto://b/x cannot be written here"):
        check_output("nosuchproto://b/x")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["forecast", "candidates", "--report", "none.xlsx", "--period", "2024-07-01:2024-12-31"], "--out"),
        (["talent", "report", "--engagement", "none.xlsx"], "--out"),
        (["payments", "train", "--logs", "none.parquet"], "--out"),
        (["payments", "simulate", "--invoices", "10", "--policy", "fixed", "--logs-out"], "--logs-out"),
    ],
)
def test_every_writer_checks_its_output_before_reading_or_computing(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    target = ["/proc/limelight/out.parquet"] if args[-1] == "--logs-out" else ["--out", "/proc/limelight/out"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, *target])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and f"{option} /proc/limelight/out" in err and "cannot be written" in err, err


def test_counts_take_the_spellings_people_type(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from limelight.cli._common import whole_count

    assert [whole_count(t) for t in ("76000000", "76_000_000", "76,000,000", "76e6", "0")] == [76_000_000] * 4 + [0]
    for bad in ("7.5", "-1", "inf", "nan", "lots"):
        with pytest.raises(typer.BadParameter):
            whole_count(bad)
    # the README's talent command, as written there
    with pytest.raises(SystemExit) as exit_info:
        main(["talent", "bonus", "--guild", "sag-aftra", "--domestic-hours", "20e6", "--runtime-minutes", "120",
              "--domestic-subscribers", "76e6", "--fixed-residual", "10000", "--json"])
    assert exit_info.value.code == 0
    assert '"domestic_subscribers": 76000000' in capsys.readouterr().out


def test_json_output_writes_unknown_figures_as_null_never_nan(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import numpy as np
    import pandas as pd

    from limelight.cli._common import print_json

    print_json({"views": float("nan"), "cost": [np.float32("inf"), 1.5], "at": pd.NaT, "n": np.float64(2.0)})
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out) == {"views": None, "cost": [None, 1.5], "at": None, "n": 2.0}
