"""`limelight talent …`: JSON output, one-sentence errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import run_cli

_run = run_cli


def test_bonus_json_prints_the_issue_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "talent", "bonus", "--guild", "sag-aftra", "--domestic-hours", "88400000", "--runtime-minutes", "124",
        "--domestic-subscribers", "76000000", "--fixed-residual", "10000", "--json",
    )
    assert code == 0
    body = json.loads(out)
    assert body["views"] == pytest.approx(42_774_193.5, abs=0.1)
    assert body["metric"] == pytest.approx(42_774_193.548 / 76_000_000)
    assert body["eligible"] is True and body["views_needed"] == 0
    assert (body["bonus"], body["performers_share"], body["fund_share"]) == ("10000.00", "7500.00", "2500.00")


def test_wga_bonus_has_no_fund_share(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "talent", "bonus", "--guild", "wga", "--domestic-hours", "100", "--runtime-minutes", "60",
        "--domestic-subscribers", "1000", "--fixed-residual", "1000", "--json",
    )
    body = json.loads(out)
    assert code == 0 and body["eligible"] is False and body["fund_share"] == "0.00" and body["views_needed"] == 100
    assert body["recipients"] == "writers"  # whom `performers_share` goes to under this pack


def test_health_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "talent", "health", "--earnings", "25000", "--year", "2025", "--json")
    body = json.loads(out)
    assert code == 0 and (body["threshold"], body["eligible"], body["shortfall"]) == ("27540.00", False, "2540.00")
    code, out, _ = _run(capsys, "talent", "health", "--earnings", "25000", "--year", "2030", "--json")
    assert json.loads(out)["status"] == "unknown"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--guild", "sag-aftra", "--domestic-hours", "-3"], "domestic hours must be"),
        (["--guild", "sag-aftra", "--domestic-hours", "nan"], "domestic hours must be a finite number of at least 0, got nan"),
        (["--guild", "sag-aftra", "--domestic-hours", "inf"], "domestic hours must be a finite number of at least 0, got inf"),
        (["--guild", "iatse", "--domestic-hours", "3"], "guild must be one of"),
        (["--guild", "sag-aftra", "--domestic-hours", "3", "--fixed-residual", "lots"], "fixed residual must be"),
    ],
)
def test_bad_bonus_input_is_one_sentence_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _out, err = _run(capsys, "talent", "bonus", *args, "--runtime-minutes", "60", "--domestic-subscribers", "10")
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_statement_from_a_store_with_supplied_residuals(
    capsys: pytest.CaptureFixture[str], world_path: Path, tmp_path: Path
) -> None:
    res = tmp_path / "res.csv"
    res.write_text("guild,title_id,amount\nsag-aftra,f1,1000.01\n")
    code, out, err = _run(
        capsys, "talent", "statement", "--person", "p1", "--db", str(world_path), "--from", "2024-01-01",
        "--to", "2024-12-31", "--residuals", str(res), "--health-year", "2025", "--json",
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["total_bonus"] == "375.01" and body["health"]["threshold"] == "27540.00"
    assert any("user-supplied" in s for s in body["supplied_figures"])


def test_statement_table_says_what_the_trigger_means_and_whether_the_gap_closes(
    capsys: pytest.CaptureFixture[str], world_path: Path, tmp_path: Path
) -> None:
    """Old Film (released 2023) showed "reached" with no sign that no bonus applies; "would close with"
    was printed for a title whose share came nowhere near the gap; the plan had no name."""
    res = tmp_path / "res.csv"
    res.write_text("guild,title_id,amount\nsag-aftra,f1,1000.01\nsag-aftra,s1s1,500\n")
    code, out, err = _run(
        capsys, "talent", "statement", "--person", "p1", "--db", str(world_path), "--from", "2023-01-01",
        "--to", "2024-04-15", "--as-of", "2024-04-15", "--residuals", str(res), "--health-year", "2025",
        "--other-earnings", "20000",
    )
    assert code == 0, err
    text = " ".join(out.split())
    assert "SAG-AFTRA Health Plan 2025" in text and "would not close it even together ($187.50)" in text
    # a period reaching past the as-of date counts nothing viewed after it (Hit Film's 8 hours are on
    # 2024-02-10): the window is open and unreached as of 2024-02-05, whatever --to says
    code, out, err = _run(
        capsys, "talent", "statement", "--person", "p1", "--db", str(world_path), "--from", "2024-01-01",
        "--to", "2024-12-31", "--as-of", "2024-02-05", "--json",
    )
    assert code == 0, err
    film = next(line for line in json.loads(out)["lines"] if line["program_id"] == "f1")
    assert film["hours"] == 0 and film["eligible"] is False and film["window_open"] is True
    from types import SimpleNamespace

    from limelight.cli.talent import _trigger_verdict

    line = SimpleNamespace(eligible=True, release_eligible=False, window_open=False)
    assert _trigger_verdict(line) == "reached (released before the bonus: none)"
    assert _trigger_verdict(SimpleNamespace(eligible=False, release_eligible=True, window_open=True)) == "not reached so far"


def test_a_person_with_no_credits_gets_the_same_empty_statement_as_from_the_api(
    capsys: pytest.CaptureFixture[str], world_path: Path
) -> None:
    """The CLI said "has no credits" (exit 2) where the API answered an empty statement."""
    code, out, err = _run(capsys, "talent", "statement", "--person", "Nia Newcomer", "--db", str(world_path),
                          "--health-year", "2025", "--other-earnings", "1000", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["person_name"] == "Nia Newcomer" and body["lines"] == [] and body["health"]["shortfall"] == "26540.00"
    code, _, err = _run(capsys, "talent", "statement", "--person", "nobody", "--db", str(world_path))
    assert code == 2 and "nobody" in err


def test_report_cli_writes_html_and_csv(capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path) -> None:
    report = shared_data / "netflix" / "engagement" / "What_We_Watched_A_Netflix_Engagement_Report_2023Jul-Dec.xlsx"  # not parsed by the session fixture
    code, out, err = _run(  # both overrides given: the financials workbook is not read again
        capsys, "talent", "report", "--engagement", str(report), "--domestic-subscribers", "76000000",
        "--domestic-share", "0.3", "--out", str(tmp_path / "out"), "--json",
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["report_rows"] == 15_994 and any("30.0%" in a for a in body["assumptions"])
    assert any("76,000,000 (user-set)" in a for a in body["assumptions"])
    assert (tmp_path / "out" / "index.html").exists() and (tmp_path / "out" / "titles.csv").exists()
    code, _, err = _run(capsys, "talent", "report", "--engagement", str(tmp_path / "nope.xlsx"), "--out", str(tmp_path))
    assert code == 2 and "does not exist" in err


def test_report_cli_reads_the_spines_engagement_rows(capsys: pytest.CaptureFixture[str], world_path: Path, tmp_path: Path) -> None:
    import shutil

    import pandas as pd

    from limelight.spine.store import Store
    from limelight.spine.validate import Rows

    db = tmp_path / "spine.duckdb"
    shutil.copy(world_path, db)
    row = {"source": "r.xlsx", "sheet": "Film", "row_number": 7, "period_start": "2024-01-01", "period_end": "2024-06-30",
           "title_name": "Hit", "kind": "film", "release_date": "2024-03-01", "runtime_minutes": 120.0, "hours_viewed": 60}
    with Store(db) as store:
        store.ingest([Rows("engagement", pd.DataFrame([row]), "test")])
    code, out, err = _run(capsys, "talent", "report", "--db", str(db), "--domestic-share", "0.5", "--out", str(tmp_path / "o"), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["report_rows"] == 1 and body["likely_crossed_eligible"] == 1
    code, _, err = _run(capsys, "talent", "report", "--out", str(tmp_path / "o"), "--first90-share", "2")
    assert code == 2 and "first-90-days share must be" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("talent", "bonus", "--guild", "wga", "--domestic-hours", "10", "--runtime-minutes", "1e-320",
          "--domestic-subscribers", "5", "--json"), "runtime minutes must be between 1 and 100,000, got 1e-320"),
        (("talent", "bonus", "--guild", "wga", "--domestic-hours", "2e12", "--runtime-minutes", "60",
          "--domestic-subscribers", "5"), "hours must be at most 1,000,000,000,000"),
        (("talent", "bonus", "--guild", "wga", "--domestic-hours", "10", "--runtime-minutes", "60",
          "--domestic-subscribers", "5", "--fixed-residual", "100.005"), "fixed residual must be in whole cents, got '100.005'"),
        (("talent", "health", "--earnings", "27539.995", "--year", "2025"), "earnings must be in whole cents"),
        # the API's limit (MAX_SUPPLIED_AMOUNT): the CLI took a trillion-dollar residual
        (("talent", "report", "--db", "x.duckdb", "--fixed-residual", "1e12", "--out", "o"),
         "fixed residual must be at most 1,000,000,000, got '1e12'"),
        (("talent", "bonus", "--guild", "wga", "--domestic-hours", "10", "--runtime-minutes", "60",
          "--domestic-subscribers", "5", "--fixed-residual", "1000000000.01"), "fixed residual must be at most 1,000,000,000"),
        (("talent", "whatif", "--guild", "sag-aftra", "--domestic-hours", "1000000", "--runtime-minutes", "100",
          "--domestic-subscribers", "80000000", "--fixed-residual", "100", "--viewing-share", "0.1",
          "--fee-per-subscriber", "0.05", "--recipients", "100000000"), "recipients must be between 1 and 10,000, got 100000000"),
    ],
)
def test_the_cli_takes_what_the_api_takes_and_no_more(capsys: pytest.CaptureFixture[str], args, message) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (out, err)


def test_rates_and_shares_are_not_held_to_whole_cents(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "talent", "whatif", "--guild", "sag-aftra", "--domestic-hours", "1000000", "--runtime-minutes", "100",
        "--domestic-subscribers", "80000000", "--fixed-residual", "100", "--viewing-share", "0.1",
        "--revenue-per-subscriber", "200", "--revenue-share", "0.015", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["proposal"]["revenue_share"] == "0.015"
    code, out, err = _run(
        capsys, "talent", "whatif", "--guild", "sag-aftra", "--domestic-hours", "1000000", "--runtime-minutes", "100",
        "--domestic-subscribers", "80000000", "--fixed-residual", "100", "--viewing-share", "0.1",
        "--fee-per-subscriber", "0.575", "--json",
    )  # fmt: skip
    assert code == 0, err


def test_packs_lists_every_rule_pack_with_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    from limelight.talent.rules import health_pack, load_packs

    code, out, _ = _run(capsys, "talent", "packs", "--json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == set(load_packs()) | {health_pack().id}
    for pid, pack in body.items():
        assert pack["sources"] and all("http" in s for s in pack["sources"]), pid  # every rule cited
        if "term" in pack:
            assert pack["term"][0] < pack["term"][1], pid
    assert body[health_pack().id]["thresholds"]
    code, text, _ = _run(capsys, "talent", "packs")
    assert code == 0 and all(f"{pid}:" in text for pid in body)


def test_statement_totals_say_at_least_and_health_says_undecided_when_pay_is_unknown(
    capsys: pytest.CaptureFixture[str], world_path: Path, tmp_path: Path
) -> None:
    """One program's residual among several printed "total pay $0.00 (bonus shares $0)"; with no residual
    the plan showed a shortfall of 27,540 as if certain."""
    res = tmp_path / "res.csv"
    res.write_text("guild,title_id,amount\nsag-aftra,s1s1,500\n")
    args = ("talent", "statement", "--person", "p1", "--db", str(world_path), "--from", "2024-01-01",
            "--to", "2024-12-31", "--as-of", "2024-12-31")
    code, out, err = _run(capsys, *args, "--residuals", str(res))
    assert code == 0, err
    text = " ".join(out.split())
    assert "total pay at least $0.00 (bonus shares at least $0.00)" in text and "lines unknown" in text
    code, out, err = _run(capsys, *args, "--health-year", "2025")
    assert code == 0, err
    text = " ".join(out.split())
    assert "cannot be decided from known earnings" in text and "shortfall $27,540" not in text
    code, out, err = _run(capsys, *args, "--residuals", str(res), "--json")
    body = json.loads(out)
    assert body["total_pay_is_lower_bound"] is True and body["unknown_pay_lines"] >= 1


def test_a_statement_of_nothing_but_unknown_lines_prints_no_dollar_zero(
    capsys: pytest.CaptureFixture[str], world_path: Path
) -> None:
    """p2 (Hit Film, Big Show; no residuals): the health line read "$0.00 known of $27,540.00" and its note
    "($0.00 of $27,540.00 ...)", a figure for earnings of which none is known."""
    code, out, err = _run(capsys, "talent", "statement", "--person", "p2", "--db", str(world_path), "--from",
                          "2023-01-01", "--to", "2024-12-31", "--as-of", "2024-12-31", "--health-year", "2025")
    assert code == 0, err
    text = " ".join(out.split())
    assert "$0.00" not in text, text
    assert "total pay unknown" in text and "cannot be decided from known earnings — no earnings known (threshold $27,540.00)" in text
    assert "no earnings known toward $27,540.00; short by at most $27,540.00" in text
    # known earnings still print as before
    code, out, err = _run(capsys, "talent", "statement", "--person", "p2", "--db", str(world_path), "--from",
                          "2023-01-01", "--to", "2024-12-31", "--as-of", "2024-12-31", "--health-year", "2025",
                          "--other-earnings", "100")
    assert code == 0 and "$100.00 known of $27,540.00" in " ".join(out.split()), err


def test_names_and_titles_with_brackets_print_as_written(
    capsys: pytest.CaptureFixture[str], world_path: Path, tmp_path: Path
) -> None:
    """A person named with "[/]" crashed the table with a Rich MarkupError (exit 1); a title "[red]x" showed as "x"."""
    import shutil

    from limelight.spine.store import Store

    db = tmp_path / "brackets.duckdb"
    shutil.copy(world_path, db)
    with Store(db) as store:
        store.con.execute("UPDATE people SET name = 'Ada [/] Lead' WHERE person_id = 'p1'")
        store.con.execute("UPDATE titles SET name = '[red]x' WHERE title_id = 'f1'")
    res = tmp_path / "res.csv"
    res.write_text("guild,title_id,amount\nsag-aftra,s1s1,500\n")
    code, out, err = _run(capsys, "talent", "statement", "--person", "p1", "--db", str(db), "--from", "2024-01-01",
                          "--to", "2024-12-31", "--as-of", "2024-04-15", "--residuals", str(res), "--health-year", "2025")
    assert code == 0, err
    assert "Ada [/] Lead" in out and "[red]x" in out
