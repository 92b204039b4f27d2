"""MovieLens (GroupLens) → titles, members, ratings and tags.

Three layouts:

- CSV (ml-latest-small, ml-latest, ml-20m, ml-25m): `ratings.csv` (userId, movieId, rating, timestamp),
  `movies.csv` (movieId, title, genres), `tags.csv` (userId, movieId, tag, timestamp), `links.csv`
  (movieId, imdbId, tmdbId);
- ml-100k: `u.data` (tab-separated user, item, rating, timestamp; no header), `u.item` (pipe-separated,
  latin-1: id, title, release date, video release date, IMDb URL, 19 genre flags), `u.genre`;
- ml-1m: `ratings.dat` and `movies.dat` separated by `::` (latin-1, no header).

Ids stay the publisher's strings. Titles are films; the "(1995)" suffix becomes the release date
(1 January of that year, unless the file gives a full date as ml-100k does) and leaves the name.
Members are every userId in the ratings and tags (source 'movielens'). Ratings are 'stars';
timestamps are epoch seconds, read as UTC. A lone `ratings.csv` (not its folder) adds ratings only:
its members and titles must already be in the store, which is how a foreign-key error is caught.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.loaders._common import (
    blank_mask,
    make_rows,
    parse_dates,
    parse_epoch,
    parse_numbers,
    raise_at,
    read_delimited,
    require_columns,
)
from limelight.spine.validate import Rows

__all__ = [
    "ML_100K_GENRES",
    "MOVIELENS_FILES",
    "is_movielens_folder",
    "read_movielens",
    "read_movielens_file",
]

log = logging.getLogger(__name__)

SOURCE = "movielens"
# Files that mark a MovieLens folder, by layout.
MOVIELENS_FILES = {"csv": "ratings.csv", "100k": "u.data", "1m": "ratings.dat"}
# ml-100k's genre flags, in file order (u.genre lists the same; used when u.genre is absent).
ML_100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip
_YEAR_SUFFIX = r"^(?P<name>.*?)\s*\((?P<year>\d{4})(?:\s*[–-]\s*\d{4})?\s*\)\s*$"


def is_movielens_folder(path: Path) -> str | None:
    """The layout ('csv', '100k', '1m') of a MovieLens folder, or None."""
    if not path.is_dir():
        return None
    for layout, marker in MOVIELENS_FILES.items():
        if (path / marker).exists():
            return layout
    return None


def _epoch(values: pd.Series, origin: str, lines: np.ndarray, column: str) -> pd.Series:
    return parse_epoch(values, origin, lines, column)  # epoch seconds are UTC; stored naive UTC


def _ratings(frame: pd.DataFrame, origin: str, cols: dict[str, str]) -> Rows:
    # Columns stay pandas Series aligned on the file's row numbers: `.to_numpy()` on Arrow strings
    # would build millions of Python objects.
    lines = frame.index.to_numpy()
    out = pd.DataFrame(
        {
            "member_id": frame[cols["member_id"]],
            "title_id": frame[cols["title_id"]],
            "rating": parse_numbers(frame[cols["rating"]], origin, lines, cols["rating"]),
            "rated_at": _epoch(frame[cols["rated_at"]], origin, lines, cols["rated_at"]),
            "scale": "stars",
        },
        index=frame.index,
    )
    return make_rows("ratings", out, origin, lines, cols)


def _tags(frame: pd.DataFrame, origin: str, cols: dict[str, str]) -> Rows:
    lines = frame.index.to_numpy()
    out = pd.DataFrame(
        {
            "member_id": frame[cols["member_id"]],
            "title_id": frame[cols["title_id"]],
            "tag": frame[cols["tag"]],
            "tagged_at": _epoch(frame[cols["tagged_at"]], origin, lines, cols["tagged_at"]),
        },
        index=frame.index,
    )
    return make_rows("tags", out, origin, lines, cols)


def _members(parts: list[tuple[pd.Series, str, str]]) -> Rows:
    """One member per distinct userId, pointing at the first line where each appears."""
    ids = pd.concat([s for s, _, _ in parts])
    first = ~ids.duplicated().to_numpy()
    origin, column = parts[0][1], parts[0][2]
    unique = ids[first]
    keep = ~blank_mask(unique)
    out = pd.DataFrame({"member_id": unique[keep].reset_index(drop=True), "source": SOURCE})
    return make_rows("members", out, origin, unique.index.to_numpy()[keep], {"member_id": column})


def _titles(
    frame: pd.DataFrame,
    origin: str,
    cols: dict[str, str],
    genres: pd.Series,
    release_dates: pd.Series | None = None,
    imdb: pd.Series | None = None,
    tmdb: pd.Series | None = None,
) -> Rows:
    lines = frame.index.to_numpy()
    raw_title = frame[cols["name"]].astype("string").str.strip()
    parts = raw_title.str.extract(_YEAR_SUFFIX)
    name = parts["name"].fillna(raw_title)
    name = name.where(name.str.len() > 0, raw_title)
    year_date = pd.to_datetime(parts["year"] + "-01-01", format="%Y-%m-%d", errors="coerce")
    release = year_date if release_dates is None else release_dates.fillna(year_date)
    out = pd.DataFrame(
        {
            "title_id": frame[cols["title_id"]].to_numpy(),
            "name": name.to_numpy(),
            "kind": "film",
            "release_date": release.to_numpy(),
            "genres": genres.to_numpy(),
            "imdb_id": None if imdb is None else imdb.to_numpy(),
            "tmdb_id": None if tmdb is None else tmdb.to_numpy(),
            "source": SOURCE,
        }
    )
    return make_rows("titles", out, origin, lines, cols)


def _imdb_id(values: pd.Series) -> pd.Series:
    """'0114709' → 'tt0114709' (IMDb's own spelling); blanks stay missing."""
    text = values.astype("string").str.strip()
    digits = text.str.replace(r"^tt", "", regex=True)
    return ("tt" + digits.str.zfill(7)).where(~blank_mask(text))


# -- CSV layout ------------------------------------------------------------------------------------
_RATINGS_CSV = {"member_id": "userId", "title_id": "movieId", "rating": "rating", "rated_at": "timestamp"}
_TAGS_CSV = {"member_id": "userId", "title_id": "movieId", "tag": "tag", "tagged_at": "timestamp"}


def _read_csv_file(path: Path, required: dict[str, str]) -> pd.DataFrame:
    frame = read_delimited(path)
    require_columns(frame, list(required.values()), path.name)
    return frame


def _csv_layout(folder: Path) -> list[Rows]:
    out: list[Rows] = []
    movies_path = folder / "movies.csv"
    if movies_path.exists():
        movies = _read_csv_file(movies_path, {"title_id": "movieId", "name": "title"})
        genres_text = (
            movies["genres"].astype("string").str.strip()
            if "genres" in movies
            else pd.Series(pd.NA, index=movies.index, dtype="string")
        )
        no_genres = blank_mask(genres_text) | (genres_text == "(no genres listed)").fillna(False).to_numpy()
        genres = genres_text.str.split("|").where(~no_genres, None)
        imdb = tmdb = None
        links_path = folder / "links.csv"
        if links_path.exists():
            links = _read_csv_file(links_path, {"title_id": "movieId"}).drop_duplicates("movieId")
            joined = movies[["movieId"]].merge(links, on="movieId", how="left")
            imdb = _imdb_id(joined["imdbId"]) if "imdbId" in joined else None
            tmdb = joined["tmdbId"].astype("string").str.strip() if "tmdbId" in joined else None
        out.append(
            _titles(
                movies,
                movies_path.name,
                {"title_id": "movieId", "name": "title", "genres": "genres"},
                genres,
                imdb=imdb,
                tmdb=tmdb,
            )
        )
    ratings_path = folder / "ratings.csv"
    ratings = _read_csv_file(ratings_path, _RATINGS_CSV)
    member_sources = [(ratings["userId"], ratings_path.name, "userId")]
    tags_rows = None
    tags_path = folder / "tags.csv"
    if tags_path.exists():
        tags = _read_csv_file(tags_path, _TAGS_CSV)
        tags_rows = _tags(tags, tags_path.name, _TAGS_CSV)
        member_sources.append((tags["userId"], tags_path.name, "userId"))
    out.append(_members(member_sources))
    out.append(_ratings(ratings, ratings_path.name, _RATINGS_CSV))
    if tags_rows is not None:
        out.append(tags_rows)
    return out


# -- ml-100k -----------------------------------------------------------------------------------------
def _ml100k_layout(folder: Path) -> list[Rows]:
    out: list[Rows] = []
    item_path = folder / "u.item"
    if item_path.exists():
        genre_names = list(ML_100K_GENRES)
        genre_path = folder / "u.genre"
        if genre_path.exists():
            listed = read_delimited(genre_path, sep="|", encoding="latin-1", names=["genre", "index"])
            genre_names = listed.sort_values("index", key=lambda s: s.astype(int))["genre"].tolist()
        names = ["movie id", "movie title", "release date", "video release date", "IMDb URL", *genre_names]
        # no quoting convention in the pipe files: a '"' is part of a title, not a quote
        items = read_delimited(item_path, sep="|", encoding="latin-1", names=names, quoting=csv.QUOTE_NONE)
        lines = items.index.to_numpy()
        flags = np.column_stack(
            [parse_numbers(items[g], item_path.name, lines, g).fillna(0).to_numpy() > 0 for g in genre_names]
        )
        genre_lists = [[g for g, on in zip(genre_names, row) if on] or None for row in flags]
        release = parse_dates(items["release date"], item_path.name, lines, "release date")
        out.append(
            _titles(
                items,
                item_path.name,
                {"title_id": "movie id", "name": "movie title", "release_date": "release date"},
                pd.Series(genre_lists, index=items.index, dtype=object),
                release_dates=release,
            )
        )
    data_path = folder / "u.data"
    cols = {"member_id": "user id", "title_id": "item id", "rating": "rating", "rated_at": "timestamp"}
    ratings = read_delimited(data_path, sep="\t", names=list(cols.values()))
    out.append(_members([(ratings["user id"], data_path.name, "user id")]))
    out.append(_ratings(ratings, data_path.name, cols))
    return out


# -- ml-1m -------------------------------------------------------------------------------------------
def _read_dat(path: Path, names: list[str]) -> pd.DataFrame:
    """`::`-separated, latin-1, no header. Read with the C parser on ':' and keep every other field,
    which is exact for ratings.dat (numbers only); movies.dat titles may hold ':' so use the slow path."""
    if names == ["UserID", "MovieID", "Rating", "Timestamp"]:
        try:
            wide = read_delimited(path, sep=":", encoding="latin-1", names=[f"c{i}" for i in range(7)])
        except DataError as exc:  # counted on ':', the count would mislead: say it in the file's terms
            if exc.row is None or "fields where" not in str(exc):
                raise
            raise DataError("must have 4 fields separated by '::' (UserID::MovieID::Rating::Timestamp)",
                            origin=path.name, row=exc.row) from None
        extra = wide[["c1", "c3", "c5"]].notna().any(axis=1).to_numpy()
        if extra.any():
            i = int(np.flatnonzero(extra)[0])
            raise_at(path.name, int(wide.index[i]), "UserID", "fields must be separated by '::'")
        frame = wide[["c0", "c2", "c4", "c6"]]
        frame.columns = pd.Index(names)
        return frame
    return read_delimited(path, sep="::", encoding="latin-1", names=names, engine="python")


def _ml1m_layout(folder: Path) -> list[Rows]:
    out: list[Rows] = []
    movies_path = folder / "movies.dat"
    if movies_path.exists():
        movies = _read_dat(movies_path, ["MovieID", "Title", "Genres"])
        genres = movies["Genres"].astype("string").str.strip()
        out.append(
            _titles(
                movies,
                movies_path.name,
                {"title_id": "MovieID", "name": "Title", "genres": "Genres"},
                genres.str.split("|").where(~blank_mask(genres), None),
            )
        )
    ratings_path = folder / "ratings.dat"
    cols = {"member_id": "UserID", "title_id": "MovieID", "rating": "Rating", "rated_at": "Timestamp"}
    ratings = _read_dat(ratings_path, list(cols.values()))
    out.append(_members([(ratings["UserID"], ratings_path.name, "UserID")]))
    out.append(_ratings(ratings, ratings_path.name, cols))
    return out


def read_movielens(folder: str | Path) -> list[Rows]:
    """Every table a MovieLens folder holds, in any of the three layouts."""
    folder = Path(folder)
    layout = is_movielens_folder(folder)
    if layout is None:
        expected = ", ".join(MOVIELENS_FILES.values())
        raise DataError(f"not a MovieLens folder: expected one of {expected}", origin=str(folder))
    log.info("reading MovieLens (%s layout) from %s", layout, folder)
    return {"csv": _csv_layout, "100k": _ml100k_layout, "1m": _ml1m_layout}[layout](folder)


def read_movielens_file(path: str | Path) -> list[Rows]:
    """One MovieLens CSV on its own: ratings.csv/tags.csv (referencing stored members and titles) or movies.csv."""
    path = Path(path)
    frame = read_delimited(path)
    columns = set(frame.columns)
    name = path.name.lower()
    if name == "ratings.csv" or set(_RATINGS_CSV.values()) <= columns:
        require_columns(frame, list(_RATINGS_CSV.values()), path.name)
        return [_ratings(frame, path.name, _RATINGS_CSV)]
    if name == "tags.csv" or set(_TAGS_CSV.values()) <= columns:
        require_columns(frame, list(_TAGS_CSV.values()), path.name)
        return [_tags(frame, path.name, _TAGS_CSV)]
    if name == "movies.csv" or {"movieId", "title"} <= columns:
        require_columns(frame, ["movieId", "title"], path.name)
        genres = frame["genres"].astype("string").str.strip() if "genres" in frame else None
        lists = (
            genres.str.split("|").where(
                ~(blank_mask(genres) | (genres == "(no genres listed)").fillna(False).to_numpy()), None
            )
            if genres is not None
            else pd.Series(None, index=frame.index, dtype=object)
        )
        return [
            _titles(frame, path.name, {"title_id": "movieId", "name": "title", "genres": "genres"}, lists)
        ]
    raise DataError(
        "not a MovieLens file: expected the columns userId, movieId, rating, timestamp (ratings), "
        "userId, movieId, tag, timestamp (tags) or movieId, title (movies)",
        origin=path.name,
    )
