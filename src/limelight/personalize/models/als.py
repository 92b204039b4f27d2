"""Implicit ALS (Hu, Koren & Volinsky 2008) trained with the `implicit` library, regularized as in
Rendle, Krichene, Zhang & Koren 2022 ("Revisiting the performance of iALS on item recommendation").

What is implemented, exactly
----------------------------
Rendle et al. write iALS as

    L = Σ_(u,i)∈S (ŷ_ui − 1)² + α₀ Σ_u Σ_i ŷ_ui² + λ [ Σ_u (|I_u| + α₀|I|)^ν ‖w_u‖² + Σ_i (|U_i| + α₀|U|)^ν ‖h_i‖² ]

with α₀ the weight of unobserved pairs (`unobserved_weight`), λ (`regularization`) and ν = 1.
`implicit` minimises Hu et al.'s Σ_all c_ui (p_ui − ŷ_ui)² + λ' (Σ‖w_u‖² + Σ‖h_i‖²), with c = 1 for
unobserved pairs and c = `alpha` for observed ones. Dividing L by α₀ and completing the square
shows the two agree (up to a rescaling of ŷ that leaves every ranking unchanged) when

    alpha = 1 + 1/α₀,   per-member  λ'_u = λ (|I_u| + α₀|I|) / α₀,   per-title  λ'_i = λ (|U_i| + α₀|U|) / α₀.

`implicit` accepts one λ' for everything. Two facts let it carry the scaling anyway:
(1) with L2 on both factor matrices only the *product* of the member-side and title-side
regularization changes the predictions (scale w by s and h by 1/s), so one λ' equal to the
geometric mean √(λ'_U · λ'_I) of the two sides is exact for the side constants; (2) the
frequency term is applied at its mean (|I_u| → mean |I_u|, |U_i| → mean |U_i|) during training,
because `implicit` has no per-row λ. Member factors then come from one exact least-squares solve
per member with that member's own frequency-scaled λ'_u = λ' · (|I_u| + α₀|I|) / (mean|I_u| + α₀|I|),
in the gauge of the trained title factors: for every training member once at the end of `fit`
(batched, vectorised), stored with a 64-bit hash of the member's title set; `score` reuses the
stored factors for any history row whose title set is a training member's, and folds in only
the rest (new members, or members who watched something since), so a history gives the same
scores whichever path served it. Top-K is then one matrix product per block of members.
`implicit.gpu` is used when a CUDA GPU is present, the CPU solver otherwise (BLAS limited to one
thread around fit, as `implicit` asks).

Ratings. With `rating_weight` w > 0 and interactions that carry ratings, an observed pair's
confidence is `alpha` · (1 + w·z), z the rating's z-score over the training data (at least 0.1 of
`alpha`; `limelight.personalize.base.weight_by_rating`): every rated title is still a "watched"
(preference 1), but a loved one pulls the member's factors harder than a disliked one — Hu et al.'s
confidence read from a rating. Fold-in solves with the same confidences, and the stored members'
hash then covers their ratings too. On MovieLens 100k (Microsoft Recommenders' protocol) w = 0.4
lifts NDCG@10 by about 0.01. Spark MLlib reads a weight as its own confidence 1 + α·r, so the MLlib
trainer refuses w > 0 rather than train another model.
"""

from __future__ import annotations

import bisect
import logging
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from limelight.personalize.base import (
    Interactions,
    RatingWeighted,
    Recommendations,
    Recommender,
    binarize,
    check_number,
    top_contributions,
)

__all__ = ["ALS", "gpu_available", "history_hashes"]

log = logging.getLogger(__name__)


def gpu_available() -> bool:
    """True when `implicit` was built with CUDA and a GPU answers."""
    try:
        import implicit.gpu

        return bool(implicit.gpu.HAS_CUDA)
    except Exception:  # pragma: no cover - depends on the machine
        return False


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64 of each uint64 (wrapping arithmetic): a well-spread key per title index."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) * np.uint64(1) + _MIX
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def history_hashes(history: sp.csr_matrix, *, with_values: bool = False) -> np.ndarray:
    """One 64-bit key per row for the *set* of titles in it (values ignored unless `with_values`), vectorised.

    The sum (mod 2⁶⁴) of each title's SplitMix64 key, mixed with the row's length: two different
    title sets share a key with probability about 2⁻⁶⁴. `with_values` mixes each entry's value
    (to 1e-6) into its title's key, for models whose factors depend on the ratings too.
    """
    csr = sp.csr_matrix(history)
    csr.sum_duplicates()
    keys = _splitmix64(csr.indices.astype(np.uint64))
    if with_values:
        quantised = np.round(np.asarray(csr.data, dtype=np.float64) * 1e6).astype(np.int64).astype(np.uint64)
        with np.errstate(over="ignore"):
            keys = _splitmix64(keys ^ _splitmix64(quantised))
    with np.errstate(over="ignore"):
        running = np.concatenate([np.zeros(1, np.uint64), np.cumsum(keys, dtype=np.uint64)])
        sums = running[csr.indptr[1:]] - running[csr.indptr[:-1]]
        lengths = np.diff(csr.indptr).astype(np.uint64)
        return sums ^ _splitmix64(lengths + np.uint64(1 << 40))


class ALS(RatingWeighted, Recommender):
    """Implicit-feedback matrix factorization; `score` folds members in by exact least squares."""

    name = "als"
    _array_attrs: ClassVar[tuple[str, ...]] = ("title_factors_", "member_factors_", "member_hashes_")
    _meta_attrs: ClassVar[tuple[str, ...]] = (
        "implicit_regularization_", "mean_titles_per_member_", "used_gpu_", *RatingWeighted.RATING_ATTRS
    )
    title_factors_: np.ndarray
    member_factors_: np.ndarray  # training members' factors, in the order of member_hashes_
    member_hashes_: np.ndarray  # sorted uint64 hashes of the training members' title sets

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.01,
        unobserved_weight: float = 0.5,
        iterations: int = 15,
        seed: int = 7,
        use_gpu: bool | None = None,
        rating_weight: float = 0.0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.unobserved_weight = unobserved_weight
        self.iterations = iterations
        self.seed = seed
        self.use_gpu = use_gpu
        self.rating_weight = rating_weight

    @property
    def alpha_(self) -> float:
        """`implicit`'s weight of an observed pair, relative to 1 for an unobserved one."""
        return 1.0 + 1.0 / float(self.unobserved_weight)

    def scaled_regularization(self, n_members: int, n_titles: int, n_pairs: int) -> float:
        """λ' for a library that adds one fixed ridge to every solve (implicit; MLlib after its
        per-row scaling): the geometric mean of the member- and title-side ridges (module docstring)."""
        a0, lam = float(self.unobserved_weight), float(self.regularization)
        member_side = lam * (n_pairs / max(n_members, 1) + a0 * n_titles) / a0
        title_side = lam * (n_pairs / max(n_titles, 1) + a0 * n_members) / a0
        return float(np.sqrt(member_side * title_side))

    def implicit_parameters(self, interactions: Interactions) -> dict[str, Any]:
        """The `implicit.als.AlternatingLeastSquares` arguments this model trains with."""
        matrix = binarize(interactions.matrix)
        n_members, n_titles = matrix.shape
        mean_per_member = matrix.nnz / max(n_members, 1)
        return {
            "factors": int(self.factors),
            "regularization": self.scaled_regularization(n_members, n_titles, matrix.nnz),
            "alpha": self.alpha_,
            "iterations": int(self.iterations),
            "random_state": int(self.seed),
            "mean_titles_per_member": float(mean_per_member),
        }

    def check_params(self) -> None:
        check_number("ALS", "factors", self.factors, 1, 4096, integer=True)
        check_number("ALS", "regularization", self.regularization, 0, 1e6)
        check_number("ALS", "unobserved_weight", self.unobserved_weight, 1e-9, 1e6)
        check_number("ALS", "iterations", self.iterations, 1, 1000, integer=True)

    def fit(self, interactions: Interactions) -> Self:
        self.check_params()
        from implicit.als import AlternatingLeastSquares

        self._learn_rating_scale(interactions.matrix)
        confidences = self._inputs(interactions.matrix)  # relative to alpha_: 1 for a plain interaction
        params = self.implicit_parameters(interactions)
        mean_per_member = params.pop("mean_titles_per_member")
        use_gpu = gpu_available() if self.use_gpu is None else bool(self.use_gpu)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(**params, use_gpu=use_gpu, calculate_training_loss=False)
            model.fit(confidences, show_progress=False)
        factors = model.item_factors
        if hasattr(factors, "to_numpy"):
            factors = factors.to_numpy()
        self.title_factors_ = np.asarray(factors, dtype=np.float32)
        self.implicit_regularization_ = float(params["regularization"])
        self.mean_titles_per_member_ = float(mean_per_member)
        self.used_gpu_ = bool(use_gpu)
        self.title_ids_ = interactions.title_ids
        if getattr(self, "_keep_member_factors", True):
            self._remember_members(confidences)
        else:  # scored once, on a sample (auto's validation): every scored row is folded in instead
            for name in ("member_hashes_", "member_factors_"):
                self.__dict__.pop(name, None)
        log.info("ALS: %d factors, implicit λ'=%.4g, alpha=%.4g, gpu=%s", self.factors, params["regularization"],
                 params["alpha"], use_gpu)
        return self

    # -- member factors: trained members reused, new or changed histories folded in ----------
    def _remember_members(self, history: sp.csr_matrix) -> None:
        """Fold in every training member once (vectorised) and index them by a hash of their history."""
        factors = self._fold_in(history)
        hashes = history_hashes(history, with_values=self._rated)
        order = np.argsort(hashes, kind="stable")
        self.member_hashes_ = hashes[order]
        self.member_factors_ = factors[order]

    def member_factors(self, history: sp.csr_matrix) -> np.ndarray:
        """Each history row's member factors.

        A row whose titles are exactly a training member's titles reuses that member's factors
        (solved once at the end of `fit`); any other row (a new member, or one who watched
        something since) is folded in by solving its regularized weighted least squares.
        Both paths give the same factors for the same history.
        """
        history = self._inputs(self._check_history(history))
        out = np.zeros((history.shape[0], self.title_factors_.shape[1]), dtype=np.float32)
        known = getattr(self, "member_hashes_", None)
        missing = np.ones(history.shape[0], dtype=bool)
        if known is not None and len(known):
            hashes = history_hashes(history, with_values=self._rated)
            position = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
            hit = known[position] == hashes
            out[hit] = self.member_factors_[position[hit]]
            missing = ~hit
        missing &= np.diff(history.indptr) > 0
        if missing.any():
            rows = np.flatnonzero(missing)
            out[rows] = self._fold_in(history[rows])
        return out

    def _fold_in(self, history: sp.csr_matrix, budget: int = 50_000, systems: int = 4_000_000) -> np.ndarray:
        """Exact least-squares member factors for history rows of relative confidences, in padded batches.

        Members are sorted by history length and batched so that a batch's padded title factors
        (members × longest history × factors) stay near `budget` × factors float64 values and its
        stacked systems (members × factors × factors) near `systems` float64 values (32 MB: without
        this bound, 2,500 one-title members at 256 factors stacked 1.3 GB of systems); each batch is
        one stacked matmul for Σ y yᵀ and one batched `np.linalg.solve`.
        """
        titles = self.title_factors_.astype(np.float64)
        n_titles, n_factors = titles.shape
        padded_titles = np.vstack([titles, np.zeros((1, n_factors))])
        gram = titles.T @ titles
        a0 = float(self.unobserved_weight)
        base = self.mean_titles_per_member_ + a0 * n_titles
        eye = np.eye(n_factors)
        counts = np.diff(history.indptr)
        out = np.zeros((history.shape[0], n_factors), dtype=np.float32)
        rows = np.flatnonzero(counts > 0)
        rows = rows[np.argsort(counts[rows], kind="stable")]
        start = 0
        with threadpool_limits(1, "blas"):
            while start < len(rows):
                # counts ascend along `rows`, so (members so far) × (current length) only grows:
                # the batch end is a binary search, not a walk over members
                stop = max(start + 1, bisect.bisect_right(
                    range(start, len(rows)), budget, key=lambda j: (j - start + 1) * int(counts[rows[j]])) + start)
                stop = min(stop, start + max(1, systems // (n_factors * n_factors)))
                batch = rows[start:stop]
                longest = int(counts[batch[-1]])
                index = np.full((len(batch), longest), n_titles, dtype=np.int64)
                lengths = counts[batch]
                offsets = np.arange(longest)[None, :]
                take = offsets < lengths[:, None]
                flat = history.indptr[batch][:, None] + offsets
                index[take] = history.indices[flat[take]]
                weight = np.zeros((len(batch), longest))
                weight[take] = history.data[flat[take]]
                seen = padded_titles[index]  # batch × longest × factors (zeros where padded)
                lam = self.implicit_regularization_ * (lengths + a0 * n_titles) / base
                # confidence c = alpha·weight: A = YᵀY + Σ (c − 1) y yᵀ + λ I, b = Σ c y
                lift = np.where(take, self.alpha_ * weight - 1.0, 0.0)
                a = gram[None] + np.matmul(seen.transpose(0, 2, 1), seen * lift[..., None]) + lam[:, None, None] * eye[None]
                b = self.alpha_ * (seen * weight[..., None]).sum(axis=1)
                out[batch] = np.linalg.solve(a, b[..., None])[..., 0]
                start = stop
        return out

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray(self.member_factors(history) @ self.title_factors_.T, dtype=np.float32)

    def similar_titles(self, title_index: int, k: int = 10) -> Recommendations:
        """Cosine similarity of title factors."""
        self.check_fitted()
        self._check_title_index(title_index)
        norms = np.linalg.norm(self.title_factors_, axis=1) + 1e-12
        sims = (self.title_factors_ @ self.title_factors_[title_index]) / (norms * norms[title_index])
        sims[title_index] = -np.inf
        top = np.argsort(-sims, kind="stable")[: min(k, self.n_titles_)]
        return Recommendations(top[None, :].astype(np.int64), sims[top][None, :].astype(np.float32))

    def explain_many(
        self, history: sp.csr_matrix, title_indices: np.ndarray, top: int = 3
    ) -> list[list[tuple[int, float]]]:
        """Each history title's share of the score, as in implicit's `explain` (Hu et al. §5).

        With A the member's system matrix, score(t) = Σ_j c_j · h_tᵀ A⁻¹ h_j over history titles j
        (c_j the confidence of title j: `alpha`, times its rating weight when ratings are read).
        """
        history = self._inputs(self._check_history(history))
        asked = self._check_title_indices(title_indices)
        cols = history[0].indices
        if cols.size == 0:
            return [[] for _ in asked]
        confidence = self.alpha_ * history[0].data.astype(np.float64)
        titles = self.title_factors_.astype(np.float64)
        seen = titles[cols]
        a0 = float(self.unobserved_weight)
        lam_u = self.implicit_regularization_ * (cols.size + a0 * self.n_titles_) / (
            self.mean_titles_per_member_ + a0 * self.n_titles_
        )
        a = titles.T @ titles + (seen.T * (confidence - 1.0)) @ seen + lam_u * np.eye(titles.shape[1])
        weighted = np.linalg.solve(a, titles[asked].T)  # one solve serves every title asked about
        contributions = confidence[:, None] * (seen @ weighted)
        return top_contributions(cols, contributions, top)
