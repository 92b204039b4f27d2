"""Coerce and check rows against the spine schema, naming the file, row and column of the first bad cell.

Loaders hand over frames of raw-ish values; this module is the one place that turns them into the
schema's types. Everything is vectorised: a bad cell is found with a mask, never a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.schema import ENUMS, Column, Table

__all__ = ["Rows", "coerce_rows"]

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


@dataclass
class Rows:
    """Rows for one spine table, with where they came from (for error messages).

    `line_numbers[i]` is the row number a person would look for in the source file
    (1-based, the header counts as row 1 for CSV). When absent, rows count from 1.
    """

    table: str
    frame: pd.DataFrame
    origin: str
    line_numbers: np.ndarray | None = None

    def row_label(self, position: int) -> int:
        if self.line_numbers is not None:
            return int(self.line_numbers[position])
        return position + 1


def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _raise(rows: Rows, position: int, column: str, message: str) -> None:
    # Loaders record the file's own column names so the message names what the user sees.
    shown = rows.frame.attrs.get("source_columns", {}).get(column, column)
    raise DataError(message, origin=rows.origin, row=rows.row_label(position), column=str(shown))


def _coerce_column(rows: Rows, col: Column, values: pd.Series) -> pd.Series:
    t = col.type.upper()
    present = values.notna().to_numpy()
    if isinstance(values.dtype, pd.CategoricalDtype):  # judge each distinct value once
        codes = values.cat.codes.to_numpy()
        blank_category = np.asarray(values.cat.categories.astype("string").str.strip() == "", dtype=bool)
        blank = (
            present & blank_category[np.maximum(codes, 0)]
            if blank_category.size
            else np.zeros(len(values), bool)
        )
        if blank.any():
            values = values.astype(object).where(~blank, None)
        present = values.notna().to_numpy()
    elif values.dtype == object or pd.api.types.is_string_dtype(values):
        # Blank strings are missing values, as in every spreadsheet. Vectorised: `.str` gives NA for
        # non-strings (numbers, dates, lists), which are never blank.
        try:
            blank = (values.str.strip() == "").fillna(False).to_numpy(dtype=bool)
        except AttributeError:  # no strings at all in this column
            blank = np.zeros(len(values), dtype=bool)
        if blank.any():
            values = values.astype(object).where(~blank, None)
        present = values.notna().to_numpy()
    if t in ("INTEGER", "BIGINT", "DOUBLE") or t.startswith("DECIMAL"):
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out = values
        else:
            out = pd.to_numeric(values, errors="coerce")
            bad = _first_bad(present & out.isna().to_numpy())
            if bad is not None:
                _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not a number")
        if t in ("INTEGER", "BIGINT"):
            arr = out.to_numpy(dtype="float64", na_value=np.nan)
            bad = _first_bad(present & ~np.isnan(arr) & (np.mod(arr, 1) != 0))
            if bad is not None:
                _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not a whole number")
            out = pd.Series(out, index=values.index).astype("Int64")
        if col.minimum is not None:
            arr = pd.Series(out).to_numpy(dtype="float64", na_value=np.nan)
            bad = _first_bad(~np.isnan(arr) & (arr < col.minimum))
            if bad is not None:
                _raise(rows, bad, col.name, f"must be at least {col.minimum:g}, got {values.iloc[bad]}")
        return pd.Series(out, index=values.index)
    if t in ("DATE", "TIMESTAMP"):
        if pd.api.types.is_datetime64_any_dtype(values):
            out = values
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            out = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
            bad = _first_bad(present & out.isna().to_numpy())
            if bad is not None:
                _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not a date")
            out = out.dt.tz_localize(None)
        if t == "DATE":
            out = out.dt.normalize()
        return out
    if t == "BOOLEAN":
        if pd.api.types.is_bool_dtype(values):
            return values
        text = values.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[text.isin(_TRUE).fillna(False).to_numpy()] = True
        out[text.isin(_FALSE).fillna(False).to_numpy()] = False
        bad = _first_bad(present & out.isna().to_numpy())
        if bad is not None:
            _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not yes/no")
        return out
    if t.endswith("[]"):
        def to_list(v: object) -> object:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return None
            if isinstance(v, str):
                return [p.strip() for p in v.replace(",", "|").split("|") if p.strip()]
            return [str(x) for x in v]  # type: ignore[attr-defined]

        return values.map(to_list)
    # VARCHAR
    if pd.api.types.is_float_dtype(values):
        arr = values.to_numpy()
        whole = np.isnan(arr) | (np.mod(arr, 1) == 0)
        if whole.all():
            return values.astype("Int64").astype("string")
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Strip each distinct value once and gather by code (-1, missing, becomes NA): generated and
        # Parquet dictionary columns arrive this way, and going through Python strings costs ~1 s per 1M.
        categories = values.cat.categories.astype("string").str.strip().array
        out = pd.Series(categories.take(values.cat.codes.to_numpy(), allow_fill=True), index=values.index)
    else:
        out = values.astype("string").str.strip()
    if col.enum is not None:
        allowed = ENUMS[col.enum]
        bad = _first_bad(out.notna().to_numpy() & ~out.isin(allowed).fillna(False).to_numpy())
        if bad is not None:
            _raise(
                rows, bad, col.name, f"must be one of {', '.join(allowed)}, got '{values.iloc[bad]}'"
            )
    return out


def coerce_rows(rows: Rows, schema: Table) -> pd.DataFrame:
    """Return a frame with exactly the table's columns, in its types; raise `DataError` on the first bad cell."""
    frame = rows.frame
    unknown = [c for c in frame.columns if c not in schema.column_names]
    if unknown:
        raise DataError(
            f"unknown column for table {schema.name}; expected some of {', '.join(schema.column_names)}",
            origin=rows.origin,
            column=str(unknown[0]),
        )
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        raise DataError("required column is missing", origin=rows.origin, column=missing[0])
    out = {}
    for col in schema.columns:
        if col.name not in frame.columns:
            out[col.name] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
            continue
        values = _coerce_column(rows, col, frame[col.name])
        if not col.nullable:
            bad = _first_bad(values.isna().to_numpy())
            if bad is not None:
                _raise(rows, bad, col.name, "a value is required")
        out[col.name] = values
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)
