"""`limelight recommend` (batch top-K from a file, or one member's list with reasons) and
`limelight evaluate` (leakage-free offline evaluation under one protocol)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    ParamsOption,
    check_output,
    console,
    model_params,
    print_json,
)
from limelight.errors import InputError

__all__ = ["register"]

InteractionsOption = Annotated[
    Path | None,
    typer.Option("--interactions", help="CSV or Parquet: member_id,title_id[,rating,timestamp], one row per interaction."),
]
ModelOption = Annotated[
    str, typer.Option("--model", help="popularity, trending, itemknn, rp3beta, ease, cowatch, als, sasrec, vae or auto.")
]
KOption = Annotated[int, typer.Option("--k", help="How many titles per member.")]
def recommend(
    member: Annotated[str | None, typer.Argument(help="One member's id: print their list with reasons.")] = None,
    interactions: InteractionsOption = None,
    k: KOption = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write member_id,title_id,rank,score.")] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="popularity, trending, itemknn, rp3beta, ease, cowatch, als, sasrec, vae or auto "
                     "(batch default auto; one member's list: the engine's default, EASE)."),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb (in process) or spark; default: settings.engine (LIMELIGHT_ENGINE)."),
    ] = None,
    trainer: Annotated[
        str | None,
        typer.Option(
            "--trainer",
            help="ALS only: implicit (this machine) or mllib (Spark MLlib); default mllib with --engine spark.",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    params: ParamsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Top-K titles for every member of a file (batch), or one member's list with reasons."""
    if member is not None:
        batch_only = {"--interactions": interactions, "--out": out, "--engine": engine, "--trainer": trainer}
        given = [name for name, value in batch_only.items() if value is not None]
        if given:  # they used to be ignored without a word, even when invalid
            raise InputError(f"{given[0]} is for batch mode (--interactions FILE --out FILE, no MEMBER); "
                             "one member's list is read from --db")
        _recommend_member(member, db, k, json_output, model, model_params(params))
        return
    model = model or "auto"
    if interactions is None or out is None:
        raise InputError("batch mode must have both --interactions FILE and --out FILE (or give a MEMBER and --db)")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", str(interactions)):
        # a Path option folds "s3://b/k" into "s3:/b/k", which then "does not exist" as a local file
        raise InputError(f"--interactions takes a local path, got the URL-like {str(interactions)!r} "
                         "(score files on object storage from Python: limelight.scale.spark_scoring.score_all)")
    check_output(out)
    from limelight.cli._common import progress
    from limelight.personalize.batch import recommend_file
    from limelight.spine.engines import resolve_engine

    with progress() as bar:
        task = bar.add_task(f"training {model} and scoring every member", total=1)
        result = recommend_file(
            interactions, out, k=k, model=model, engine=resolve_engine(engine), trainer=trainer,
            params=model_params(params)
        )
        bar.advance(task)
    summary = {
        "out": str(result.out),
        "model": result.model,
        "members": result.n_members,
        "titles": result.n_titles,
        "rows": result.n_rows,
        "fit_seconds": round(result.fit_seconds, 3),
        "recommend_seconds": round(result.recommend_seconds, 3),
        "chosen": result.chosen,
        "trainer": result.trainer,
    }
    if json_output:
        print_json(summary)
        return
    console.print(
        f"wrote {result.n_rows:,} rows ({result.n_members:,} members × up to {k}) to [bold]{escape(str(result.out))}[/] "
        f"with {result.model}{f' trained by {result.trainer}' if result.trainer else ''} "
        f"(fit {result.fit_seconds:.1f} s, scoring {result.recommend_seconds:.1f} s)"
    )
    if result.chosen:
        from limelight.personalize.models.blend import describe_choice

        console.print(f"auto chose: {describe_choice(result.chosen)}")


def _recommend_member(
    member: str, db: Path, k: int, json_output: bool, model: str | None = None, params: dict[str, Any] | None = None
) -> None:
    from limelight.errors import NotFoundError
    from limelight.spine.store import Store

    if not Path(db).exists():
        raise NotFoundError(f"the store '{db}' does not exist; run 'limelight demo' or 'limelight ingest' first")
    try:
        from limelight.personalize.engine import PersonalizationEngine
    except ImportError as exc:  # pragma: no cover - the home engine ships with the package
        raise InputError("one member's list needs limelight.personalize.engine, which is not installed") from exc
    if model is not None:
        from limelight.personalize.models import make_model

        recommender = make_model(model, **(params or {}))
    elif params:
        raise InputError("--params needs --model: the parameters of which model?")
    else:
        from limelight.cli._common import serving_model

        recommender, _ = serving_model(Path(db))
    store = Store(db, read_only=True)
    items = PersonalizationEngine.from_store(store, recommender).recommend(member, k)
    if json_output:
        print_json([vars(item) if hasattr(item, "__dict__") else item for item in items])
        return
    table = Table(title=escape(f"For member {member}"))
    for column in ("#", "title", "score", "why"):
        table.add_column(column)
    for rank, item in enumerate(items, start=1):
        table.add_row(str(rank), escape(f"{item.name} ({item.title_id})"), f"{item.score:.3f}", escape(item.reason))
    console.print(table)


def evaluate(
    interactions: InteractionsOption = None,
    db: Annotated[Path | None, typer.Option("--db", help="Evaluate on the spine's views and ratings.")] = None,
    protocol: Annotated[
        str, typer.Option("--protocol", help="random, random-by-title, leave-last-out, strong-generalization or temporal.")
    ] = "random",
    model: ModelOption = "auto",
    k: KOption = 10,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the split.")] = 42,
    params: ParamsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Split, train on the training part only, rank every unseen title, report metrics with 95% intervals."""
    from limelight.personalize.batch import read_interactions, read_store_interactions
    from limelight.personalize.evaluate import evaluate as run_evaluation
    from limelight.personalize.splits import PROTOCOLS

    model_parameters = model_params(params)
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    from limelight.personalize.models import make_model

    make_model(model, **model_parameters)  # a bad name, parameter or value stops here, before reading data
    if interactions is not None and db is not None:  # one was quietly ignored
        raise InputError("evaluate reads --interactions FILE or --db FILE, not both")
    if interactions is not None:
        frame = read_interactions(interactions)
        source = str(interactions)
    elif db is not None:
        frame = read_store_interactions(db)
        source = str(db)
    else:
        raise InputError("evaluate must have --interactions FILE or --db FILE")
    from limelight.cli._common import progress

    with progress() as bar:
        task = bar.add_task(f"evaluating {model} ({protocol})", total=1)
        report = run_evaluation(frame, protocol=protocol, model=model, k=k, seed=seed, params=model_parameters)
        bar.advance(task)
    if json_output:
        print_json({"source": source, **report.as_dict()})
        return
    table = Table(
        title=f"{report.model} · {protocol} · {report.n_members:,} members × {report.n_titles:,} titles",
        caption="95% interval over members (Student's t)",
    )
    for column in ("metric", "mean", "95% interval"):
        table.add_column(column)
    for name, summary in report.metrics.items():
        interval = "" if summary.n <= 1 else f"{summary.low:.4f} – {summary.high:.4f}"
        table.add_row(name, f"{summary.mean:.4f}", interval)
    console.print(table)
    console.print(f"fit {report.fit_seconds:.1f} s, recommend {report.recommend_seconds:.1f} s")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("recommend")(recommend)
    app.command("evaluate")(evaluate)
