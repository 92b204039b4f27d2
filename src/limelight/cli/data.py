"""`limelight ingest`, `limelight info`, `limelight export`: data in and out of the spine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from limelight.cli._common import DEFAULT_DB, DbOption, JsonOption, console, print_json, progress
from limelight.errors import InputError

__all__ = ["register"]


def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders; the format is detected.")] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Download a public dataset from its publisher (cached), e.g. movielens-latest-small."),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Load real public data (MovieLens, Netflix reports, Top 10, catalogs, CSV/Parquet) into the spine.

    All-or-nothing: a bad row stops everything with the file, row and column, and the store is unchanged.
    Ingesting the same file twice adds nothing the second time.
    """
    from limelight.spine.loaders import fetch_dataset, load_paths
    from limelight.spine.store import Store

    sources = list(paths or [])
    if dataset:
        sources.append(fetch_dataset(dataset))
    if not sources:
        raise InputError("give at least one PATH or --dataset NAME to ingest")
    with progress() as bar:
        task = bar.add_task("reading files", total=None)
        batch = load_paths(sources)
        bar.update(task, description="validating and writing", total=1, completed=0)
        with Store(db) as store:
            report = store.ingest(batch)
        bar.update(task, completed=1)
    if json_output:
        print_json({"inserted": report.inserted, "offered": report.offered})
        return
    table = Table(title=f"ingested into {db}")
    table.add_column("table")
    table.add_column("rows read", justify="right")
    table.add_column("rows added", justify="right")
    for name, offered in report.offered.items():
        table.add_row(name, f"{offered:,}", f"{report.inserted.get(name, 0):,}")
    console.print(table)


def info(db: DbOption = DEFAULT_DB, json_output: JsonOption = False) -> None:
    """What the spine holds: titles, members, ratings, viewing events, engagement, payments."""
    from limelight.spine.store import Store

    with Store(db, read_only=True) as store:
        summary = store.info()
    if json_output:
        print_json(summary)
        return
    table = Table(title=f"limelight store {summary['db']}" + (" — synthetic demo world" if summary["synthetic"] else ""))
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if isinstance(value, int) and not isinstance(value, bool):
            table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)


def export(
    out: Annotated[Path, typer.Argument(help="Folder to write one Parquet file per spine table.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write every spine table to Parquet."""
    from limelight.spine.store import Store

    with Store(db, read_only=True) as store:
        written = store.export_parquet(out)
    console.print(f"wrote {len(written)} Parquet files to {out}")


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(info)
    app.command()(export)
