"""Where valuation's inputs come from: engagement reports (files or the store), Top 10, catalogs.

Parsing an xlsx report takes about a second; `load_reports` keeps a Parquet copy per report in the cache
folder, keyed by the file's path, size and modification time, so repeated single forecasts stay fast.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from limelight.errors import DataError, NotFoundError
from limelight.settings import get_settings, shared_data_dir
from limelight.valuation.features import ENGAGEMENT_COLUMNS, load_catalog, load_top10

__all__ = [
    "default_catalog",
    "default_report_paths",
    "default_top10",
    "default_value_per_hour",
    "load_reports",
    "reports_from_store",
]

logger = logging.getLogger(__name__)


def default_report_paths() -> list[Path]:
    folder = shared_data_dir() / "netflix" / "engagement"
    paths = sorted(folder.glob("*.xlsx"))
    if not paths:
        raise NotFoundError(f"no engagement reports found in {folder}; pass --history REPORT.xlsx")
    return paths


def default_top10() -> pd.DataFrame | None:
    path = shared_data_dir() / "netflix" / "top10" / "all-weeks-global.tsv"
    return load_top10(path) if path.exists() else None


def default_catalog() -> pd.DataFrame | None:
    """Netflix's 2021 catalog: every title on the service then, compiled before any report window.

    Not the TMDB-enriched list of Netflix films (`jesse990_netflix_movies_tmdb.csv`): it was compiled in
    late 2025 from films still listed and popular then, so being on it says a film did well — what the
    forecast is for. Read as a feature, it lifted the 2024H2 back-test's Spearman from 0.69 to 0.75
    through the back door (docs/benchmarks/valuation.md, "Catalog leak"). A user may still pass such a
    catalog (`load_catalog`) where its coverage does not depend on the outcome.
    """
    path = shared_data_dir() / "netflix" / "titles" / "netflix_titles.csv"
    return load_catalog([path]) if path.exists() else None


def _cache_path(path: Path, cache_dir: Path) -> Path:
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / f"{path.stem}-{key}.parquet"


def load_reports(paths: Sequence[Path], *, cache: bool = True, cache_dir: Path | None = None) -> pd.DataFrame:
    """Engagement rows from report files (via the spine's loader), one frame for all of them."""
    from limelight.spine.loaders.netflix_engagement import read_report_frame

    folder = cache_dir or (get_settings().cache_dir / "valuation")
    frames = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise NotFoundError(f"engagement report {path} does not exist")
        cached = _cache_path(path, folder) if cache else None
        if cached is not None and cached.exists():
            frames.append(pd.read_parquet(cached))
            continue
        frame = read_report_frame(path)
        frame = frame.loc[:, [c for c in frame.columns if c in ENGAGEMENT_COLUMNS]]
        if cached is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                frame.to_parquet(cached, index=False)
            except OSError as exc:  # a read-only cache only costs time
                logger.warning("could not cache %s: %s", path.name, exc)
        frames.append(frame)
    if not frames:
        raise DataError("no engagement report given")
    return pd.concat(frames, ignore_index=True)


def reports_from_store(db: Path) -> pd.DataFrame:
    """The store's `engagement` table (what `limelight ingest` of the engagement reports put there)."""
    from limelight.spine.store import Store

    if not Path(db).exists():
        raise NotFoundError(f"store {db} does not exist; load engagement reports or pass --history")
    store = Store(db, read_only=True)
    try:
        if not store.has_table("engagement") or store.count("engagement") == 0:
            raise NotFoundError(
                f"store {db} has no engagement rows; load engagement reports or pass --history"
            )
        frame = store.query("SELECT * FROM engagement")
    finally:
        store.close()
    return frame


def default_value_per_hour(reports: pd.DataFrame, release_date: object = None) -> tuple[Decimal, str]:
    """Average revenue per hour viewed for the latest year with both half-year reports, and its source.

    With `release_date`, only years that ended before the candidate's window began: a title released in
    2024H1 is not valued with 2024's revenue and hours, which were not known when it was bought.
    """
    from limelight.valuation.decisions import value_per_hour_from_financials

    path = shared_data_dir() / "netflix" / "financials" / "netflix_revenue_by_region_2018_2024.csv"
    if not path.exists():
        raise NotFoundError("no revenue table found for a default value per hour; pass --value-per-hour")
    ends = pd.to_datetime(reports["period_end"])
    if release_date is not None:
        from limelight.valuation.features import window_of

        reports = reports.loc[ends < window_of(pd.Timestamp(str(release_date)))[0]]
        ends = pd.to_datetime(reports["period_end"])
    per_year = reports.assign(_year=ends.dt.year).groupby("_year")["period_end"].nunique()
    full = sorted(int(str(y)) for y, n in per_year.items() if n >= 2)
    if not full:
        before = "" if release_date is None else f" before the candidate's window ({release_date})"
        raise NotFoundError(
            f"no year with both half-year reports{before} for a default value per hour; pass --value-per-hour"
        )
    year = full[-1]
    value = value_per_hour_from_financials(path, reports, year)
    return value, f"Netflix {year} revenue ÷ hours in its {year} engagement reports ({path.name})"
