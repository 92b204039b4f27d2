"""A generic CSV/TSV/Parquet loader with a column mapping: your own files into any spine table.

    limelight ingest my_ratings.csv --table ratings --map member_id=userId --map title_id=movieId \\
        --set scale=stars

`mapping` is spine column → file column; a spine column not mapped is taken from the file column
of the same name when there is one (identity), and `constants` fill a column with one value. Without
a table, the table is the one whose required columns the file has and which has every column of the
file (identity mapping only); when none fits so, the file is refused naming the nearest tables.
Timestamps and dates given as whole numbers are epoch seconds (UTC). List columns (genres,
available_countries) are '|'- or ','-separated. Unknown tables, unknown spine columns and file
columns that are not there are refused with one sentence naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.spine.loaders._common import blank_mask, make_rows, parse_epoch, read_delimited
from limelight.spine.schema import SCHEMA, TABLE_ORDER, Table
from limelight.spine.validate import Rows

__all__ = ["TABULAR_SUFFIXES", "guess_table", "read_table_file", "read_tabular", "read_user_table"]

TABULAR_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def refuse_unfinished_write(path: str | Path) -> None:
    """Refuse a Parquet folder that a Spark job was still writing (or was killed writing).

    Spark writes its parts under `_temporary/` and adds `_SUCCESS` when the job commits; a folder with
    the first and not the second holds a partial result that a recursive glob would read as complete.
    """
    folder = Path(path)
    if folder.is_dir() and (folder / "_temporary").exists() and not (folder / "_SUCCESS").exists():
        raise DataError(
            "holds an unfinished Spark write (_temporary/ without _SUCCESS): rerun the job that writes it",
            origin=str(folder),
        )


def read_table_file(path: Path) -> pd.DataFrame:
    """A CSV/TSV (as text, header = row 1) or Parquet (typed) file; index = the row a person sees."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError("does not exist", origin=str(path))
    if path.is_dir() and suffix not in (".parquet", ".pq"):  # a Parquet dataset may be a folder of parts
        raise DataError("is a folder; give a CSV, TSV or Parquet file", origin=str(path))
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise DataError(f"cannot be read as Parquet ({exc})", origin=path.name) from None
        frame.index = pd.RangeIndex(1, 1 + len(frame))  # Parquet rows count from 1
        return frame
    sep = "\t" if suffix == ".tsv" else ","
    if suffix not in (".csv", ".tsv"):
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
        sep = "\t" if first.count("\t") > first.count(",") else ","
    return read_delimited(path, sep=sep)


def read_user_table(path: str | Path, *, option: str, what: str, allow_empty: bool = False) -> pd.DataFrame:
    """A file a user names on the command line (`option`) holding `what`, through `read_table_file`.

    The one reader for users' tables outside ingest (payment logs, candidate slates, residuals): a
    missing file or a folder names the option; an unreadable, ragged or non-UTF-8 file and (unless
    `allow_empty`) a header with no rows name the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{option}: the {what} file {path} does not exist")
    if path.is_dir() and path.suffix.lower() not in (".parquet", ".pq"):
        raise InputError(f"{option} must be a CSV or Parquet file of {what}, got the folder {path}")
    try:
        frame = read_table_file(path)
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror or exc})", origin=path.name) from None
    if frame.empty and not allow_empty:
        raise DataError(f"has no rows of {what} (only a header)", origin=path.name)
    return frame


def _table(name: str) -> Table:
    if name not in SCHEMA:
        raise InputError(f"--table must be one of {', '.join(TABLE_ORDER)}, got '{name}'")
    return SCHEMA[name]


def guess_table(columns: set[str]) -> str | None:
    """The spine table a file with these column names fills when no --table is given, or None.

    A table fits when the file has its required columns and every column of the file is one of the
    table's: a file with a column the table has not (a ratings file without `rating` has `title_id`,
    which `members` lacks) fits no table, rather than the one whose few columns it happens to hold,
    which would drop the others without a word. The most specific fit wins.
    """
    fits = [
        t
        for t in TABLE_ORDER
        if set(SCHEMA[t].required) - {"source"} <= columns and columns <= set(SCHEMA[t].column_names)
    ]
    if not fits:
        return None
    return max(fits, key=lambda t: (len(set(SCHEMA[t].column_names) & columns), len(SCHEMA[t].required)))


def _no_fit(columns: list[str]) -> str:
    """Why no table fits (see `guess_table`): the nearest tables, what each lacks and which columns it has not."""
    present = set(columns)

    def shared(t: str) -> int:
        return len(present & (set(SCHEMA[t].column_names) - {"source"}))

    # Tables whose required columns the file has (what the guess once took) and the tables sharing most columns.
    holding = [t for t in TABLE_ORDER if set(SCHEMA[t].required) - {"source"} <= present]
    candidates = sorted((t for t in TABLE_ORDER if shared(t)), key=lambda t: -shared(t))[:3]
    candidates += [t for t in holding if t not in candidates]
    if not holding:
        examples = "; ".join(
            f"{t}: {', '.join(c for c in SCHEMA[t].required if c != 'source')}"
            for t in ("titles", "members", "ratings", "viewing_events")
        )
        return (
            f"cannot tell which spine table this file fills: its columns are {', '.join(columns)}; "
            f"expected the columns of one table ({examples}) or --table with --map SPINE=FILE"
        )
    described = []
    for t in candidates:
        spec = SCHEMA[t]
        lacks = [c for c in spec.required if c != "source" and c not in present]
        foreign = [c for c in columns if c not in spec.column_names]
        said = ([f"needs {', '.join(lacks)}"] if lacks else []) + ([f"has no {', '.join(foreign)}"] if foreign else [])
        described.append(f"{t} ({' and '.join(said)})")
    return (
        f"cannot tell which spine table this file fills: its columns are {', '.join(columns)}, and no table has "
        f"all of them and its required ones (nearest: {'; '.join(described)}); give --table NAME, with --map SPINE=FILE "
        "or --set SPINE=VALUE for what it needs (columns the table has not are then left out)"
    )


def _epoch_or_text(values: pd.Series, origin: str, lines: np.ndarray, column: str) -> pd.Series:
    """Whole numbers in a date/timestamp column are epoch seconds; anything else is left to the validator."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return parse_epoch(values, origin, lines, column)
    text = values.astype("string").str.strip()
    digits = text.str.fullmatch(r"-?\d{9,11}").fillna(False).to_numpy(dtype=bool)
    if not digits.any():
        return values
    epoch = parse_epoch(text.where(digits), origin, lines, column)
    if (digits | blank_mask(text)).all():
        return epoch
    # Mixed spellings: epoch cells become timestamps, the rest stay text for the validator to parse.
    return values.astype(object).where(~digits, epoch.astype(object))


def read_tabular(
    path: str | Path,
    table: str | None = None,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> list[Rows]:
    """Rows for one spine table from a CSV/TSV/Parquet file, with the file's column names kept for errors."""
    path = Path(path)
    mapping = dict(mapping or {})
    constants = dict(constants or {})
    frame = read_table_file(path)
    columns = [str(c) for c in frame.columns]
    if table is None:
        if mapping or constants:
            raise InputError("--map and --set need --table to say which spine table the file fills")
        guessed = guess_table(set(columns))
        if guessed is None:
            raise DataError(_no_fit(columns), origin=path.name)
        table = guessed
    schema = _table(table)
    for spine in [*mapping, *constants]:
        if spine not in schema.column_names:
            raise InputError(
                f"table {table} has no column '{spine}'; its columns are {', '.join(schema.column_names)}"
            )
    for spine, file_column in mapping.items():
        if file_column not in columns:
            raise DataError(
                f"--map {spine}={file_column}: the file has no column '{file_column}' "
                f"(its columns are {', '.join(columns)})",
                origin=path.name,
            )
    source_columns: dict[str, str] = {}
    out = pd.DataFrame(index=frame.index)
    lines = np.asarray(frame.index, dtype=np.int64)
    for col in schema.columns:
        name = col.name
        if name in constants:
            out[name] = constants[name]
            source_columns[name] = f"--set {name}"
        elif name in mapping or name in columns:
            file_column = mapping.get(name, name)
            values = frame[file_column]
            if col.type in ("TIMESTAMP", "DATE"):
                values = _epoch_or_text(values, path.name, lines, file_column)
            out[name] = values
            source_columns[name] = file_column
        elif name == "source" and not col.nullable:
            out[name] = path.name
    missing = [c for c in schema.required if c not in out.columns]
    if missing:
        unmapped = [c for c in columns if c not in source_columns.values()]
        raise DataError(
            f"table {table} requires this column and the file has none; map it with --map {missing[0]}=COLUMN "
            f"(unmapped file columns: {', '.join(unmapped) or 'none'}) or give --set {missing[0]}=VALUE",
            origin=path.name,
            row=None if path.suffix.lower() in (".parquet", ".pq") else 1,  # the header row of a CSV/TSV
            column=missing[0],
        )
    return [make_rows(table, out, path.name, lines, source_columns)]
