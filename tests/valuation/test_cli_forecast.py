"""`limelight forecast` and `limelight forecast backtest` end to end on generated report workbooks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli_runner import run_cli
from limelight.cli.app import app
from limelight.valuation.backtest import candidates_from_report, parse_period
from world import write_report_xlsx

runner = CliRunner()


@pytest.fixture(scope="module")
def workbooks(world_reports: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("reports")
    return [Path(str(p)) for p in write_report_xlsx(world_reports, folder)]


@pytest.fixture()
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from limelight.settings import get_settings

    monkeypatch.setenv("LIMELIGHT_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_backtest_writes_the_forecast_csv_and_prints_metrics_with_baselines(
    workbooks: list[Path], world_reports: pd.DataFrame, tmp_path: Path, isolated_cache: None
) -> None:
    period = parse_period("2024-07-01:2024-12-31")
    candidates = candidates_from_report(world_reports[world_reports["period_end"] == period[1]], period)
    candidates_csv = tmp_path / "candidates.csv"
    candidates.to_csv(candidates_csv, index=False)
    out = tmp_path / "forecast.csv"
    # all four reports as history: the one of the period itself must be left out, not learned from, and
    # so must 2024H1's, which ended before the period but was published in it (2024-09-17)
    history = [str(p) for p in workbooks]
    result = runner.invoke(
        app,
        ["forecast", "backtest", "--history", *history, "--candidates", str(candidates_csv),
         "--period", "2024-07-01:2024-12-31", "--out", str(out), "--actuals", str(workbooks[3]), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.columns) == [
        "title",
        "predicted_hours",
        "lower_hours",
        "upper_hours",
        "predicted_views",
    ]
    assert len(written) == len(candidates)
    assert (written["lower_hours"] <= written["predicted_hours"]).all()
    assert (written["predicted_hours"] <= written["upper_hours"]).all()
    payload = json.loads(result.output)
    assert payload["left_out_history"] == [workbooks[2].name, workbooks[3].name]
    assert payload["calibration"]["calibrated_on_windows_ending"] == ["2023-12-31"]
    assert payload["with_actuals"] == len(candidates)
    assert {"limelight", "kind median", "previous season (else kind median)"} <= set(payload["metrics"])
    metrics = payload["metrics"]["limelight"]
    assert {"rmsle", "spearman", "coverage", "bucket_exact", "bucket_within_one"} <= set(metrics)
    assert metrics["rmsle"] < payload["metrics"]["kind median"]["rmsle"]


def test_backtest_table_names_every_metric(
    workbooks: list[Path], world_reports: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    period = parse_period("2024-01-01:2024-06-30")
    candidates = candidates_from_report(world_reports[world_reports["period_end"] == period[1]], period)
    candidates_csv = tmp_path / "c.csv"
    candidates.head(30).to_csv(candidates_csv, index=False)
    args = ["forecast", "backtest", "--history", str(workbooks[0]), "--candidates", str(candidates_csv),
            "--period", "2024-01-01:2024-06-30", "--out", str(tmp_path / "o.csv")]
    result = runner.invoke(app, [*args, "--actuals", str(workbooks[2])])
    assert result.exit_code == 0, result.output
    for word in ("RMSLE", "Spearman", "coverage", "bucket", "kind", "ratio"):
        assert word in result.output
    # another half-year's report as actuals: matched by name, it scored the titles' second window
    code, _, err = run_cli(capsys, *args, "--actuals", str(workbooks[3]))
    assert code == 2 and "--actuals covers 2024-07-01..2024-12-31, not the period 2024-01-01..2024-06-30" in err
    # history published only after the period began is no history
    code, _, err = run_cli(capsys, "forecast", "backtest", "--history", str(workbooks[1]), "--candidates",
                           str(candidates_csv), "--period", "2024-01-01:2024-06-30", "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "no engagement report was published before 2024-01-01" in " ".join(err.split())


def test_single_forecast_json_has_interval_views_and_five_comparables(
    workbooks: list[Path], tmp_path: Path, isolated_cache: None
) -> None:
    result = runner.invoke(
        app,
        ["forecast", "--title", "Title 2-3: Season 2", "--kind", "show", "--release-date", "2025-02-14",
         "--runtime-minutes", "420", "--fee", "12000000", "--talent-cost", "3000000", "--value-per-hour", "0.2",
         "--db", str(tmp_path / "none.duckdb"), *[arg for p in workbooks for arg in ("--history", str(p))], "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["lower_hours"] <= out["predicted_hours"] <= out["upper_hours"]
    assert out["predicted_views"] == pytest.approx(out["predicted_hours"] / 7.0, rel=1e-3)
    assert len(out["comparables"]) == 5
    assert out["trained_on_windows_ending"][-1] == "2024-12-31"
    assert out["days_in_window"] == (pd.Timestamp("2025-06-30") - pd.Timestamp("2025-02-14")).days + 1
    cpv = out["decisions"]["cost_per_view"]
    assert float(cpv["low"]) <= float(cpv["cost_per_view"]) <= float(cpv["high"])
    assert out["decisions"]["talent_share"]["share"] is not None


def test_bad_kind_is_one_sentence_and_exit_code_2(workbooks: list[Path], tmp_path: Path) -> None:
    from limelight.cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(["forecast", "--title", "X", "--kind", "movie", "--release-date", "2025-01-01",
              "--history", str(workbooks[0])])  # fmt: skip
    assert exit_info.value.code == 2


def test_forecast_without_title_asks_for_it() -> None:
    result = runner.invoke(app, ["forecast"])
    assert result.exit_code != 0
    assert "--title" in str(result.exception) or "--title" in result.output


def test_slate_ranks_by_cost_per_view_when_fees_are_given(
    workbooks: list[Path], world_reports: pd.DataFrame, tmp_path: Path, isolated_cache: None
) -> None:
    period = parse_period("2024-07-01:2024-12-31")
    slate = candidates_from_report(world_reports[world_reports["period_end"] == period[1]], period).head(12)
    slate["fee"] = [1_000_000 * (i + 1) for i in range(len(slate))]
    slate_csv = tmp_path / "slate.csv"
    slate.to_csv(slate_csv, index=False)
    out = tmp_path / "ranked.csv"
    result = runner.invoke(
        app,
        ["forecast", "slate", "--candidates", str(slate_csv), "--out", str(out),
         "--db", str(tmp_path / "none.duckdb"), *[a for p in workbooks[:3] for a in ("--history", str(p))]],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(out)
    assert ranked["rank"].tolist() == list(range(1, 13))
    assert ranked["cost_per_view"].is_monotonic_increasing
    assert set(ranked["title"]) == set(slate["title"])
