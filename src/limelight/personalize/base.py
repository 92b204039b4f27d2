"""The one estimator interface every recommender implements, and the interaction data it fits on.

Shape after implicit's `RecommenderBase` and scikit-learn's estimators: `__init__` stores
arguments, `fit` learns attributes ending in `_` and returns `self`, every other method first
checks the model is fitted. Scores come from a member's *history row*, so a member who is not in
the training data (or who just watched something) is served by fold-in without retraining.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import InputError, NotFittedError, NotFoundError

__all__ = ["Explanation", "Interactions", "Recommendations", "Recommender"]


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
        else:
            titles = pd.Categorical(frame[title_col].astype(str), categories=title_ids)
        rows = members.codes.astype(np.int32)
        cols = titles.codes.astype(np.int32)
        keep = cols >= 0
        weights = (
            frame[weight_col].to_numpy(dtype=np.float32) if weight_col else np.ones(len(frame), np.float32)
        )
        shape = (len(members.categories), len(titles.categories))
        matrix = sp.csr_matrix((weights[keep], (rows[keep], cols[keep])), shape=shape, dtype=np.float32)
        matrix.sum_duplicates()
        last_at = None
        events = None
        if time_col is not None:
            ts = pd.to_datetime(frame[time_col], utc=True, format="mixed")
            seconds = (ts.astype("int64") // 10**9).to_numpy()
            events = pd.DataFrame({"member_idx": rows[keep], "title_idx": cols[keep], "timestamp": seconds[keep]})
            latest = events.groupby(["member_idx", "title_idx"], sort=False)["timestamp"].max().reset_index()
            last_at = sp.csr_matrix(
                (latest["timestamp"].to_numpy(np.float64), (latest["member_idx"], latest["title_idx"])), shape=shape
            )
        return cls(
            matrix=matrix,
            member_ids=np.asarray(members.categories, dtype=object),
            title_ids=np.asarray(titles.categories, dtype=object),
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


class Recommender(ABC):
    """Base for every model: popularity, item-kNN, EASE, ALS, SASRec, blends."""

    name: str = "base"

    # -- the contract ---------------------------------------------------------------------
    @abstractmethod
    def fit(self, interactions: Interactions) -> Self:
        """Learn from interactions; sets attributes ending in `_` and `title_ids_`."""

    @abstractmethod
    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores (n_rows × n_titles) for members described by their history rows (fold-in).

        `history` has the training title axis. Rows may be members never seen in training.
        """

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
        if not 1 <= k <= 10_000:
            raise InputError(f"k must be an int in [1, 10000], got {k}")
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
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            all_titles[start : start + block.shape[0]] = np.take_along_axis(top, order, axis=1)
            all_scores[start : start + block.shape[0]] = np.take_along_axis(top_scores, order, axis=1)
        return Recommendations(all_titles, all_scores)

    def similar_titles(self, title_index: int, k: int = 10) -> Recommendations:
        """Titles most like one title; models override with their own notion of similarity."""
        self.check_fitted()
        n_titles = len(self.title_ids_)  # type: ignore[attr-defined]
        one = sp.csr_matrix(([1.0], ([0], [title_index])), shape=(1, n_titles), dtype=np.float32)
        return self.recommend(one, k, exclude_seen=True)

    def explain(self, history: sp.csr_matrix, title_index: int, top: int = 3) -> list[tuple[int, float]]:
        """The history titles that contributed most to one title's score (leave-one-out by default)."""
        self.check_fitted()
        row = history[0].tocoo()
        if row.nnz == 0:
            return []
        base = float(self.score(history[0])[0, title_index])
        without = sp.vstack([history[0]] * row.nnz).tolil()
        for i, col in enumerate(row.col):
            without[i, col] = 0
        drop = base - np.asarray(self.score(without.tocsr()))[:, title_index]
        order = np.argsort(-drop)[:top]
        return [(int(row.col[i]), float(drop[i])) for i in order if drop[i] > 0]

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}
