"""`auto`: choose models and hyperparameters on a validation split of the training data, and blend.

Nothing is set per dataset. `Auto.fit`:
1. splits the training data for validation the way the caller will be judged (`validation="auto"`:
   the protocol given by `set_protocol` — the evaluation harness gives it — or, without one, each
   member's most recent titles when there are timestamps and a per-member random holdout when
   there are none; see `_validation.py`);
2. searches each family's hyperparameters by coordinate ascent over fixed ladders (log-spaced EASE λ
   and its popularity penalty; ALS factors, λ, α₀, iterations; item-kNN neighbours and shrinkage;
   RP3beta α, β and neighbours; popularity half-life), measuring NDCG@`k` on the held-out part and
   ranking every title a member has not seen — a handful of fits per family, not a full grid;
3. fits blend weights (a 0.1 grid on the simplex of the best two or three families) and keeps the
   blend when its weights beat the best single model on the validation members and it does not lose
   *out of sample*: weights chosen on one half of the validation members are scored on the other
   half and vice versa, and the mean per-member loss must not exceed one standard error of the
   paired difference (see `_fit_blend`);
4. compares the best configuration of the top `FINALISTS` families on `validation_folds` folds —
   the same split drawn again with other seeds (random and members modes; the recent and temporal
   splits are fixed by time, so they have one fold) — and ranks them by the mean, so one lucky
   draw of held-out titles does not pick the model; the blend is then fitted on the first fold
   against the best family by that mean;
5. refits the winner (single model or blend) on all the training data.
The validation scores of every candidate are kept in `report_` (first fold) and the per-fold scores
of the finalists in `folds_`.

Scores are normalised per member before blending: z-score over the titles the member has not seen.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, Recommender, binarize, check_number, rating_moments

__all__ = ["DEFAULT_GRID", "Auto", "Blend", "describe_choice", "search_space"]

log = logging.getLogger(__name__)

# The earlier fixed grid, kept for callers who pass `grid=DEFAULT_GRID` explicitly.
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


def describe_choice(chosen: list[dict[str, Any]]) -> str:
    """`Auto.chosen_` in one line: "0.7 rp3beta(alpha=1.0, beta=0.3, k=200) + 0.3 als(factors=64, …)"."""
    return " + ".join(
        f"{c['weight']:.1f} {c['model']}(" + ", ".join(f"{k}={v}" for k, v in c["params"].items()) + ")"
        for c in chosen
    )


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

    @property
    def uses_order(self) -> bool:
        """True when a member reads ordered histories (SASRec): then callers pass times, not ratings."""
        return any(getattr(m, "uses_order", False) for m in self.members)

    def _history_for(self, model: Recommender, history: sp.csr_matrix) -> sp.csr_matrix:
        """What `model` reads: when a sequential member makes the blend pass histories of *times*,
        the other members get plain interactions (a time is no rating)."""
        if self.uses_order and not getattr(model, "uses_order", False):
            return binarize(history)
        return history

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = self._check_history(history)
        total = np.zeros((history.shape[0], self.n_titles_))
        for model, weight in zip(self.members, self.weights):
            if weight:
                total += weight * _normalise(model.score(self._history_for(model, history)), history)
        return total.astype(np.float32)

    def explain_many(
        self, history: sp.csr_matrix, title_indices: np.ndarray, top: int = 3
    ) -> list[list[tuple[int, float]]]:
        """Per title, the explanation of the heaviest-weighted model that names any title."""
        self.check_fitted()
        titles = self._check_title_indices(title_indices)
        out: list[list[tuple[int, float]]] = [[] for _ in titles]
        for i in np.argsort(-np.asarray(self.weights)):
            missing = [pos for pos, found in enumerate(out) if not found]
            if not missing:
                break
            member = self.members[int(i)]
            for pos, found in zip(missing, member.explain_many(self._history_for(member, history), titles[missing], top),
                                  strict=True):
                out[pos] = found
        return out

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
        members: list[Recommender] = []
        for i, doc in enumerate(meta["blend_members_"]):
            model = Recommender._rebuild(doc.get("class"), doc.get("params"), f"blend member {i} of the model file")
            prefix = f"m{i}."
            model.title_ids_ = self.title_ids_  # type: ignore[attr-defined]
            model._set_state({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}, doc["fitted"])
            members.append(model)
        self.members = members
        super()._set_state(arrays={}, meta={k: v for k, v in meta.items() if k != "blend_members_"})

    def save(self, path: Any) -> Any:
        for model in self.members:
            model.title_ids_ = self.title_ids_  # type: ignore[attr-defined]
        return super().save(path)


class Auto(Blend):
    """The default model: hyperparameter search per family plus blending, all on its own validation split."""

    name = "auto"
    _meta_attrs: ClassVar[tuple[str, ...]] = ("chosen_", "report_", "validation_mode_", "folds_")

    def __init__(
        self,
        k: int = 10,
        validation: str = "auto",
        validation_fraction: float = 0.2,
        seed: int = 7,
        grid: list[tuple[str, dict[str, Any]]] | None = None,
        blend: bool = True,
        weights: list[float] | None = None,
        families: list[str] | None = None,
        evaluations_per_family: int = 8,
        max_validation_members: int = 3000,
        validation_folds: int = 2,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__([], weights)
        self.k = k
        self.validation = validation
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.grid = [list(g) for g in grid] if grid is not None else None
        self.blend = blend
        self.families = list(families) if families is not None else None
        self.evaluations_per_family = evaluations_per_family
        self.max_validation_members = max_validation_members
        self.validation_folds = validation_folds
        self.max_seconds = max_seconds
        self._protocol: str | None = None

    def set_protocol(self, protocol: str | None) -> None:
        """The evaluation protocol this model will be judged by; `validation="auto"` imitates it."""
        self._protocol = protocol

    def get_params(self) -> dict[str, Any]:
        return {"k": self.k, "validation": self.validation, "validation_fraction": self.validation_fraction,
                "seed": self.seed, "grid": self.grid, "blend": self.blend,
                "weights": [float(w) for w in self.weights], "families": self.families,
                "evaluations_per_family": self.evaluations_per_family,
                "max_validation_members": self.max_validation_members,
                "validation_folds": self.validation_folds, "max_seconds": self.max_seconds}

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        arrays, meta = super()._get_state()
        meta["chosen_"] = self.chosen_
        meta["report_"] = self.report_
        meta["validation_mode_"] = getattr(self, "validation_mode_", None)
        meta["folds_"] = getattr(self, "folds_", [])
        return arrays, meta

    def check_params(self) -> None:
        from limelight.personalize.models._validation import MODES

        check_number("Auto", "k", self.k, 1, 1000, integer=True)
        check_number("Auto", "validation_fraction", self.validation_fraction, 0.01, 0.9)
        check_number("Auto", "evaluations_per_family", self.evaluations_per_family, 1, 1000, integer=True)
        check_number("Auto", "max_validation_members", self.max_validation_members, 1, 10**9, integer=True)
        check_number("Auto", "validation_folds", self.validation_folds, 1, 20, integer=True)
        if self.max_seconds is not None:
            check_number("Auto", "max_seconds", self.max_seconds, 1e-3, 1e7)
        if self.validation != "auto" and self.validation not in MODES:
            raise InputError(f"validation must be auto or one of {', '.join(MODES)}, got {self.validation!r}")

    def fit(self, interactions: Interactions) -> Self:
        from limelight.personalize.models.cowatch import reuse_grams

        # co-watch's Gram matrix depends on the data and the window, not on λ or dropout: the search
        # computes it once per window and fold instead of once per trial
        with reuse_grams():
            return self._fit(interactions)

    def _fit(self, interactions: Interactions) -> Self:
        from limelight.personalize.models import make_model
        from limelight.personalize.models._validation import (
            ValidationSplit,
            mode_for,
            validation_split,
        )

        self.check_params()
        clock = _Clock(self.max_seconds)
        has_time = interactions.last_at is not None
        mode = mode_for(self._protocol, has_time) if self.validation == "auto" else self.validation
        split = validation_split(interactions, mode, fraction=self.validation_fraction, seed=self.seed,
                                 max_members=self.max_validation_members)
        judge = _Judge(split.history, split.truth, self.k)
        log.info("auto: %s validation, %d members scored", split.mode, split.history.shape[0])

        report: list[dict[str, Any]] = []
        best: dict[str, tuple[float, dict[str, Any], np.ndarray, np.ndarray]] = {}

        def validate(family: str, params: dict[str, Any], fold: ValidationSplit) -> np.ndarray:
            model = make_model(family, **params)
            # A validation fit scores at most `max_validation_members` once: ALS need not solve every
            # training member's factors for later reuse (half of auto's time on the 1M demo); the
            # sampled rows are folded in, which gives the same factors.
            model._keep_member_factors = False  # type: ignore[attr-defined]
            model.fit(fold.train)
            ordered = getattr(model, "uses_order", False) and fold.history_time is not None
            scores = np.asarray(model.score(fold.history_time if ordered else fold.history), dtype=np.float32)
            return scores

        tried: dict[str, float] = {}

        def trial(family: str, params: dict[str, Any]) -> float:
            key = f"{family}:{sorted(params.items())!r}"
            if key in tried:  # a starting point tried up front (time budget) is not fitted twice
                return tried[key]
            if clock.spent() and family in best:  # out of time: this family keeps what it has
                clock.skipped += 1
                return -np.inf
            scores = validate(family, params, split)
            per_member = judge.ndcg(scores)
            value = float(per_member.mean())
            report.append({"model": family, "params": params, "validation_ndcg": value})
            log.info("auto: %s %s validation NDCG@%d = %.4f", family, params, self.k, value)
            if family not in best or value > best[family][0]:
                best[family] = (value, params, per_member, _normalise(scores, split.history).astype(np.float32))
                # only the best three families can enter a blend: keep no other score matrix in memory
                for name, (v, p, per, _scores) in sorted(best.items(), key=lambda item: -item[1][0])[3:]:
                    best[name] = (v, p, per, np.empty((0, 0), np.float32))
            tried[key] = value
            return value

        if self.grid is not None:
            for family, params in self.grid:
                trial(str(family), dict(params))  # type: ignore[arg-type]
        else:
            space = search_space(interactions, self.families)
            if clock.limited:  # every family's starting point first, so that none is left out by the clock
                for family, start, _ladders in space:
                    trial(family, start)
            for family, start, ladders in space:
                if family in EXHAUSTIVE:  # fits cost nothing: try every rung
                    for name, ladder in ladders.items():
                        for value in ladder:
                            trial(family, {**start, name: value})
                    if not ladders:
                        trial(family, start)
                else:
                    budget = min(self.evaluations_per_family, FAMILY_EVALUATIONS.get(family, self.evaluations_per_family))
                    if "rating_weight" in ladders:  # its rungs come on top of the family's usual search
                        budget += len(ladders["rating_weight"]) - 1
                    _coordinate_search(family, start, ladders, trial, budget)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        # the finalists on the other folds: rank by the mean over folds, not one draw of held-out titles
        seeds = [self.seed + fold for fold in range(self.validation_folds if split.mode in REDRAWN else 1)]
        finalists = ranked[:FINALISTS]
        fold_ndcg = {family: [value[0]] for family, value in finalists}
        for fold_seed in seeds[1:]:
            if clock.spent():
                done = seeds.index(fold_seed)
                log.info("auto: time budget spent; finalists ranked on %d of %d folds", done, len(seeds))
                seeds = seeds[:done]
                break
            fold = validation_split(interactions, split.mode, fraction=self.validation_fraction, seed=fold_seed,
                                    max_members=self.max_validation_members)
            fold_judge = _Judge(fold.history, fold.truth, self.k)
            for family, value in finalists:
                fold_value = float(fold_judge.ndcg(validate(family, value[1], fold)).mean())
                fold_ndcg[family].append(fold_value)
                log.info("auto: %s %s fold seed %d NDCG@%d = %.4f", family, value[1], fold_seed, self.k, fold_value)
        self.folds_: list[dict[str, Any]] = [
            {"model": family, "params": value[1], "seeds": seeds, "validation_ndcg": fold_ndcg[family],
             "mean_validation_ndcg": float(np.mean(fold_ndcg[family]))}
            for family, value in finalists
        ]
        ranked = sorted(finalists, key=lambda item: -float(np.mean(fold_ndcg[item[0]]))) + ranked[FINALISTS:]
        for family, value in ranked[:3]:  # the blend needs first-fold scores; dropped ones are recomputed
            if value[3].size == 0:
                scores = validate(family, value[1], split)
                best[family] = (value[0], value[1], value[2], _normalise(scores, split.history).astype(np.float32))
        ranked = [(family, best[family]) for family, _ in ranked]
        choice: list[tuple[str, dict[str, Any], float]] = [(ranked[0][0], ranked[0][1][1], 1.0)]
        if self.blend and len(ranked) >= 2:
            blended = _fit_blend(judge, [(f, v[2], v[3]) for f, v in ranked[:3]], seed=self.seed)
            report.append({"model": "blend", **blended["report"]})
            log.info("auto: blend %s out-of-sample gain %.4f (standard error %.4f), kept: %s",
                     blended["weights"], blended["report"]["out_of_sample_gain"],
                     blended["report"]["gain_standard_error"], blended["keep"])
            if blended["keep"]:
                params_of = {f: v[1] for f, v in ranked}
                choice = [(f, params_of[f], w) for f, w in blended["weights"] if w > 0]
        log.info("auto chose %s", choice)
        self.members = [make_model(family, **params) for family, params, _ in choice]
        self.weights = [w for _, _, w in choice]
        for model in self.members:
            model.fit(interactions)
        means = {row["model"]: row["mean_validation_ndcg"] for row in self.folds_}
        self.chosen_ = [{"model": f, "params": p, "weight": w, "mean_validation_ndcg": means.get(f)}
                        for f, p, w in choice]
        if clock.skipped:
            report.append({"model": "time budget", "max_seconds": self.max_seconds, "trials_skipped": clock.skipped})
            log.info("auto: %d trials skipped after the %.0f s budget", clock.skipped, self.max_seconds)
        self.report_ = report
        self.validation_mode_ = split.mode
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        if len(self.members) == 1:
            self.check_fitted()
            return self.members[0].score(history)
        return super().score(history)


Ladders = dict[str, list[Any]]
#: the training-time bound of SASRec inside auto (each fit: once on validation, once to refit)
SASREC_SECONDS = 300.0
#: families whose fits cost next to nothing: every rung of their ladder is tried
EXHAUSTIVE = frozenset({"popularity"})
#: the training-time bound of one VAE fit inside auto, and how many VAE configurations are tried
VAE_SECONDS = 30.0
FAMILY_EVALUATIONS: dict[str, int] = {"vae": 2}
VAE_START: dict[str, Any] = {"variant": "multvae", "beta": 1.0}
VAE_LADDERS: Ladders = {"beta": [0.25, 0.5, 1.0, 2.0]}
#: the most titles EASE inverts inside auto: a float32 Gram matrix of 20,000² is 1.6 GB, and the
#: Cholesky inverse and the weights need about three such matrices at once
EASE_MAX_TITLES = 20_000
#: the rating weights tried when the interactions carry ratings (see `EASE`, `ALS`), plain interactions first
RATING_WEIGHTS: dict[str, tuple[float, ...]] = {"ease": (0.0, 0.1, 0.2, 0.4), "als": (0.0, 0.2, 0.4, 0.8)}
#: how many of the best families (by the first fold) are compared again on the other folds
FINALISTS = 3
#: validation modes whose split changes with the seed (the recent and temporal ones are fixed by time)
REDRAWN = frozenset({"random", "titles", "members"})


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def search_space(
    interactions: Interactions, families: list[str] | None = None
) -> list[tuple[str, dict[str, Any], Ladders]]:
    """Each family's starting point and the ladder of values each hyperparameter may step along.

    The same for every dataset; only three facts about the data enter: whether there are timestamps
    (popularity half-life), whether interactions carry ratings (EASE's and ALS's `rating_weight`, its
    rungs added to the family's budget) and whether the catalog is large (> 3,000 titles: EASE then leaves titles
    with fewer than 3 training members out of its inverse, several times cheaper and, on
    MovieLens, no less accurate; more than `EASE_MAX_TITLES` such titles: EASE is left out, its
    dense inverse would not fit in memory). SASRec is a candidate only when asked for in `families` and the
    data has timestamps; its training stops after `SASREC_SECONDS` (a CPU fit takes minutes).
    The VAE is likewise a candidate only when asked for (and PyTorch is installed): it scored well
    below EASE on both MovieLens sets while adding a minute of fits; then at most
    `FAMILY_EVALUATIONS["vae"]` configurations (its KL-weight ladder), each stopped after `VAE_SECONDS`.
    """
    has_time = interactions.last_at is not None
    min_support = 3 if interactions.n_titles > 3000 else 1
    ease_titles = int((np.diff(interactions.matrix.tocsc().indptr) >= min_support).sum())
    space: list[tuple[str, dict[str, Any], Ladders]] = [
        ("popularity", {"half_life_days": None},
         {"half_life_days": [None, 1460.0, 365.0, 180.0, 90.0, 30.0, 7.0]} if has_time else {}),
        ("ease", {"regularization": 200.0, "diagonal_penalty": 0.0, "min_support": min_support},
         {"regularization": [12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0],
          "diagonal_penalty": [0.0, 0.1, 0.3, 1.0]}),
        *([("cowatch", {"regularization": 100.0, "window_minutes": 6.0, "plain_weight": 0.0, "min_support": min_support},
            {"regularization": [25.0, 50.0, 100.0, 200.0, 400.0, 800.0],
             "window_minutes": [1.0, 3.0, 6.0, 15.0, 60.0, 240.0]}),
           # the same family as DLAE (free diagonal, dropout): it competes with the EASE form for the
           # family's place in the blend rather than crowding another family out
           ("cowatch", {"regularization": 200.0, "window_minutes": 6.0, "plain_weight": 0.0, "dropout": 0.5,
                        "min_support": min_support},
            {"dropout": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], "regularization": [25.0, 50.0, 100.0, 200.0, 400.0, 800.0],
             "window_minutes": [1.0, 3.0, 6.0, 15.0, 60.0, 240.0]})] if has_time else []),
        ("als", {"factors": 128, "regularization": 0.01, "unobserved_weight": 0.3, "iterations": 15},
         {"regularization": [0.001, 0.003, 0.01, 0.03, 0.1], "unobserved_weight": [0.03, 0.1, 0.3, 1.0],
          "factors": [32, 64, 128, 256], "iterations": [10, 15, 25]}),
        ("rp3beta", {"alpha": 1.0, "beta": 0.3, "k": 200},
         {"beta": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7], "alpha": [0.5, 0.75, 1.0, 1.25], "k": [100, 200, 400]}),
        ("itemknn", {"k": 100, "shrinkage": 10.0},
         {"k": [25, 50, 100, 200, 400], "shrinkage": [0.0, 10.0, 50.0, 200.0]}),
    ]
    if ease_titles > EASE_MAX_TITLES:  # its dense Gram matrix and inverse would not fit: the others remain
        log.info("auto: EASE left out: %d titles with %d or more members exceed %d", ease_titles, min_support,
                 EASE_MAX_TITLES)
        space = [row for row in space if row[0] not in ("ease", "cowatch")]
    if rating_moments(interactions.matrix)[1] > 0:  # the interactions carry ratings (or repeat counts)
        space = [(family, {**start, "rating_weight": 0.0}, {"rating_weight": list(RATING_WEIGHTS[family]), **ladders})
                 if family in RATING_WEIGHTS else (family, start, ladders) for family, start, ladders in space]
    if families is not None and "vae" in families:
        if _torch_available():
            space.append(("vae", dict(VAE_START, max_seconds=VAE_SECONDS), dict(VAE_LADDERS)))
        else:
            log.info("auto: the VAE left out: PyTorch is not installed (pip install 'limelight[deep]')")
    if families is not None:
        known = {f for f, _, _ in space} | {"sasrec", "vae"}
        unknown = set(families) - known
        if unknown:
            raise InputError(f"families must be among {', '.join(sorted(known))}, got {sorted(unknown)}")
        space = [row for row in space if row[0] in families]
        if "sasrec" in families:
            if has_time:
                space.append(("sasrec", {"epochs": 50, "max_seconds": SASREC_SECONDS}, {}))
            else:
                log.info("auto: SASRec left out: there are no timestamps to order each member's titles")
    return space


class _Clock:
    """auto's clock: once `max_seconds` have passed, no new trial or fold starts (None: no limit).

    What is running finishes, and the chosen models are still fitted on all the data afterwards, so
    a fit takes `max_seconds` plus the final fits; every family keeps at least its starting point.
    """

    def __init__(self, max_seconds: float | None) -> None:
        import time

        self._clock = time.monotonic
        self.limited = max_seconds is not None
        self.deadline = self._clock() + max_seconds if max_seconds is not None else float("inf")
        self.skipped = 0

    def spent(self) -> bool:
        return self._clock() >= self.deadline


def _coordinate_search(
    family: str, start: dict[str, Any], ladders: Ladders, trial: Callable[[str, dict[str, Any]], float], budget: int
) -> None:
    """Step one hyperparameter at a time to a neighbouring rung while validation improves."""
    current = dict(start)
    best = trial(family, current)
    tried = {repr(sorted(current.items()))}
    evaluations = 1
    improved = True
    while improved and evaluations < budget:
        improved = False
        for name, ladder in ladders.items():
            position = ladder.index(current[name])
            for step in (-1, 1):
                while 0 <= position + step < len(ladder) and evaluations < budget:
                    candidate = {**current, name: ladder[position + step]}
                    key = repr(sorted(candidate.items()))
                    if key in tried:
                        break
                    tried.add(key)
                    value = trial(family, candidate)
                    evaluations += 1
                    if value <= best:
                        break
                    best, current, position, improved = value, candidate, position + step, True


class _Judge:
    """NDCG@K per validated member for a score matrix (seen titles excluded)."""

    def __init__(self, history: sp.csr_matrix, truth: sp.csr_matrix, k: int) -> None:
        self.history = history
        self.truth = truth
        self.k = min(k, history.shape[1])
        seen = history.tocoo()
        self.seen = (seen.row, seen.col)

    def ndcg(self, scores: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        from limelight.personalize.metrics import ranking_metrics

        masked = np.array(scores, dtype=np.float32)
        masked[self.seen] = -np.inf
        truth = self.truth
        if rows is not None:
            masked, truth = masked[rows], truth[rows]
        top = np.argpartition(-masked, self.k - 1, axis=1)[:, : self.k]
        order = np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return ranking_metrics(top, truth, self.k)["ndcg"]


def _fit_blend(
    judge: _Judge, families: list[tuple[str, np.ndarray, np.ndarray]], *, seed: int, z: float = -1.0
) -> dict[str, Any]:
    """Blend weights on the 0.1 simplex grid, kept if they beat the best single model and do not lose out of sample.

    `families`: (name, per-member NDCG, normalised scores), best first. Weights are searched on
    half A of the members and scored on half B, and the other way round; the blend is kept when
    its weights beat the best single model on all the members (in sample) and the mean paired gain
    out of sample exceeds `z` standard errors. `z` = −1 keeps such a blend unless it *loses* out of
    sample by more than one standard error: a blend of member-normalised scores of
    good models rarely does worse than its best member, while a validation split of a few thousand
    members rarely shows a gain of a few thousandths as significant (on MovieLens 100k a blend
    that gained 0.005 NDCG@10 on the test split had −0.0006 ± 0.0020 out of sample in validation).
    """
    n = judge.history.shape[0]
    names = [f for f, _, _ in families]
    single = families[0][1]
    candidates: list[tuple[float, ...]] = []
    for size in (2, 3):
        if len(families) < size:
            break
        for w in itertools.product(range(1, 10), repeat=size):
            if sum(w) == 10:
                candidates.append(tuple(x / 10 for x in w) + (0.0,) * (len(families) - size))

    def combined(weights: tuple[float, ...]) -> np.ndarray:
        return np.sum([w * fam[2] for w, fam in zip(weights, families) if w], axis=0)

    per_candidate = [judge.ndcg(combined(w)) for w in candidates]

    def search(rows: np.ndarray) -> int:
        return int(np.argmax([values[rows].mean() for values in per_candidate]))

    rng = np.random.default_rng(seed)
    half = rng.permutation(n)
    a, b = np.sort(half[: n // 2]), np.sort(half[n // 2 :])
    out_of_sample = np.empty(n)
    if len(a) and len(b):
        out_of_sample[a] = per_candidate[search(b)][a]
        out_of_sample[b] = per_candidate[search(a)][b]
    else:
        out_of_sample[:] = single
    gain = out_of_sample - single
    se = float(gain.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    chosen = candidates[search(np.arange(n))]
    in_sample_gain = float(per_candidate[candidates.index(chosen)].mean() - single.mean())
    keep = bool(in_sample_gain > 0 and gain.mean() > z * se) if n > 1 else False
    weights = [(name, float(w)) for name, w in zip(names, chosen)]
    return {
        "keep": keep,
        "weights": weights,
        "report": {
            "params": dict(weights),
            "validation_ndcg": float(per_candidate[candidates.index(chosen)].mean()),
            "in_sample_gain": in_sample_gain,
            "out_of_sample_gain": float(gain.mean()),
            "gain_standard_error": se,
            "kept": keep,
        },
    }
