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
        typer.Option(
            help="Download a public dataset from its publisher (cached): movielens-latest-small, "
            "movielens-100k, movielens-1m or movielens-25m."
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="Load each FILE into this spine table (generic CSV/TSV/Parquet loader)."),
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="SPINE_COLUMN=FILE_COLUMN, repeatable (with --table)."),
    ] = None,
    constant: Annotated[
        list[str] | None,
        typer.Option("--set", help="SPINE_COLUMN=VALUE for every row, repeatable (with --table), e.g. scale=stars."),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Load real public data (MovieLens, Netflix reports, Top 10, catalogs, CSV/Parquet) into the spine.

    The format of each file or folder is detected; `--table` with `--map`/`--set` loads any CSV, TSV or
    Parquet file into one spine table. All-or-nothing: a bad row stops everything with the file, row
    and column, and the store is unchanged. Ingesting the same file twice adds nothing the second time.
    """
    from limelight.spine.loaders import fetch_dataset, load_paths
    from limelight.spine.store import Store

    mapping = _pairs(column_map, "--map")
    constants = _pairs(constant, "--set")
    sources = list(paths or [])
    if dataset:
        with progress() as bar:
            # Rich's count column cannot format an unknown total: start at 0 and learn it from the download.
            task = bar.add_task(f"fetching {dataset} (bytes)", total=0)
            sources.append(
                fetch_dataset(
                    dataset, progress=lambda done, total: bar.update(task, completed=done, total=total or done)
                )
            )
    if not sources:
        raise InputError("give at least one PATH or --dataset NAME to ingest")
    if (mapping or constants) and table is None:
        raise InputError("--map and --set need --table to say which spine table the file fills")
    with progress() as bar:
        task = bar.add_task("reading files", total=len(sources))
        batch = []
        for source in sources:
            batch.extend(load_paths([source], table=table, mapping=mapping, constants=constants))
            bar.advance(task)
        bar.update(task, description="validating and writing", total=1, completed=0)
        with Store(db) as store:
            report = store.ingest(batch)
        bar.update(task, completed=1)
    if json_output:
        print_json({"inserted": report.inserted, "offered": report.offered})
        return
    shown = Table(title=f"ingested into {db}")
    shown.add_column("table")
    shown.add_column("rows read", justify="right")
    shown.add_column("rows added", justify="right")
    for name, offered in report.offered.items():
        shown.add_row(name, f"{offered:,}", f"{report.inserted.get(name, 0):,}")
    console.print(shown)


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """['member_id=userId', …] → {'member_id': 'userId'}; one sentence for a malformed pair."""
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise InputError(f"{option} must be SPINE_COLUMN=VALUE, got '{value}'")
        out[key.strip()] = rest.strip()
    return out


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
