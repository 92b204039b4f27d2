"""The catalog as the home page needs it: recommendable titles, episodes in order, credits, members.

Loaded once from the spine into numpy arrays on one *title axis*: the titles a member can be
recommended (films, series and games — any title without a parent). Seasons and episodes roll up
to their series through `root_of`. Maturity ratings, country names and genre phrases come from
data files in `limelight/personalize/data/` with their sources.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from limelight.errors import NotFoundError
from limelight.spine.store import Store

__all__ = [
    "Catalog",
    "CreditCard",
    "MaturityScale",
    "Members",
    "TitleCard",
    "country_name",
    "genre_phrase",
    "load_catalog",
    "load_members",
    "maturity_scale",
]

log = logging.getLogger(__name__)


# -- data files --------------------------------------------------------------------------------
def _data_text(name: str) -> str:
    return resources.files("limelight.personalize").joinpath("data", name).read_text(encoding="utf-8")


def _read_csv(name: str) -> list[dict[str, str]]:
    lines = [line for line in _data_text(name).splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@dataclass(frozen=True)
class MaturityScale:
    """Ratings (TV, MPA, ESRB, age bands) on one ordered scale of levels (see `data/maturity.toml`)."""

    levels: dict[str, int]
    level_names: dict[int, str]
    unrated_level: int
    unlimited_level: int

    def title_level(self, rating: object) -> int:
        """A title's level; unknown or missing ratings count as `unrated_level` (strict)."""
        if rating is None or (isinstance(rating, float) and np.isnan(rating)) or rating is pd.NA:
            return self.unrated_level
        return self.levels.get(str(rating).strip().upper(), self.unrated_level)

    def limit_level(self, limit: object) -> int:
        """A profile's highest allowed level; no limit means everything."""
        if limit is None or (isinstance(limit, float) and np.isnan(limit)) or limit is pd.NA:
            return self.unlimited_level
        text = str(limit).strip().upper()
        if not text:
            return self.unlimited_level
        if text not in self.levels:
            log.warning("unknown maturity limit %r; treating the profile as 'little kids'", limit)
            return 1
        return self.levels[text]


@lru_cache(maxsize=1)
def maturity_scale() -> MaturityScale:
    raw = tomllib.loads(_data_text("maturity.toml"))
    return MaturityScale(
        levels={str(k).upper(): int(v) for k, v in raw["ratings"].items()},
        level_names={int(k): str(v) for k, v in raw["levels"].items()},
        unrated_level=int(raw["unrated_level"]),
        unlimited_level=int(raw["unlimited_level"]),
    )


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    return {row["code"].upper(): row["name"] for row in _read_csv("countries.csv")}


def country_name(code: str | None) -> str:
    """'BR' → 'Brazil'; unknown codes read as themselves."""
    if not code:
        return "your country"
    return _countries().get(str(code).upper(), str(code))


@lru_cache(maxsize=1)
def _genre_phrases() -> dict[str, str]:
    return {row["genre"].lower(): row["phrase"] for row in _read_csv("genre_phrases.csv")}


def genre_phrase(genre: str) -> str:
    """'Thriller' → 'thrillers' (as in '... and liked thrillers')."""
    return _genre_phrases().get(genre.lower(), f"{genre.lower()} titles")


# -- public records ----------------------------------------------------------------------------
class CreditCard(BaseModel):
    name: str
    role: str
    character: str | None = None


class TitleCard(BaseModel):
    """One catalog record, as the service shows it."""

    title_id: str
    name: str
    kind: str
    genres: list[str] = Field(default_factory=list)
    runtime_minutes: float | None = None
    release_date: date | None = None
    maturity_rating: str | None = None
    original_language: str | None = None
    available_countries: list[str] | None = None
    parent_id: str | None = None
    season_number: int | None = None
    episode_number: int | None = None
    credits: list[CreditCard] = Field(default_factory=list)


# -- the catalog -------------------------------------------------------------------------------
def _clean_list(value: Any) -> list[str]:
    if value is None or value is pd.NA:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    return [str(v) for v in value if v is not None and str(v).strip()]


def _opt(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


@dataclass
class Catalog:
    """Every title, plus the recommendable *axis* (roots: films, series, games) as numpy arrays."""

    titles: pd.DataFrame  # all titles, index = title_id
    axis_ids: np.ndarray  # root title ids, position = column of every score vector
    axis_index: dict[str, int]
    root_of: dict[str, str]  # any title id → its root title id
    kind: np.ndarray  # (n,) str
    names: np.ndarray  # (n,) str
    genres: list[list[str]]
    genre_names: list[str]
    genre_matrix: np.ndarray  # (n, n_genres) float32, rows L2-normalised (0 rows for no genre)
    release_day: np.ndarray  # (n,) float64 days since epoch, NaN when unknown
    maturity_level: np.ndarray  # (n,) int8
    available: list[frozenset[str] | None]  # None = everywhere
    episodes: dict[str, list[str]]  # series root → episode ids in watch order (season, episode)
    episode_label: dict[str, str]  # episode id → "Season 2, Episode 4"
    runtime_seconds: dict[str, float]  # title id → runtime in seconds (where known)
    credits: dict[str, list[CreditCard]]  # title id → credits, billing order
    language: np.ndarray  # (n,) str or ""
    sources: frozenset[str] = frozenset()
    _country_masks: dict[str | None, np.ndarray] = field(default_factory=dict, repr=False)
    _play_rules: dict[str, tuple[float, frozenset[str] | None, int]] = field(default_factory=dict, repr=False)

    @property
    def n_titles(self) -> int:
        return len(self.axis_ids)

    def index_of(self, title_id: str) -> int:
        """Axis position of a title or of the series it belongs to."""
        root = self.root_of.get(str(title_id))
        if root is None or root not in self.axis_index:
            raise NotFoundError(f"title '{title_id}' is not in the catalog")
        return self.axis_index[root]

    def has_title(self, title_id: str) -> bool:
        return str(title_id) in self.root_of

    def country_mask(self, country: str | None) -> np.ndarray:
        """Titles available in a country (a member with no country sees titles available everywhere)."""
        key = None if country is None else str(country).upper()
        mask = self._country_masks.get(key)
        if mask is None:
            mask = np.fromiter(
                (avail is None or (key is not None and key in avail) for avail in self.available),
                dtype=bool,
                count=self.n_titles,
            )
            self._country_masks[key] = mask
        return mask

    def playable(self, title_id: str, country: str | None, level: int, day: float) -> bool:
        """Whether a profile may play one title — an episode included — on `day` (days since epoch).

        A title's own release date, countries and rating count where the catalog gives them, else its
        series'. Episodes of one series differ in real catalogs: a season not out yet, an episode
        licensed in fewer countries or rated above the series.
        """
        rules = self._play_rules.get(title_id)
        if rules is None:
            rules = self._play_rules[title_id] = self._rules_of(title_id)
        release, available, rating_level = rules
        if not np.isnan(release) and release > day:
            return False
        if available is not None and (country is None or str(country).upper() not in available):
            return False
        return rating_level <= level

    def _rules_of(self, title_id: str) -> tuple[float, frozenset[str] | None, int]:
        root = self.index_of(title_id)
        row = self.titles.loc[title_id]
        released = pd.to_datetime(_opt(row["release_date"]), errors="coerce")
        release = float(self.release_day[root]) if pd.isna(released) else float(
            (released - pd.Timestamp("1970-01-01")).days
        )
        countries = row["available_countries"]
        available = (frozenset(str(c).upper() for c in countries) if isinstance(countries, list | np.ndarray)
                     else self.available[root])
        rating = _opt(row["maturity_rating"])
        rating_level = int(self.maturity_level[root]) if rating is None else maturity_scale().title_level(rating)
        return release, available, rating_level

    def card(self, title_id: str) -> TitleCard:
        title_id = str(title_id)
        if title_id not in self.titles.index:
            raise NotFoundError(f"title '{title_id}' is not in the catalog")
        row = self.titles.loc[title_id]
        release = _opt(row["release_date"])
        season = _opt(row["season_number"])
        episode = _opt(row["episode_number"])
        runtime = _opt(row["runtime_minutes"])
        avail = _opt(row["available_countries"])
        return TitleCard(
            title_id=title_id,
            name=str(row["name"]),
            kind=str(row["kind"]),
            genres=_clean_list(row["genres"]),
            runtime_minutes=float(runtime) if runtime is not None else None,
            release_date=pd.Timestamp(release).date() if release is not None else None,
            maturity_rating=_opt(row["maturity_rating"]),
            original_language=_opt(row["original_language"]),
            available_countries=_clean_list(avail) if avail is not None else None,
            parent_id=_opt(row["parent_id"]),
            season_number=int(season) if season is not None else None,
            episode_number=int(episode) if episode is not None else None,
            credits=self.credits.get(title_id, []),
        )


_TITLE_SQL = """
SELECT title_id, name, kind, parent_id, season_number, episode_number, runtime_minutes,
       release_date, genres, original_language, maturity_rating, available_countries, source
FROM titles ORDER BY title_id
"""

_CREDIT_SQL = """
SELECT c.title_id, p.name, c.role, c."character", c.credit_order
FROM credits c JOIN people p USING (person_id)
ORDER BY c.title_id, c.credit_order NULLS LAST, p.name
"""


def _roots(titles: pd.DataFrame) -> dict[str, str]:
    """Follow parent links (episode → season → series) to the root title; cycles stop at 10 steps."""
    parent = titles["parent_id"].astype(object).where(titles["parent_id"].notna(), None)
    known = set(titles.index)
    root = pd.Series(titles.index.to_numpy(), index=titles.index, dtype=object)
    for _ in range(10):
        up = root.map(parent)
        has_up = up.notna() & up.isin(known)
        if not has_up.any():
            break
        root = root.where(~has_up, up)
    return dict(zip(titles.index, root.to_numpy(), strict=True))


# Library catalogs (MovieLens among them) file "The Matrix" as "Matrix, The"; a member reads "Because you
# watched The Matrix". The stored name is kept as the source wrote it; pages show the article first.
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.+?), (?P<article>The|A|An|Les|La|Le|L'|Il|Lo|Gli|Das|Der|Die|Den|Det|De|El|Los|Las|Un|Une|Una)"
    r"(?P<rest> \(.*\))?$"
)


def article_first(names: pd.Series) -> pd.Series:
    """'Matrix, The' -> 'The Matrix'; 'City of Lost Children, The (Cité des enfants perdus, La)' -> 'The City
    of Lost Children (Cité des enfants perdus, La)'; other names unchanged."""
    def move(m: re.Match[str]) -> str:
        article = m.group("article")
        space = "" if article.endswith("'") else " "
        return article + space + m.group("body") + (m.group("rest") or "")

    return names.astype(str).str.replace(_TRAILING_ARTICLE, move, regex=True)


def load_catalog(store: Store) -> Catalog:
    """Read titles, credits and people from the spine."""
    titles = store.query(_TITLE_SQL)
    titles["title_id"] = titles["title_id"].astype(str)
    titles["name"] = article_first(titles["name"])
    titles = titles.set_index("title_id", drop=False)
    titles.index.name = None
    root_of = _roots(titles)
    is_root = np.array([root_of[t] == t for t in titles.index], dtype=bool)
    axis = titles[is_root]
    axis_ids = axis.index.to_numpy(dtype=object)
    axis_index = {t: i for i, t in enumerate(axis_ids)}

    genres = [_clean_list(g) for g in axis["genres"]]
    genre_names = sorted({g for gs in genres for g in gs})
    gpos = {g: i for i, g in enumerate(genre_names)}
    genre_matrix = np.zeros((len(axis_ids), max(len(genre_names), 1)), dtype=np.float32)
    for i, gs in enumerate(genres):
        for g in gs:
            genre_matrix[i, gpos[g]] = 1.0
    norms = np.linalg.norm(genre_matrix, axis=1, keepdims=True)
    genre_matrix = np.divide(genre_matrix, norms, out=np.zeros_like(genre_matrix), where=norms > 0)

    release = pd.to_datetime(axis["release_date"], errors="coerce")
    release_day = (release - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    scale = maturity_scale()
    maturity_level = np.array([scale.title_level(r) for r in axis["maturity_rating"]], dtype=np.int8)
    available: list[frozenset[str] | None] = []
    for value in axis["available_countries"]:
        value = _opt(value) if not isinstance(value, list | np.ndarray) else value
        available.append(None if value is None else frozenset(str(c).upper() for c in value))

    # Episodes in watch order, per series root.
    eps = titles[titles["kind"] == "episode"].copy()
    episodes: dict[str, list[str]] = {}
    episode_label: dict[str, str] = {}
    if not eps.empty:
        eps["root"] = eps.index.map(root_of)
        parent_season = eps["parent_id"].map(titles["season_number"]) if "season_number" in titles else None
        season = eps["season_number"].astype("Float64")
        if parent_season is not None:
            season = season.fillna(parent_season.astype("Float64"))
        eps["season_order"] = season.fillna(1).astype(float)
        eps["episode_order"] = eps["episode_number"].astype("Float64").fillna(0).astype(float)
        eps = eps.sort_values(["root", "season_order", "episode_order", "title_id"])
        for root, group in eps.groupby("root", sort=False):
            episodes[str(root)] = group.index.astype(str).tolist()
        for tid, s, e in zip(eps.index, eps["season_order"], eps["episode_order"], strict=True):
            episode_label[str(tid)] = f"Season {int(s)}, Episode {int(e)}" if e else f"Season {int(s)}"

    runtime = titles["runtime_minutes"].astype("Float64") * 60.0
    runtime_seconds = {str(t): float(v) for t, v in runtime.dropna().items() if v > 0}

    credits: dict[str, list[CreditCard]] = {}
    if store.count("credits"):
        frame = store.query(_CREDIT_SQL)
        for tid, name, role, character in zip(
            frame["title_id"].astype(str), frame["name"], frame["role"], frame["character"], strict=True
        ):
            credits.setdefault(tid, []).append(
                CreditCard(name=str(name), role=str(role), character=_opt(character))
            )

    language = axis["original_language"].astype(object).where(axis["original_language"].notna(), "")
    log.info("catalog: %d titles, %d on the recommendable axis", len(titles), len(axis_ids))
    return Catalog(
        titles=titles,
        axis_ids=axis_ids,
        axis_index=axis_index,
        root_of=root_of,
        kind=axis["kind"].astype(str).to_numpy(dtype=object),
        names=axis["name"].astype(str).to_numpy(dtype=object),
        genres=genres,
        genre_names=genre_names,
        genre_matrix=genre_matrix,
        release_day=release_day,
        maturity_level=maturity_level,
        available=available,
        episodes=episodes,
        episode_label=episode_label,
        runtime_seconds=runtime_seconds,
        credits=credits,
        language=language.astype(str).to_numpy(dtype=object),
        sources=frozenset(str(s) for s in titles["source"].dropna().unique()),
    )


@dataclass
class Members:
    """Members' country and maturity limit, by id."""

    country: dict[str, str | None]
    maturity_limit: dict[str, int]
    sources: frozenset[str] = frozenset()

    def __contains__(self, member_id: object) -> bool:
        return str(member_id) in self.country


def load_members(store: Store) -> Members:
    frame = store.query("SELECT member_id, country, maturity_limit, source FROM members")
    scale = maturity_scale()
    ids = frame["member_id"].astype(str)
    country = {
        m: (str(c).upper() if isinstance(c, str) and c.strip() else None)
        for m, c in zip(ids, frame["country"], strict=True)
    }
    limits = {m: scale.limit_level(lim) for m, lim in zip(ids, frame["maturity_limit"], strict=True)}
    return Members(country, limits, frozenset(str(s) for s in frame["source"].dropna().unique()))
