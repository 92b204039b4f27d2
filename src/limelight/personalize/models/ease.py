"""EASE (Steck 2019): a closed-form item-item model, B = I − P·diag(1/diag(P)), P = (XᵀX + Λ)⁻¹.

Λ = λI by default. With `diagonal_penalty` p > 0 it is λI + p·diag(XᵀX), the emphasized-denoising
variant of Steck 2020 ("Autoencoders that don't overfit towards the identity", EDLAE, where
p = dropout/(1 − dropout)): popular titles are regularized in proportion to their popularity,
which debiases the weights away from them. `min_support` leaves titles with fewer training
members out of the inverse (their rows and columns of B are zero, so they score 0 and recommend
nothing); the inverse costs the cube of the kept titles, so dropping titles seen once or twice
makes the fit several times cheaper.

With `rating_weight` w > 0 and interactions that carry ratings, each interaction enters X (and a
member's history at scoring time) as 1 + w·z, z the rating's z-score over the training data (at
least 0.1): every rated title still counts as watched — relevance stays binary — but a loved title
speaks more strongly for its neighbours than a disliked one, as in SAR's rating affinities. On
MovieLens 100k (Microsoft Recommenders' protocol, λ 400) w = 0.1 lifted NDCG@10 from 0.470 to
0.475; `auto` tries it when the data has ratings.

With `dropout` d > 0 it is DLAE, the denoising autoencoder of the same paper: Λ = λI +
d/(1 − d)·diag(XᵀX) and B = (XᵀX + Λ)⁻¹XᵀX = I − P·Λ, with no zero-diagonal constraint — B's
columns are scaled by Λ instead of by 1/diag(P). `auto` searches it on co-watch EASE's Gram matrix,
where it lifted the median NDCG@10 over five MovieLens 100k split draws (docs/benchmarks.md).

Fold-in is one matrix product: a member's scores are `history · B`, whether or not the member was
in the training data. The diagonal of B is set to zero, so a title never recommends itself (it only
ever multiplies the title's own entry in the history, which is never recommended back).
"""

from __future__ import annotations

import logging
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from limelight.errors import InputError
from limelight.personalize.base import Interactions, RatingWeighted, check_number
from limelight.personalize.models._itemitem import ItemItemModel

__all__ = ["EASE", "ease_weights"]

log = logging.getLogger(__name__)


def ease_weights(
    gram: np.ndarray, regularization: float | np.ndarray, *, free_diagonal: bool = False
) -> np.ndarray:
    """B from the Gram matrix XᵀX (float32, overwritten) and λ (a number, or one per title).

    XᵀX + λI is symmetric positive definite, so it is inverted through its Cholesky factor in
    float32 (LAPACK potrf/potri): about 6× faster than a float64 LU inverse here, with a relative
    difference under 1e-6 on ml-latest-small. `free_diagonal` gives DLAE's B = I − P·Λ (columns
    scaled by the penalty) instead of EASE's constrained −P·diag(1/diag(P)).
    """
    n = gram.shape[0]
    penalty = np.broadcast_to(np.asarray(regularization, dtype=np.float32), (n,)).copy()
    gram[np.diag_indices(n)] += penalty
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise InputError(f"the Gram matrix plus regularization must be positive definite, got LAPACK info {info}")
    precision, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise InputError(f"the Gram matrix plus regularization must be invertible, got LAPACK info {info}")
    upper = np.triu(precision)
    precision = upper + np.triu(upper, 1).T
    del upper
    if free_diagonal:  # noqa: SIM108 - two formulas, each with its reference
        weights = precision * -penalty[None, :]  # DLAE: B = I − P·Λ
    else:
        weights = precision / (-np.diag(precision))[None, :]  # EASE: the scale that makes diag(B) zero
    weights[np.diag_indices(n)] = 0.0
    return weights.astype(np.float32, copy=False)


class EASE(RatingWeighted, ItemItemModel):
    """Embarrassingly Shallow Autoencoder with L2 regularization `regularization` (λ)."""

    name = "ease"
    _meta_attrs: ClassVar[tuple[str, ...]] = RatingWeighted.RATING_ATTRS

    def __init__(
        self,
        regularization: float = 500.0,
        diagonal_penalty: float = 0.0,
        min_support: int = 1,
        rating_weight: float = 0.0,
        dropout: float = 0.0,
    ) -> None:
        self.regularization = regularization
        self.diagonal_penalty = diagonal_penalty
        self.min_support = min_support
        self.rating_weight = rating_weight
        self.dropout = dropout

    def check_params(self) -> None:
        owner = type(self).__name__  # EASE, or a variant that changes only its Gram matrix
        check_number(owner, "regularization", self.regularization, 1e-9, 1e12)
        check_number(owner, "diagonal_penalty", self.diagonal_penalty, 0, 1e6)
        check_number(owner, "min_support", self.min_support, 1, 1e9, integer=True)
        check_number(owner, "dropout", self.dropout, 0, 0.99)

    def _gram(self, matrix: sp.csr_matrix, interactions: Interactions, kept: np.ndarray) -> np.ndarray:
        """XᵀX (float32) of the kept titles' (rating-weighted) interactions; co-watch EASE weighs it by time."""
        return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        self._learn_rating_scale(interactions.matrix)
        matrix = self._inputs(interactions.matrix)
        n_titles = matrix.shape[1]
        support = np.diff(matrix.tocsc().indptr)  # members per title
        kept = np.flatnonzero(support >= self.min_support)
        if kept.size == 0:
            raise InputError(
                f"min_support of {type(self).__name__} must leave at least one title, got {self.min_support}"
            )
        sub = matrix[:, kept] if kept.size < n_titles else matrix
        gram = self._gram(sub, interactions, kept)
        log.info("%s: inverting a %d × %d Gram matrix", type(self).__name__, kept.size, kept.size)
        dropout = float(self.dropout)
        scale = float(self.diagonal_penalty) + dropout / (1.0 - dropout)
        penalty = float(self.regularization) + scale * np.diag(gram)
        weights = ease_weights(gram, penalty, free_diagonal=dropout > 0)
        if kept.size < n_titles:
            full = np.zeros((n_titles, n_titles), dtype=np.float32)
            full[np.ix_(kept, kept)] = weights
            weights = full
        self.weights_ = weights
        self.title_ids_ = interactions.title_ids
        return self
