"""As-of features for a title's first reporting window, from what is known before it is released.

Two kinds of input:

* **the title itself** — kind, runtime, planned release date and the end of the window it will be
  measured in (so the number of days it has), global availability, and what its name says (franchise,
  season number, limited series, native-language title → language);
* **history as of the release date** — only engagement reports whose window ended *before* the release
  date, and only Top 10 weeks that ended before it: the previous season's hours in its own first window,
  the franchise's best hours, the franchise's best Top 10 week. Catalog metadata (genres, country, cast,
  director) is static and joined by title where known.

`first_window_titles` turns engagement reports into training examples: each title measured in the report
whose window contains its release date. `FeatureBuilder.transform` gives the same columns for any frame of
titles, so training rows and candidates go through one code path and one as-of rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError, LimelightError, require_fields
from limelight.talent.views import MAX_RUNTIME_MINUTES, MIN_RUNTIME_MINUTES
from limelight.valuation._titles import franchise_key, linked_franchise, parse_titles

__all__ = [
    "FEATURE_COLUMNS",
    "GENRES",
    "LANGUAGES",
    "CandidateRows",
    "FeatureBuilder",
    "catalog_lookup",
    "first_window_titles",
    "load_catalog",
    "load_top10",
    "normalize_candidates",
    "read_candidates",
    "window_of",
]

logger = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = (
    "en", "ko", "ja", "zh", "th", "ar", "he", "ru", "el", "hi", "ta", "te", "in_other", "vi",
    "pt", "es", "fr", "de", "it", "tr", "pl", "nl", "nordic", "id", "latin_other",
)  # fmt: skip

# Coarse genres; catalog labels are mapped onto these by substring.
GENRES: dict[str, tuple[str, ...]] = {
    "documentary": ("documentar", "docuseries"),
    "comedy": ("comed",),
    "standup": ("stand-up", "stand up"),
    "drama": ("drama",),
    "crime": ("crime",),
    "thriller": ("thriller", "mysteries", "mystery"),
    "romance": ("romance", "romantic"),
    "action": ("action", "adventure"),
    "horror": ("horror",),
    "scifi": ("sci-fi", "science fiction", "fantasy"),
    "kids": ("kids", "children", "family", "animation", "anime"),
    "reality": ("reality",),
}

#: what a candidate may say, for the CLI and the API alike
EARLIEST_RELEASE, LATEST_RELEASE = pd.Timestamp("1990-01-01"), pd.Timestamp("2100-12-31")
# The runtime range is talent's (MIN/MAX_RUNTIME_MINUTES, imported above): views = hours / runtime, and a
# runtime of seconds gave tens of billions of views.
#: the longest first window the reports measure: a half-year (184 days, July to December)
MAX_WINDOW_DAYS = 184

ENGAGEMENT_COLUMNS = (
    "source", "period_start", "period_end", "title_name", "kind", "available_globally",
    "release_date", "runtime_minutes", "hours_viewed", "views",
)  # fmt: skip

FEATURE_COLUMNS: tuple[str, ...] = (
    "is_show",
    "runtime_minutes",
    "days_in_window",
    "release_month",
    "release_weekday",
    "available_globally",
    "season_number",
    "is_limited",
    "has_installment",
    "has_subtitle",
    "title_words",
    "language",
    "prev_season_hours",
    "prev_season_views",
    "prev_season_days",
    "prev_season_latest_hours",
    "franchise_max_hours",
    "franchise_first_window_max_hours",
    "franchise_titles",
    "days_since_franchise_release",
    "top10_max_weekly_hours",
    "top10_weeks",
    *(f"genre_{g}" for g in GENRES),
)

CATEGORICAL_FEATURES: tuple[str, ...] = ("language",)


def window_of(release_date: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The half-year reporting window (Netflix's cadence) that contains a release date."""
    year = release_date.year
    if release_date.month <= 6:
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 6, 30)
    return pd.Timestamp(year, 7, 1), pd.Timestamp(year, 12, 31)


def _check_reports(reports: pd.DataFrame) -> pd.DataFrame:
    require_fields(reports.columns, ENGAGEMENT_COLUMNS, "engagement frame", error=DataError)
    frame = reports.loc[:, list(ENGAGEMENT_COLUMNS)].copy()
    for col in ("period_start", "period_end", "release_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["hours_viewed"] = frame["hours_viewed"].astype("float64")
    frame["views"] = pd.to_numeric(frame["views"], errors="coerce").astype("float64")
    frame["runtime_minutes"] = pd.to_numeric(frame["runtime_minutes"], errors="coerce").astype("float64")
    glob = frame["available_globally"].astype("object")
    mapping = {v: _as_bool(v) for v in glob.drop_duplicates()}
    frame["available_globally"] = glob.map(mapping).astype("float64")
    kind = frame["kind"].astype("object")
    frame["kind"] = [k if isinstance(k, str) else None for k in kind]
    frame["title_name"] = frame["title_name"].astype(str)
    frame["source"] = frame["source"].astype(str)
    return frame


def _infer_kind(names: pd.Series) -> pd.Series:
    """Kind from the name alone, for reports without a film/show split: installments are shows."""
    parts = parse_titles(names)
    kinds: list[str | None] = ["show" if flag == 1 else None for flag in parts["has_installment"]]
    return pd.Series(kinds, index=names.index, dtype="object")


def first_window_titles(reports: pd.DataFrame) -> pd.DataFrame:
    """Each title measured in the report whose window contains its release date (training examples).

    Reports without a film/show split or runtime (Netflix's first, 2023 Jan–Jun) borrow the title's kind and
    runtime from another report in `reports` that lists it — static facts about the title, not outcomes —
    else the kind is read from the name (installments are shows) and the runtime stays unknown.
    """
    frame = _check_reports(reports)
    in_window = frame["release_date"].between(frame["period_start"], frame["period_end"])
    first = frame.loc[in_window].copy()
    static = (
        frame.dropna(subset=["kind"])
        .sort_values("period_end")
        .drop_duplicates("title_name", keep="first")
        .set_index("title_name")
    )
    kind_fill = first["title_name"].map(static["kind"])
    runtime_fill = first["title_name"].map(static["runtime_minutes"])
    first["kind"] = first["kind"].where(first["kind"].notna(), kind_fill)
    first["kind"] = first["kind"].where(first["kind"].notna(), _infer_kind(first["title_name"]))
    first["runtime_minutes"] = first["runtime_minutes"].where(first["runtime_minutes"].notna(), runtime_fill)
    first["window_end"] = first["period_end"]
    return first.reset_index(drop=True)


def read_candidates(path: Path, *, option: str = "--candidates") -> pd.DataFrame:
    """A candidates CSV/TSV (or Parquet) through the spine's reader: index = the row a person sees.

    A missing file, a folder, an empty, header-only, ragged or non-UTF-8 file is refused in one
    sentence; `normalize_candidates` then names the file's row and column of any bad cell.
    """
    from limelight.spine.loaders.tabular import read_user_table

    path = Path(path)
    frame = read_user_table(path, option=option, what="candidates")
    frame.attrs["origin"] = path.name
    return frame


def _shown(value: object) -> str:
    """A cell as a message shows it: text quoted, numbers and dates plain (never 'np.float64(inf)')."""
    return repr(value) if isinstance(value, str) else str(value)


class CandidateRows:
    """Names a bad candidate cell: the file's row and column when read from a file, else 'row N'."""

    def __init__(self, frame: pd.DataFrame, origin: str | None = None) -> None:
        self.origin = origin if origin is not None else frame.attrs.get("origin")
        self.labels = frame.index

    def error(self, position: int | None, column: str, message: str) -> LimelightError:
        """The error for the candidate at `position` (0-based; None: the file as a whole)."""
        if self.origin is None:  # a frame from no file (API, CLI options): its position, when there are several
            where = "" if position is None or len(self.labels) == 1 else f" in row {position + 1}"
            return InputError(f"candidate {message}{where}")
        row = 1 if position is None else int(self.labels[position])
        return DataError(message, origin=self.origin, row=row, column=column)


def normalize_candidates(
    candidates: pd.DataFrame, *, window_end: pd.Timestamp | None = None, origin: str | None = None
) -> pd.DataFrame:
    """Validate a candidate frame (title, kind, release_date, runtime_minutes, available_globally, ...).

    `window_end` is the last day of the window the candidates are measured in; when omitted each
    candidate gets the half-year window containing its release date. `origin` (default: the frame's
    `attrs["origin"]`, set by `read_candidates`) makes errors name the file, its row and column.
    """
    origin = origin if origin is not None else candidates.attrs.get("origin")
    rows = CandidateRows(candidates, origin)
    frame = candidates.copy()
    if "title_name" not in frame.columns and "title" in frame.columns:
        frame = frame.rename(columns={"title": "title_name"})
    for col in ("title_name", "kind", "release_date"):
        if col not in frame.columns:
            name = col if col != "title_name" else "title"
            if origin is None:
                raise InputError(f"candidates must have a '{name}' column")
            raise DataError(
                f"candidates must have a '{name}' column (found {', '.join(map(str, candidates.columns))})",
                origin=origin,
                column=name,
            )
    if frame.empty:
        raise rows.error(None, "title", "list is empty: give at least one candidate")
    title_column = "title" if "title" in candidates.columns else "title_name"
    titles = frame["title_name"].astype("string").str.strip().fillna("")
    empty = np.flatnonzero(titles.eq("").to_numpy(dtype=bool))
    if empty.size:
        raise rows.error(int(empty[0]), title_column, "title must not be empty")
    frame["title_name"] = titles.astype(str)
    repeated = np.flatnonzero(titles.duplicated().to_numpy(dtype=bool))
    if repeated.size:  # fees, comparables and scores are looked up by title: a second row would take the first's
        i = int(repeated[0])
        raise rows.error(i, title_column, f"title '{titles.iloc[i]}' is listed twice: give each candidate once")
    kind = frame["kind"].astype("string").str.strip().str.lower()
    bad = np.flatnonzero(~kind.isin(["film", "show"]).fillna(False).to_numpy(dtype=bool))
    if bad.size:
        i = int(bad[0])
        raise rows.error(i, "kind", f"kind must be 'film' or 'show', got {_shown(frame['kind'].iloc[i])}")
    frame["kind"] = kind.astype(object)
    if "language" in frame.columns:
        # one of the model's language groups, any case; an unknown code was read as "latin_other" in place
        # of the language the title itself suggests ("KO" and "zzzz" forecast alike, "ko" otherwise)
        named = (frame["language"].notna() & frame["language"].astype("string").str.strip().ne("").fillna(False)).to_numpy(
            dtype=bool
        )
        language = frame["language"].astype("string").str.strip().str.lower()
        bad = np.flatnonzero(named & ~language.isin(LANGUAGES).fillna(False).to_numpy(dtype=bool))
        if bad.size:
            i = int(bad[0])
            raise rows.error(i, "language", f"language must be one of {', '.join(LANGUAGES)}, "
                                            f"got {_shown(frame['language'].iloc[i])}")
        frame["language"] = language.where(named, None).astype(object)
    dates = pd.to_datetime(frame["release_date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise rows.error(
            i,
            "release_date",
            f"release_date must be a date like 2024-09-26, got {_shown(frame['release_date'].iloc[i])}",
        )
    bad = np.flatnonzero(((dates < EARLIEST_RELEASE) | (dates > LATEST_RELEASE)).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise rows.error(
            i, "release_date",
            f"release_date must be between {EARLIEST_RELEASE.date()} and {LATEST_RELEASE.date()}, "
            f"got {_shown(frame['release_date'].iloc[i])}",
        )
    frame["release_date"] = dates
    raw = frame.get("runtime_minutes", pd.Series(np.nan, index=frame.index))
    given = raw.notna().to_numpy() & (raw.astype("string").str.strip() != "").fillna(False).to_numpy(
        dtype=bool
    )
    runtime = pd.to_numeric(raw.where(given), errors="coerce").astype("float64")
    values = runtime.to_numpy()
    bad = np.flatnonzero(given & np.isnan(values))
    if bad.size:
        i = int(bad[0])
        raise rows.error(
            i, "runtime_minutes", f"runtime_minutes must be a number of minutes, got {_shown(raw.iloc[i])}"
        )
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(
            given & (~np.isfinite(values) | (values < MIN_RUNTIME_MINUTES) | (values > MAX_RUNTIME_MINUTES))
        )
    if bad.size:
        i = int(bad[0])
        raise rows.error(
            i, "runtime_minutes",
            f"runtime_minutes must be between {MIN_RUNTIME_MINUTES} and {MAX_RUNTIME_MINUTES:,} minutes, "
            f"got {_shown(raw.iloc[i])}",
        )
    frame["runtime_minutes"] = runtime
    glob = frame.get("available_globally", pd.Series(np.nan, index=frame.index))
    flags = []
    for i, value in enumerate(glob):
        try:
            flags.append(_as_bool(value))
        except InputError:
            raise rows.error(
                i,
                "available_globally",
                f"available_globally must be yes/no or true/false, got {_shown(value)}",
            ) from None
    frame["available_globally"] = pd.Series(flags, index=frame.index, dtype="float64")
    if window_end is not None:
        late = np.flatnonzero((frame["release_date"] > window_end).to_numpy())
        if late.size:
            i = int(late[0])
            raise rows.error(
                i,
                "release_date",
                f"release_date must fall before the window end {window_end.date()}, "
                f"got {_shown(candidates['release_date'].iloc[i])} for '{frame['title_name'].iloc[i]}'",
            )
        days = (pd.Timestamp(window_end) - frame["release_date"]).dt.days + 1
        long = np.flatnonzero((days > MAX_WINDOW_DAYS).to_numpy())
        if long.size:  # the model learnt first windows of at most a half-year: further out it extrapolates blind
            i = int(long[0])
            raise rows.error(
                i, "release_date",
                f"the window from release to {pd.Timestamp(window_end).date()} must be at most {MAX_WINDOW_DAYS} "
                f"days (a half-year report), got {int(days.iloc[i])} for '{frame['title_name'].iloc[i]}'",
            )
        frame["window_end"] = pd.Timestamp(window_end)
    else:
        frame["window_end"] = frame["release_date"].map(lambda d: window_of(d)[1])
    return frame.reset_index(drop=True)


def _as_bool(value: object) -> float:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "y", "t"}:
        return 1.0
    if text in {"no", "false", "0", "n", "f"}:
        return 0.0
    if text in {"", "nan", "none", "<na>"}:
        return np.nan
    raise InputError(f"available_globally must be yes/no or true/false, got {_shown(value)}")


def load_top10(path: Path) -> pd.DataFrame:
    """Netflix's weekly global Top 10 (week, category, show_title, weekly_hours_viewed) keyed by franchise."""
    try:
        frame = pd.read_csv(path, sep="\t", usecols=["week", "show_title", "weekly_hours_viewed"])
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the Top 10 file: {exc}", origin=str(path)) from None
    frame["week"] = pd.to_datetime(frame["week"])
    frame["franchise"] = frame["show_title"].astype(str).map(franchise_key)
    return frame[["week", "franchise", "weekly_hours_viewed"]]


def load_catalog(paths: Iterable[Path]) -> pd.DataFrame:
    """Static title metadata (genres, country, cast, director) keyed by normalised title.

    Reads Netflix's 2021 catalog (`netflix_titles.csv`: listed_in, country, cast, director) and TMDB-enriched
    Netflix films (`genres`, `origin_country`); popularity and vote counts are ignored — they are measured
    after release. Titles are matched on the English title and on the franchise.
    """
    frames = []
    for path in paths:
        try:
            raw = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the catalog: {exc}", origin=str(path)) from None
        if "listed_in" in raw.columns:
            frame = pd.DataFrame(
                {
                    "title_name": raw["title"].astype(str),
                    "genres": raw["listed_in"].fillna(""),
                    "country": raw.get("country", pd.Series("", index=raw.index)).fillna(""),
                    "cast": raw.get("cast", pd.Series("", index=raw.index)).fillna(""),
                    "director": raw.get("director", pd.Series("", index=raw.index)).fillna(""),
                    "release_year": pd.to_numeric(raw["release_year"], errors="coerce")
                    if "release_year" in raw.columns else np.nan,
                }
            )
        elif "genres" in raw.columns and "title" in raw.columns:
            frame = pd.DataFrame(
                {
                    "title_name": raw["title"].astype(str),
                    "genres": raw["genres"].fillna("").astype(str),
                    "country": raw.get("origin_country", pd.Series("", index=raw.index))
                    .fillna("")
                    .astype(str),
                    "cast": "",
                    "director": "",
                    "release_year": pd.to_datetime(raw["release_date"], errors="coerce").dt.year
                    if "release_date" in raw.columns else np.nan,
                }
            )
        else:
            raise DataError("catalog must have 'title' and 'listed_in' or 'genres' columns", origin=str(path))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["title_key", "franchise", "genres", "country", "cast", "director", "release_year"])
    catalog = pd.concat(frames, ignore_index=True)
    parts = parse_titles(catalog["title_name"])
    catalog["title_key"] = parts["title_key"]
    catalog["franchise"] = parts["franchise"]
    return catalog.drop_duplicates("title_key").drop(columns=["title_name"]).reset_index(drop=True)


# A film in a catalog is the candidate film only if released within this many years of it: "Incoming"
# (2024) is not the catalog's "Incoming" of 2018, and must not take its genres.
CATALOG_FILM_YEARS = 2


def catalog_lookup(catalog: pd.DataFrame, parts: pd.DataFrame, kind: pd.Series, release: pd.Series) -> pd.DataFrame:
    """Catalog genres, cast and director per title, matched on its English title (`parts`: `parse_titles`).
    A film matches only where the catalog gives no year or one within `CATALOG_FILM_YEARS` of its release."""
    cat = catalog.set_index("title_key")
    out = pd.DataFrame(index=parts.index)
    for col in ("genres", "cast", "director"):
        out[col] = parts["title_key"].map(cat[col]) if col in cat.columns else np.nan
    if "release_year" in cat.columns:
        year = parts["title_key"].map(cat["release_year"]).astype("float64")
        gap = (pd.to_datetime(release).dt.year.astype("float64") - year).abs()
        other = kind.reset_index(drop=True).set_axis(parts.index).eq("film") & (gap > CATALOG_FILM_YEARS)
        out.loc[other.to_numpy()] = np.nan
    return out


def _genre_flags(genres: pd.Series) -> pd.DataFrame:
    lowered = genres.fillna("").astype(str).str.lower()
    out = {}
    for name, needles in GENRES.items():
        hit = np.zeros(len(lowered), dtype=bool)
        for needle in needles:
            hit |= lowered.str.contains(needle, regex=False).to_numpy()
        out[f"genre_{name}"] = hit.astype("float64")
    return pd.DataFrame(out, index=genres.index)


@dataclass
class FeatureBuilder:
    """Builds model features for titles as of their release dates from a history of engagement reports.

    `reports` are engagement rows (any number of reports); `top10` is `load_top10`'s frame; `catalog` is
    `load_catalog`'s frame. Only report rows with `period_end < release_date` and Top 10 weeks ending before
    the release date are used for a title, so a report published later cannot change its features.
    """

    reports: pd.DataFrame
    top10: pd.DataFrame | None = None
    catalog: pd.DataFrame | None = None
    _history: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        history = _check_reports(self.reports)
        parts = parse_titles(history["title_name"])
        history = pd.concat([history, parts[["franchise", "season_number", "title_key", "language"]]], axis=1)
        history["first_window"] = history["release_date"].between(
            history["period_start"], history["period_end"]
        )
        history["days_in_window"] = (history["period_end"] - history["release_date"]).dt.days + 1
        self._history = history

    @property
    def history(self) -> pd.DataFrame:
        return self._history

    def transform(self, titles: pd.DataFrame) -> pd.DataFrame:
        """Feature frame (FEATURE_COLUMNS, same index) for titles with title_name, kind, release_date, window_end."""
        titles = titles.reset_index(drop=True)
        parts = parse_titles(titles["title_name"])
        release = pd.to_datetime(titles["release_date"])
        window_end = pd.to_datetime(titles["window_end"])
        days = (window_end - release).dt.days + 1
        if (days <= 0).any():
            raise InputError("release_date must fall on or before the end of its measurement window")
        out = pd.DataFrame(index=titles.index)
        out["is_show"] = titles["kind"].map({"show": 1.0, "film": 0.0}).astype("float64")
        out["runtime_minutes"] = pd.to_numeric(titles["runtime_minutes"], errors="coerce").astype("float64")
        out["days_in_window"] = days.astype("float64")
        out["release_month"] = release.dt.month.astype("float64")
        out["release_weekday"] = release.dt.day_of_week.astype("float64")
        out["available_globally"] = pd.to_numeric(titles["available_globally"], errors="coerce").astype(
            "float64"
        )
        for col in ("season_number", "is_limited", "has_installment", "has_subtitle", "title_words"):
            out[col] = parts[col].astype("float64")
        language = titles["language"] if "language" in titles.columns else None
        lang = parts["language"] if language is None else language.fillna(parts["language"])
        out["language"] = pd.Categorical(
            lang.where(lang.isin(LANGUAGES), "latin_other"), categories=LANGUAGES
        )
        linked = parts.assign(franchise=linked_franchise(parts, titles["kind"]), language=lang,
                              is_film=titles["kind"].eq("film").to_numpy())
        out = out.join(self._franchise_history(linked, release))
        out = out.join(self._top10_history(linked, release))
        out = out.join(self._catalog_features(titles, parts))
        return out.loc[:, list(FEATURE_COLUMNS)]

    # -- history as of the release date -------------------------------------------------------------
    def _franchise_history(self, parts: pd.DataFrame, release: pd.Series) -> pd.DataFrame:
        cols = [
            "prev_season_hours", "prev_season_views", "prev_season_days", "prev_season_latest_hours",
            "franchise_max_hours", "franchise_first_window_max_hours", "franchise_titles",
            "days_since_franchise_release",
        ]  # fmt: skip
        out = pd.DataFrame(np.nan, index=parts.index, columns=cols)
        out["franchise_titles"] = 0.0
        probe = pd.DataFrame(
            {"franchise": parts["franchise"], "season": parts["season_number"], "release": release,
             "probe_language": parts["language"].astype(object), "is_film": parts["is_film"]}
        )
        probe["row"] = probe.index
        probe = probe[probe["franchise"].ne("")]
        hist = self._history[
            ["franchise", "season_number", "title_key", "period_end", "release_date", "hours_viewed", "views",
             "first_window", "days_in_window", "language"]
        ]  # fmt: skip
        joined = probe.merge(hist, on="franchise", how="inner")
        joined = joined[joined["period_end"] < joined["release"]]  # the as-of rule
        # A film's franchise is in its own language: "Mission: Cross // 크로스" is no Mission: Impossible film.
        joined = joined[~joined["is_film"].astype(bool) | (joined["probe_language"] == joined["language"])]
        if joined.empty:
            return out
        grouped = joined.groupby("row")
        out.loc[grouped.size().index, "franchise_titles"] = grouped["title_key"].nunique().astype("float64")
        out.loc[:, "franchise_max_hours"] = grouped["hours_viewed"].max()
        first = joined[joined["first_window"]]
        if not first.empty:
            out.loc[:, "franchise_first_window_max_hours"] = first.groupby("row")["hours_viewed"].max()
        dated = joined.dropna(subset=["release_date"])
        if not dated.empty:
            latest_release = dated.groupby("row")["release_date"].max()
            out.loc[latest_release.index, "days_since_franchise_release"] = (
                release.loc[latest_release.index] - latest_release
            ).dt.days.astype("float64")
        prev = joined[joined["season_number"] == joined["season"] - 1]
        if not prev.empty:
            prev_first = prev[prev["first_window"]].sort_values("period_end").groupby("row").last()
            out.loc[prev_first.index, "prev_season_hours"] = prev_first["hours_viewed"]
            out.loc[prev_first.index, "prev_season_views"] = prev_first["views"]
            out.loc[prev_first.index, "prev_season_days"] = prev_first["days_in_window"].astype("float64")
            prev_latest = prev.sort_values("period_end").groupby("row").last()
            out.loc[prev_latest.index, "prev_season_latest_hours"] = prev_latest["hours_viewed"]
        return out

    def _top10_history(self, parts: pd.DataFrame, release: pd.Series) -> pd.DataFrame:
        out = pd.DataFrame({"top10_max_weekly_hours": np.nan, "top10_weeks": 0.0}, index=parts.index)
        if self.top10 is None or self.top10.empty:
            return out
        probe = pd.DataFrame({"franchise": parts["franchise"], "release": release, "row": parts.index})
        joined = probe[probe["franchise"].ne("")].merge(self.top10, on="franchise", how="inner")
        joined = joined[joined["week"] < joined["release"]]  # the as-of rule
        if joined.empty:
            return out
        grouped = joined.groupby("row")
        out.loc[:, "top10_max_weekly_hours"] = grouped["weekly_hours_viewed"].max()
        out.loc[grouped.size().index, "top10_weeks"] = grouped.size().astype("float64")
        return out

    def _catalog_features(self, titles: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
        genres = (
            titles["genres"].astype("object")
            if "genres" in titles.columns
            else pd.Series(np.nan, index=titles.index, dtype="object")
        )
        known = genres.notna() & genres.astype(str).str.strip().ne("")
        if self.catalog is not None and not self.catalog.empty:
            by_franchise = self.catalog.drop_duplicates("franchise").set_index("franchise")["genres"]
            found = catalog_lookup(self.catalog, parts, titles["kind"], titles["release_date"])["genres"]
            is_show = titles["kind"].eq("show")
            found = found.where(found.notna() | ~is_show, parts["franchise"].map(by_franchise))
            genres = genres.where(known, found)
        # No "metadata is known" flag: whether a catalog lists a title can itself follow its success
        # (a list compiled after release), and a user typing genres would switch it on by hand.
        return _genre_flags(genres)
