"""EASE (Steck 2019): a closed-form item-item model, B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹.

Fold-in is one matrix product: a member's scores are `history · B`, whether or not the member was
in the training data. The diagonal of B is zero, so a title never recommends itself.
"""

from __future__ import annotations

import logging
from typing import Self

import numpy as np
from scipy.linalg import lapack

from limelight.errors import InputError
from limelight.personalize.base import Interactions, binarize, check_number
from limelight.personalize.models._itemitem import ItemItemModel

__all__ = ["EASE", "ease_weights"]

log = logging.getLogger(__name__)


def ease_weights(gram: np.ndarray, regularization: float) -> np.ndarray:
    """B from the Gram matrix XᵀX (float32, overwritten) and λ.

    XᵀX + λI is symmetric positive definite, so it is inverted through its Cholesky factor in
    float32 (LAPACK potrf/potri): about 6× faster than a float64 LU inverse here, with a relative
    difference under 1e-6 on ml-latest-small.
    """
    n = gram.shape[0]
    gram[np.diag_indices(n)] += regularization
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise InputError(f"the Gram matrix plus regularization must be positive definite, got LAPACK info {info}")
    precision, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise InputError(f"the Gram matrix plus regularization must be invertible, got LAPACK info {info}")
    upper = np.triu(precision)
    precision = upper + np.triu(upper, 1).T
    del upper
    weights = precision / (-np.diag(precision))[None, :]
    weights[np.diag_indices(n)] = 0.0
    return weights.astype(np.float32, copy=False)


class EASE(ItemItemModel):
    """Embarrassingly Shallow Autoencoder with L2 regularization `regularization` (λ)."""

    name = "ease"

    def __init__(self, regularization: float = 500.0) -> None:
        self.regularization = regularization

    def fit(self, interactions: Interactions) -> Self:
        check_number("EASE", "regularization", self.regularization, 1e-9, 1e12)
        matrix = binarize(interactions.matrix)
        n_titles = matrix.shape[1]
        gram = np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)
        log.info("EASE: inverting a %d × %d Gram matrix", n_titles, n_titles)
        self.weights_ = ease_weights(gram, float(self.regularization))
        self.title_ids_ = interactions.title_ids
        return self
