"""RP3beta (Paudel et al. 2017; as benchmarked by Dacrema et al. 2019): a three-step random walk
title → member → title, with each target title's popularity divided out.

    W[i, j] = Σ_u (X_ui / |I_u|)^α · (X_uj / |U_i|)^α / |U_j|^β        (X binary)

where |U_i| is title i's members and |I_u| member u's titles. Each title keeps its `k` strongest
targets (sparse); a member's score for title j sums W[i, j] over the titles i in their history.
β > 0 lowers popular titles, which is what often lifts it above plain item-kNN on MovieLens.
"""

from __future__ import annotations

import logging
from typing import Self

import numpy as np
import scipy.sparse as sp

from limelight.personalize.base import Interactions, binarize, check_number
from limelight.personalize.models._itemitem import ItemItemModel, top_k_links

__all__ = ["RP3Beta"]

log = logging.getLogger(__name__)


class RP3Beta(ItemItemModel):
    """Random walk with restart of length three, popularity-penalised (sparse item-item weights)."""

    name = "rp3beta"

    def __init__(self, alpha: float = 1.0, beta: float = 0.5, k: int = 200, block_size: int = 1024) -> None:
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.block_size = block_size

    def check_params(self) -> None:
        check_number("RP3Beta", "alpha", self.alpha, 0, 10)
        check_number("RP3Beta", "beta", self.beta, 0, 10)
        check_number("RP3Beta", "k", self.k, 1, 100_000, integer=True)
        check_number("RP3Beta", "block_size", self.block_size, 1, 1_000_000, integer=True)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        matrix = binarize(interactions.matrix)
        n_titles = matrix.shape[1]
        per_member = np.asarray(matrix.sum(axis=1)).ravel()
        per_title = np.asarray(matrix.sum(axis=0)).ravel()
        alpha, beta = float(self.alpha), float(self.beta)
        member_step = np.where(per_member > 0, np.maximum(per_member, 1.0) ** -alpha, 0.0)
        title_step = np.where(per_title > 0, np.maximum(per_title, 1.0) ** -alpha, 0.0)
        penalty = np.where(per_title > 0, np.maximum(per_title, 1.0) ** -beta, 0.0).astype(np.float32)
        walk_from = sp.diags(title_step) @ matrix.T.tocsr()  # titles × members: P(member | title)^α
        walk_to = (sp.diags(member_step) @ matrix).tocsc()  # members × titles: P(title | member)^α

        def walks(start: int, stop: int) -> np.ndarray:
            return np.asarray((walk_from[start:stop] @ walk_to).toarray(), dtype=np.float32) * penalty[None, :]

        self.weights_ = top_k_links(n_titles, self.k, self.block_size, walks)
        log.info("RP3beta: %d titles, %d links (alpha %.2f, beta %.2f)", n_titles, self.weights_.nnz, alpha, beta)
        self.title_ids_ = interactions.title_ids
        return self
