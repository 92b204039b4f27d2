"""Shared behaviour of item-to-item linear models (item-kNN, EASE): scores = history · W."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from limelight.personalize.base import Recommendations, Recommender, binarize

__all__ = ["ItemItemModel"]


class ItemItemModel(Recommender):
    """`weights_[j, t]` is how much having title j raises title t's score."""

    _array_attrs: ClassVar[tuple[str, ...]] = ("weights_",)
    weights_: np.ndarray | sp.csr_matrix

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = binarize(self._check_history(history))
        product = history @ self.weights_
        if sp.issparse(product):
            return np.asarray(product.toarray(), dtype=np.float32)
        return np.asarray(product, dtype=np.float32)

    def _weight_row(self, title_index: int) -> np.ndarray:
        row = self.weights_[title_index]
        if sp.issparse(row):
            return np.asarray(row.toarray()).ravel()
        return np.asarray(row).ravel()

    def similar_titles(self, title_index: int, k: int = 10) -> Recommendations:
        """Titles whose score rises most when a member has `title_index` (row of the weights)."""
        self.check_fitted()
        self._check_title_index(title_index)
        row = self._weight_row(title_index).astype(np.float32)
        row[title_index] = -np.inf
        k = min(k, self.n_titles_ - 1) if self.n_titles_ > 1 else 1
        top = np.argsort(-row, kind="stable")[:k]
        return Recommendations(top[None, :].astype(np.int64), row[top][None, :])

    def explain(self, history: sp.csr_matrix, title_index: int, top: int = 3) -> list[tuple[int, float]]:
        """Exact contributions: `weights_[j, t]` for each title j in the history, largest first."""
        history = binarize(self._check_history(history))
        self._check_title_index(title_index)
        cols = history[0].indices
        if cols.size == 0:
            return []
        column = self.weights_[cols, title_index]
        contributions = np.asarray(column.toarray() if sp.issparse(column) else column, dtype=np.float64).ravel()
        order = np.argsort(-contributions, kind="stable")[:top]
        return [(int(cols[i]), float(contributions[i])) for i in order if contributions[i] > 0]
