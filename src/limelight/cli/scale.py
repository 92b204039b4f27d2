"""`limelight scale …`: the spine's pipelines on DuckDB or Spark over Parquet, and the world as Parquet."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from limelight.cli._common import (
    PARQUET_NAMES,
    JsonOption,
    check_filesystem,
    check_output,
    console,
    print_json,
)

__all__ = ["register"]

EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="duckdb or spark; default: settings.engine (LIMELIGHT_ENGINE)."),
]
ParquetOption = Annotated[
    str | None,
    typer.Option("--parquet", help="Folder (or fsspec URL) of spine tables as Parquet, e.g. from 'scale world'."),
]
DbOption = Annotated[Path | None, typer.Option("--db", help="A spine DuckDB file instead of --parquet.")]
OutOption = Annotated[str, typer.Option("--out", help="Where to write the result as Parquet (file or URL).")]


def _run(engine: str | None, db: Path | None, parquet: str | None, name: str, build: Any, out: str) -> dict[str, Any]:
    summary = _run_many(engine, db, parquet, [(name, build, out)])
    return {"engine": summary["engine"], "out": out, "rows": summary["pipelines"][0]["rows"], "seconds": summary["seconds"]}


def _run_many(
    engine: str | None, db: Path | None, parquet: str | None, jobs: list[tuple[str, Any, str]]
) -> dict[str, Any]:
    """Every (name, build, out) job on ONE backend: on Spark one session (one JVM) serves them all."""
    for _name, _build, target in jobs:
        check_output(target, folder=None, names=PARQUET_NAMES, writes="Parquet")
    if parquet is not None and "://" in parquet:
        check_filesystem(parquet, "--parquet")
    from limelight.errors import InputError
    from limelight.spine.engines import connect, resolve_engine

    if db is None and parquet is None:
        raise InputError("the data must come from --parquet DIR or --db FILE, got neither")
    if db is not None and parquet is not None:  # --db was quietly ignored
        raise InputError("the data must come from --parquet DIR or --db FILE, not both")
    chosen = resolve_engine(engine)
    import pyarrow.dataset as ds

    t0 = time.perf_counter()
    done: list[dict[str, Any]] = []
    if chosen == "duckdb":
        for _name, _build, target in jobs:
            if "://" not in target and Path(target).is_dir():
                raise InputError(f"--out {target} is a folder (a Spark run's output?): DuckDB writes one file; remove it or give another path")
    # A rerun replaces its output on both engines (DuckDB overwrites a file; Spark would refuse the folder)
    write_options = {"mode": "overwrite"} if chosen == "spark" else {}
    with Console(stderr=True).status(f"{chosen}: starting") as status:
        try:
            backend = connect(chosen, db=db, parquet_dir=parquet)
        except _engine_errors() as exc:  # a table's files it cannot read (DuckDB reads their schema here)
            raise _engine_error(chosen, "", exc) from exc
        connected = time.perf_counter() - t0
        # Every query is built (tables and columns checked) before anything is written, and a run that
        # fails part-way removes what it wrote: a refused run leaves no output behind.
        built = []
        for name, build, out in jobs:
            try:
                built.append((name, build(backend), out))
            except _engine_errors() as exc:
                raise _engine_error(chosen, name, exc) from exc
        written: list[str] = []
        made = _make_parents([out for _, _, out in built])
        try:
            for name, expr, out in built:
                status.update(f"{chosen}: {name}")
                t1 = time.perf_counter()
                try:
                    backend.to_parquet(expr, out, **write_options)
                except _engine_errors() as exc:  # the engine's own refusal (Spark's is a Java stack): its first line
                    raise _engine_error(chosen, name, exc) from exc
                written.append(out)
                seconds = time.perf_counter() - t1
                rows = ds.dataset(out, format="parquet").count_rows()
                done.append({"name": name, "out": out, "rows": rows, "seconds": round(seconds, 2)})
        except Exception:
            for out in written:
                _remove_local(out)
            for folder in reversed(made):  # folders this run made, if nothing else is in them
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
    return {
        "engine": chosen,
        "connect_seconds": round(connected, 2),
        "pipelines": done,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _make_parents(targets: list[str]) -> list[Path]:
    """Make the local folders the outputs go into; returns the ones made, outermost first."""
    made: list[Path] = []
    for target in targets:
        if "://" in target:
            continue
        missing = [p for p in (Path(target).parent, *Path(target).parent.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir()
            made.append(folder)
    return made


def _remove_local(target: str) -> None:
    """Delete a local output file or folder this run wrote (URLs are left to their store's lifecycle)."""
    import shutil

    if "://" in target:
        return
    path = Path(target)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _engine_errors() -> tuple[type[Exception], ...]:
    """The exceptions DuckDB and Spark raise about the data they were given (not limelight's own bugs)."""
    import duckdb

    found: list[type[Exception]] = [duckdb.Error]
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        found += [PySparkException, Py4JJavaError]
    except ImportError:  # pragma: no cover - pyspark is the [spark] extra
        pass
    return tuple(found)


def _engine_error(engine: str, pipeline: str, exc: Exception) -> Exception:
    """The engine's refusal of the data as one sentence (a Spark error is a Java stack of 150 lines)."""
    from limelight.errors import DataError, first_line

    first = first_line(exc)
    if len(first) > 300:
        first = first[:297] + "..."
    if not pipeline:
        return DataError(f"{engine} could not read the data source: {first}")
    return DataError(f"{engine} could not run the {pipeline} pipeline on this data: {first}")


def _show(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    table = Table(show_header=False, show_edge=False)
    for key, value in summary.items():
        table.add_row(str(key), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the `scale` group to the root app."""
    scale = typer.Typer(
        help="Scale-out: the spine's pipelines on DuckDB or Apache Spark over Parquet; the world as Parquet.",
        no_args_is_help=True,
    )
    app.add_typer(scale, name="scale")

    @scale.command("world")
    def world(
        out: Annotated[str, typer.Option("--out", help="Folder or fsspec URL to write the Parquet world to.")],
        events: Annotated[int, typer.Option("--events", "-n", min=1_000, help="Viewing events (up to 2 billion).")] = 1_000_000,
        seed: Annotated[int, typer.Option("--seed", min=0)] = 7,
        partition_by: Annotated[
            str,
            typer.Option(
                "--partition-by",
                help="none (a folder of parts per event table) or month (Hive-style month=YYYY-MM folders, "
                "which time windows prune on DuckDB and Spark).",
            ),
        ] = "none",
        as_json: JsonOption = False,
    ) -> None:
        """Write the synthetic demo world as Parquet, one chunk of events at a time (bounded memory)."""
        from limelight.cli.demo import build_with_progress, render_summary
        from limelight.errors import InputError
        from limelight.spine.world.parquet import PARTITIONINGS

        if partition_by not in PARTITIONINGS:  # before the check below, which may find the folder to write
            raise InputError(f"--partition-by must be one of {', '.join(PARTITIONINGS)}, got {partition_by!r}")
        check_output(out, folder=True)
        summary = build_with_progress(
            db=None, parquet=out, events=events, seed=seed, show=not as_json, partition_by=partition_by
        )
        if as_json:
            print_json(summary)
        else:
            render_summary(summary)

    @scale.command("interactions")
    def interactions_cmd(
        out: OutOption,
        parquet: ParquetOption = None,
        db: DbOption = None,
        engine: EngineOption = None,
        source: Annotated[str, typer.Option("--source", help="events, ratings or auto.")] = "auto",
        as_json: JsonOption = False,
    ) -> None:
        """Member × title interactions (weight, last_at) from viewing events or ratings, to Parquet."""
        from limelight.spine.pipelines import interactions

        summary = _run(engine, db, parquet, "interactions", lambda b: interactions(b, source=source, ordered=False), out)  # type: ignore[arg-type]
        _show(summary, as_json)

    @scale.command("views")
    def views_cmd(
        out: OutOption,
        start: Annotated[str, typer.Option("--start", help="First day of the window (UTC), e.g. 2026-01-01.")],
        end: Annotated[str, typer.Option("--end", help="Day after the window's last (UTC).")],
        parquet: ParquetOption = None,
        db: DbOption = None,
        engine: EngineOption = None,
        country: Annotated[list[str] | None, typer.Option("--country", help="Keep only these countries.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Hours viewed and views (hours / runtime) per title in a window, episodes rolled up to seasons."""
        from limelight.spine.pipelines import views_per_window

        summary = _run(
            engine, db, parquet, "views", lambda b: views_per_window(b, start, end, countries=country, ordered=False), out
        )
        _show(summary, as_json)

    @scale.command("run")
    def run_cmd(
        pipelines: Annotated[
            list[str], typer.Argument(help="Pipelines to build, in order: interactions, views (one or both).")
        ],
        out: Annotated[str, typer.Option("--out", help="Folder (or URL) to write <pipeline>.parquet into.")],
        parquet: ParquetOption = None,
        db: DbOption = None,
        engine: EngineOption = None,
        source: Annotated[str, typer.Option("--source", help="interactions: events, ratings or auto.")] = "auto",
        start: Annotated[str | None, typer.Option("--start", help="views: first day of the window (UTC).")] = None,
        end: Annotated[str | None, typer.Option("--end", help="views: day after the window's last (UTC).")] = None,
        country: Annotated[list[str] | None, typer.Option("--country", help="views: keep only these countries.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Several pipelines in ONE engine session (on Spark: one JVM, started and JIT-compiled once)."""
        from limelight.errors import InputError
        from limelight.spine.pipelines import interactions, views_per_window

        builders: dict[str, Any] = {
            "interactions": lambda b: interactions(b, source=source, ordered=False),  # type: ignore[arg-type]
            "views": lambda b: views_per_window(b, start or "", end or "", countries=country, ordered=False),
        }
        wanted = list(dict.fromkeys(pipelines))
        for name in wanted:
            if name not in builders:
                raise InputError(f"pipeline must be one of {', '.join(builders)}, got '{name}'")
        if "views" in wanted and (start is None or end is None):
            raise InputError("views needs --start and --end, got " + ("neither" if start is None and end is None else "only one"))
        root = out.rstrip("/")  # made by _run_many once every query is built: a refused run leaves nothing
        check_output(root, folder=True)
        jobs = [(name, builders[name], f"{root}/{name}.parquet") for name in wanted]
        summary = _run_many(engine, db, parquet, jobs)
        if as_json:
            print_json(summary)
            return
        table = Table(title=f"{summary['engine']}: one session, started in {summary['connect_seconds']} s")
        for column in ("pipeline", "rows", "seconds", "out"):
            table.add_column(column, justify="right" if column in ("rows", "seconds") else "left")
        for job in summary["pipelines"]:
            table.add_row(job["name"], f"{job['rows']:,}", str(job["seconds"]), job["out"])
        console.print(table)
