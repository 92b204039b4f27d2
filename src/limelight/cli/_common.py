"""Shared CLI options and helpers: the `--db` option, JSON output, Rich progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from limelight.errors import InputError
from limelight.settings import get_settings

__all__ = [
    "DEFAULT_DB", "DbOption", "JsonOption", "ParamsOption", "console", "default_db", "model_params", "print_json", "progress"
]

console = Console()


def default_db() -> Path:
    return get_settings().db


# Use as `db: DbOption = DEFAULT_DB`.
DbOption = Annotated[Path, typer.Option("--db", envvar="LIMELIGHT_DB", help="The spine's DuckDB file.")]
DEFAULT_DB = Path("limelight.duckdb")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=False))


@contextmanager
def progress(transient: bool = True) -> Iterator[Progress]:
    """A Rich progress bar on stderr, for any step that may take more than a couple of seconds."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),  # copes with an unknown total
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=transient,
    ) as bar:
        yield bar


ParamsOption = Annotated[
    str | None,
    typer.Option(
        "--params",
        help='The model\'s parameters as a JSON object, e.g. \'{"regularization": 400}\' for ease or '
        '\'{"max_seconds": 600}\' to stop auto\'s search after ten minutes.',
    ),
]


def model_params(text: str | None) -> dict[str, Any]:
    """`--params` as a dict: one sentence naming the option when it is not a JSON object."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--params must be a JSON object of the model's parameters, got {text!r} ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InputError(f"--params must be a JSON object of the model's parameters, got {text!r}")
    return value
