"""Item-kNN: cosine similarity with shrinkage, each title keeping its `k` nearest neighbours (sparse).

similarity(i, j) = |members with both| / (sqrt(|members with i| · |members with j|) + shrinkage)
(Sarwar et al. 2001; shrinkage as in Koren 2008). A member's score for title t sums the
similarities of t's neighbours that are in the member's history.
"""

from __future__ import annotations

import logging
from typing import Self

import numpy as np

from limelight.personalize.base import Interactions, binarize, check_number
from limelight.personalize.models._itemitem import ItemItemModel, top_k_links

__all__ = ["ItemKNN"]

log = logging.getLogger(__name__)


class ItemKNN(ItemItemModel):
    """Sparse item-item cosine neighbourhood model."""

    name = "itemknn"

    def __init__(self, k: int = 100, shrinkage: float = 10.0, block_size: int = 1024) -> None:
        self.k = k
        self.shrinkage = shrinkage
        self.block_size = block_size

    def check_params(self) -> None:
        check_number("ItemKNN", "k", self.k, 1, 100_000, integer=True)
        check_number("ItemKNN", "shrinkage", self.shrinkage, 0, 1e9)
        check_number("ItemKNN", "block_size", self.block_size, 1, 1_000_000, integer=True)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        members_by_title = binarize(interactions.matrix).T.tocsr()  # titles × members
        n_titles = members_by_title.shape[0]
        counts = np.asarray(members_by_title.sum(axis=1)).ravel()
        norms = np.sqrt(counts)
        full = members_by_title.T.tocsc()

        def similarities(start: int, stop: int) -> np.ndarray:
            together = np.asarray((members_by_title[start:stop] @ full).toarray(), dtype=np.float32)
            return together / (np.outer(norms[start:stop], norms) + self.shrinkage + 1e-12)

        # top_k_links gives [target, neighbour]; weights_[neighbour, target]: having the neighbour raises the target
        weights = top_k_links(n_titles, self.k, self.block_size, similarities).T.tocsr()
        log.info("item-kNN: %d titles, %d neighbour links", n_titles, weights.nnz)
        self.weights_ = weights
        self.title_ids_ = interactions.title_ids
        return self
