"""Helpers shared by the loaders: reading sheets and delimited files with the row numbers a person sees.

Every loader hands the store `Rows` whose `line_numbers` are the file's own row numbers (CSV header =
row 1, so the first data row is 2; spreadsheet rows as the spreadsheet numbers them) and whose
`frame.attrs["source_columns"]` maps each spine column to the file's column name, so that an error
reads "ratings.csv, row 17, column 'rating': 'abc' is not a number".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.validate import EARLIEST, LATEST, Rows

__all__ = [
    "MONTHS",
    "Sheet",
    "blank_mask",
    "make_rows",
    "normalise_header",
    "parse_dates",
    "parse_epoch",
    "parse_numbers",
    "raise_at",
    "raise_first",
    "read_delimited",
    "read_workbook",
    "require_columns",
]

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def normalise_header(value: object) -> str:
    """'Available Globally?' → 'available globally': lower case, punctuation to spaces, one space."""
    return re.sub(r"[^0-9a-z]+", " ", str(value).lower()).strip()


class Sheet:
    """One worksheet as a list of rows; `rows[i]` is the sheet's row `i + 1` (leading blanks kept)."""

    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name = name
        self.rows = rows

    def find_header(self, *required: str, search_rows: int = 50) -> int | None:
        """Index of the first row whose normalised cells include every `required` word (exactly)."""
        for i, row in enumerate(self.rows[:search_rows]):
            cells = {normalise_header(c) for c in row}
            if all(r in cells for r in required):
                return i
        return None


def read_workbook(path: Path) -> list[Sheet]:
    """Every sheet of an xlsx/xls/ods file with python-calamine (fast, keeps sheet row numbers)."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt or non-Excel files
        raise DataError(f"cannot be read as a spreadsheet ({exc})", origin=path.name) from None
    return [
        Sheet(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
        for name in book.sheet_names
    ]


def read_delimited(
    path: Path,
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    names: Sequence[str] | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """A CSV/TSV as strings (no type guessing: the validator owns types), blank lines skipped.

    With a header (the default) `frame.index` is the file's row number of each record (header = 1,
    first data row = 2); with `names` (a headerless file) the first record is row 1. Blank lines and
    quoted line breaks are counted, so the numbers are the ones a text editor shows.
    Arrow's parser reads first (5-10x the C parser on large files); any file it refuses goes to
    pandas' C parser, which decides and explains.
    """
    options: dict[str, Any] = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "encoding": encoding,
        "header": None if names is not None else "infer",
        "names": list(names) if names is not None else None,
    }
    if names is None:
        _check_header_names(path, sep, encoding)
    frame: pd.DataFrame | None = None
    if "engine" not in kw and len(sep) == 1:
        try:
            frame = pd.read_csv(path, engine="pyarrow", **options, **kw)
        except Exception:  # ragged rows, odd quoting, an encoding Arrow lacks: the C parser explains
            frame = None
    if frame is None:
        if len(sep) == 1:
            _check_field_counts(path, sep, encoding, len(names) if names is not None else None,
                                quoting=kw.get("quoting", 0))
        try:
            frame = pd.read_csv(path, skip_blank_lines=True, index_col=False, **options, **kw)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataError(
                f"cannot be read as a {'tab' if sep == chr(9) else 'comma'}-separated file ({exc})",
                origin=path.name,
            ) from None
        except pd.errors.EmptyDataError:
            raise DataError("the file is empty", origin=path.name) from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    first = 1 if names is not None else 2
    frame.index = _record_lines(path, len(frame), first, sep, encoding)
    return frame


def _check_header_names(path: Path, sep: str, encoding: str) -> None:
    """Refuse a header that names one column twice: the parsers would rename the second ('rating.1') and
    the loaders would silently read only the first."""
    import csv

    row = 0
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            for line in handle:  # the first non-blank line is the header (the parsers skip blank lines)
                row += 1
                if line.strip():
                    break
            else:
                return
        if len(sep) == 1:
            header = next(csv.reader([line], delimiter=sep), [])
        else:
            header = line.rstrip("\r\n").split(sep)
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # the readers below explain an unreadable file
    seen: dict[str, int] = {}
    for position, cell in enumerate(header, start=1):
        name = cell.strip().lstrip("\ufeff")
        if not name:
            continue
        if name in seen:
            raise DataError(
                f"the header names this column twice (columns {seen[name]} and {position}); "
                "rename or remove one of them",
                origin=path.name,
                row=row,
                column=name,
            )
        seen[name] = position


def _check_field_counts(
    path: Path, sep: str, encoding: str, expected: int | None, *, quoting: Literal[0, 1, 2, 3] = 0
) -> None:
    """Name the first record whose number of fields differs from the header's, or for a headerless
    file (`expected` given) from the format's (pandas would guess)."""
    import csv

    against = "the header has" if expected is None else "the format has"
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=sep, quoting=quoting)
            previous_end = 0
            for row in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not row:
                    continue
                if expected is None:
                    expected = len(row)
                elif len(row) != expected:
                    fields = f"{len(row)} field{'' if len(row) == 1 else 's'}"
                    raise DataError(
                        f"has {fields} where {against} {expected}", origin=path.name, row=start
                    )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is not {encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} at offset {exc.start}); "
            f"save it as {encoding}",
            origin=path.name,
        ) from None
    except csv.Error as exc:
        raise DataError(f"cannot be read as delimited text ({exc})", origin=path.name) from None


def _record_lines(path: Path, records: int, first: int, sep: str, encoding: str) -> pd.Index:
    """The file line on which each record starts: `first, first+1, …` unless blank lines or quoted line breaks.

    Counting newlines is cheap; only when the count disagrees (a quoted newline, as in the Netflix
    catalog's descriptions) are the record starts found with the csv module, so messages stay exact.
    """
    simple = pd.RangeIndex(first, first + records)
    try:
        if path.stat().st_size > 256 * 2**20 or len(sep) != 1:
            return simple
        data = path.read_bytes()
    except OSError:
        return simple
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if lines == records + first - 1:
        return simple
    import csv
    import io

    reader = csv.reader(io.StringIO(data.decode(encoding, errors="replace"), newline=""), delimiter=sep)
    starts = []
    previous_end = 0
    for row in reader:
        if row:  # a blank line is no record (the parsers skip it) but keeps its number
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    starts = starts[first - 1 :] if first > 1 else starts
    if len(starts) != records:
        return simple
    return pd.Index(np.asarray(starts, dtype=np.int64))


def require_columns(frame: pd.DataFrame, columns: Sequence[str], origin: str) -> None:
    """Refuse a file whose header (row 1) lacks a column the format needs, naming it and what was found."""
    for name in columns:
        if name not in frame.columns:
            found = ", ".join(map(str, frame.columns)) or "no columns"
            raise DataError(
                f"required column is missing from the header (found {found})",
                origin=origin,
                row=1,
                column=name,
            )


def raise_at(origin: str, row: int | None, column: str, message: str) -> None:
    raise DataError(message, origin=origin, row=row, column=column)


def raise_first(bad: np.ndarray, frame: pd.DataFrame, column: str, message: str, origin: str) -> None:
    """Raise for the first True of the mask `bad`: the file's row (`frame.index`, as `read_table_file`
    numbers it) and `column`; `{value}` in `message` becomes that cell."""
    i = int(np.flatnonzero(bad)[0])
    raise_at(origin, int(frame.index[i]), column, message.format(value=frame[column].iloc[i]))


def make_rows(
    table: str,
    frame: pd.DataFrame,
    origin: str,
    line_numbers: np.ndarray | Sequence[int] | pd.Index,
    source_columns: Mapping[str, str],
) -> Rows:
    """Wrap a frame for the store with its file row numbers and the file's column names."""
    frame = frame.reset_index(drop=True)
    frame.attrs["source_columns"] = dict(source_columns)
    return Rows(table, frame, origin, np.asarray(line_numbers, dtype=np.int64))


def blank_mask(values: pd.Series) -> np.ndarray:
    """True where a cell is missing or only whitespace (vectorised; works for object and string dtypes)."""
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string")
        missing = missing | (text.str.strip() == "").fillna(True).to_numpy(dtype=bool)
    return missing


def parse_dates(values: pd.Series, origin: str, line_numbers: np.ndarray, column: str) -> pd.Series:
    """Dates that arrive as date objects, ISO strings or other common spellings → datetime64 (naive UTC).

    Blank cells become NaT; anything else that is not a date raises naming the row and column.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    blank = blank_mask(values)
    text = values.astype("string").str.strip()
    # utc=True: offsets that change within a file (-05:00 in winter, -04:00 in summer) are one column of
    # instants, not "mixed timezones"; a time without an offset is read as UTC
    out = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce", utc=True)
    retry = np.flatnonzero(~blank & out.isna().to_numpy())
    if retry.size:
        # Rare spellings ('March 23, 2023', '3/23/2023') one by one: only the few ISO rejected.
        out.iloc[retry] = pd.to_datetime(text.iloc[retry], format="mixed", errors="coerce", utc=True)
        still = np.flatnonzero(~blank & out.isna().to_numpy())
        if still.size:
            i = int(still[0])
            raise_at(origin, int(line_numbers[i]), column, f"'{values.iloc[i]}' is not a date")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _arrow_float(text: pd.Series) -> np.ndarray | None:
    """Arrow's string → float64 cast (C speed, ~10x `pd.to_numeric` on strings); None if any cell fails,
    so that the exact path finds and names the first bad cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(pa.array(text, type=pa.string(), from_pandas=True), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    out = cast.to_numpy(zero_copy_only=False)
    if np.isnan(out).sum() != cast.null_count:  # 'nan' spelled out: let the exact path decide
        return None
    return out


def parse_numbers(
    values: pd.Series, origin: str, line_numbers: np.ndarray, column: str, *, blanks: tuple[str, ...] = ()
) -> pd.Series:
    """Numbers that may arrive as text with thousands separators → float64; `blanks` are NA markers."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if values.dtype == object:
        # Spreadsheet columns arrive as Python floats with the odd string: convert what is already a
        # number directly (fast), and only clean the text of the cells that are not.
        direct = pd.to_numeric(values, errors="coerce").astype("float64")
        pending = direct.isna().to_numpy()
        if not pending.any():
            return direct
        rest = parse_numbers(
            values[pending].astype("string"), origin, line_numbers[pending], column, blanks=blanks
        )
        direct[pending] = rest.to_numpy()
        return direct
    blank = blank_mask(values)
    text = values.astype("string").str.strip()
    if blanks:
        blank = blank | text.isin(blanks).fillna(False).to_numpy(dtype=bool)
    fast = _arrow_float(text.where(~blank))
    if fast is not None:
        return pd.Series(fast, index=values.index, dtype="float64")
    # A separator must group thousands: "1,234,000" is a number, "1,5" (a decimal comma) is not — taken
    # out blindly, it read as 15, ten times the value, without a word.
    grouped = text.str.fullmatch(_THOUSANDS).fillna(False).to_numpy(dtype=bool)
    separated = text.str.contains(r"[,_]", regex=True).fillna(False).to_numpy(dtype=bool)
    cleaned = text.str.replace(",", "", regex=False).str.replace("_", "", regex=False)
    out = pd.to_numeric(cleaned.where(~blank), errors="coerce").astype("float64")
    bad = np.flatnonzero(~blank & (out.isna().to_numpy() | (separated & ~grouped)))
    if bad.size:
        i = int(bad[0])
        why = " (commas may only group thousands, as in 1,234,567.5)" if separated[i] else ""
        raise_at(origin, int(line_numbers[i]), column, f"'{values.iloc[i]}' is not a number{why}")
    return out


_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?|[+-]?\d{1,3}(?:_\d{3})+(?:\.\d*)?"


_EARLIEST_S = float(EARLIEST.astype("int64"))  # seconds since 1970 (EARLIEST and LATEST are in seconds)
_LATEST_S = float(LATEST.astype("int64"))


def parse_epoch(values: pd.Series, origin: str, line_numbers: np.ndarray, column: str) -> pd.Series:
    """Epoch seconds (UTC) → naive-UTC datetime64; a number outside the validator's date range (a value in
    milliseconds, a typo) raises naming the row and column instead of overflowing inside pandas."""
    seconds = parse_numbers(values, origin, line_numbers, column)
    arr = seconds.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(~np.isnan(arr) & ~((arr >= _EARLIEST_S) & (arr < _LATEST_S)))
    if bad.size:
        i = int(bad[0])
        raise_at(
            origin,
            int(line_numbers[i]),
            column,
            f"'{values.iloc[i]}' seconds since 1970 is not a date from 1800-01-01 to 2199-12-31 "
            "(epoch times must be in seconds)",
        )
    return pd.to_datetime(seconds, unit="s")
