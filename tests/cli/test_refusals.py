"""Bad input to commands across the CLI (from an audit of every command): one sentence, exit 2, no
traceback, and nothing written — where each used to end in a traceback or quietly change a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import digest, run, write
from limelight.spine.world import build_demo_world


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refusals") / "demo.duckdb"
    build_demo_world(path, events=1_000, seed=7)
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], message: str) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err, (argv, code, err)


def test_a_models_dir_that_is_a_file_or_a_missing_registry_is_refused(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = write(tmp_path / "a-file", "x")
    refused(["train", "--model", "popularity", "--no-evaluate", "--db", str(store), "--models-dir", str(a_file)],
            capsys, f"--models-dir {a_file} is a file, not a folder")
    refused(["models", "list", "--db", str(tmp_path / "nope.duckdb")], capsys, "does not exist")
    refused(["models", "list", "--db", str(store), "--models-dir", str(tmp_path / "none")], capsys,
            "the model registry")
    refused(["models", "rollback", "--db", str(tmp_path / "nope.duckdb")], capsys, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no registry folder or lock file left


def test_a_health_plan_year_out_of_range_is_refused(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    person = "P000001"
    for year in ("0", "-5", "99999"):
        refused(["talent", "statement", "--person", person, "--health-year", year, "--db", str(store)], capsys,
                "year must be a calendar year like 2025")


def test_a_key_for_a_person_who_is_not_in_the_spine_is_refused(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(store)
    refused(["keys", "create", "--role", "person", "--person-id", "NOPE", "--db", str(store)], capsys,
            "person_id must name a person in the spine's people table, got 'NOPE'")
    assert digest(store) == before


def test_a_second_demo_world_is_not_merged_into_the_first(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["demo", "--db", str(store), "--events", "1000", "--seed", "7", "--json"], capsys)
    assert code == 0, err  # the same world again: adds nothing
    before = digest(store)
    for settings in (["--events", "1000", "--seed", "8"], ["--events", "2000", "--seed", "7"]):
        refused(["demo", "--db", str(store), *settings], capsys,
                "already holds a demo world built with --seed 7 --events 1000")
    assert digest(store) == before


def test_outputs_it_cannot_write_are_refused_before_any_work(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from limelight.spine.store import Store

    refused(["demo", "--parquet", "s3://bucket/world", "--events", "1000"], capsys,
            "--parquet s3://bucket/world cannot be written here")
    logs = tmp_path / "logs.parquet"
    with Store(store, read_only=True) as spine:
        spine.query("SELECT * FROM payment_attempts").to_parquet(logs)
    missing = tmp_path / "nowhere" / "x.duckdb"
    refused(["payments", "train", "--logs", str(logs), "--db", str(missing)], capsys, f"the store {missing} does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_a_pickled_model_file_is_refused_without_numpys_advice_to_load_it_unsafely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    import numpy as np

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = tmp_path / "model.npz"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.write(tmp_path / "obj.npy", "x.npy")
    code, _, err = run(["payments", "next-attempt", "--decline-code", "insufficient_funds", "--amount", "9.99",
                        "--model", str(bad)], capsys)
    assert code == 2 and "pickled Python objects, which are never loaded" in err and "unsafely" not in err, err


def test_serve_refuses_an_address_it_cannot_listen_on_before_touching_the_store(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    before = digest(store)
    refused(["serve", "--db", str(store), "--host", "999.999.1.1"], capsys, "--host '999.999.1.1' is not an address")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(["serve", "--db", str(store), "--port", str(port)], capsys, f"--port {port} is in use")
    assert digest(store) == before


def test_one_members_list_refuses_batch_options_and_honours_model(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    member = "M00000001"
    for option, value in (("--out", "x.csv"), ("--interactions", "nope.csv"), ("--engine", "bogus"), ("--trainer", "x")):
        refused(["recommend", member, "--db", str(store), option, value], capsys, f"{option} is for batch mode")
    refused(["recommend", member, "--db", str(store), "--model", "bogus"], capsys, "model must be one of")
    code, out, err = run(["recommend", member, "--db", str(store), "--model", "popularity", "--k", "3", "--json"], capsys)
    assert code == 0 and len(__import__("json").loads(out)) == 3, err


def test_forecast_refuses_options_that_would_do_nothing_and_dates_in_another_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["forecast", "--title", "X", "--kind", "film", "--release-date", "2025-03-01"]
    refused([*base, "--fixed-residual", "1000"], capsys, "the fixed residual is used with a talent cost")
    refused([*base, "--value-per-hour", "0.5"], capsys, "the value per hour is used with a talent cost")
    # the supplied-amount limit, at parsing and naming the option (it came after the fit, as a Decimal repr)
    refused([*base, "--talent-cost", "5e6", "--value-per-hour", "0.2", "--fixed-residual", "2e9"], capsys,
            "--fixed-residual must be at most 1,000,000,000, got '2e9'")
    refused(["forecast", "--title", "X", "--kind", "film", "--release-date", "03/01/2025"], capsys,
            "--release-date must be a date YYYY-MM-DD, got '03/01/2025'")


def test_a_history_folder_without_reports_is_refused_not_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "no-reports"
    empty.mkdir()
    refused(["forecast", "--title", "X", "--kind", "film", "--release-date", "2025-03-01", "--history", str(empty)],
            capsys, f"--history {empty} holds no .xlsx engagement report")


def test_a_refused_scale_run_leaves_no_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    refused(["scale", "run", "interactions", "--out", str(out)], capsys, "the data must come from --parquet DIR or --db")
    refused(["scale", "run", "interactions", "--out", str(out), "--parquet", str(tmp_path), "--source", "bogus"],
            capsys, "source must be one of events, ratings, auto, got 'bogus'")
    assert not out.exists()


def test_an_output_named_for_another_format_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--logs-out sim.csv` wrote Parquet into a .csv, `forecast slate --out slate.json` CSV into a .json."""
    refused(["payments", "simulate", "--policy", "fixed", "--invoices", "100", "--logs-out", str(tmp_path / "sim.csv")],
            capsys, "sim.csv would hold Parquet; give a name ending in .parquet, .pq")
    refused(["scale", "interactions", "--parquet", str(tmp_path), "--out", str(tmp_path / "i.json")], capsys,
            "i.json would hold Parquet")
    refused(["forecast", "slate", "--candidates", str(tmp_path / "c.csv"), "--out", str(tmp_path / "slate.json")],
            capsys, "slate.json would hold CSV; give a name ending in .csv, .txt")
    assert not list(tmp_path.iterdir())


def test_two_sources_for_one_input_are_refused_not_one_quietly_ignored(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ratings = write(tmp_path / "r.csv", "member_id,title_id\nm1,t1\n")
    refused(["evaluate", "--interactions", str(ratings), "--db", str(store)], capsys,
            "evaluate reads --interactions FILE or --db FILE, not both")
    refused(["scale", "interactions", "--db", str(store), "--parquet", str(tmp_path), "--out",
             str(tmp_path / "i.parquet")], capsys, "--parquet DIR or --db FILE, not both")


def test_options_that_would_do_nothing_are_refused(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(["payments", "simulate", "--policy", "fixed", "--invoices", "100", "--model", "m.npz"], capsys,
            "--model is for --policy smart")
    refused(["talent", "statement", "--person", "P000001", "--other-earnings", "5000", "--db", str(store)], capsys,
            "--other-earnings counts toward the health plan: give --health-year too")


def test_home_explain_and_similar_name_an_unknown_member_or_title(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        member = con.execute("SELECT member_id FROM viewing_events LIMIT 1").fetchone()[0]  # type: ignore[index]
        title = con.execute("SELECT title_id FROM titles WHERE kind = 'film' LIMIT 1").fetchone()[0]  # type: ignore[index]
    before = digest(store)
    db = ["--db", str(store)]
    refused(["home", "NOBODY", *db], capsys, "member 'NOBODY' is not known")
    refused(["explain", "NOBODY", title, *db], capsys, "member 'NOBODY' is not known")
    refused(["explain", member, "NO-SUCH-TITLE", *db], capsys, "title 'NO-SUCH-TITLE' is not in the catalog")
    refused(["similar", "NO-SUCH-TITLE", *db], capsys, "title 'NO-SUCH-TITLE' is not in the catalog")
    refused(["similar", title, "--member", "NOBODY", *db], capsys, "member 'NOBODY' is not known")
    assert digest(store) == before


def test_serve_refuses_a_store_another_process_only_reads_before_saying_it_serves(
    store: Path, tmp_path: Path
) -> None:
    """The check opened the store read-only, which succeeds beside another reader: 'serving at …' was
    printed, then the server failed to open it for writing."""
    import shutil
    import subprocess
    import sys

    import duckdb

    copy = tmp_path / "held.duckdb"
    shutil.copy(store, copy)
    with duckdb.connect(str(copy), read_only=True):
        done = subprocess.run([sys.executable, "-m", "limelight.cli.app", "serve", "--db", str(copy), "--port", "1"],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "serving" not in done.stdout
    assert done.stderr.startswith("error: the store") and "is in use by another process" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # and no empty line before it
