"""Cold start: popularity for members with no history, metadata for titles with no views.

* `PopularityScorer` — time-decayed popularity (distinct viewers, halved every `half_life_days`),
  overall and per country. It also serves as a `Recommender` (`PopularityRecommender`) when the
  models package is not installed, so the engine always has a collaborative scorer.
* `ContentModel` — TF-IDF over each title's genres, people (cast, directors) and original
  language; title-title similarity is the cosine of those vectors. A member's content score for a
  title is the similarity of the title to the member's history profile, so a brand-new title with
  no views reaches the members who watch titles like it.
* `content_weight(views)` — how much of the final score comes from metadata: `k / (k + views)`,
  so a title's score moves from metadata to collaborative signal as its training views arrive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.personalize.base import Interactions, Recommender
from limelight.personalize.catalog import Catalog

__all__ = [
    "ContentModel",
    "PopularityRecommender",
    "PopularityScorer",
    "content_weight",
]

log = logging.getLogger(__name__)


def content_weight(views: np.ndarray, shrinkage: float = 10.0) -> np.ndarray:
    """Share of a title's score that comes from metadata: 1 with no views, → 0 as views grow."""
    views = np.asarray(views, dtype=np.float64)
    if shrinkage <= 0:
        return np.zeros_like(views)
    return shrinkage / (shrinkage + np.maximum(views, 0.0))


@dataclass
class PopularityScorer:
    """Time-decayed distinct-viewer counts per title, overall and per country."""

    overall: np.ndarray  # (n_titles,) float64
    by_country: dict[str, np.ndarray]
    views: np.ndarray  # (n_titles,) raw distinct viewers (training)

    @classmethod
    def from_viewers(
        cls,
        frame: pd.DataFrame,
        n_titles: int,
        *,
        now_seconds: float,
        half_life_days: float = 14.0,
    ) -> PopularityScorer:
        """`frame`: one row per (member, title) with `title_idx`, `last_at` (epoch s), `country`."""
        if frame.empty:
            zeros = np.zeros(n_titles)
            return cls(zeros, {}, zeros.copy())
        age_days = np.maximum(now_seconds - frame["last_at"].to_numpy(np.float64), 0.0) / 86400.0
        decay = np.power(0.5, age_days / half_life_days)
        idx = frame["title_idx"].to_numpy(np.int64)
        overall = np.bincount(idx, weights=decay, minlength=n_titles)
        views = np.bincount(idx, minlength=n_titles).astype(np.float64)
        by_country: dict[str, np.ndarray] = {}
        if "country" in frame:
            countries = frame["country"].astype(object).where(frame["country"].notna(), None)
            for country, positions in pd.Series(np.arange(len(frame))).groupby(countries.to_numpy()).groups.items():
                if country is None:
                    continue
                pos = np.asarray(positions, dtype=np.int64)
                by_country[str(country)] = np.bincount(idx[pos], weights=decay[pos], minlength=n_titles)
        return cls(overall, by_country, views)

    def for_country(self, country: str | None, *, blend: float = 0.3) -> np.ndarray:
        """Popularity in a country, blended with overall popularity so thin markets still rank."""
        local = self.by_country.get(str(country).upper()) if country else None
        top = self.overall.max() if self.overall.size and self.overall.max() > 0 else 1.0
        overall = self.overall / top
        if local is None or local.max() <= 0:
            return overall
        return (1 - blend) * local / local.max() + blend * overall


class PopularityRecommender(Recommender):
    """Most-viewed titles for everyone (ignores history): the engine's fallback collaborative scorer."""

    name = "popularity-fallback"

    def fit(self, interactions: Interactions) -> Self:
        counts = np.asarray((interactions.matrix > 0).sum(axis=0)).ravel().astype(np.float32)
        self.popularity_ = counts / max(float(counts.max()), 1.0)
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        self.check_fitted()
        return np.tile(self.popularity_, (history.shape[0], 1))


class ContentModel:
    """TF-IDF over genres, people and language; cosine similarity between titles."""

    def __init__(self, *, max_people: int = 8, people_weight: float = 0.6, language_weight: float = 0.3) -> None:
        self.max_people = max_people
        self.people_weight = people_weight
        self.language_weight = language_weight

    def fit(self, catalog: Catalog) -> Self:
        tokens: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []

        def add(i: int, token: str, weight: float) -> None:
            j = tokens.setdefault(token, len(tokens))
            rows.append(i)
            cols.append(j)
            vals.append(weight)

        for i, tid in enumerate(catalog.axis_ids):
            for g in catalog.genres[i]:
                add(i, f"genre:{g}", 1.0)
            people = [c for c in catalog.credits.get(str(tid), []) if c.role in ("performer", "director")]
            for c in people[: self.max_people]:
                add(i, f"{c.role}:{c.name}", self.people_weight)
            if catalog.language[i]:
                add(i, f"language:{catalog.language[i]}", self.language_weight)
        n = catalog.n_titles
        counts = sp.csr_matrix((vals, (rows, cols)), shape=(n, max(len(tokens), 1)), dtype=np.float32)
        counts.sum_duplicates()
        df = np.asarray((counts > 0).sum(axis=0)).ravel().astype(np.float32)
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        tfidf = counts @ sp.diags(idf.astype(np.float32))
        norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        self.features_ = sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ tfidf, dtype=np.float32)
        self.features_t_ = self.features_.T.tocsr()
        self.tokens_ = np.array(sorted(tokens, key=tokens.__getitem__), dtype=object)
        log.info("content model: %d titles × %d metadata tokens", n, len(tokens))
        return self

    def profile(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """Members' metadata profiles (rows of history weights × title features)."""
        return sp.csr_matrix(history @ self.features_)

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Mean cosine similarity of every title to each member's history (n_rows × n_titles)."""
        weights = np.asarray(history.sum(axis=1)).ravel()
        inv = np.divide(1.0, weights, out=np.zeros_like(weights, dtype=np.float64), where=weights > 0)
        prof = sp.diags(inv.astype(np.float32)) @ self.profile(history)
        return np.asarray((prof @ self.features_t_).toarray(), dtype=np.float32)

    def similarity(self, titles: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Cosine similarity of each of `titles` to each of `others`: a dense len(titles) × len(others)."""
        return np.asarray((self.features_[titles] @ self.features_t_[:, others]).toarray())

    def shared_tokens(self, title_index: int, history: sp.csr_matrix, top: int = 3) -> list[tuple[str, float]]:
        """Metadata the title shares with a member's profile, strongest first: ('genre:Thriller', w)."""
        prof = self.profile(history).toarray().ravel()
        feat = self.features_[title_index].toarray().ravel()
        joint = prof * feat
        order = np.argsort(-joint)[:top]
        return [(str(self.tokens_[j]), float(joint[j])) for j in order if joint[j] > 0]
