"""Co-watch EASE: EASE whose Gram matrix counts two titles together by how close in time a member took them.

Plain EASE learns from XᵀX, where two titles a member ever watched count once together, whether
they were watched the same evening or three years apart. Titles taken in one sitting — a binge,
a rating session, a family's Friday night — say more about each other than titles that merely share
a member. Here the Gram matrix is

    G[i, j] = Σ_members Σ_(a ≠ b) exp(−|t_a − t_b| / τ)   over the member's titles a = i, b = j,
    G[i, i] = the members who took title i,

τ = `window_minutes`, plus `plain_weight`·XᵀX, and B follows as in EASE (`ease_weights`):
B = I − P·diag(1/diag(P)), P = (G + λI)⁻¹. The defaults (plain weight 1, λ 400) keep plain
co-occurrence in: on data without sittings (the demo world) the pure kernel's Gram matrix is nearly
diagonal and recommends little, while the mix stays EASE; `auto` searches from the pure kernel.
Scoring and fold-in are EASE's: `history · B`. Only pairs within
`CUTOFF_WINDOWS`·τ of each other enter (the rest weigh under e⁻⁸); they are found by sorting each
member's titles by time and pairing each with its k-th successor for k = 1, 2, … while any pair
is still inside the cutoff, so the work follows the number of close pairs, not members × titles².

Blended with plain EASE by `auto` on MovieLens 100k (Microsoft Recommenders' protocol), where a
member's ratings come in sittings minutes long, it adds what co-occurrence alone misses (see
docs/personalize-models.md). Without timestamps it is plain EASE. It needs `last_at` in the
interactions (the time of each member's latest interaction with a title).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, check_number
from limelight.personalize.models.ease import EASE

__all__ = ["CoWatchEASE", "cowatch_gram", "reuse_grams"]

log = logging.getLogger(__name__)

#: pairs further apart than this many windows are left out (their weight is below e⁻⁸ ≈ 3e-4)
CUTOFF_WINDOWS = 8.0
#: pairs gathered before they are summed into the Gram matrix (bounds memory)
PAIRS_PER_FLUSH = 20_000_000


_reuse = threading.local()
#: what the shared Gram matrices may hold at once; the least recently used goes first (a search steps
#: λ and dropout at its best window, so the latest few are the ones asked for again)
SHARED_GRAM_BYTES = 512 * 2**20


@contextmanager
def reuse_grams() -> Iterator[None]:
    """Within the block, `CoWatchEASE` fits on the same interaction times, strengths and window share one
    Gram matrix (a copy each: EASE overwrites it). Finding the close pairs is most of a co-watch fit
    (≈ 5 s against 0.08 s for the inverse on all of ML-100k); `Auto` tries many λ and dropout values per
    window. The matrices are dropped when the block ends, so a long-running service keeps none."""
    outer = getattr(_reuse, "grams", None)
    if outer is None:
        _reuse.grams = OrderedDict()
    try:
        yield
    finally:
        if outer is None:
            _reuse.grams = None


def _digest(matrix: sp.csr_matrix | None) -> bytes:
    if matrix is None:
        return b""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(matrix.shape, np.int64).tobytes() + str(matrix.dtype).encode())
    for part in (matrix.indptr, matrix.indices, matrix.data):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.digest()


def _shared_gram(times: sp.csr_matrix, window_seconds: float, strengths: sp.csr_matrix | None) -> np.ndarray:
    grams: OrderedDict[bytes, np.ndarray] | None = getattr(_reuse, "grams", None)
    if grams is None:
        return cowatch_gram(times, window_seconds, strengths)
    key = _digest(times) + _digest(strengths) + np.float64(window_seconds).tobytes()
    gram = grams.get(key)
    if gram is None:
        gram = cowatch_gram(times, window_seconds, strengths)
        grams[key] = gram
        while sum(g.nbytes for g in grams.values()) > SHARED_GRAM_BYTES and len(grams) > 1:
            grams.popitem(last=False)
    grams.move_to_end(key)
    return gram.copy()


def cowatch_gram(
    last_at: sp.csr_matrix, window_seconds: float, strengths: sp.csr_matrix | None = None
) -> np.ndarray:
    """The time-weighted Gram matrix (titles × titles, float32) from members' interaction times.

    `strengths` (the same members × titles pattern as `last_at`: e.g. rating-weighted interactions)
    scale each pair by the product of its two strengths and the diagonal by the sum of squares, as
    XᵀX does for a weighted X; without them every interaction weighs 1.
    """
    last_at = last_at.tocsr()
    if not last_at.has_sorted_indices:  # sorted on a copy: the caller's interactions stay as they were
        last_at = last_at.copy()
        last_at.sort_indices()
    coo = last_at.tocoo()
    n_titles = last_at.shape[1]
    if strengths is None:
        strength = np.ones(coo.nnz)
    else:
        strengths = strengths.tocsr()
        if not strengths.has_sorted_indices:
            strengths = strengths.copy()
            strengths.sort_indices()
        if not (np.array_equal(strengths.indptr, last_at.indptr) and np.array_equal(strengths.indices, last_at.indices)):
            raise InputError("strengths must have the same members × titles pattern as the interaction times")
        strength = strengths.data.astype(np.float64)
    order = np.lexsort((coo.data, coo.row))
    member, title = coo.row[order], coo.col[order]
    seconds = coo.data[order].astype(np.float64)
    strength = strength[order]
    cutoff = CUTOFF_WINDOWS * window_seconds
    # accumulated dense (EASE inverts it dense anyway): a sparse running sum would approach n² entries
    # at three times the bytes on data with long sittings
    gram = np.zeros((n_titles, n_titles), dtype=np.float32)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    held = 0

    def flush() -> None:
        nonlocal held
        if rows:
            r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
            summed = sp.coo_matrix((w, (r, c)), shape=(n_titles, n_titles))
            summed.sum_duplicates()  # one entry per pair of titles, so the indexed add below adds each once
            gram[summed.row, summed.col] += summed.data.astype(np.float32)
            for gathered in (rows, cols, weights):
                gathered.clear()
        held = 0

    # `alive`: positions whose k-th successor may still be close (times ascend within a member, so a
    # position whose k-th successor is too far has every later successor too far as well)
    alive = np.arange(len(member) - 1)
    k = 1
    while alive.size:
        partner = alive + k
        inside = partner < len(member)
        alive, partner = alive[inside], partner[inside]
        gap = seconds[partner] - seconds[alive]
        close = (member[partner] == member[alive]) & (gap <= cutoff)
        alive, partner, gap = alive[close], partner[close], gap[close]
        w = np.exp(-gap / window_seconds) * strength[alive] * strength[partner]
        rows += [title[alive], title[partner]]
        cols += [title[partner], title[alive]]
        weights += [w, w]
        held += 2 * alive.size
        if held >= PAIRS_PER_FLUSH:
            flush()
        k += 1
    flush()
    log.info("co-watch gram: pairs up to %d titles apart within %.0f s", k - 1, cutoff)
    squares = sp.csr_matrix((strength**2, (member, title)), shape=last_at.shape)
    gram[np.diag_indices(n_titles)] = np.asarray(squares.sum(axis=0)).ravel().astype(np.float32)
    return gram


class CoWatchEASE(EASE):
    """EASE on titles taken close together in time (`window_minutes` τ); λ, penalty, support, ratings as EASE's."""

    name = "cowatch"

    def __init__(
        self,
        regularization: float = 400.0,
        window_minutes: float = 6.0,
        plain_weight: float = 1.0,
        min_support: int = 1,
        rating_weight: float = 0.0,
        diagonal_penalty: float = 0.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(regularization, diagonal_penalty, min_support, rating_weight, dropout)
        self.window_minutes = window_minutes
        self.plain_weight = plain_weight

    def check_params(self) -> None:
        super().check_params()
        check_number("CoWatchEASE", "window_minutes", self.window_minutes, 1e-3, 1e7)
        check_number("CoWatchEASE", "plain_weight", self.plain_weight, 0, 1e6)

    def _gram(self, matrix: sp.csr_matrix, interactions: Interactions, kept: np.ndarray) -> np.ndarray:
        if interactions.last_at is None:
            log.info("cowatch: no timestamps, so every pair of a member's titles counts once (plain EASE)")
            return super()._gram(matrix, interactions, kept)
        times = interactions.last_at.tocsc()[:, kept].tocsr() if kept.size < interactions.n_titles else interactions.last_at
        gram = _shared_gram(times.tocsr(), float(self.window_minutes) * 60.0, matrix if self._rated else None)
        if self.plain_weight:  # plus plain co-occurrence: titles a member took months apart still count
            gram += np.float32(self.plain_weight) * super()._gram(matrix, interactions, kept)
        return gram
