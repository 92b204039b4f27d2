"""`limelight home MEMBER`: a member's home page rows with the reason for every title.

Also `limelight explain MEMBER TITLE` (why one title suits one member) and `limelight similar TITLE`.
Thin: parse, call `PersonalizationEngine`, render with Rich (or `--json`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import DEFAULT_DB, DbOption, JsonOption, console, print_json, serving_model

__all__ = ["register"]

ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Recommender to fit (popularity, itemknn, ease, als, …); default: the model "
                 "'limelight serve' would load (the registry's current version), else EASE."),
]
NowOption = Annotated[
    datetime | None,
    typer.Option("--now", help="The clock for 'this week' and 'new' (UTC); default: the latest viewing event."),
]


def _engine(db: Any, model: str | None, now: datetime | None) -> Any:
    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.store import Store

    if model is not None:
        from limelight.personalize.models import make_model  # type: ignore[attr-defined]

        recommender = make_model(model)
    else:
        recommender, _ = serving_model(db)
    store = Store(db, read_only=True)
    try:
        return PersonalizationEngine.from_store(store, recommender, now=now)
    finally:
        store.close()


def home(
    member: Annotated[str, typer.Argument(help="The member's id.")],
    db: DbOption = DEFAULT_DB,
    rows: Annotated[int, typer.Option("--rows", min=1, max=50, help="At most this many rows.")] = 8,
    per_row: Annotated[int, typer.Option("--per-row", min=1, max=100, help="Titles per row.")] = 8,
    model: ModelOption = None,
    now: NowOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print a member's home page: Continue Watching, Top 10, Because You Watched …, each title with its reason."""
    engine = _engine(db, model, now)
    page = engine.home(member, max_rows=rows, per_row=per_row)
    if json_output:
        print_json(page.model_dump(mode="json"))
        return
    note = " [yellow](demo world: synthetic data)[/]" if page.synthetic else ""
    console.print(f"[bold]Home page for {escape(page.member_id)}[/]{note}")
    for row in page.rows:
        table = Table(title=escape(row.title), title_justify="left", show_header=True, expand=False)
        table.add_column("#", justify="right")
        table.add_column("title")
        table.add_column("kind")
        table.add_column("why")
        for pos, item in enumerate(row.items, start=1):
            table.add_row(str(pos), escape(item.name), escape(item.kind), escape(item.reason))
        console.print(table)


def explain(
    member: Annotated[str, typer.Argument(help="The member's id.")],
    title: Annotated[str, typer.Argument(help="The title's id.")],
    db: DbOption = DEFAULT_DB,
    model: ModelOption = None,
    now: NowOption = None,
    json_output: JsonOption = False,
) -> None:
    """Why a title suits a member: the titles and attributes that earned it."""
    engine = _engine(db, model, now)
    found = engine.explain(member, title)
    if json_output:
        print_json(found.model_dump(mode="json"))
        return
    console.print(f"[bold]{escape(found.name)}[/] for {escape(found.member_id)}: {escape(found.sentence)}")
    for t in found.because_titles:
        console.print(f"  title      {t.name} ({t.title_id})  {t.weight:+.4f}", markup=False)
    for a in found.because_attributes:
        console.print(f"  attribute  {a.kind}: {a.value}  {a.weight:.3f}", markup=False)
    console.print(f"  share of the score from viewing patterns: {found.collaborative_share:.0%}")


def similar(
    title: Annotated[str, typer.Argument(help="The title's id.")],
    db: DbOption = DEFAULT_DB,
    k: Annotated[int, typer.Option("--k", help="How many titles.")] = 10,
    model: ModelOption = None,
    member: Annotated[str | None, typer.Option(
        "--member", help="A member's id: only titles that profile may play and has not finished.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Titles out now most like one title (for one profile with --member)."""
    engine = _engine(db, model, None)
    items = engine.similar(title, k, member_id=member)
    if json_output:
        print_json([i.model_dump(mode="json") for i in items])
        return
    table = Table(title=escape(f"More like {engine.title(title).name}"), title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("title")
    table.add_column("genres")
    table.add_column("score", justify="right")
    for pos, item in enumerate(items, start=1):
        table.add_row(str(pos), escape(item.name), escape(", ".join(item.genres)), f"{item.score:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `home`, `explain` and `similar` to the root app."""
    app.command("home")(home)
    app.command("explain")(explain)
    app.command("similar")(similar)
