"""Netflix Top 10 TSVs (top10.netflix.com) → the `top10_weekly` table.

- `all-weeks-global.tsv`: week, category, weekly_rank, show_title, season_title, weekly_hours_viewed,
  runtime (hours), weekly_views, cumulative_weeks_in_top_10 → country 'global';
- `all-weeks-countries.tsv` (and dated cuts of it): country_name, country_iso2, week, category,
  weekly_rank, show_title, season_title, cumulative_weeks_in_top_10 → country = the ISO code, or the
  name mapped through `countries.csv` when the code column is absent. Hours and views are not
  published per country and stay NULL.

`most-popular.tsv` (the all-time lists of hours and views in a title's first 91 days) has no week and
fits no spine table: `read_most_popular` returns it as a frame; ingest skips it in a folder and refuses it
named on its own.
'N/A' (Netflix's spelling of "no season") and blanks are missing values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.loaders._common import (
    blank_mask,
    make_rows,
    parse_numbers,
    raise_at,
    read_delimited,
    require_columns,
)
from limelight.spine.loaders.countries import country_codes
from limelight.spine.validate import Rows

__all__ = [
    "MOST_POPULAR_COLUMNS",
    "TOP10_COLUMNS",
    "is_most_popular",
    "is_top10",
    "read_most_popular",
    "read_top10",
]

TABLE = "top10_weekly"
_NA = ("N/A", "n/a", "NA", "-")
TOP10_COLUMNS = ("week", "category", "weekly_rank", "show_title")
MOST_POPULAR_COLUMNS = ("category", "rank", "show_title", "hours_viewed_first_91_days")
# spine column → the TSV's column, where the names differ or are the same.
_MAP = {
    "week": "week",
    "category": "category",
    "weekly_rank": "weekly_rank",
    "show_title": "show_title",
    "season_title": "season_title",
    "weekly_hours_viewed": "weekly_hours_viewed",
    "runtime_hours": "runtime",
    "weekly_views": "weekly_views",
    "cumulative_weeks_in_top_10": "cumulative_weeks_in_top_10",
}


def is_top10(columns: set[str]) -> bool:
    return set(TOP10_COLUMNS) <= columns


def is_most_popular(columns: set[str]) -> bool:
    return set(MOST_POPULAR_COLUMNS) <= columns


def _text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.where(~(blank_mask(text) | text.isin(_NA).fillna(False).to_numpy()))


def _countries(frame: pd.DataFrame, origin: str, lines: np.ndarray) -> tuple[pd.Series, str]:
    if "country_iso2" in frame.columns:
        codes = frame["country_iso2"].astype("string").str.strip().str.upper()
        column = "country_iso2"
        bad = blank_mask(codes) | ~codes.str.fullmatch(r"[A-Z]{2}").fillna(False).to_numpy()
    elif "country_name" in frame.columns:
        codes = country_codes(frame["country_name"])
        column = "country_name"
        bad = codes.isna().to_numpy()
    else:
        return pd.Series("global", index=frame.index, dtype="string"), "country"
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise_at(origin, int(lines[i]), column, f"'{frame[column].iloc[i]}' is not a known country")
    return codes, column


def read_top10(path: str | Path) -> list[Rows]:
    """Weekly Top 10 rows, global or by country, with the file's row numbers."""
    path = Path(path)
    frame = read_delimited(path, sep="\t")
    require_columns(frame, TOP10_COLUMNS, path.name)
    lines = frame.index.to_numpy()
    country, country_column = _countries(frame, path.name, lines)
    out = pd.DataFrame({"country": country.to_numpy()})
    source_columns = {"country": country_column}
    for spine, column in _MAP.items():
        if column not in frame.columns:
            continue
        source_columns[spine] = column
        if spine in ("show_title", "season_title", "category"):
            out[spine] = _text(frame[column]).to_numpy()
        elif spine == "week":
            out[spine] = frame[column].to_numpy()
        else:
            out[spine] = parse_numbers(frame[column], path.name, lines, column, blanks=_NA).to_numpy()
    return [make_rows(TABLE, out, path.name, lines, source_columns)]


def read_most_popular(path: str | Path) -> pd.DataFrame:
    """`most-popular.tsv`: category, rank, show_title, season_title, hours/views in the first 91 days, runtime."""
    path = Path(path)
    frame = read_delimited(path, sep="\t")
    require_columns(frame, MOST_POPULAR_COLUMNS, path.name)
    lines = frame.index.to_numpy()
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in ("category", "show_title", "season_title"):
            out[column] = _text(frame[column])
        else:
            out[column] = parse_numbers(frame[column], path.name, lines, column, blanks=_NA)
    for column in ("rank",):
        out[column] = out[column].astype("Int64")
    for column in ("hours_viewed_first_91_days", "views_first_91_days"):
        if column in out:
            out[column] = out[column].astype("Int64")
    if out.empty:
        raise DataError("the file has no rows", origin=path.name)
    return out.reset_index(drop=True)
