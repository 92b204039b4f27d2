"""`limelight demo`: build the synthetic demo world into the spine and show what is in it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from limelight.cli._common import JsonOption, check_output, console, print_json, progress
from limelight.errors import InputError

__all__ = ["DEFAULT_DEMO_DB", "build_with_progress", "register", "render_summary"]

DEFAULT_DEMO_DB = Path("demo/limelight.duckdb")


def build_with_progress(
    *, db: Path | None, parquet: str | None, events: int, seed: int, show: bool = True, partition_by: str = "none"
) -> dict[str, Any]:
    """Build the world (into the store, or as Parquet) with a Rich progress bar; returns the summary."""
    from limelight.spine.world import build_demo_world, write_world_parquet

    with progress(transient=True) as bar:
        task = bar.add_task("synthetic demo world: viewing events", total=events, visible=show)

        def advance(step: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"synthetic demo world: {step}")

        if parquet is not None:
            return write_world_parquet(parquet, events=events, seed=seed, progress=advance, partition_by=partition_by)
        assert db is not None
        return build_demo_world(db, events=events, seed=seed, progress=advance)


def render_summary(summary: dict[str, Any]) -> None:
    """A readable summary: counts, members by country, most-watched titles; labelled synthetic."""
    counts = summary["counts"]
    inserted = sum(counts.values())
    headline = (
        f"[bold]SYNTHETIC DEMO WORLD[/] — seed {summary['seed']}, 'today' is {summary['today']}\n"
        f"Every title, person, member and viewing event is invented (source = 'demo').\n"
        f"Written to {summary['where']} in {summary['seconds']:.1f} s."
    )
    if inserted == 0:
        headline += "\n[yellow]This world was already there: nothing new was added.[/]"
    console.print(Panel(headline, border_style="magenta"))

    table = Table(title="Rows written", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)

    by_country = summary.get("members_by_country")
    if by_country:
        countries = Table(title="Members by country", show_edge=False)
        countries.add_column("country")
        countries.add_column("members", justify="right")
        for code, n in by_country.items():
            countries.add_row(str(code), f"{int(n):,}")
        console.print(countries)
    top = summary.get("top_titles")
    if top:
        titles = Table(title="Most-watched titles (synthetic)", show_edge=False)
        titles.add_column("#", justify="right")
        titles.add_column("title")
        titles.add_column("kind")
        titles.add_column("hours viewed", justify="right")
        for i, row in enumerate(top, 1):
            titles.add_row(str(i), f"{row['name']} [dim]({row['title_id']})[/]", str(row["kind"]), f"{row['hours']:,.1f}")
        console.print(titles)


def register(app: typer.Typer) -> None:
    """Add `limelight demo` to the root app."""

    @app.command("demo")
    def demo(
        db: Annotated[
            Path, typer.Option("--db", envvar="LIMELIGHT_DB", help="The DuckDB file to build the world into.")
        ] = DEFAULT_DEMO_DB,
        events: Annotated[
            int, typer.Option("--events", "-n", min=1_000, help="Viewing events to generate (1,000 to 2 billion).")
        ] = 100_000,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Same seed, same world.")] = 7,
        parquet: Annotated[
            str | None,
            typer.Option(
                "--parquet",
                help="Write the world as Parquet to this folder or URL instead of the store, in chunks "
                "(for 100M+ events).",
            ),
        ] = None,
        as_json: JsonOption = False,
        serve: Annotated[
            bool,
            typer.Option(
                "--serve/--no-serve",
                help="Then train a model, make an admin key and serve the API and dashboard.",
            ),
        ] = False,
        model: Annotated[str, typer.Option("--model", help="Model to train before serving.")] = "ease",
        host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 8000,
    ) -> None:
        """Build a synthetic streaming service (catalog, members, viewing, ratings, subscribers, payments).

        The world is labelled synthetic everywhere it is shown. Building it twice with the same
        seed and size adds nothing the second time; another seed or size is refused (one world per store).
        """
        if parquet is not None:  # an s3:// URL without s3fs, a file in the way: before any building
            check_output(parquet, option="--parquet", folder=True)
        if serve:  # refuse a serving mistake before minutes of building, not after
            if parquet is not None:
                raise InputError("--serve needs the world in the DuckDB store; leave out --parquet to serve it")
            from limelight.personalize.models import make_model

            make_model(model)
        summary = build_with_progress(db=db, parquet=parquet, events=events, seed=seed, show=not as_json)
        if as_json:
            print_json(summary)
        else:
            render_summary(summary)
        if serve:
            open_for_business(db, model=model, host=host, port=port)


def open_for_business(db: Path, *, model: str, host: str, port: int) -> None:
    """Train and publish a model, print the dashboard URL with an admin key, then serve until Ctrl-C."""
    from limelight.cli.service import train
    from limelight.service import run
    from limelight.service.keys import create_key
    from limelight.spine.store import connect

    train(db=db, model=model, evaluate=True, models_dir=None, as_json=False)
    with connect(db) as con:
        key, _record = create_key(con, "admin", label="make demo")
    console.print(
        Panel(
            f"Dashboard: [bold]http://{host}:{port}/[/]\n"
            f"Sign in with this admin key (shown once): [bold]{key}[/]\n"
            f"API docs: http://{host}:{port}/docs — the data is the SYNTHETIC demo world. Ctrl-C stops.",
            title="limelight is open for business",
            border_style="green",
        )
    )
    run(db, host=host, port=port, workers=1)
