"""`limelight forecast ...`: a title's first-window audience before release, and the back-test.

    limelight forecast --title "Nobody Wants This: Season 2" --kind show --release-date 2025-10-23 \
        --runtime-minutes 265 [--history REPORT.xlsx ...] [--fee 20000000] [--json]
    limelight forecast backtest --history A.xlsx B.xlsx C.xlsx --candidates FILE.csv \
        --period 2024-07-01:2024-12-31 --out FILE.csv [--actuals D.xlsx]
    limelight forecast slate --candidates FILE.csv [--out ranked.csv]
    limelight forecast candidates --report D.xlsx --period 2024-07-01:2024-12-31 --out FILE.csv

Thin: parse, call `limelight.valuation`, render with Rich or `--json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import (
    CSV_NAMES,
    DEFAULT_DB,
    DbOption,
    JsonOption,
    check_output,
    console,
    print_json,
    whole_count,
)
from limelight.errors import InputError
from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT

__all__ = ["register"]

forecast_app = typer.Typer(
    name="forecast",
    help="Forecast a title's first-window hours and views before release, with an 80% interval and comparables.",
    invoke_without_command=True,
)

HistoryOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--history",
        help="Engagement report(s) (xlsx); repeat the flag, or list several after it (backtest). "
        "Default: the store's engagement table if --db exists, else the shared Netflix reports.",
    ),
]


def _history_paths(values: list[Path] | None, extra: list[str]) -> list[Path]:
    paths: list[Path] = []
    for value in [*(values or []), *map(Path, extra)]:
        if str(value).startswith("-"):
            raise InputError(f"unknown option {value}")
        if value.is_dir():
            found = sorted(value.glob("*.xlsx"))
            if not found:  # an empty result here used to fall back to the shared reports without a word
                raise InputError(f"--history {value} holds no .xlsx engagement report")
            paths.extend(found)
        else:
            paths.append(value)
    return paths


def _reports(history: list[Path], db: Path) -> Any:
    from limelight.errors import NotFoundError
    from limelight.valuation.data import default_report_paths, load_reports, reports_from_store

    if history:
        return load_reports(history)
    if db.exists():
        try:
            return reports_from_store(db)
        except NotFoundError:
            Console(stderr=True).print(
                f"[dim]{db} has no engagement rows; using the shared Netflix reports[/]"
            )
    return load_reports(default_report_paths())


def _day(value: str, option: str) -> Any:
    """A YYYY-MM-DD option as a pandas Timestamp, or one sentence naming the option."""
    import datetime as dt

    import pandas as pd

    try:
        return pd.Timestamp(dt.date.fromisoformat(value.strip()))
    except ValueError:
        raise InputError(f"{option} must be a date YYYY-MM-DD, got '{value}'") from None


def _fees(frame: Any) -> list[Any]:
    """The slate's `fee` column as amounts (None where blank); a bad one is named by file, row and column."""
    import pandas as pd

    from limelight.errors import DataError
    from limelight.valuation.decisions import to_money

    out: list[Any] = []
    for row, value in zip(frame.index, frame["fee"]):
        if pd.isna(value) or not str(value).strip():
            out.append(None)
            continue
        try:
            out.append(to_money(value, "fee"))
        except InputError as exc:
            raise DataError(
                exc.message, origin=frame.attrs.get("origin"), row=int(row), column="fee"
            ) from None
    return out


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.{digits}f}M"
    return f"{value:,.0f}"


@forecast_app.callback()
def forecast(
    ctx: typer.Context,
    title: Annotated[
        str | None, typer.Option("--title", help="The candidate's title as the reports write it.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="film or show.")] = None,
    release_date: Annotated[
        str | None, typer.Option("--release-date", help="Planned release date, YYYY-MM-DD.")
    ] = None,
    runtime_minutes: Annotated[
        float | None, typer.Option("--runtime-minutes", help="Runtime (all episodes for a season).")
    ] = None,
    available_globally: Annotated[
        bool, typer.Option("--available-globally/--not-global", help="Released in every Netflix country?")
    ] = True,
    window_end: Annotated[
        str | None,
        typer.Option("--window-end", help="Last day of the measurement window (default: its half-year)."),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Original language code, e.g. ko, es.")
    ] = None,
    genres: Annotated[
        str | None, typer.Option("--genres", help="Comma-separated genres, e.g. 'Drama, Crime'.")
    ] = None,
    cast: Annotated[str | None, typer.Option("--cast", help="Comma-separated cast names.")] = None,
    director: Annotated[str | None, typer.Option("--director", help="Director name(s).")] = None,
    fee: Annotated[
        str | None, typer.Option("--fee", help="Licence fee or budget, for the cost per view.")
    ] = None,
    talent_cost: Annotated[
        str | None,
        typer.Option("--talent-cost", help="What the people in it are paid (e.g. from the talent engine)."),
    ] = None,
    value_per_hour: Annotated[
        str | None,
        typer.Option(
            "--value-per-hour", help="Value of an hour viewed (default: Netflix revenue ÷ hours viewed)."
        ),
    ] = None,
    fixed_residual: Annotated[
        str | None,
        typer.Option(
            "--fixed-residual",
            help="Program's fixed residual: adds the guild success bonuses (talent engine).",
        ),
    ] = None,
    domestic_share: Annotated[
        float | None,
        typer.Option("--domestic-share", help="Share of hours in the US and Canada (with --fixed-residual)."),
    ] = None,
    domestic_subscribers: Annotated[
        int | None,
        typer.Option("--domestic-subscribers", parser=whole_count, help="Domestic subscribers (with --fixed-residual)."),
    ] = None,
    history: HistoryOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Forecast one title (or run a sub-command: backtest, slate, candidates)."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [
        name
        for name, value in (("--title", title), ("--kind", kind), ("--release-date", release_date))
        if value is None
    ]
    if missing:
        raise InputError(f"a forecast needs {', '.join(missing)} (or a sub-command: backtest, candidates, slate)")
    _day(str(release_date), "--release-date")  # YYYY-MM-DD as the help says: 03/01/2024 is read in US order elsewhere
    import dataclasses
    import math

    import pandas as pd

    from limelight.valuation.data import default_catalog, default_top10, default_value_per_hour
    from limelight.valuation.decisions import to_money
    from limelight.valuation.features import normalize_candidates
    from limelight.valuation.pipeline import Decisions, Valuator

    if runtime_minutes is not None and not (math.isfinite(runtime_minutes) and runtime_minutes > 0):
        raise InputError(f"--runtime-minutes must be a positive number, got {runtime_minutes}")
    if domestic_share is not None and not 0 <= domestic_share <= 1:  # also refuses nan
        raise InputError(f"--domestic-share must be between 0 and 1, got {domestic_share}")
    candidate = pd.DataFrame(
        [
            {
                "title": title,
                "kind": kind,
                "release_date": release_date,
                "runtime_minutes": runtime_minutes,
                "available_globally": available_globally,
                "language": language,
                "genres": genres,
                "cast": cast,
                "director": director,
            }
        ]
    )
    end = _day(window_end, "--window-end") if window_end else None
    # every option is checked before the (slow) reports are read
    normalize_candidates(candidate, window_end=end)
    per_hour = to_money(value_per_hour, "--value-per-hour") if value_per_hour else None
    wanted = Decisions(
        fee=to_money(fee, "--fee") if fee else None,
        talent_cost=to_money(talent_cost, "--talent-cost") if talent_cost else None,
        value_per_hour=per_hour,
        fixed_residual=to_money(fixed_residual, "--fixed-residual", at_most=MAX_SUPPLIED_AMOUNT) if fixed_residual else None,
        domestic_share=domestic_share,
        domestic_subscribers=domestic_subscribers,
    )
    reports = _reports(_history_paths(history, []), db)
    per_hour_note = None
    if talent_cost is not None and per_hour is None:
        per_hour, per_hour_note = default_value_per_hour(reports, release_date)
        wanted = dataclasses.replace(wanted, value_per_hour=per_hour)
    valuator = Valuator(reports, top10=default_top10(), catalog=default_catalog())
    result = valuator.forecast(candidate, window_end=end, decisions=[wanted])[0]
    if per_hour_note:
        result.setdefault("decisions", {})["value_per_hour_source"] = per_hour_note
    if json_output:
        print_json(result)
        return
    _render(result)


def _render(result: dict[str, Any]) -> None:
    console.print(
        f"[bold]{escape(str(result['title']))}[/] ({escape(str(result['kind']))}), released {result['release_date']}, "
        f"{result['days_in_window']} days in the window ending {result['window_end']}"
    )
    table = Table(title="First-window forecast (80% interval)")
    for col in ("", "predicted", "low", "high"):
        table.add_column(col, justify="right")
    table.add_row(
        "hours", _fmt(result["predicted_hours"]), _fmt(result["lower_hours"]), _fmt(result["upper_hours"])
    )
    table.add_row(
        "views", _fmt(result["predicted_views"]), _fmt(result["lower_views"]), _fmt(result["upper_views"])
    )
    console.print(table)
    if result.get("runtime_assumed"):
        console.print(
            f"runtime not given: hours are forecast with the median runtime of the {result['kind']}s in the "
            "reports; views (and cost per view) need the runtime"
        )
    comps = Table(title="Most comparable past titles")
    for col in ("title", "window", "hours", "views", "why"):
        comps.add_column(col)
    for c in result["comparables"]:
        comps.add_row(escape(str(c["title"])), escape(str(c["window"])), _fmt(c["hours_viewed"]), _fmt(c["views"]),
                      escape(str(c["reason"])))
    console.print(comps)
    decisions = result.get("decisions") or {}
    if "cost_per_view" in decisions:
        cpv = decisions["cost_per_view"]
        if cpv["cost_per_view"] is None:
            console.print(f"cost per predicted view: unknown without a runtime (views are hours ÷ runtime); fee {cpv['fee']}")
        else:
            console.print(
                f"cost per predicted view: {cpv['cost_per_view']} (80%: {cpv['low']} – {cpv['high']}) "
                f"for a fee of {cpv['fee']}"
            )
    if "talent_share" in decisions:
        ts = decisions["talent_share"]
        console.print(
            f"talent share of value: {ts['share']} (80%: {ts['share_low']} – {ts['share_high']}); "
            f"value {ts['value']} at {ts['value_per_hour']} per hour"
        )
        if decisions.get("value_per_hour_source"):
            console.print(
                f"[dim]value per hour: {escape(str(decisions['value_per_hour_source']))} (an average, not a marginal value)[/]"
            )


@forecast_app.command(
    "backtest", context_settings={"allow_extra_args": True, "ignore_unknown_options": False}
)
def backtest(
    ctx: typer.Context,
    candidates: Annotated[
        Path,
        typer.Option("--candidates", help="CSV: title,kind,release_date,runtime_minutes,available_globally."),
    ],
    period: Annotated[
        str, typer.Option("--period", help="The window the candidates are measured in, START:END.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Where to write title,predicted_hours,lower_hours,upper_hours,predicted_views."
        ),
    ],
    history: HistoryOption = None,
    actuals: Annotated[
        Path | None, typer.Option("--actuals", help="The report of the period, to score the forecasts.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Forecast candidates from reports published before the period; score against actuals with baselines."""

    from limelight.valuation.backtest import parse_period, published_on, run_backtest
    from limelight.valuation.data import default_catalog, default_top10, load_reports
    from limelight.valuation.features import normalize_candidates, read_candidates
    from limelight.valuation.model import ValuationModel

    paths = _history_paths(history, list(ctx.args))
    if not paths:
        raise InputError("--history must name at least one engagement report")
    window = parse_period(period)
    check_output(out, names=CSV_NAMES, writes="CSV")
    frame = read_candidates(candidates)
    normalize_candidates(frame, window_end=window[1])  # refuse a bad row before the reports are read
    reports = load_reports(paths)
    late = sorted(set(reports.loc[(published_on(reports["period_end"]) >= window[0]).to_numpy(), "source"].astype(str)))
    actual_frame = load_reports([actuals]) if actuals else None
    model = ValuationModel(top10=default_top10(), catalog=default_catalog())
    result = run_backtest(reports, frame, period=window, actuals=actual_frame, model=model)
    columns = ["title", "predicted_hours", "lower_hours", "upper_hours", "predicted_views"]
    out.parent.mkdir(parents=True, exist_ok=True)
    result.forecasts.loc[:, columns].round(1).to_csv(out, index=False)
    payload = {
        "out": str(out),
        "candidates": result.n_candidates,
        "with_actuals": result.n_with_actuals,
        "left_out_history": late,
        "calibration": result.calibration,
        "metrics": result.metrics,
    }
    if json_output:
        print_json(payload)
        return
    if late:
        console.print(f"[yellow]left out (not published before the period):[/] {escape(', '.join(late))}")
    console.print(f"wrote {result.n_candidates} forecasts to {out}")
    if not result.metrics:
        return
    table = Table(title=f"Back-test {period}: {result.n_with_actuals} titles with actuals")
    for col in ("model", "n", "RMSLE", "Spearman", "80% coverage", "bucket exact", "bucket ±1"):
        table.add_column(col, justify="right" if col != "model" else "left", no_wrap=col != "model")
    for name, m in result.metrics.items():
        cov = m.get("coverage")
        table.add_row(
            name,
            f"{m['n']:.0f}",
            f"{m['rmsle']:.3f}",
            f"{m['spearman']:.3f}",
            "—" if cov is None else f"{cov:.1%}",
            f"{m['bucket_exact']:.1%}",
            f"{m['bucket_within_one']:.1%}",
        )
    console.print(table)
    base = result.metrics.get("kind median")
    if base:
        ratio = result.metrics["limelight"]["rmsle"] / base["rmsle"]
        console.print(f"RMSLE ratio to the kind-median baseline: {ratio:.3f}")


@forecast_app.command("candidates")
def candidates_cmd(
    report: Annotated[Path, typer.Option("--report", help="An engagement report (xlsx).")],
    period: Annotated[str, typer.Option("--period", help="Keep titles released in START:END.")],
    out: Annotated[Path, typer.Option("--out", help="Candidates CSV to write.")],
) -> None:
    """Write a back-test candidates CSV: the report's titles released inside the period."""
    from limelight.valuation.backtest import candidates_from_report, parse_period
    from limelight.valuation.data import load_reports

    window = parse_period(period)
    check_output(out, names=CSV_NAMES, writes="CSV")
    frame = candidates_from_report(load_reports([report]), window)
    left_out = frame.attrs.get("left_out_without_kind", 0)
    if frame.empty:
        raise InputError(
            f"{report.name} has no title released in {window[0].date()}..{window[1].date()} with a kind "
            f"(film or show){f'; {left_out} without one were left out' if left_out else ''}: nothing to write"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    note = f" ({left_out} titles whose kind the report does not give were left out)" if left_out else ""
    console.print(f"wrote {len(frame)} candidates to {out}{note}")


@forecast_app.command("slate")
def slate(
    candidates: Annotated[
        Path,
        typer.Option(
            "--candidates", help="CSV: title,kind,release_date,runtime_minutes,available_globally[,fee]."
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Write the ranked slate here (CSV).")] = None,
    history: HistoryOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Rank a slate of candidates: by cost per predicted view when a `fee` column is given, else by hours."""
    import pandas as pd

    from limelight.valuation.backtest import forecast_by_window
    from limelight.valuation.data import default_catalog, default_top10
    from limelight.valuation.decisions import rank_slate
    from limelight.valuation.features import normalize_candidates, read_candidates
    from limelight.valuation.model import ValuationModel

    if out:
        check_output(out, names=CSV_NAMES, writes="CSV")
    frame = read_candidates(candidates)
    normalized = normalize_candidates(frame)
    fee_values = _fees(frame) if "fee" in frame.columns else None
    reports = _reports(_history_paths(history, []), db)
    top10, catalog = default_top10(), default_catalog()
    forecasts = forecast_by_window(reports, normalized, lambda: ValuationModel(top10=top10, catalog=catalog))
    fees = None
    if fee_values is not None:
        fees = {str(t): f for t, f in zip(normalized["title_name"], fee_values) if f is not None}
    ranked = rank_slate(forecasts, fees)
    if out:
        ranked.to_csv(out, index=False)
    if json_output:
        print_json(ranked.to_dict(orient="records"))
        return
    table = Table(title=f"Slate of {len(ranked)} candidates")
    cols = ["rank", "title", "kind", "predicted_hours", "lower_hours", "upper_hours", "predicted_views"]
    if fees:
        cols += ["cost_per_view", "cost_per_view_low", "cost_per_view_high"]
    for col in cols:
        table.add_column(col)
    for _, row in ranked.head(50).iterrows():
        table.add_row(
            *[
                _fmt(row[c])
                if c.endswith(("_hours", "_views"))
                else ("—" if pd.isna(row[c]) else escape(str(row[c])))
                for c in cols
            ]
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `limelight forecast` (with `backtest` and `slate`) to the root app."""
    app.add_typer(forecast_app, name="forecast")
