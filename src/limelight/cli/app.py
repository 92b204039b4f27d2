"""The `limelight` command: one Typer app; each command group lives in its own module."""

from __future__ import annotations

import importlib
import logging
import sys

import click
import typer
from rich.console import Console

from limelight.errors import LimelightError, storage_error

__all__ = ["app", "main"]

app = typer.Typer(
    name="limelight",
    help="An open-source ML platform for streaming services: personalize, value, collect, pay fairly.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes `register(app)`. Importing them must stay cheap: engines load lazily inside commands.
COMMAND_MODULES = (
    "limelight.cli.data",
    "limelight.cli.demo",
    "limelight.cli.personalize",
    "limelight.cli.home",
    "limelight.cli.service",
    "limelight.cli.forecast",
    "limelight.cli.talent",
    "limelight.cli.payments",
    "limelight.cli.scale",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)

err_console = Console(stderr=True)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each step does.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: a `LimelightError` becomes one sentence on stderr and exit code 2."""
    try:
        app(args=argv, standalone_mode=True)
    except LimelightError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # a full or read-only disk under any command: one sentence, not a traceback
        refused = storage_error(exc, f"'{exc.filename}'" if isinstance(exc, OSError) and exc.filename else "a file")
        if refused is None:
            raise
        err_console.print(f"[bold red]error:[/] {refused}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:  # pragma: no cover - typer raises this for --help in some paths
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
