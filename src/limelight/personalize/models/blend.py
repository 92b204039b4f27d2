"""`auto`: choose models and hyperparameters on a validation split of the training data, and blend.

Nothing is set per dataset. `Auto.fit`:
1. holds out `validation_fraction` of each member's training interactions (per-member random, seeded);
2. fits every candidate in a small fixed grid (popularity; item-kNN k; EASE λ; ALS factors × λ) on the rest
   and measures NDCG@`k` on the held-out part, ranking all titles a member has not seen;
3. keeps the best setting of each family, then tries score-normalised linear blends of the best
   two and three families (weights on a 0.1 grid of the simplex), also on validation;
4. refits the winner (single model or blend) on all the training data.
The validation scores of every candidate are kept in `report_`.

Scores are normalised per member before blending: z-score over the titles the member has not seen.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, Recommender, check_number

__all__ = ["DEFAULT_GRID", "Auto", "Blend"]

log = logging.getLogger(__name__)

# (family, params): a small grid, the same for every dataset. EASE λ spans Steck's 2019 range.
DEFAULT_GRID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("popularity", {}),
    ("itemknn", {"k": 50}),
    ("itemknn", {"k": 200}),
    ("ease", {"regularization": 100.0}),
    ("ease", {"regularization": 400.0}),
    ("ease", {"regularization": 1600.0}),
    ("als", {"factors": 128, "regularization": 0.003, "unobserved_weight": 0.5}),
    ("als", {"factors": 128, "regularization": 0.01, "unobserved_weight": 0.5}),
    ("als", {"factors": 128, "regularization": 0.01, "unobserved_weight": 0.1}),
    ("als", {"factors": 128, "regularization": 0.03, "unobserved_weight": 0.1}),
)


def _normalise(scores: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
    """Per-row z-score over unseen titles; seen titles get the row minimum."""
    scores = np.array(scores, dtype=np.float64)
    seen = history.tocoo()
    mask = np.ones_like(scores, dtype=bool)
    mask[seen.row, seen.col] = False
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    mean = np.where(mask, scores, 0).sum(axis=1, keepdims=True) / counts
    var = np.where(mask, (scores - mean) ** 2, 0).sum(axis=1, keepdims=True) / counts
    out = (scores - mean) / np.sqrt(var + 1e-12)
    out[~mask] = out.min()
    return out


def _constant(scores: np.ndarray) -> Callable[[sp.csr_matrix], np.ndarray]:
    return lambda _history: scores


class Blend(Recommender):
    """A weighted sum of member-normalised scores of fitted models."""

    name = "blend"

    def __init__(self, members: list[Recommender] | None = None, weights: list[float] | None = None) -> None:
        self.members = list(members or [])
        self.weights = list(weights or [1.0] * len(self.members))

    def get_params(self) -> dict[str, Any]:
        return {"weights": [float(w) for w in self.weights]}

    def fit(self, interactions: Interactions) -> Self:
        if not self.members or len(self.members) != len(self.weights):
            raise InputError(
                f"a blend must have as many weights as models, got {len(self.weights)} for {len(self.members)}"
            )
        for model in self.members:
            model.fit(interactions)
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = self._check_history(history)
        total = np.zeros((history.shape[0], self.n_titles_))
        for model, weight in zip(self.members, self.weights):
            if weight:
                total += weight * _normalise(model.score(history), history)
        return total.astype(np.float32)

    def explain(self, history: sp.csr_matrix, title_index: int, top: int = 3) -> list[tuple[int, float]]:
        """The heaviest-weighted model's explanation that names any title."""
        self.check_fitted()
        for i in np.argsort(-np.asarray(self.weights)):
            found = self.members[int(i)].explain(history, title_index, top)
            if found:
                return found
        return []

    def similar_titles(self, title_index: int, k: int = 10) -> Any:
        """Similar titles according to the heaviest-weighted model."""
        self.check_fitted()
        return self.members[int(np.argmax(self.weights))].similar_titles(title_index, k)

    # persistence: each member's state under a prefix
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        arrays: dict[str, Any] = {}
        meta: dict[str, Any] = {"blend_members_": []}
        for i, model in enumerate(self.members):
            sub_arrays, sub_meta = model._get_state()
            arrays.update({f"m{i}.{k}": v for k, v in sub_arrays.items()})
            meta["blend_members_"].append(
                {"class": f"{type(model).__module__}:{type(model).__qualname__}", "params": model.get_params(),
                 "fitted": sub_meta}
            )
        return arrays, meta

    def _set_state(self, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        import importlib

        members: list[Recommender] = []
        for i, doc in enumerate(meta["blend_members_"]):
            module_name, _, qualname = doc["class"].partition(":")
            if not module_name.startswith("limelight.personalize."):
                raise InputError(f"a blend member must be a limelight model, got {module_name!r}")
            model = getattr(importlib.import_module(module_name), qualname)(**doc["params"])
            prefix = f"m{i}."
            model.title_ids_ = self.title_ids_  # type: ignore[attr-defined]
            model._set_state({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}, doc["fitted"])
            members.append(model)
        self.members = members
        for key, value in meta.items():
            if key != "blend_members_":
                setattr(self, key, value)

    def save(self, path: Any) -> Any:
        for model in self.members:
            model.title_ids_ = self.title_ids_  # type: ignore[attr-defined]
        return super().save(path)


class Auto(Blend):
    """The default model: grid search per family plus blending, all on its own validation split."""

    name = "auto"
    _meta_attrs: ClassVar[tuple[str, ...]] = ("chosen_", "report_")

    def __init__(
        self,
        k: int = 10,
        validation_fraction: float = 0.2,
        seed: int = 7,
        grid: list[tuple[str, dict[str, Any]]] | None = None,
        blend: bool = True,
        weights: list[float] | None = None,
    ) -> None:
        super().__init__([], weights)
        self.k = k
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.grid = [list(g) for g in grid] if grid is not None else None
        self.blend = blend

    def get_params(self) -> dict[str, Any]:
        return {"k": self.k, "validation_fraction": self.validation_fraction, "seed": self.seed,
                "grid": self.grid, "blend": self.blend, "weights": [float(w) for w in self.weights]}

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        arrays, meta = super()._get_state()
        meta["chosen_"] = self.chosen_
        meta["report_"] = self.report_
        return arrays, meta

    def fit(self, interactions: Interactions) -> Self:
        from limelight.personalize.metrics import ranking_metrics
        from limelight.personalize.models import make_model
        from limelight.personalize.splits import _per_member_holdout

        check_number("Auto", "k", self.k, 1, 1000, integer=True)
        check_number("Auto", "validation_fraction", self.validation_fraction, 0.01, 0.9)
        source: Any = self.grid or DEFAULT_GRID
        grid: list[tuple[str, dict[str, Any]]] = [(str(f), dict(p)) for f, p in source]
        rng = np.random.default_rng(self.seed)
        coo = interactions.matrix.tocoo()
        frame = pd.DataFrame({"member_id": coo.row, "title_id": coo.col})
        held = _per_member_holdout(frame, self.validation_fraction, rng)
        shape = interactions.matrix.shape
        fit_part = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=shape)
        truth = sp.csr_matrix((np.ones(held.sum(), np.float32), (coo.row[held], coo.col[held])), shape=shape)
        members = np.flatnonzero(truth.getnnz(axis=1) > 0)
        last_at = None
        if interactions.last_at is not None:
            last = interactions.last_at.tocoo()
            last_at = sp.csr_matrix((last.data, (last.row, last.col)), shape=shape).multiply(fit_part > 0).tocsr()
        training = Interactions(fit_part, interactions.member_ids, interactions.title_ids, last_at=last_at)
        history = fit_part[members]
        truth = truth[members]

        def ndcg(score_fn: Callable[[sp.csr_matrix], np.ndarray]) -> tuple[float, np.ndarray]:
            scores = np.asarray(score_fn(history), dtype=np.float64)
            seen = history.tocoo()
            masked = scores.copy()
            masked[seen.row, seen.col] = -np.inf
            top = np.argsort(-masked, axis=1, kind="stable")[:, : self.k]
            return float(ranking_metrics(top, truth, self.k)["ndcg"].mean()), scores

        report: list[dict[str, Any]] = []
        best: dict[str, tuple[float, dict[str, Any], np.ndarray]] = {}
        for family, params in grid:
            model = make_model(family, **params).fit(training)
            value, scores = ndcg(model.score)
            report.append({"model": family, "params": params, "validation_ndcg": value})
            log.info("auto: %s %s validation NDCG@%d = %.4f", family, params, self.k, value)
            if family not in best or value > best[family][0]:
                best[family] = (value, params, _normalise(scores, history))
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        choice: list[tuple[str, dict[str, Any], float]] = [(ranked[0][0], ranked[0][1][1], 1.0)]
        best_value = ranked[0][1][0]
        if self.blend and len(ranked) >= 2:
            for size in (2, 3):
                if len(ranked) < size:
                    break
                families = ranked[:size]
                steps = [w for w in itertools.product(range(1, 10), repeat=size) if sum(w) == 10]
                for weights in steps:
                    combined: np.ndarray = np.sum([w / 10 * fam[1][2] for w, fam in zip(weights, families)], axis=0)
                    value, _ = ndcg(_constant(combined))
                    if value > best_value + 1e-4:
                        best_value = value
                        choice = [(fam[0], fam[1][1], w / 10) for w, fam in zip(weights, families)]
            report.append({"model": "blend", "params": {f: w for f, _, w in choice}, "validation_ndcg": best_value})
        log.info("auto chose %s (validation NDCG@%d %.4f)", choice, self.k, best_value)
        self.members = [make_model(family, **params) for family, params, _ in choice]
        self.weights = [w for _, _, w in choice]
        for model in self.members:
            model.fit(interactions)
        self.chosen_ = [{"model": f, "params": p, "weight": w} for f, p, w in choice]
        self.report_ = report
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        if len(self.members) == 1:
            self.check_fitted()
            return self.members[0].score(history)
        return super().score(history)
