"""Netflix investor-relations workbooks (e.g. `Q3-23-Website-Financials.xlsx`) → the `subscribers` table.

The "Regional Information" sheet lists, per region (UCAN, EMEA, LATAM, APAC), a row "Paid memberships at
end of period" with one column per quarter end; three heading rows above name each column
("As of / Three Months Ended", "March 31,", 2021). Figures are in thousands (the sheet says so) and are
scaled to members. The year-end column repeats the December quarter and is dropped as a duplicate.
A `global` row is added as the sum of the four regions, which is how Netflix reports its global paid
memberships since regional reporting began (2017 onward).

Nothing is found by position: the sheet is the one holding the "Paid memberships at end of period"
label, regions are the section headings above each such row, dates come from the heading cells.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.loaders._common import MONTHS, Sheet, make_rows, normalise_header, read_workbook
from limelight.spine.validate import Rows

__all__ = ["is_financials_sheet", "paid_memberships_near", "read_financials", "read_paid_memberships"]

TABLE = "subscribers"
_LABEL = "paid memberships at end of period"
_REGION_CODES = {
    "united states and canada": "UCAN",
    "us and canada": "UCAN",
    "europe middle east and africa": "EMEA",
    "latin america": "LATAM",
    "asia pacific": "APAC",
}
_MONTH_DAY = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?\s*(\d{1,2})")
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d|21\d\d)\b")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def is_financials_sheet(sheet: Sheet) -> bool:
    return any(normalise_header(c) == _LABEL for row in sheet.rows for c in row[:4] if isinstance(c, str))


def _region(sheet: Sheet, row_index: int) -> str | None:
    """The section heading above a figures row: the nearest row whose first cell holds text."""
    for i in range(row_index - 1, -1, -1):
        first = sheet.rows[i][0] if sheet.rows[i] else ""
        if isinstance(first, str) and first.strip():
            text = first.strip()
            code = re.search(r"\(([A-Z]{2,6})\)", text)
            if code:
                return code.group(1)
            return _REGION_CODES.get(normalise_header(text), text)
    return None


def _column_dates(sheet: Sheet, first_label_row: int) -> dict[int, dt.date]:
    """Each figures column's period end, read from the heading cells above the first region."""
    width = max(len(r) for r in sheet.rows[:first_label_row] or [[]])
    dates: dict[int, dt.date] = {}
    for col in range(width):
        month_day: tuple[int, int] | None = None
        year: int | None = None
        year_ended = False
        for row in sheet.rows[:first_label_row]:
            cell = row[col] if col < len(row) else ""
            if isinstance(cell, int | float) and not isinstance(cell, bool) and 1950 <= cell <= 2199:
                year = int(cell)
            elif isinstance(cell, dt.date):
                month_day, year = (cell.month, cell.day), cell.year
            elif isinstance(cell, str) and cell.strip():
                text = cell.lower()
                year_ended |= "year ended" in text
                m = _MONTH_DAY.search(text)
                if m:
                    month_day = (MONTHS[m.group(1)], int(m.group(2)))
                y = _YEAR.search(text)
                if y:
                    year = int(y.group(1))
        if month_day and year and not year_ended:
            dates[col] = dt.date(year, *month_day)
    return dates


def _sheet_frame(path: Path, sheet: Sheet) -> tuple[pd.DataFrame, np.ndarray]:
    origin = f"{path.name}, sheet '{sheet.name}'"
    label_rows = [
        i
        for i, row in enumerate(sheet.rows)
        if any(isinstance(c, str) and normalise_header(c) == _LABEL for c in row[:4])
    ]
    dates = _column_dates(sheet, label_rows[0])
    if not dates:
        raise DataError("no quarter-end dates found in the heading rows above the figures", origin=origin)
    heading = " ".join(str(c) for row in sheet.rows[: label_rows[0]] for c in row).lower()
    scale = 1000 if "in thousands" in heading else 1_000_000 if "in millions" in heading else 1
    records: list[tuple[str, dt.date, int]] = []
    lines: list[int] = []
    for i in label_rows:
        region = _region(sheet, i)
        if region is None:
            raise DataError("no region heading above the paid memberships", origin=origin, row=i + 1)
        row = sheet.rows[i]
        for col, as_of in dates.items():
            value = row[col] if col < len(row) else ""
            if value == "" or value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise DataError(
                    f"'{value}' is not a number",
                    origin=origin,
                    row=i + 1,
                    column=f"{_column_letter(col)} ({as_of.isoformat()})",
                )
            records.append((region, as_of, round(float(value) * scale)))
            lines.append(i + 1)
    frame = pd.DataFrame(records, columns=["region", "as_of", "paid_memberships"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["source"] = path.name
    keep = ~frame.duplicated(["region", "as_of"]).to_numpy()
    return frame.loc[keep].reset_index(drop=True), np.asarray(lines, dtype=np.int64)[keep]


def read_financials(path: str | Path, sheets: list[Sheet] | None = None) -> list[Rows]:
    """`subscribers` rows (regional and global paid memberships by quarter end) from an IR workbook."""
    path = Path(path)
    sheets = [s for s in (read_workbook(path) if sheets is None else sheets) if is_financials_sheet(s)]
    if not sheets:
        raise DataError(
            "no sheet has a 'Paid memberships at end of period' row; is this a Netflix financials workbook?",
            origin=path.name,
        )
    parts = []
    for sheet in sheets:
        frame, lines = _sheet_frame(path, sheet)
        regional = frame[frame["region"] != "global"]
        by_date = regional.groupby("as_of")
        complete = by_date["region"].nunique() == 4  # only dates where all four regions report
        total = by_date["paid_memberships"].sum()[complete].reset_index()
        if not total.empty and "global" not in set(frame["region"]):
            total["region"], total["source"] = "global", path.name
            frame = pd.concat([frame, total[frame.columns]], ignore_index=True)
            lines = np.concatenate([lines, np.zeros(len(total), dtype=np.int64)])
        origin = f"{path.name}, sheet '{sheet.name}'"
        parts.append(
            make_rows(TABLE, frame, origin, lines, {"paid_memberships": "Paid memberships at end of period"})
        )
    return parts


def read_paid_memberships(path: str | Path) -> pd.DataFrame:
    """Paid memberships by region and quarter end: columns region, as_of (datetime), paid_memberships, source."""
    frame = pd.concat([r.frame for r in read_financials(path)], ignore_index=True)
    frame["paid_memberships"] = frame["paid_memberships"].astype("int64")
    return frame.sort_values(["region", "as_of"], ignore_index=True)


def paid_memberships_near(frame: pd.DataFrame, region: str, on: dt.date | str) -> tuple[dt.date, int]:
    """The paid memberships at the quarter end nearest `on` (e.g. UCAN at July 1 → June 30), and that date."""
    rows = frame[frame["region"] == region]
    if rows.empty:
        known = ", ".join(sorted(frame["region"].unique()))
        raise DataError(f"region must be one of {known}, got '{region}'")
    target = pd.Timestamp(on)
    distance = (pd.to_datetime(rows["as_of"]) - target).abs()
    best = rows.iloc[int(np.argmin(distance.to_numpy()))]
    return pd.Timestamp(best["as_of"]).date(), int(best["paid_memberships"])
