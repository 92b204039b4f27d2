"""Coerce and check rows against the spine schema, naming the file, row and column of the first bad cell.

Loaders hand over frames of raw-ish values; this module is the one place that turns them into the
schema's types. Everything is vectorised: a bad cell is found with a mask, never a Python loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.schema import ENUMS, RATING_SCALES, Column, Table

__all__ = ["EARLIEST", "LATEST", "Rows", "coerce_rows", "out_of_time_range"]

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}

# Dates and timestamps a streaming service can mean: anything outside is a unit mix-up (milliseconds read
# as seconds) or a typo, and would overflow pandas' or DuckDB's own range further on.
EARLIEST = np.datetime64("1800-01-01T00:00:00", "s")
LATEST = np.datetime64("2200-01-01T00:00:00", "s")  # exclusive
_TIME_RANGE = "1800-01-01 to 2199-12-31"
# Whole numbers each integer type holds.
_INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1, "a 32-bit whole number"),
              "BIGINT": (-(2**63), 2**63 - 1, "a 64-bit whole number")}  # fmt: skip


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


def out_of_time_range(values: np.ndarray) -> np.ndarray:
    """True where a datetime64 value (any unit) lies outside EARLIEST..LATEST; NaT is never out of range."""
    present = ~np.isnat(values)
    return present & ((values < EARLIEST) | (values >= LATEST))


def _check_time_range(rows: Rows, col: Column, values: pd.Series, shown: pd.Series) -> None:
    arr = values.to_numpy()
    if not np.issubdtype(arr.dtype, np.datetime64):
        arr = arr.astype("datetime64[ns]")
    bad = _first_bad(out_of_time_range(arr))
    if bad is not None:
        _raise(rows, bad, col.name, f"must be a date from {_TIME_RANGE}, got '{shown.iloc[bad]}'")


def _check_number_range(rows: Rows, col: Column, t: str, arr: np.ndarray, values: pd.Series) -> None:
    """Refuse infinities and numbers the column's DuckDB type cannot hold (the insert would fail mid-write)."""
    bad = _first_bad(np.isinf(arr))
    if bad is not None:
        _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not a finite number")
    if t in _INT_RANGE:
        low, high, what = _INT_RANGE[t]
        # In float64 2**63 - 1 rounds up to 2**63, so compare against the exclusive bound.
        bad = _first_bad((arr < float(low)) | (arr >= float(high) + 1.0))
        if bad is not None:
            _raise(rows, bad, col.name, f"must be between {low} and {high} ({what}), got {values.iloc[bad]}")
    elif t.startswith("DECIMAL"):
        digits = re.findall(r"\d+", t) or ["18", "3"]  # DuckDB's DECIMAL is DECIMAL(18,3)
        limit = 10.0 ** (int(digits[0]) - int(digits[1] if len(digits) > 1 else 0))
        # judged after rounding to the column's scale, as DuckDB stores it (9,999,999,999.999 is 10^10 at 2 places)
        bad = _first_bad(np.abs(np.round(arr, int(digits[1]) if len(digits) > 1 else 0)) >= limit)
        if bad is not None:
            _raise(rows, bad, col.name, f"must be below {limit:,.0f} in size ({col.type}), got {values.iloc[bad]}")


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
        except TypeError:  # bytes (a Parquet BINARY column): no text to read
            binary = _first_bad(values.map(lambda v: isinstance(v, bytes | bytearray)).to_numpy(dtype=bool))
            _raise(rows, binary or 0, col.name, "holds binary data, not text or numbers")
        if blank.any():
            values = values.astype(object).where(~blank, None)
        present = values.notna().to_numpy()
    if t in ("INTEGER", "BIGINT", "DOUBLE") or t.startswith("DECIMAL"):
        if pd.api.types.is_bool_dtype(values):  # True/False is no count of seconds or money
            _raise(rows, _first_bad(present) or 0, col.name, f"'{values[present].iloc[0]}' is a yes/no value, not a number")
        if pd.api.types.is_numeric_dtype(values):
            out = values
        else:
            out = pd.to_numeric(values, errors="coerce")
            bad = _first_bad(present & out.isna().to_numpy())
            if bad is not None:
                _raise(rows, bad, col.name, f"'{values.iloc[bad]}' is not a number")
        arr = pd.Series(out).to_numpy(dtype="float64", na_value=np.nan)
        _check_number_range(rows, col, t, arr, values)
        if t in ("INTEGER", "BIGINT"):
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
        _check_time_range(rows, col, out, values)
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
    if col.country:
        # The API takes ^[A-Z]{2}$; a file said 'usa' or 'United States' and the store kept it, so no
        # availability, Top 10 or local-time rule ever matched that member's rows.
        out = out.str.upper()
        bad = _first_bad(out.notna().to_numpy() & ~out.str.fullmatch(r"[A-Z]{2}").fillna(False).to_numpy())
        if bad is not None:
            _raise(rows, bad, col.name,
                   f"must be a two-letter country code (ISO 3166-1 alpha-2) such as US, got '{values.iloc[bad]}'")
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
    if schema.name == "ratings":
        _check_rating_scale(rows, out["rating"], out["scale"])
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _check_rating_scale(rows: Rows, rating: pd.Series, scale: pd.Series) -> None:
    """Each rating must be a value its row's scale has (schema.RATING_SCALES): 99 stars is a mistake."""
    values = rating.to_numpy(dtype="float64", na_value=np.nan)
    scales = scale.astype("string")
    for name, (low, high, allowed) in RATING_SCALES.items():
        on_scale = scales.eq(name).fillna(False).to_numpy(dtype=bool)
        if not on_scale.any():
            continue
        if allowed is None:
            wrong = (values < low) | (values > high)
            expected = f"from {low:g} to {high:g}"
        else:
            wrong = ~np.isin(values, allowed)
            expected = ", ".join(f"{v:g}" for v in allowed[:-1]) + f" or {allowed[-1]:g}"
        bad = _first_bad(on_scale & ~np.isnan(values) & wrong)
        if bad is not None:
            _raise(rows, bad, "rating", f"must be {expected} on the {name} scale, got {values[bad]:g}")
