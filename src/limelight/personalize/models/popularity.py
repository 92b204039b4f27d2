"""Time-decayed popularity and trending: the baselines every other model must beat.

Popularity counts members per title, each interaction weighted by `0.5 ** (age / half_life)` where
age is measured back from the newest interaction in the training data (no decay without
timestamps or with `half_life_days=None`). Trending compares the last `window_days` with the
title's own longer-run rate: `(recent - expected) / sqrt(expected + 1)`, a Poisson z-score.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from limelight.personalize.base import Interactions, Recommendations, Recommender, binarize, check_number

__all__ = ["Popularity", "Trending"]

DAY = 86_400.0


class _ConstantScores(Recommender):
    """A model whose scores do not depend on the member: one vector `title_scores_`."""

    _array_attrs: ClassVar[tuple[str, ...]] = ("title_scores_",)
    title_scores_: np.ndarray

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = self._check_history(history)
        return np.tile(self.title_scores_.astype(np.float32), (history.shape[0], 1))

    def similar_titles(self, title_index: int, k: int = 10) -> Recommendations:
        """The most popular other titles (popularity has no notion of likeness)."""
        return super().similar_titles(title_index, k)

    def explain_many(
        self, history: sp.csr_matrix, title_indices: np.ndarray, top: int = 3
    ) -> list[list[tuple[int, float]]]:
        """Popular with everyone: no history title contributes."""
        self.check_fitted()
        return [[] for _ in self._check_title_indices(title_indices)]


class Popularity(_ConstantScores):
    """Members per title, optionally decayed with a half-life in days."""

    name = "popularity"

    def __init__(self, half_life_days: float | None = None) -> None:
        self.half_life_days = half_life_days

    def check_params(self) -> None:
        if self.half_life_days is not None:
            check_number("Popularity", "half_life_days", self.half_life_days, 1e-6, 1e6)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        if self.half_life_days is None or interactions.last_at is None:
            counts = np.asarray(binarize(interactions.matrix).sum(axis=0)).ravel()
        else:
            last = interactions.last_at.tocsr()
            age_days = (last.data.max() - last.data) / DAY
            weights = sp.csr_matrix((0.5 ** (age_days / self.half_life_days), last.indices, last.indptr), last.shape)
            counts = np.asarray(weights.sum(axis=0)).ravel()
        self.title_scores_ = counts.astype(np.float32)
        self.title_ids_ = interactions.title_ids
        return self


class Trending(_ConstantScores):
    """Titles whose views in the last `window_days` run ahead of their own long-run rate."""

    name = "trending"

    def __init__(self, window_days: float = 7.0) -> None:
        self.window_days = window_days

    def check_params(self) -> None:
        check_number("Trending", "window_days", self.window_days, 1e-6, 1e5)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        if interactions.last_at is None or interactions.last_at.nnz == 0:
            counts = np.asarray(binarize(interactions.matrix).sum(axis=0)).ravel()
            self.title_scores_ = counts.astype(np.float32)
        else:
            last = interactions.last_at.tocoo()
            newest, oldest = float(last.data.max()), float(last.data.min())
            cutoff = newest - self.window_days * DAY
            recent_mask = last.data > cutoff
            n_titles = interactions.n_titles
            recent = np.bincount(last.col[recent_mask], minlength=n_titles).astype(np.float64)
            before = np.bincount(last.col[~recent_mask], minlength=n_titles).astype(np.float64)
            span_windows = max((cutoff - oldest) / (self.window_days * DAY), 1.0)
            expected = before / span_windows
            z = (recent - expected) / np.sqrt(expected + 1.0)
            # ties (no recent views anywhere) fall back to plain popularity, scaled below any real trend
            total = recent + before
            self.title_scores_ = (z + 1e-6 * total / max(total.max(), 1.0)).astype(np.float32)
        self.title_ids_ = interactions.title_ids
        return self
