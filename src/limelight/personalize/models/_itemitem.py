"""Shared behaviour of item-to-item linear models (item-kNN, EASE): scores = history · W."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from limelight.personalize.base import Recommendations, Recommender, binarize, top_contributions

__all__ = ["ItemItemModel", "top_k_links"]


def top_k_links(
    n_titles: int, k: int, block_size: int, block_scores: Callable[[int, int], np.ndarray]
) -> sp.csr_matrix:
    """(titles × titles) sparse links: for each title, its `k` best-scoring other titles with a positive score.

    `block_scores(start, stop)` gives the dense (stop − start) × n_titles scores of titles start..stop
    against every title; blocks keep memory at block_size × n_titles floats. Row = title, column = neighbour.
    """
    k = min(k, max(n_titles - 1, 1))
    rows, cols, vals = [], [], []
    for start in range(0, n_titles, block_size):
        stop = min(start + block_size, n_titles)
        block = block_scores(start, stop)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_vals = np.take_along_axis(block, top, axis=1)
        keep = top_vals > 0
        source = np.repeat(np.arange(start, stop), k).reshape(-1, k)
        rows.append(source[keep])
        cols.append(top[keep])
        vals.append(top_vals[keep])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_titles, n_titles),
        dtype=np.float32,
    )


class ItemItemModel(Recommender):
    """`weights_[j, t]` is how much having title j raises title t's score."""

    _array_attrs: ClassVar[tuple[str, ...]] = ("weights_",)
    weights_: np.ndarray | sp.csr_matrix

    def _inputs(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """The history as the model reads it: plain interactions here; EASE may weight by rating."""
        return binarize(history)

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = self._inputs(self._check_history(history))
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

    def explain_many(
        self, history: sp.csr_matrix, title_indices: np.ndarray, top: int = 3
    ) -> list[list[tuple[int, float]]]:
        """Exact contributions: input weight × `weights_[j, t]` for each title j in the history, largest first."""
        history = self._inputs(self._check_history(history))
        titles = self._check_title_indices(title_indices)
        cols = history[0].indices
        if cols.size == 0:
            return [[] for _ in titles]
        w = self.weights_
        block = w[cols][:, titles] if sp.issparse(w) else w[np.ix_(cols, titles)]
        contributions = np.asarray(block.toarray() if sp.issparse(block) else block, dtype=np.float64)
        contributions *= history[0].data[:, None]
        return top_contributions(cols, contributions, top)
