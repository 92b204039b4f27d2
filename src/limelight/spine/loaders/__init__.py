"""Loaders for real public formats: each turns a file into `Rows` for the spine, naming file/row/column on error.

`load_paths` detects the format of each file or folder:

- a folder with `ratings.csv`, `u.data` or `ratings.dat` → MovieLens (CSV, ml-100k, ml-1m layouts);
- a workbook with a sheet holding 'Title' and 'Hours Viewed' → a Netflix engagement report;
- a workbook with a 'Paid memberships at end of period' row → Netflix investor financials;
- a TSV with week/category/weekly_rank/show_title → Netflix Top 10 (global or by country);
  `most-popular.tsv` fits no table: skipped in a folder, refused when named (`read_most_popular` reads it);
- a CSV with show_id/type/title/listed_in → the Netflix titles catalog;
- a lone MovieLens `ratings.csv`/`tags.csv`/`movies.csv` → that table only;
- any other CSV/TSV/Parquet → the spine table whose columns it has (identity mapping), or the table
  and mapping given (`table=`, `mapping=`, `constants=`; the CLI's `--table`, `--map`, `--set`).

Any other folder is searched, with its subfolders, for files of these formats (files of no known
format are skipped and logged); a file given by name that fits nothing is refused with the columns
that were expected.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from limelight.errors import DataError, NotFoundError
from limelight.spine.loaders._common import read_workbook
from limelight.spine.loaders.datasets import DATASETS, dataset_path, fetch_dataset
from limelight.spine.loaders.movielens import is_movielens_folder, read_movielens, read_movielens_file
from limelight.spine.loaders.netflix_engagement import is_engagement_sheet, read_report, read_report_frame
from limelight.spine.loaders.netflix_financials import (
    is_financials_sheet,
    paid_memberships_near,
    read_financials,
    read_paid_memberships,
)
from limelight.spine.loaders.netflix_titles import is_netflix_titles, read_netflix_titles
from limelight.spine.loaders.netflix_top10 import is_most_popular, is_top10, read_most_popular, read_top10
from limelight.spine.loaders.tabular import TABULAR_SUFFIXES, guess_table, read_tabular
from limelight.spine.validate import Rows

__all__ = [
    "DATASETS",
    "dataset_path",
    "detect_format",
    "fetch_dataset",
    "load_path",
    "load_paths",
    "paid_memberships_near",
    "read_financials",
    "read_most_popular",
    "read_movielens",
    "read_movielens_file",
    "read_netflix_titles",
    "read_paid_memberships",
    "read_report",
    "read_report_frame",
    "read_tabular",
    "read_top10",
]

log = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_MOVIELENS_HEADERS = ({"userId", "movieId", "rating", "timestamp"}, {"userId", "movieId", "tag", "timestamp"},
                      {"movieId", "title", "genres"})  # fmt: skip


def _header(path: Path) -> set[str]:
    """The column names on a delimited file's first line (cheap: reads one line)."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        first = handle.readline()
    sep = "\t" if first.count("\t") > first.count(",") else ","
    cells = next(csv.reader([first], delimiter=sep), [])
    return {c.strip().lstrip("\ufeff") for c in cells}


def detect_format(path: Path) -> str | None:
    """A short name for what `path` holds ('movielens', 'top10', …), or None when nothing fits."""
    if path.is_dir():
        return "movielens" if is_movielens_folder(path) else "folder"
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in (".parquet", ".pq"):
        return "tabular"
    if suffix not in TABULAR_SUFFIXES:
        return None
    columns = _header(path)
    if is_top10(columns):
        return "top10"
    if is_most_popular(columns):
        return "most_popular"
    if is_netflix_titles(columns):
        return "netflix_titles"
    if any(h <= columns for h in _MOVIELENS_HEADERS):
        return "movielens_file"
    if path.name.lower() in ("ratings.csv", "tags.csv", "movies.csv") and {"userId", "movieId"} & columns:
        return "movielens_file"  # a MovieLens file with a column missing: its reader names the column
    return "tabular" if guess_table(columns) else None


def _workbook(path: Path, in_folder: bool) -> list[Rows]:
    sheets = read_workbook(path)
    if any(is_engagement_sheet(s) is not None for s in sheets):
        return read_report(path, sheets)
    if any(is_financials_sheet(s) for s in sheets):
        return read_financials(path, sheets)
    if in_folder:
        log.warning("%s: no known workbook layout; skipped", path.name)
        return []
    raise DataError(
        "no sheet looks like a Netflix engagement report (a header row with 'Title' and 'Hours Viewed') "
        "nor Netflix investor financials (a 'Paid memberships at end of period' row)",
        origin=path.name,
    )


def load_path(
    path: Path,
    *,
    table: str | None = None,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
    in_folder: bool = False,
) -> list[Rows]:
    """Rows from one file or folder (see the module docs for how the format is chosen)."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path} does not exist")
    if table is not None or mapping or constants:
        if path.is_dir():
            raise DataError("--table/--map/--set apply to files, not folders", origin=str(path))
        return read_tabular(path, table, mapping, constants)
    kind = detect_format(path)
    if kind == "movielens":
        return read_movielens(path)
    if kind == "folder":
        batch: list[Rows] = []
        for child in sorted(path.iterdir()):
            if child.name.startswith((".", "_")):
                continue
            batch.extend(load_path(child, in_folder=True))  # subfolders too (e.g. netflix/engagement)
        if not batch and not in_folder:
            raise DataError("the folder holds no file of a known format", origin=str(path))
        return batch
    if kind == "workbook":
        return _workbook(path, in_folder)
    if kind == "top10":
        return read_top10(path)
    if kind == "most_popular":
        if not in_folder:  # named on its own, a skip would be an ingest that did nothing and said ok
            raise DataError(
                "Netflix's all-time most-popular lists have no week and fit no spine table, so there is nothing to "
                "ingest (read it in Python with limelight.spine.loaders.read_most_popular)", origin=path.name,
            )
        log.warning("%s: Netflix's all-time most-popular lists fit no spine table; skipped", path.name)
        return []
    if kind == "netflix_titles":
        return read_netflix_titles(path)
    if kind == "movielens_file":
        return read_movielens_file(path)
    if kind == "tabular" or not in_folder:
        return read_tabular(path)  # refuses, naming the columns it expected, when nothing fits
    log.warning("%s: no known format; skipped", path.name)
    return []


def load_paths(
    paths: Sequence[Path],
    *,
    table: str | None = None,
    mapping: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> list[Rows]:
    """Rows from every path, ready for `Store.ingest` (which validates all of them before writing any)."""
    batch: list[Rows] = []
    for path in paths:
        batch.extend(load_path(Path(path), table=table, mapping=mapping, constants=constants))
    return batch
