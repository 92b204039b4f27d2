"""The one estimator interface every recommender implements, and the interaction data it fits on.

Shape after implicit's `RecommenderBase` and scikit-learn's estimators: `__init__` stores
arguments, `fit` learns attributes ending in `_` and returns `self`, every other method first
checks the model is fitted. Scores come from a member's *history row*, so a member who is not in
the training data (or who just watched something) is served by fold-in without retraining.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.artifacts import RECOMMENDER_KIND, load_artifact, npz_path, save_artifact
from limelight.errors import InputError, NotFittedError, NotFoundError

__all__ = [
    "Explanation",
    "Interactions",
    "RatingWeighted",
    "Recommendations",
    "Recommender",
    "binarize",
    "check_number",
    "latest_per_pair",
    "rating_moments",
    "rating_strength",
    "weight_by_rating",
]

SAVE_FORMAT = "limelight.recommender/1"


def binarize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """A copy with every stored interaction set to 1 (binary relevance; ratings only say 'watched')."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    out.data[:] = 1.0
    return out


#: the smallest weight a low rating can bring an interaction down to: a rated title was still watched
MIN_RATING_WEIGHT = 0.1


def rating_moments(matrix: sp.csr_matrix) -> tuple[float, float]:
    """Mean and standard deviation of the stored interaction strengths (0 spread: plain interactions)."""
    data = np.asarray(matrix.data, dtype=np.float64)
    if data.size == 0:
        return 1.0, 0.0
    return float(data.mean()), float(data.std())


def rating_strength(ratings: pd.Series | np.ndarray) -> np.ndarray:
    """Ratings as interaction strengths ≥ 1 (shifted so the lowest is 1; missing ones count as the lowest).

    A sparse matrix cannot keep a rating of 0 (0 means "no interaction"), and `weight_by_rating`
    only reads z-scores, which a shift leaves unchanged.
    """
    values = pd.to_numeric(pd.Series(np.asarray(ratings)), errors="coerce").to_numpy(np.float64)
    if values.size == 0 or np.isnan(values).all():
        return np.ones(values.size, np.float32)
    low = np.nanmin(values)
    return np.nan_to_num(values - low + 1.0, nan=1.0).astype(np.float32)


def latest_per_pair(frame: pd.DataFrame, time: pd.Series) -> pd.DataFrame:
    """One row per (member_id, title_id): the latest by `time` (a tie: the later row), in time order.
    A rating is a state, not an event: a title rated twice is its latest rating."""
    return frame.loc[time.sort_values(kind="stable").index].drop_duplicates(["member_id", "title_id"], keep="last")


def weight_by_rating(matrix: sp.csr_matrix, mean: float, spread: float, weight: float) -> sp.csr_matrix:
    """Each stored interaction as 1 + `weight`·(rating − mean)/spread, at least `MIN_RATING_WEIGHT`.

    Every rated title stays an interaction (binary relevance: a title rated 1 star was watched too);
    the rating only says how strongly it speaks for its neighbours, as SAR's rating affinities do.
    With no spread (plain interactions) or no weight this is `binarize`; a history of plain ones
    against a model fitted on ratings gets one weight for every title, which leaves a linear model's
    ranking unchanged.
    """
    if not weight or spread <= 0:
        return binarize(matrix)
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    out.data[:] = np.maximum(1.0 + weight * (out.data - mean) / spread, MIN_RATING_WEIGHT)
    return out


class RatingWeighted:
    """Mixin for models that read ratings as interaction strengths (`rating_weight`; see `weight_by_rating`).

    The host sets `rating_weight` in `__init__`, calls `_learn_rating_scale` in `fit`, lists
    `RATING_ATTRS` among its `_meta_attrs`, and reads histories through `_inputs`. A model saved
    before ratings were read has neither fitted attribute: the class defaults mean plain interactions.
    """

    RATING_ATTRS: ClassVar[tuple[str, ...]] = ("rating_mean_", "rating_spread_")
    rating_weight: float
    rating_mean_: float = 1.0
    rating_spread_: float = 0.0

    def _learn_rating_scale(self, matrix: sp.csr_matrix) -> None:
        check_number(type(self).__name__, "rating_weight", self.rating_weight, 0, 10)
        self.rating_mean_, self.rating_spread_ = rating_moments(matrix)

    def _inputs(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """The history as the model reads it: rating-weighted strengths, or plain interactions."""
        return weight_by_rating(history, self.rating_mean_, self.rating_spread_, self.rating_weight)

    @property
    def _rated(self) -> bool:
        """True when this fitted model weights by rating (a weight and ratings that vary)."""
        return bool(self.rating_weight) and self.rating_spread_ > 0


def check_number(
    owner: str, name: str, value: Any, low: float, high: float, *, integer: bool = False
) -> None:
    """Raise `InputError` with one sentence unless `low <= value <= high` (and an int when asked)."""
    kind = "an int" if integer else "a number"
    ok = isinstance(value, int | np.integer) if integer else isinstance(value, int | float | np.number)
    if isinstance(value, bool) or not ok or not (low <= value <= high):
        raise InputError(f"the '{name}' parameter of {owner} must be {kind} in [{low:g}, {high:g}], got {value!r}")



@dataclass
class Interactions:
    """A members × titles matrix of interaction strengths, with the ids on both axes.

    `matrix[m, t]` is the strength of member `m`'s interaction with title `t` (1 for a plain
    interaction; a rating or watch fraction where the source has one). `last_at[m, t]`, when given,
    holds the latest interaction time as seconds since the epoch (used by sequential and
    time-decayed models and by temporal splits).
    """

    matrix: sp.csr_matrix
    member_ids: np.ndarray  # str ids, position = row
    title_ids: np.ndarray  # str ids, position = column
    last_at: sp.csr_matrix | None = None
    events: pd.DataFrame | None = field(default=None, repr=False)  # member_idx, title_idx, timestamp (sequences)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        member_col: str = "member_id",
        title_col: str = "title_id",
        weight_col: str | None = None,
        time_col: str | None = None,
        title_ids: np.ndarray | None = None,
    ) -> Interactions:
        """Build from a long frame, one row per interaction (duplicates add up)."""
        if frame.empty:
            raise InputError("interactions must have at least one row, got an empty table")
        members = pd.Categorical(frame[member_col].astype(str))
        if title_ids is None:
            titles = pd.Categorical(frame[title_col].astype(str))
            title_axis, cols = titles.categories, titles.codes.astype(np.int32)
        else:  # a fixed axis: titles not on it are dropped (code −1), as a Categorical with those categories did
            title_axis = pd.Index(title_ids)
            cols = title_axis.get_indexer(frame[title_col].astype(str)).astype(np.int32)
        rows = members.codes.astype(np.int32)
        keep = cols >= 0
        weights = (
            frame[weight_col].to_numpy(dtype=np.float32) if weight_col else np.ones(len(frame), np.float32)
        )
        shape = (len(members.categories), len(title_axis))
        matrix = sp.csr_matrix((weights[keep], (rows[keep], cols[keep])), shape=shape, dtype=np.float32)
        matrix.sum_duplicates()
        last_at = None
        events = None
        if time_col is not None:
            seconds = _epoch_seconds(frame[time_col])
            events = pd.DataFrame({"member_idx": rows[keep], "title_idx": cols[keep], "timestamp": seconds[keep]})
            latest = events.groupby(["member_idx", "title_idx"], sort=False)["timestamp"].max().reset_index()
            last_at = sp.csr_matrix(
                (latest["timestamp"].to_numpy(np.float64), (latest["member_idx"], latest["title_idx"])), shape=shape
            )
        return cls(
            matrix=matrix,
            member_ids=np.asarray(members.categories, dtype=object),
            title_ids=np.asarray(title_axis, dtype=object),
            last_at=last_at,
            events=events,
        )

    @property
    def n_members(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_titles(self) -> int:
        return int(self.matrix.shape[1])

    def member_index(self, member_id: str) -> int:
        found = np.flatnonzero(self.member_ids == str(member_id))
        if not found.size:
            raise NotFoundError(f"member '{member_id}' has no interactions in the training data")
        return int(found[0])


@dataclass
class Recommendations:
    """Top-K per member: `titles[i]` are column indexes, best first; `scores[i]` their scores."""

    titles: np.ndarray  # (n_members, k) int
    scores: np.ndarray  # (n_members, k) float


@dataclass
class Explanation:
    """Why a title was recommended: the titles (and attributes) that earned it, strongest first."""

    title_id: str
    because_titles: list[tuple[str, float]]
    because_attributes: list[tuple[str, float]] = field(default_factory=list)
    sentence: str = ""


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `k` highest scores, best first; equal scores in title order, so a list never depends
    on how `argpartition` happened to order ties (a popularity model ties often; so do seen titles
    at −inf when a member has fewer than `k` unseen)."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    kth = top_scores.min(axis=1)
    # rows where the k-th score is shared with titles left out: take the lowest-numbered ones
    for r in np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k):
        row = scores[r]
        above = np.flatnonzero(row > kth[r])
        chosen = np.concatenate([above, np.flatnonzero(row == kth[r])[: k - above.size]])
        top[r], top_scores[r] = chosen, row[chosen]
    order = np.lexsort((top, -top_scores), axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)


def top_contributions(
    history_titles: np.ndarray, contributions: np.ndarray, top: int
) -> list[list[tuple[int, float]]]:
    """Per asked title (a column of `contributions`, rows = `history_titles`), its `top` positive
    contributors, largest first (ties: history order)."""
    out: list[list[tuple[int, float]]] = []
    for column in np.atleast_2d(contributions.T):
        order = np.argsort(-column, kind="stable")[:top]
        out.append([(int(history_titles[i]), float(column[i])) for i in order if column[i] > 0])
    return out


class Recommender(ABC):
    """Base for every model: popularity, item-kNN, EASE, ALS, SASRec, blends."""

    name: str = "base"
    # Every concrete model class, by "module:qualname", as saved files name them. Loading resolves a
    # file's class names only through this table: a saved file is data and must never choose which
    # callable runs (a tampered file naming some other function of a limelight module would otherwise
    # be called with the file's arguments).
    _saved_classes: ClassVar[dict[str, type[Recommender]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Recommender._saved_classes[f"{cls.__module__}:{cls.__qualname__}"] = cls

    @classmethod
    def _rebuild(cls, spec: Any, params: Any, origin: str) -> Recommender:
        """An unfitted model of the saved class `spec` ("module:qualname") with its saved parameters.

        Only limelight's model classes (subclasses of `cls`) are accepted, the parameters must be a
        JSON object of the constructor's keywords, and they must pass `check_params`.
        """
        import limelight.personalize.models  # noqa: F401 — registers every built-in model class

        model_cls = Recommender._saved_classes.get(str(spec))
        if model_cls is None or not str(spec).startswith("limelight.personalize.") or not issubclass(model_cls, cls):
            raise InputError(f"{origin} must name a limelight model class, got {str(spec)!r}")
        if not isinstance(params, dict):
            raise InputError(f"{origin} must hold the model's parameters as an object, got {type(params).__name__}")
        try:
            model = model_cls(**params)
        except TypeError as exc:
            raise InputError(f"{origin} holds parameters that {model_cls.__name__} does not take: {exc}") from None
        model.check_params()
        return model

    # -- the contract ---------------------------------------------------------------------
    @abstractmethod
    def fit(self, interactions: Interactions) -> Self:
        """Learn from interactions; sets attributes ending in `_` and `title_ids_`."""

    @abstractmethod
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores (n_rows × n_titles) for members described by their history rows (fold-in).

        `history` has the training title axis. Rows may be members never seen in training.
        """

    def check_params(self) -> None:
        """Raise `InputError` (one sentence) for a parameter value out of range; `fit` calls it first.

        Cheap and side-effect free, so a service can refuse bad settings before it starts a job.
        A model with nothing to check (a blend of fitted models) keeps this default.
        """
        return None

    # -- shared behaviour -----------------------------------------------------------------
    def is_fitted(self) -> bool:
        return hasattr(self, "title_ids_")

    def check_fitted(self) -> None:
        if not self.is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    def recommend(
        self,
        history: sp.csr_matrix,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        block_size: int = 4096,
    ) -> Recommendations:
        """Top-K titles for each history row, scored in blocks so memory stays bounded."""
        self.check_fitted()
        check_number("recommend", "k", k, 1, 10_000, integer=True)
        history = self._check_history(history)
        n = history.shape[0]
        k = min(k, len(self.title_ids_))  # type: ignore[attr-defined]
        all_titles = np.empty((n, k), dtype=np.int64)
        all_scores = np.empty((n, k), dtype=np.float32)
        for start in range(0, n, block_size):
            block = history[start : start + block_size]
            scores = np.asarray(self.score(block), dtype=np.float32)
            if exclude_seen:
                coo = block.tocoo()
                scores[coo.row, coo.col] = -np.inf
            titles, best = top_k_rows(scores, k)
            all_titles[start : start + block.shape[0]] = titles
            all_scores[start : start + block.shape[0]] = best
        return Recommendations(all_titles, all_scores)

    def similar_titles(self, title_index: int, k: int = 10) -> Recommendations:
        """Titles most like one title; models override with their own notion of similarity."""
        self.check_fitted()
        self._check_title_index(title_index)
        n_titles = len(self.title_ids_)  # type: ignore[attr-defined]
        one = sp.csr_matrix(([1.0], ([0], [title_index])), shape=(1, n_titles), dtype=np.float32)
        return self.recommend(one, k, exclude_seen=True)

    def explain(self, history: sp.csr_matrix, title_index: int, top: int = 3) -> list[tuple[int, float]]:
        """The history titles that contributed most to one title's score, largest first."""
        return self.explain_many(history, np.array([title_index]), top)[0]

    def explain_many(
        self, history: sp.csr_matrix, title_indices: np.ndarray, top: int = 3
    ) -> list[list[tuple[int, float]]]:
        """`explain` for several titles of one member at once (leave-one-out by default: one scoring
        of the history with each title dropped in turn serves every title asked about)."""
        self.check_fitted()
        titles = self._check_title_indices(title_indices)
        row = history[0].tocoo()
        if row.nnz == 0:
            return [[] for _ in titles]
        base = np.asarray(self.score(history[0]), dtype=np.float64)[0, titles]
        without = sp.vstack([history[0]] * row.nnz).tolil()
        for i, col in enumerate(row.col):
            without[i, col] = 0
        drop = base[None, :] - np.asarray(self.score(without.tocsr()), dtype=np.float64)[:, titles]
        return top_contributions(row.col, drop, top)

    def set_protocol(self, protocol: str | None) -> None:
        """The evaluation protocol the caller will judge this model by (the harness says so before
        `fit`). Most models ignore it; `auto` shapes its own validation split after it."""
        return None

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    # -- helpers shared by every model ----------------------------------------------------
    @property
    def n_titles_(self) -> int:
        return len(self.title_ids_)  # type: ignore[attr-defined]

    def _check_history(self, history: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
        """The history as CSR on the training title axis, or an `InputError`.

        Float32, except that float64 stays float64: histories of *times* (for sequential models)
        are epoch seconds, which float32 rounds to 128 s and so loses the order of a session.
        """
        self.check_fitted()
        dtype = np.float64 if getattr(history, "dtype", None) == np.float64 else np.float32
        csr = sp.csr_matrix(history, dtype=dtype)
        if csr.shape[1] != self.n_titles_:
            raise InputError(
                f"history must have one column per training title ({self.n_titles_}), got {csr.shape[1]}"
            )
        return csr

    def _check_title_index(self, title_index: int) -> None:
        if not isinstance(title_index, int | np.integer) or not 0 <= title_index < self.n_titles_:
            raise InputError(f"title_index must be an int in [0, {self.n_titles_ - 1}], got {title_index!r}")

    def _check_title_indices(self, title_indices: np.ndarray) -> np.ndarray:
        titles = np.asarray(title_indices)
        if titles.ndim != 1 or (titles.size and not np.issubdtype(titles.dtype, np.integer)):
            raise InputError(f"title indices must be a flat array of ints, got {titles.dtype} of shape {titles.shape}")
        bad = titles[(titles < 0) | (titles >= self.n_titles_)]
        if bad.size:
            raise InputError(f"title_index must be an int in [0, {self.n_titles_ - 1}], got {int(bad[0])}")
        return titles.astype(np.int64)

    def history_for(self, title_ids: Sequence[str], weights: Sequence[float] | None = None) -> sp.csr_matrix:
        """One history row (1 × n_titles) from title ids, for fold-in; titles unknown to the model are skipped."""
        self.check_fitted()
        position = {str(t): i for i, t in enumerate(self.title_ids_)}  # type: ignore[attr-defined]
        cols, vals = [], []
        for j, title in enumerate(title_ids):
            i = position.get(str(title))
            if i is not None:
                cols.append(i)
                vals.append(1.0 if weights is None else float(weights[j]))
        row = sp.csr_matrix(
            (np.asarray(vals, np.float32), (np.zeros(len(cols), np.int32), np.asarray(cols, np.int32))),
            shape=(1, self.n_titles_),
        )
        row.sum_duplicates()
        return row

    # -- persistence: .npz (allow_pickle=False) with the JSON metadata inside ------------------
    # Subclasses list their fitted arrays (numpy or scipy sparse) and fitted JSON-able scalars.
    _array_attrs: ClassVar[tuple[str, ...]] = ()
    _meta_attrs: ClassVar[tuple[str, ...]] = ()

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        arrays = {name: getattr(self, name) for name in self._array_attrs}
        meta = {name: getattr(self, name) for name in self._meta_attrs}
        return arrays, meta

    def _set_state(self, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        # Only the attributes the class declares: a file cannot overwrite methods or parameters.
        for name, value in arrays.items():
            if name in self._array_attrs:
                setattr(self, name, value)
        for name, value in meta.items():
            if name in self._meta_attrs:
                setattr(self, name, value)

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one `.npz` file (no pickles; metadata as JSON inside; see limelight.artifacts)."""
        self.check_fitted()
        arrays, meta = self._get_state()
        arrays["title_ids_"] = np.asarray([str(t) for t in self.title_ids_], dtype=str)  # type: ignore[attr-defined]
        document = {
            "format": SAVE_FORMAT,
            "model": self.name,
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "params": self.get_params(),  # save_artifact makes the whole document JSON-able
            "fitted": meta,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return save_artifact(npz_path(path), RECOMMENDER_KIND, document, arrays)

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Read a model written by `save`; `Recommender.load` returns whichever model the file holds."""
        path = Path(path)
        artifact = load_artifact(path, RECOMMENDER_KIND)  # NotFoundError; ArtifactError (an InputError)
        document, stored = artifact.meta, dict(artifact.arrays)
        if document.get("format") != SAVE_FORMAT:
            raise InputError(f"model file '{path}' must have format {SAVE_FORMAT}, got {document.get('format')!r}")
        model = cls._rebuild(document.get("class"), document.get("params"), f"model file '{path}'")
        title_ids = np.asarray(stored.pop("title_ids_"), dtype=object)
        model.title_ids_ = title_ids  # type: ignore[attr-defined]
        model._set_state(stored, document["fitted"])
        return model


def _epoch_seconds(column: pd.Series) -> np.ndarray:
    """Seconds since the epoch: numbers are taken as epoch seconds, anything else parsed as UTC times."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64).astype(np.int64)
    ts = pd.to_datetime(column, utc=True, format="mixed")
    return ts.dt.as_unit("s").astype("int64").to_numpy()
