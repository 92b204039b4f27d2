"""Netflix "What We Watched" engagement reports (xlsx) → the spine's `engagement` table.

Every layout published so far, and later ones that rename sheets:

- 2023 Jan–Jun: one sheet "Engagement" (Title, Available Globally?, Release Date, Hours Viewed), no
  runtime, no views and no film/show split (kind is NULL);
- from 2023 Jul–Dec: sheets "TV" and "Film" that add Runtime (H:MM, '*' where withheld) and Views.

Nothing is found by position: the header is the first row holding a 'Title' cell and an 'Hours
Viewed' cell (row 6 in every report so far, first column empty), each column is found by its header
words, the kind comes from the sheet name or header words (TV/Show/Series/Season → show,
Film/Movie → film), and the reporting period from the sheet's heading cells ("Hours viewed from
January to June 2023") or else the file name ("…2023Jan-Jun.xlsx"). Release dates arrive as Excel
dates in one report and as strings in the others; both load. `row_number` is the sheet's own row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.loaders._common import (
    MONTHS,
    Sheet,
    blank_mask,
    make_rows,
    normalise_header,
    parse_dates,
    parse_numbers,
    raise_at,
    read_workbook,
)
from limelight.spine.schema import SCHEMA
from limelight.spine.validate import Rows, coerce_rows

__all__ = ["is_engagement_sheet", "read_report", "read_report_frame", "report_period"]

TABLE = "engagement"
_RUNTIME_BLANKS = ("*", "-", "—", "n/a", "N/A", "NA")

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# "Hours viewed from January to June 2023", "Views from July 2023 through June 2024".
_HEADING_PERIOD = re.compile(
    rf"\b({_MONTH})\b\.?\s*(\d{{4}})?\s*(?:to|through|thru|-|–|—)\s*\b({_MONTH})\b\.?\s*,?\s*(\d{{4}})"
)
# "…_2023Jan-Jun.xlsx", "…2024 Jul-Dec…", "…Jan-Jun_2023…".
_FILE_PERIOD_YEAR_FIRST = re.compile(rf"(\d{{4}})[\s_-]*({_MONTH})[\s_-]*(?:to[\s_-]*)?({_MONTH})(?![a-z])")
_FILE_PERIOD_YEAR_LAST = re.compile(rf"(?<![a-z])({_MONTH})[\s_-]*(?:to[\s_-]*)?({_MONTH})[\s_-]*(\d{{4}})")

_SHOW_WORDS = re.compile(r"\b(?:tv|shows?|series|seasons?|episodes?)\b")
_FILM_WORDS = re.compile(r"\b(?:films?|movies?)\b")


def _column_for(header: str) -> str | None:
    """Which spine column a report header means, by its words."""
    h = normalise_header(header)
    if not h:
        return None
    if h.startswith("views") or (h.endswith("views") and "hours" not in h):
        return "views"  # also 'Views (Hours Viewed / Runtime)'
    if "hours" in h:
        return "hours_viewed"
    if "runtime" in h or h in {"run time", "duration"}:
        return "runtime"
    if "release" in h or "premiere" in h:
        return "release_date"
    if h in {"type", "kind", "category", "content type", "show type"}:
        return "kind_column"
    if "available" in h or "global" in h:
        return "available_globally"
    if h == "title" or h.endswith(" title") or h.startswith("title"):
        return "title_name"
    return None


def is_engagement_sheet(sheet: Sheet) -> int | None:
    """The 0-based index of the sheet's header row if it is an engagement table, else None."""
    for i, row in enumerate(sheet.rows[:50]):
        mapped = {_column_for(c) for c in row if isinstance(c, str)}
        if "title_name" in mapped and "hours_viewed" in mapped:
            return i
    return None


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _period(m1: str, y1: str | None, m2: str, y2: str) -> tuple[dt.date, dt.date]:
    start_m, end_m, end_y = MONTHS[m1], MONTHS[m2], int(y2)
    start_y = int(y1) if y1 else (end_y if start_m <= end_m else end_y - 1)
    return dt.date(start_y, start_m, 1), _month_end(end_y, end_m)


def report_period(file_name: str, heading_cells: list[str] | None = None) -> tuple[dt.date, dt.date] | None:
    """The reporting window from the sheet's heading cells, else from the file name; None if neither says."""
    for cell in heading_cells or []:
        m = _HEADING_PERIOD.search(cell.lower())
        if m:
            return _period(m.group(1), m.group(2), m.group(3), m.group(4))
    stem = Path(file_name).stem.lower()
    m = _FILE_PERIOD_YEAR_FIRST.search(stem)
    if m:
        return _period(m.group(2), m.group(1), m.group(3), m.group(1))
    m = _FILE_PERIOD_YEAR_LAST.search(stem)
    if m:
        return _period(m.group(1), m.group(3), m.group(2), m.group(3))
    return None


def _kind(sheet_name: str, headers: list[str]) -> str | None:
    for text in (normalise_header(sheet_name), " ".join(normalise_header(h) for h in headers)):
        show, film = bool(_SHOW_WORDS.search(text)), bool(_FILM_WORDS.search(text))
        if show != film:
            return "show" if show else "film"
    return None


def _runtime_minutes(values: pd.Series, origin: str, lines: np.ndarray, column: str) -> pd.Series:
    """'H:MM' (or 'H:MM:SS', an Excel time, a timedelta) → minutes; '*' (withheld) and blanks → NA."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")  # a numeric runtime column is already minutes
    blank = blank_mask(values)
    text = values.astype("string").str.strip()
    blank |= text.isin(_RUNTIME_BLANKS).fillna(False).to_numpy(dtype=bool)
    # A trailing '*' marks a footnote ('4:44*'), not a different runtime.
    text = text.str.rstrip("*† ").str.strip()
    # 'H:MM[:SS]' split with Arrow string kernels (a regex extract would loop in Python).
    pieces = text.str.split(":", n=2, expand=True).reindex(columns=[0, 1, 2])
    hours, mins, secs = (pd.to_numeric(pieces[i], errors="coerce") for i in (0, 1, 2))
    has_colon = text.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
    valid = has_colon & (mins >= 0).to_numpy() & (mins < 60).to_numpy() & (hours >= 0).to_numpy()
    valid &= (pieces[2].isna() | ((secs >= 0) & (secs < 60))).to_numpy(dtype=bool)
    minutes = (hours * 60 + mins + secs.fillna(0) / 60).where(valid)
    plain = pd.to_numeric(text.where(~has_colon), errors="coerce")  # a bare number of minutes
    out = minutes.fillna(plain).astype("float64").where(~blank)
    bad = np.flatnonzero(~blank & out.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise_at(origin, int(lines[i]), column, f"'{values.iloc[i]}' is not a runtime (H:MM)")
    return out


def _sheet_rows(path: Path, sheet: Sheet, header_index: int) -> Rows | None:
    origin = f"{path.name}, sheet '{sheet.name}'"
    header = [str(c).strip() for c in sheet.rows[header_index]]
    positions: dict[str, int] = {}
    for pos, cell in enumerate(header):
        col = _column_for(cell)
        if col is not None and col not in positions:
            positions[col] = pos
    headings = [str(c) for row in sheet.rows[:header_index] for c in row if isinstance(c, str) and c.strip()]
    period = report_period(path.name, headings)
    if period is None:
        raise DataError(
            "cannot tell the reporting period: neither the heading cells above the header "
            "(e.g. 'Hours viewed from January to June 2023') nor the file name (e.g. '2023Jan-Jun') say it",
            origin=origin,
        )
    body = sheet.rows[header_index + 1 :]
    if not body:
        return None
    width = len(header)
    raw = pd.DataFrame([r[:width] + [""] * (width - len(r)) for r in body], dtype=object)
    lines = np.arange(header_index + 2, header_index + 2 + len(raw), dtype=np.int64)
    # Keep rows with a title and at least one figure; trailing blanks and footnotes carry neither.
    value_cols = [positions[c] for c in positions if c != "title_name"]
    has_title = ~blank_mask(raw[positions["title_name"]])
    has_value = np.zeros(len(raw), dtype=bool)
    for pos in value_cols:
        has_value |= ~blank_mask(raw[pos])
    untitled = np.flatnonzero(has_value & ~has_title)
    if untitled.size:  # figures without a title cannot be counted for anything: say so, do not drop them
        raise DataError("a title is required beside the figures", origin=origin, row=int(lines[untitled[0]]),
                        column=header[positions["title_name"]])
    keep = has_title & has_value
    raw, lines = raw.loc[keep].reset_index(drop=True), lines[keep]
    if raw.empty:
        return None

    source_columns = {col: header[pos] for col, pos in positions.items()}
    frame = pd.DataFrame(
        {
            "source": path.name,
            "sheet": sheet.name,
            "row_number": lines,
            "period_start": pd.Timestamp(period[0]),
            "period_end": pd.Timestamp(period[1]),
            "title_name": raw[positions["title_name"]].astype("string").str.strip(),
            "kind": _kind(sheet.name, header),
        }
    )
    if "kind_column" in positions:
        # One sheet for everything, with a Type column ('TV', 'Film', 'Movie', 'Series'): kind per row.
        words = raw[positions["kind_column"]].astype("string").str.lower()
        show = words.str.contains(_SHOW_WORDS.pattern, regex=True).fillna(False)
        film = words.str.contains(_FILM_WORDS.pattern, regex=True).fillna(False)
        per_row = (
            pd.Series(None, index=raw.index, dtype=object)
            .mask(show & ~film, "show")
            .mask(film & ~show, "film")
        )
        frame["kind"] = per_row.where(per_row.notna(), frame["kind"]).to_numpy()
        source_columns["kind"] = source_columns.pop("kind_column")
    if "available_globally" in positions:
        frame["available_globally"] = raw[positions["available_globally"]]
    if "release_date" in positions:
        frame["release_date"] = parse_dates(
            raw[positions["release_date"]], origin, lines, source_columns["release_date"]
        )
    if "runtime" in positions:
        frame["runtime_minutes"] = _runtime_minutes(
            raw[positions["runtime"]], origin, lines, source_columns["runtime"]
        )
        source_columns["runtime_minutes"] = source_columns.pop("runtime")
    for col in ("hours_viewed", "views"):
        if col in positions:
            frame[col] = parse_numbers(raw[positions[col]], origin, lines, source_columns[col])
    rows = make_rows(TABLE, frame, origin, lines, source_columns)
    typed = coerce_rows(rows, SCHEMA[TABLE])
    typed["hours_viewed"] = typed["hours_viewed"].astype("int64")
    return make_rows(TABLE, typed, origin, lines, source_columns)


def read_report(path: str | Path, sheets: list[Sheet] | None = None) -> list[Rows]:
    """One `Rows` per data sheet of an engagement report; raises `DataError` naming sheet, row and column.

    `sheets` lets a caller that already parsed the workbook (format detection) skip a second parse.
    """
    path = Path(path)
    parts = []
    for sheet in read_workbook(path) if sheets is None else sheets:
        header_index = is_engagement_sheet(sheet)
        if header_index is None:
            continue  # notes, cover pages
        rows = _sheet_rows(path, sheet, header_index)
        if rows is not None:
            parts.append(rows)
    if not parts:
        raise DataError(
            "no sheet has a header row with 'Title' and 'Hours Viewed'; is this a Netflix engagement report?",
            origin=path.name,
        )
    return parts


def read_report_frame(path: str | Path) -> pd.DataFrame:
    """The whole report as one frame with the `engagement` table's columns and types."""
    frame = pd.concat([r.frame for r in read_report(path)], ignore_index=True)
    return frame[list(SCHEMA[TABLE].column_names)]
