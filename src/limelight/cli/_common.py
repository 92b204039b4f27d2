"""Shared CLI options and helpers: the `--db` option, JSON output, Rich progress."""

from __future__ import annotations

import json
import math
import os
import re
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
    "DEFAULT_DB", "DbOption", "JsonOption", "ParamsOption", "check_output", "console", "default_db", "model_params", "print_json", "progress", "whole_count"
]

console = Console()


def default_db() -> Path:
    return get_settings().db


# Use as `db: DbOption = DEFAULT_DB`.
DbOption = Annotated[Path, typer.Option("--db", envvar="LIMELIGHT_DB", help="The spine's DuckDB file.")]
DEFAULT_DB = Path("limelight.duckdb")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]


def _json_safe(value: Any) -> Any:
    """`value` with every NaN, infinity or missing time as null: JSON has no NaN (`json.dumps` writes a
    bare `NaN` that strict parsers refuse), and "unknown" is what a missing figure means here."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    # numpy's float64 is a float; float32 and friends are not, but carry a dtype (numpy, pandas: not
    # imported here, so that `limelight --help` stays quick)
    if isinstance(value, float) or getattr(getattr(value, "dtype", None), "kind", "") == "f":
        return float(value) if math.isfinite(value) else None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(_json_safe(payload), indent=2, default=str, sort_keys=False, allow_nan=False))


@contextmanager
def progress(transient: bool = True) -> Iterator[Progress]:
    """A Rich progress bar on stderr, for any step that may take more than a couple of seconds. Off when
    stderr is not a terminal: there it drew nothing but left an empty line before any error sentence."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),  # copes with an unknown total
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
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


def check_filesystem(url: str, option: str, doing: str = "read") -> None:
    """Refuse, before any work, a URL whose fsspec filesystem is not installed (s3:// without s3fs):
    found later it surfaces after Spark's JVM has started, or as an ImportError deep in a writer."""
    protocol = url.split("://", 1)[0]
    if protocol == "file":
        return
    import fsspec

    try:
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as exc:
        raise InputError(f"{option} {url} cannot be {doing} here: {exc}") from None


PARQUET_NAMES = (".parquet", ".pq")
CSV_NAMES = (".csv", ".txt")
# Names that say another format: an output named so is refused (a name without one of these is taken).
_FORMAT_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".xlsx", ".xls", ".parquet", ".pq", ".npz", ".duckdb"}


def check_output(
    target: str | Path, *, option: str = "--out", folder: bool | None = False,
    names: tuple[str, ...] | None = None, writes: str = "",
) -> None:
    """Refuse, before any work, an output the command could not write: one sentence naming `option`.

    `folder`: True for a folder the command writes into, False for a file, None for either (Spark
    writes a Parquet "file" as a folder of parts).
    A local path's nearest existing folder is tried for real (a file is created and removed there,
    since permission bits say nothing for root or /proc); a URL needs its fsspec filesystem installed.
    """
    text = str(target)
    suffix = Path(text.rstrip("/")).suffix.lower()
    if names is not None and suffix in _FORMAT_SUFFIXES and suffix not in names:
        # a Parquet file named sim.csv (or a CSV named slate.json) is read back wrongly by every tool
        shown = ", ".join(n for n in names if n)
        raise InputError(f"{option} {text} would hold {writes}; give a name ending in {shown}")
    if "://" in text:
        if text.split("://", 1)[0] == "file":
            text = text.split("://", 1)[1]
        else:
            check_filesystem(text, option, "written")
            return
    if isinstance(target, Path) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", text):
        # a Path option folds "s3://b/k" into "s3:/b/k", which would be written as a local folder "s3:"
        raise InputError(f"{option} takes a local path, got the URL-like {text!r}")
    path = Path(text)
    if folder is False and path.is_dir():
        raise InputError(f"{option} {path} is a folder; give a file name")
    if folder is True and path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is a file; give a folder")
    where = path if folder is True else path.parent
    existing = next((p for p in (where, *where.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise InputError(f"{option} {path} cannot be written: {existing} is a file, not a folder")
    # Nothing is made here (a later refusal must leave no trace); the nearest folder is tried for real.
    probe = existing / f".limelight-write-check-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{option} {path} cannot be written: {exc.strerror or exc} ({existing})") from None


def whole_count(text: str) -> int:
    """A count as people type it: 76000000, 76_000_000, 76,000,000 or 76e6 (a whole number >= 0)."""
    cleaned = str(text).strip().replace("_", "").replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise typer.BadParameter(f"must be a whole number such as 76000000 or 76e6, got {text!r}") from None
    if not (value.is_integer() and 0 <= value < 2**63):  # nan and inf are not integers
        raise typer.BadParameter(f"must be a whole number of at least 0, got {text!r}")
    return int(value)


def serving_model(db: Path) -> tuple[Any, str | None]:
    """The model `limelight serve` would load for `db` — the registry's current version, or the newest
    earlier one that verifies — and a phrase naming it; (None, None) without a published version (the
    engine then fits its default). `home`, `recommend MEMBER`, `explain` and `similar` used to fit EASE
    afresh every time: slower than serving (34 s on ml-latest-small) and another model than the API's."""
    from limelight.registry import ModelRegistry

    registry = ModelRegistry(get_settings().registry_dir(db))
    if not registry.root.is_dir():
        return None, None
    version, problems = registry.newest_usable()
    # A broken current version is passed over, as `serve` does; say so, or the page would silently come
    # from an older model (the server reports the same in /health and GET /v1/models).
    for problem in problems:
        Console(stderr=True).print(f"[yellow]warning:[/] model registry: {problem}", highlight=False, soft_wrap=True)
    if version is None:
        return None, None
    from limelight.service.training import load_model

    return load_model(version), f"model version {version.version} ({version.model_name}) from {registry.root}"
