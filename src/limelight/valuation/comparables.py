"""The past titles a candidate is most like, each with the reason — the first question a buyer asks.

Candidates are compared only with titles measured in their own first window in a report that ended before
the candidate's release date (the same as-of rule as the features). The similarity adds up evidence a
programmer would name: previous season, same franchise, shared cast or director, same genre and language,
same kind, similar runtime and similar release timing (days left in the window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from limelight.valuation._titles import linked_franchise, parse_titles
from limelight.valuation.features import GENRES, catalog_lookup

# Language groups that name no language ("some Latin-script language", "some Indian script"): two titles
# in one of them may be Spanish and Polish, so sharing it is no evidence.
_NO_LANGUAGE = frozenset({"latin_other", "in_other"})

__all__ = ["Comparable", "find_comparables"]

# Weights of each kind of evidence (points); documented in docs/valuation.md.
WEIGHTS = {
    "previous_season": 6.0,
    "same_franchise": 3.0,
    "shared_person": 2.0,
    "same_genre": 1.0,
    "same_language": 1.0,
    "same_kind": 2.0,
    "runtime": 1.5,  # times -|log runtime ratio|
    "timing": 1.0,  # times -|difference in days in window| / 90
}


@dataclass(frozen=True)
class Comparable:
    title: str
    kind: str | None
    window: str
    hours_viewed: float
    views: float | None
    similarity: float
    reason: str


def _people(value: object) -> set[str]:
    if not isinstance(value, str) or not value.strip():
        return set()
    return {p.strip().casefold() for p in value.split(",") if p.strip()}


_GENRE_BITS = {name: 1 << i for i, name in enumerate(GENRES)}


def _codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, _ = pd.factorize(pd.Series(np.concatenate([left, right]).astype(str)))
    return codes[: len(left)], codes[len(left) :]


def _mask(genres: set[str]) -> int:
    return sum(_GENRE_BITS[g] for g in genres)


def _genres(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    lowered = value.lower()
    return {name for name, needles in GENRES.items() if any(n in lowered for n in needles)}


def _metadata(frame: pd.DataFrame, catalog: pd.DataFrame | None, parts: pd.DataFrame) -> pd.DataFrame:
    meta = pd.DataFrame(index=frame.index)
    for col in ("genres", "cast", "director"):
        meta[col] = frame[col] if col in frame.columns else np.nan
    if catalog is not None and not catalog.empty:
        kind = frame["kind"] if "kind" in frame.columns else pd.Series(np.nan, index=frame.index)
        found = catalog_lookup(catalog, parts, kind, frame["release_date"])
        for col in ("genres", "cast", "director"):
            meta[col] = meta[col].where(meta[col].notna(), found[col])
    return meta


def _franchise_catalog_rows(reports: pd.DataFrame, first: pd.DataFrame, franchises: set[str]) -> pd.DataFrame:
    """Rows of franchise titles the reports list only after their first window: the earliest row each."""
    if not franchises:
        return first.iloc[:0]
    # FeatureBuilder.history already carries the franchise of every row; parse only when it does not
    keys = (
        reports["franchise"]
        if "franchise" in reports.columns
        else parse_titles(reports["title_name"], keys_only=True)["franchise"]
    )
    rows = reports.loc[
        keys.isin(franchises).to_numpy(), [c for c in first.columns if c in reports.columns]
    ].copy()
    rows["period_end"] = pd.to_datetime(rows["period_end"])
    rows["period_start"] = pd.to_datetime(rows["period_start"])
    rows = rows[~rows["title_name"].isin(set(first["title_name"]))]
    for col in ("kind", "runtime_minutes"):  # static facts: the first report lacks them
        known = rows.dropna(subset=[col]).drop_duplicates("title_name").set_index("title_name")[col]
        rows[col] = rows[col].where(rows[col].notna(), rows["title_name"].map(known))
    rows = rows.sort_values("period_end").drop_duplicates("title_name", keep="first")
    return rows.assign(_first_window=False)


def find_comparables(
    candidates: pd.DataFrame,
    history_titles: pd.DataFrame,
    *,
    catalog: pd.DataFrame | None = None,
    k: int = 5,
    reports: pd.DataFrame | None = None,
) -> list[list[Comparable]]:
    """For each candidate row, the `k` most similar first-window titles released before it, with reasons.

    `candidates` has title_name, kind, release_date, window_end, runtime_minutes (and optionally genres,
    cast, director, language); `history_titles` is `first_window_titles(reports)`. With `reports` (all
    engagement rows), earlier seasons of a candidate's franchise that the reports only list after their
    first window (released before the first report) join the pool, their reason saying so.
    """
    cand = candidates.reset_index(drop=True)
    cparts = parse_titles(cand["title_name"])
    cparts["franchise"] = linked_franchise(cparts, cand["kind"])
    hist = history_titles.reset_index(drop=True).assign(_first_window=True)
    if reports is not None and not reports.empty:
        hist = pd.concat([hist, _franchise_catalog_rows(reports, hist, set(cparts["franchise"]) - {""})])
        hist = hist.reset_index(drop=True)
    hparts = parse_titles(hist["title_name"])
    hmeta = _metadata(hist, catalog, hparts)
    cmeta = _metadata(cand, catalog, cparts)
    h_people = [_people(c) | _people(d) for c, d in zip(hmeta["cast"], hmeta["director"])]
    h_genres = [_genres(g) for g in hmeta["genres"]]
    h_genre_mask = np.array([_mask(g) for g in h_genres], dtype="int64")
    h_runtime = np.log(hist["runtime_minutes"].to_numpy(dtype="float64"))
    # a catalog-window row's days since release (1,480 for a 2019 season) say nothing of its launch: its
    # timing is unknown, or its own franchise's earlier seasons never made the top five
    h_days = ((hist["period_end"] - hist["release_date"]).dt.days + 1).to_numpy(dtype="float64")
    h_days = np.where(hist["_first_window"].to_numpy(dtype=bool), h_days, np.nan)
    h_kind = hist["kind"].to_numpy(dtype=object)
    h_franchise = hparts["franchise"].to_numpy(dtype=object)
    h_season = hparts["season_number"].to_numpy(dtype="float64")
    h_lang = hparts["language"].to_numpy(dtype=object)
    h_end = hist["period_end"].to_numpy()
    h_first = hist["_first_window"].to_numpy(dtype=bool)
    c_release = pd.to_datetime(cand["release_date"]).to_numpy()
    c_days = (
        (pd.to_datetime(cand["window_end"]) - pd.to_datetime(cand["release_date"])).dt.days + 1
    ).to_numpy(dtype="float64")
    c_runtime = np.log(pd.to_numeric(cand["runtime_minutes"], errors="coerce").to_numpy(dtype="float64"))
    c_kind = cand["kind"].to_numpy(dtype=object)
    c_franchise = cparts["franchise"].to_numpy(dtype=object)
    c_season = cparts["season_number"].to_numpy(dtype="float64")
    c_lang = cparts["language"].to_numpy(dtype=object)
    if "language" in cand.columns:
        given = cand["language"].to_numpy(dtype=object)
        c_lang = np.where([isinstance(v, str) and bool(v) for v in given], given, c_lang)
    c_people = [_people(c) | _people(d) for c, d in zip(cmeta["cast"], cmeta["director"])]
    c_genres = [_genres(g) for g in cmeta["genres"]]
    h_title = hist["title_name"].astype(str).to_numpy(dtype=object)
    h_hours = hist["hours_viewed"].to_numpy(dtype="float64")
    h_views = pd.to_numeric(hist["views"], errors="coerce").to_numpy(dtype="float64")
    h_window = [
        f"{pd.Timestamp(a).date()}:{pd.Timestamp(b).date()}"
        for a, b in zip(hist["period_start"], hist["period_end"])
    ]
    n_hist = len(hist)
    # integer codes: comparing ints in the loop is much cheaper than comparing Python strings
    h_fr_code, c_fr_code = _codes(h_franchise, c_franchise)
    h_lang_code, c_lang_code = _codes(h_lang, c_lang)
    h_kind_code, c_kind_code = _codes(h_kind, c_kind)
    out: list[list[Comparable]] = []
    for i in range(len(cand)):
        eligible = h_end < c_release[i]  # the as-of rule
        franchise = str(c_franchise[i])
        same_franchise = (h_fr_code == c_fr_code[i]) & (franchise != "")
        if c_kind[i] == "film":  # a film's franchise is in its own language (features.py, the same rule)
            same_franchise &= h_lang_code == c_lang_code[i]
        prev_season = same_franchise & (h_season == c_season[i] - 1)
        people = c_people[i]
        genres = c_genres[i]
        lang = str(c_lang[i])
        shared_people = (
            np.array([len(people & p) for p in h_people], dtype="float64") if people else np.zeros(n_hist)
        )
        same_genre = (h_genre_mask & _mask(genres)) != 0
        same_lang = (h_lang_code == c_lang_code[i]) & (lang not in _NO_LANGUAGE)
        same_kind = h_kind_code == c_kind_code[i]
        runtime = float(c_runtime[i])
        runtime_gap = np.abs(h_runtime - runtime)
        runtime_gap = np.where(np.isfinite(runtime_gap), runtime_gap, 1.0)
        days = float(c_days[i])
        timing_gap = np.abs(h_days - days) / 90.0
        timing_gap = np.where(np.isfinite(timing_gap), timing_gap, 1.0)
        score = (
            WEIGHTS["previous_season"] * prev_season
            + WEIGHTS["same_franchise"] * same_franchise
            + WEIGHTS["shared_person"] * np.minimum(shared_people, 2)
            + WEIGHTS["same_genre"] * same_genre
            + WEIGHTS["same_language"] * same_lang
            + WEIGHTS["same_kind"] * same_kind
            - WEIGHTS["runtime"] * runtime_gap
            - WEIGHTS["timing"] * timing_gap
        )
        score = np.where(eligible, score, -np.inf)
        if n_hist > k:
            best = np.argpartition(-score, k)[:k]
            top = best[np.argsort(-score[best], kind="stable")]
        else:
            top = np.argsort(-score, kind="stable")[:k]
        rows = []
        for j in top:
            if not np.isfinite(score[j]):
                break
            reasons = []
            if prev_season[j]:
                reasons.append("previous season")
            elif same_franchise[j]:
                reasons.append("same franchise")
            if not h_first[j]:
                reasons.append("catalog window, released before the reports")
            if shared_people[j] > 0:
                names = sorted(people & h_people[j])[:2]
                reasons.append("shares " + ", ".join(n.title() for n in names))
            if same_genre[j] and same_lang[j]:
                reasons.append(
                    f"same genre ({', '.join(sorted(genres & h_genres[j]))}) and language ({lang})"
                )
            elif same_lang[j] and lang != "en":
                reasons.append(f"same language ({lang})")
            elif same_genre[j]:
                reasons.append(f"same genre ({', '.join(sorted(genres & h_genres[j]))})")
            if np.isfinite(runtime) and runtime_gap[j] < 0.2:
                reasons.append(f"similar runtime ({np.exp(h_runtime[j]):.0f} vs {np.exp(runtime):.0f} min)")
            if timing_gap[j] < 0.34:
                reasons.append(f"similar release timing ({h_days[j]:.0f} vs {days:.0f} days in window)")
            # a report without a film/show split leaves some titles' kind unknown (NaN): None, not "nan"
            kind = h_kind[j] if isinstance(h_kind[j], str) else None
            if not reasons:
                reasons.append(f"same kind ({kind})" if same_kind[j] and kind else "closest available")
            rows.append(
                Comparable(
                    title=str(h_title[j]),
                    kind=kind,
                    window=h_window[j],
                    hours_viewed=float(h_hours[j]),
                    views=float(h_views[j]) if np.isfinite(h_views[j]) else None,
                    similarity=round(float(score[j]), 3),
                    reason="; ".join(reasons),
                )
            )
        out.append(rows)
    return out
