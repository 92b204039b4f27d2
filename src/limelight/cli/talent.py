"""`limelight talent bonus|health|report|statement|whatif|packs`: talent pay under cited guild rules.

Thin: parse, call `limelight.talent`, render with Rich (or `--json`). Bad input raises a
`LimelightError` (one sentence, exit code 2 from the root app).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    check_output,
    console,
    print_json,
    whole_count,
)
from limelight.errors import InputError

__all__ = ["register"]

talent_app = typer.Typer(
    name="talent",
    help="Residuals, the viewership success bonus and health-plan eligibility, with every rule cited.",
    no_args_is_help=True,
)


def _decimal(value: str | None, name: str, *, cents: bool = True) -> Decimal | None:
    """An optional amount option, parsed as every amount a user types is (`to_money`). Pay is in whole
    cents, as the API takes it (27539.995 must not round up into health-plan eligibility); `cents=False`
    for rates and shares (a revenue share of 0.015, a fee of $0.575 per subscriber)."""
    from limelight.valuation.decisions import to_money

    if value is None:
        return None
    from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT

    # the API's limit: the same figure gets the same answer (1e400 too, not a second, larger limit)
    amount = to_money(value, name, at_most=MAX_SUPPLIED_AMOUNT if cents else None)
    if cents and amount != amount.quantize(Decimal("0.01")):
        raise InputError(f"{name} must be in whole cents, got '{value}'")
    return amount


def _nonneg(value: float, name: str) -> float:
    if value != value or value < 0 or value == float("inf"):
        raise InputError(f"{name} must be a finite number of at least 0, got {value}")
    return value


@talent_app.command("bonus")
def bonus(
    guild: Annotated[str, typer.Option("--guild", help="sag-aftra, wga or dga.")],
    domestic_hours: Annotated[float, typer.Option("--domestic-hours", help="Hours streamed in the US and Canada in the window.")],
    runtime_minutes: Annotated[float, typer.Option("--runtime-minutes", help="The program's runtime in minutes.")],
    domestic_subscribers: Annotated[
        int,
        typer.Option(
            "--domestic-subscribers", parser=whole_count, help="Domestic subscribers at the July 1 that applies (76e6 is fine)."
        ),
    ],
    fixed_residual: Annotated[
        str | None, typer.Option("--fixed-residual", help="The program's fixed HB SVOD residual (not public: you supply it).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Views, share of the domestic base, trigger, and the bonus with its split, under the guild's 2023 pack."""
    from limelight.talent.bonus import success_bonus
    from limelight.talent.rules import agreement_for

    pack = agreement_for(guild)
    _nonneg(domestic_hours, "domestic hours")
    result = success_bonus(
        pack,
        domestic_hours=domestic_hours,
        runtime_minutes=runtime_minutes,
        domestic_subscribers=domestic_subscribers,
        fixed_residual=_decimal(fixed_residual, "fixed residual"),
    )
    payload = result.as_json()
    payload["views"] = round(float(result.views), 1)
    payload["fixed_residual_status"] = "user-supplied" if fixed_residual is not None else "not supplied (not public)"
    rule = pack.success_bonus
    assert rule is not None
    payload["sources"] = sorted({pack.cite(rule.trigger_share.source), pack.cite(rule.bonus_rate.source)})
    if json_output:
        print_json(payload)
        return
    table = Table(title=f"{pack.name}: success bonus", show_header=False)
    for key in ("views", "metric", "trigger", "eligible", "views_needed", "fixed_residual", "bonus", "performers_share", "fund_share"):
        value = payload[key]
        if key == "metric":
            value = f"{result.metric:.2%} of the domestic base (trigger {rule.trigger_share.decimal():.0%})"
        label = f"{result.recipients} share" if key == "performers_share" and result.recipients else key.replace("_", " ")
        table.add_row(label, "—" if value is None else f"{value:,}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"[dim]{escape(result.rounding)}. Sources: {escape('; '.join(payload['sources']))}[/]")


@talent_app.command("health")
def health(
    earnings: Annotated[str, typer.Option("--earnings", help="Covered earnings in the base period (residuals count).")],
    year: Annotated[int, typer.Option("--year", help="The eligibility year, e.g. 2025.")],
    json_output: JsonOption = False,
) -> None:
    """SAG-AFTRA Health Plan earned eligibility: threshold, eligible, shortfall ('unknown' for unpublished years)."""
    from limelight.talent.health import health_status

    amount = _decimal(earnings, "earnings")
    assert amount is not None
    status = health_status(amount, year)
    if json_output:
        print_json(status.as_json())
        return
    if status.threshold is None:
        console.print(f"[yellow]unknown[/]: {escape(status.source)}")
        return
    verdict = "[green]eligible[/]" if status.eligible else f"[red]short by ${status.shortfall:,}[/]"
    console.print(f"{year}: ${status.earnings:,} of ${status.threshold:,} → {verdict}")
    console.print(f"[dim]Source: {escape(status.source)}[/]")


@talent_app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML pages and CSV files.")],
    engagement: Annotated[
        list[Path] | None,
        typer.Option("--engagement", help="A Netflix engagement report (.xlsx) or a folder of them; repeat for more. Without it, the spine's engagement rows (--db)."),
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Read engagement and subscriber rows from this spine instead.")] = None,
    titles: Annotated[Path | None, typer.Option("--titles", help="netflix_titles.csv, to join cast and director.")] = None,
    financials: Annotated[
        Path | None, typer.Option("--financials", help="Netflix IR workbook with regional paid memberships (for the July-1 base).")
    ] = None,
    domestic_share: Annotated[float | None, typer.Option("--domestic-share", help="Share of hours that are domestic (0-1).")] = None,
    first90_share: Annotated[
        float, typer.Option("--first90-share", help="Share of a half-year's hours inside the first 90 days (0-1).")
    ] = 0.7,
    domestic_subscribers: Annotated[
        int | None,
        typer.Option("--domestic-subscribers", parser=whole_count, help="Domestic subscribers (overrides the financials)."),
    ] = None,
    fixed_residual: Annotated[
        str | None, typer.Option("--fixed-residual", help="A fixed residual per program to estimate money (not public).")
    ] = None,
    principal_cast: Annotated[
        int | None, typer.Option("--principal-cast", help="Only the first N listed cast count as principal performers.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Which titles of the published engagement reports likely crossed the bonus trigger (HTML + CSV)."""
    import pandas as pd

    from limelight.settings import shared_data_dir
    from limelight.talent.report import ReportAssumptions

    ReportAssumptions(  # check the options before reading any file
        domestic_share=domestic_share, first90_share=first90_share, domestic_subscribers=domestic_subscribers,
        fixed_residual=_decimal(fixed_residual, "fixed residual"), principal_cast=principal_cast,
    )
    check_output(out, folder=True)
    if not engagement:
        if db is None:
            raise InputError("give engagement reports with --engagement, or a spine with --db")
        from limelight.spine.store import Store
        from limelight.talent.report import engagement_from_store

        with Store(db, read_only=True) as store:
            frame, subscribers = engagement_from_store(store)
        if frame.empty:
            raise InputError(f"the spine {db} has no engagement rows; ingest the reports first")
        _write_and_render(
            frame, subscribers, out, titles, json_output,
            domestic_share, first90_share, domestic_subscribers, fixed_residual, principal_cast,
        )
        return
    files: list[Path] = []
    for p in engagement:
        if p.is_dir():
            files.extend(sorted(p.glob("*.xlsx")))
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"the engagement report {p} does not exist")
    if not files:
        raise InputError("give at least one engagement report (.xlsx) with --engagement")
    from limelight.spine.loaders.netflix_engagement import read_report_frame

    frame = pd.concat([read_report_frame(f) for f in files], ignore_index=True)
    memberships = None
    if financials is None and (domestic_subscribers is None or domestic_share is None):
        default = shared_data_dir() / "netflix" / "financials" / "Q3-23-Website-Financials.xlsx"
        financials = default if default.exists() else None
    if financials is not None:
        from limelight.spine.loaders.netflix_financials import read_paid_memberships

        if not financials.exists():
            raise InputError(f"the financials workbook {financials} does not exist")
        memberships = read_paid_memberships(financials)
    _write_and_render(
        frame, memberships, out, titles, json_output,
        domestic_share, first90_share, domestic_subscribers, fixed_residual, principal_cast,
    )


def _write_and_render(
    frame: Any, memberships: Any, out: Path, titles: Path | None, json_output: bool,
    domestic_share: float | None, first90_share: float, domestic_subscribers: int | None,
    fixed_residual: str | None, principal_cast: int | None,
) -> None:
    from limelight.talent.report import ReportAssumptions, read_catalog, write_report

    assumptions = ReportAssumptions(
        domestic_share=domestic_share,
        first90_share=first90_share,
        domestic_subscribers=domestic_subscribers,
        fixed_residual=_decimal(fixed_residual, "fixed residual"),
        principal_cast=principal_cast,
    )
    catalog = read_catalog(titles) if titles is not None else None
    result = write_report(frame, memberships, out, assumptions, catalog)
    summary = result.summary()
    if json_output:
        print_json(summary)
        return
    table = Table(title=f"success-bonus estimate → {out}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in ("report_rows", "measurable", "likely_crossed", "likely_crossed_unknown", "likely_crossed_eligible",
                "bonus_applies_unknown", "catalog_matched", "catalog_year_mismatch", "credits"):
        table.add_row(key.replace("_", " "), f"{summary[key]:,}")
    console.print(table)
    for line in summary["assumptions"]:
        console.print(f"[dim]assumption: {escape(line)}[/]")


@talent_app.command("statement")
def statement(
    person: Annotated[str, typer.Option("--person", help="The person's id in the spine.")],
    db: DbOption = DEFAULT_DB,
    start: Annotated[str | None, typer.Option("--from", help="Period start (YYYY-MM-DD); default: Jan 1 of --as-of's year.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Period end (YYYY-MM-DD); default: --as-of.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Measure windows started by this date; default: today (UTC).")] = None,
    residuals: Annotated[
        Path | None, typer.Option("--residuals", help="CSV of fixed residuals you supply: guild,title_id[,person_id],amount[,rates_as_of].")
    ] = None,
    health_year: Annotated[int | None, typer.Option("--health-year", help="Also show health-plan eligibility for this year.")] = None,
    other_earnings: Annotated[
        str | None, typer.Option("--other-earnings", help="Other covered earnings in the base period (with --health-year).")
    ] = None,
    published_examples: Annotated[
        bool,
        typer.Option("--published-examples", help="Where no WGA residual is supplied, use the WGA's published largest-service amounts (labelled)."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """A person's statement: per credit and window, views, trigger, fixed residual, bonus share, pay per 1,000 views."""
    from limelight.spine.store import Store
    from limelight.talent.residuals import ResidualInputs, read_residual_inputs
    from limelight.talent.statements import statement_from_store

    if other_earnings is not None and health_year is None:  # it only counts toward a plan year
        raise InputError("--other-earnings counts toward the health plan: give --health-year too")
    today = _date(as_of, "--as-of") or date.today()
    period_start = _date(start, "--from") or date(today.year, 1, 1)
    period_end = _date(end, "--to") or today
    inputs = read_residual_inputs(residuals) if residuals is not None else ResidualInputs()
    with Store(db, read_only=True) as store:
        st = statement_from_store(
            store, person, period_start, period_end, as_of=today, residuals=inputs, health_year=health_year,
            other_earnings=_decimal(other_earnings or "0", "other earnings") or 0,
            use_published_examples=published_examples,
        )
    if json_output:
        print_json(st.as_json())
        return
    _render_statement(st)


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date YYYY-MM-DD, got '{value}'") from None


def _trigger_verdict(r: Any) -> str:
    """The trigger column as the dashboard says it: reaching it pays nothing for a title released before
    the bonus took effect, and an open window's count is so far."""
    if r.eligible is None:
        return "—"
    verdict = "reached" if r.eligible else "not reached"
    if not r.release_eligible:
        verdict += " (released before the bonus: none)"
    if getattr(r, "window_open", False):
        verdict += " so far"
    return verdict


def _totals_line(st: Any) -> str:
    """Total pay as far as it is known: exact, "at least" (with the count of lines left out), or unknown."""
    lines = len(st.lines)
    if st.total_pay is None:
        return ("total pay unknown: no fixed residual supplied (the tier tables are not public; use --residuals)"
                if lines else "no lines in this period")
    bonus = "unknown" if st.total_bonus is None else f"${st.total_bonus:,.2f}"
    if st.total_bonus is not None and st.unknown_bonus_lines:  # a partial sum, whatever the pay's state
        bonus = f"at least {bonus}"
    if not st.unknown_pay_lines:
        return f"total pay ${st.total_pay:,.2f} (bonus shares {bonus}); {st.rounding}"
    return (f"total pay at least ${st.total_pay:,.2f} (bonus shares {bonus}); {st.unknown_pay_lines:,} of {lines:,} "
            f"lines unknown (no fixed residual supplied, or the trigger cannot be measured); {st.rounding}")


def _render_statement(st: Any) -> None:
    # Names, titles and notes are data: escaped, or "[/]" in a name is a MarkupError and "[red]x" prints "x".
    table = Table(title=escape(f"{st.person_name} ({st.person_id}): {st.period_start} to {st.period_end}"))
    for col in ("title", "window", "role", "views", "share of base", "trigger", "views needed", "bonus share", "pay / 1k views"):
        table.add_column(col, justify="left" if col in ("title", "window", "role") else "right")
    for r in st.lines.itertuples(index=False):
        table.add_row(
            escape(str(r.title)), escape(str(r.window)), escape(str(r.role)),
            "—" if r.views is None else f"{r.views:,.0f}",
            "—" if r.metric is None or r.metric != r.metric else f"{r.metric:.1%}",
            _trigger_verdict(r),
            "—" if r.views_needed is None or r.views_needed != r.views_needed else f"{int(r.views_needed):,}",
            "—" if r.share is None else f"${r.share:,}",
            "—" if r.pay_per_thousand_views is None else f"${r.pay_per_thousand_views:,}",
        )
    console.print(table)
    console.print(_totals_line(st), markup=False)
    for s in st.supplied:
        console.print(f"[yellow]supplied:[/] {escape(s)}")
    for a in st.assumptions:
        console.print(f"[dim]assumption: {escape(a)}[/]")
    if st.health is not None:
        h = st.health
        if h.threshold is None:
            console.print(f"{h.plan} {h.year}: unknown ({h.source})", markup=False)
        elif h.eligible is None:  # known earnings short, lines of unknown pay: no verdict (see its note)
            # "$0.00 known" where no earnings are known read as a known nothing
            known = (f"${h.earnings:,.2f} known of ${h.threshold:,.2f}" if h.earnings
                     else f"no earnings known (threshold ${h.threshold:,.2f})")
            console.print(f"{h.plan} {h.year}: cannot be decided from known earnings — {known}; "
                          f"{h.unknown_earnings_lines:,} line(s) of unknown pay in the base period")
        else:
            console.print(f"{h.plan} {h.year}: ${h.earnings:,.2f} of ${h.threshold:,.2f}, shortfall ${h.shortfall:,.2f}")
        if h.threshold is not None and h.closing:  # decided short, or undecided: the open windows that could help
            together = sum((c.potential for c in h.closing), Decimal(0))
            verb = "would close it" if h.closes else f"would not close it even together (${together:,})"
            if h.eligible is None:
                verb = "could help close what the known earnings leave"
            for c in h.closing:
                console.print(f"  {c.title} ({c.window}, still open): +${c.potential:,} at {c.views_needed:,} more views",
                              markup=False)
            console.print(f"  … {verb}")
        for note in h.notes:
            console.print(f"[dim]note: {escape(note)}[/]")


@talent_app.command("whatif")
def whatif(
    guild: Annotated[str, typer.Option("--guild", help="sag-aftra, wga or dga.")],
    domestic_hours: Annotated[float, typer.Option("--domestic-hours")],
    runtime_minutes: Annotated[float, typer.Option("--runtime-minutes")],
    domestic_subscribers: Annotated[int, typer.Option("--domestic-subscribers", parser=whole_count)],
    fixed_residual: Annotated[str, typer.Option("--fixed-residual", help="The program's fixed residual (you supply it).")],
    viewing_share: Annotated[float, typer.Option("--viewing-share", help="The program's share of all domestic viewing (0-1).")],
    recipients: Annotated[
        int, typer.Option("--recipients", help="Who shares the bonus: principal performers (SAG-AFTRA), credited writers (WGA) or directors (DGA).")
    ] = 1,
    revenue_per_subscriber: Annotated[str | None, typer.Option("--revenue-per-subscriber")] = None,
    revenue_share: Annotated[str | None, typer.Option("--revenue-share", help="e.g. 0.02 for 2%.")] = None,
    fee_per_subscriber: Annotated[str | None, typer.Option("--fee-per-subscriber", help="e.g. 0.57.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The bonus rule versus a revenue-share PROPOSAL you enter (labelled as a proposal, never a rule)."""
    from limelight.talent.bonus import success_bonus
    from limelight.talent.rules import agreement_for
    from limelight.talent.whatif import RevenueShareProposal, compare

    result = success_bonus(
        agreement_for(guild), domestic_hours=_nonneg(domestic_hours, "domestic hours"), runtime_minutes=runtime_minutes,
        domestic_subscribers=domestic_subscribers, fixed_residual=_decimal(fixed_residual, "fixed residual"),
    )
    proposal = RevenueShareProposal(
        revenue_per_subscriber=_decimal(revenue_per_subscriber, "revenue per subscriber", cents=False),
        revenue_share=_decimal(revenue_share, "revenue share", cents=False),
        fee_per_subscriber=_decimal(fee_per_subscriber, "fee per subscriber", cents=False),
    )
    out = compare(result, proposal, viewing_share=Decimal(str(viewing_share)), recipients=recipients)
    if json_output:
        print_json(out.as_json())
        return
    console.print(f"[bold]{out.label}[/]")
    who = {"sag-aftra": "principal performer", "wga": "credited writer", "dga": "director"}[guild.strip().lower()]
    console.print(f"bonus rule: ${out.rule_total:,} to {out.recipients} {who}(s)")
    console.print(f"proposal:   ${out.proposal_total:,} (pool ${out.proposal_pool:,} × viewing share {float(out.viewing_share):.2%})")
    console.print(f"difference: ${out.difference:,}")


@talent_app.command("packs")
def packs(json_output: JsonOption = False) -> None:
    """The rule packs in use: agreement, term, sources, and what is not public."""
    from limelight.talent.rules import health_pack, load_packs

    loaded = load_packs()
    payload: dict[str, dict[str, Any]] = {
        pid: {
            "name": p.name, "term": [p.term_start.isoformat(), p.term_end.isoformat()],
            "success_bonus": p.success_bonus is not None,
            "sources": [p.cite(k) for k in p.sources], "not_public": p.not_public.items,
        }
        for pid, p in loaded.items()
    }
    hp = health_pack()
    payload[hp.id] = {
        "name": hp.name, "thresholds": {str(y): str(t.covered_earnings) for y, t in hp.thresholds.items()},
        "sources": [hp.cite(k) for k in hp.sources],
    }
    if json_output:
        print_json(payload)
        return
    for pid, info in payload.items():
        console.print(f"[bold]{escape(pid)}[/]: {escape(info['name'])}")
        for s in info["sources"]:
            console.print(f"  [dim]{escape(s)}[/]")


def register(app: typer.Typer) -> None:
    """Add `limelight talent …` to the root app."""
    app.add_typer(talent_app, name="talent")
