"""SQL text that must hold a value: DuckDB takes no parameters in `COPY … TO` paths or `SET`, so these
two are the only ways a path or a setting goes into SQL here (a path with a quote stays a path). And
DuckDB's own refusals, shown to a user, without the exception class it prefixes them with."""

from __future__ import annotations

import re
from pathlib import Path

from limelight.errors import InputError, first_line

__all__ = ["duckdb_reason", "memory_limit_setting", "sql_string"]

_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]|B|bytes)?", re.IGNORECASE)


def sql_string(value: str | Path) -> str:
    """`value` as a quoted SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def memory_limit_setting(value: str, field: str) -> str:
    """`SET memory_limit=…` for a size such as "4GB" or "512MiB"; anything else is refused, naming `field`."""
    text = str(value).strip()
    if not _SIZE.fullmatch(text):
        raise InputError(f"{field} must be a memory size such as 4GB or 512MiB, got {value!r}")
    return f"SET memory_limit={sql_string(text)}"


def duckdb_reason(exc: BaseException) -> str:
    """DuckDB's message, first line, without its class prefix ("Invalid Input Error: …") or end stop."""
    return re.sub(r"^[A-Za-z ]*Error: ", "", first_line(exc)).rstrip(".!")
