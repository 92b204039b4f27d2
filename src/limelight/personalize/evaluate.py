"""The evaluation harness: split, fit on training data only, rank the full catalog, measure.

`evaluate(frame, protocol="random", model="auto", k=10)` returns an `EvaluationReport` with each
metric's mean and 95% interval over evaluated members. Titles a member already has in the visible
history are never recommended; there are no sampled negatives (every unseen title is ranked).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from limelight.errors import InputError
from limelight.personalize.base import Recommender, check_number
from limelight.personalize.metrics import (
    MetricSummary,
    catalog_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    summarize,
)
from limelight.personalize.models import make_model
from limelight.personalize.splits import Split, canonical_frame, make_split

__all__ = ["EvaluationReport", "evaluate", "evaluate_split"]

log = logging.getLogger(__name__)


@dataclass
class EvaluationReport:
    """What one model scored under one protocol."""

    protocol: str
    model: str
    k: int
    n_members: int
    n_titles: int
    metrics: dict[str, MetricSummary]
    fit_seconds: float
    recommend_seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "model": self.model,
            "k": self.k,
            "n_members": self.n_members,
            "n_titles": self.n_titles,
            "metrics": {name: summary.as_dict() for name, summary in self.metrics.items()},
            "fit_seconds": self.fit_seconds,
            "recommend_seconds": self.recommend_seconds,
            "details": self.details,
        }


def evaluate_split(split: Split, model: Recommender, k: int = 10, *, seed: int = 0) -> EvaluationReport:
    """Fit `model` on `split.train`, recommend for the evaluated members, measure against `split.truth`."""
    check_number("evaluate", "k", k, 1, 10_000, integer=True)
    if k > split.train.n_titles:
        raise InputError(f"k must be at most the number of titles in the training data ({split.train.n_titles}), got {k}")
    model.set_protocol(split.protocol)
    started = time.perf_counter()
    model.fit(split.train)
    fitted = time.perf_counter()
    uses_order = bool(getattr(model, "uses_order", False))
    history = split.history_time if uses_order and split.history_time is not None else split.history
    recommendations = model.recommend(history, k)
    done = time.perf_counter()
    recall_denominator: Literal["relevant", "min_k"] = (
        "min_k" if split.protocol == "strong-generalization" else "relevant"
    )
    per_member = ranking_metrics(recommendations.titles, split.truth, k, recall_denominator=recall_denominator)
    metrics = {f"{name}@{k}": summarize(values, bounds=(0.0, 1.0)) for name, values in per_member.items()}
    train_matrix = split.train.matrix
    metrics["novelty"] = summarize(novelty(recommendations.titles, train_matrix))
    metrics["intra_list_diversity"] = summarize(intra_list_diversity(recommendations.titles, train_matrix, seed=seed))
    coverage = catalog_coverage(recommendations.titles, split.train.n_titles)
    metrics["catalog_coverage"] = MetricSummary(coverage, coverage, coverage, 1)
    details: dict[str, Any] = {"recall_denominator": recall_denominator, "params": _safe_params(model)}
    if hasattr(model, "chosen_"):
        details["chosen"] = model.chosen_
    if hasattr(model, "validation_mode_"):
        details["validation"] = model.validation_mode_
        details["blend"] = next((row for row in getattr(model, "report_", []) if row.get("model") == "blend"), None)
    return EvaluationReport(
        protocol=split.protocol,
        model=model.name,
        k=k,
        n_members=int(split.truth.shape[0]),
        n_titles=int(split.train.n_titles),
        metrics=metrics,
        fit_seconds=fitted - started,
        recommend_seconds=done - fitted,
        details=details,
    )


def _safe_params(model: Recommender) -> dict[str, Any]:
    return {k: v for k, v in model.get_params().items() if isinstance(v, int | float | str | bool | type(None))}


def evaluate(
    frame: pd.DataFrame,
    *,
    protocol: str = "random",
    model: str | Recommender = "auto",
    k: int = 10,
    seed: int = 42,
    member_col: str = "member_id",
    title_col: str = "title_id",
    time_col: str | None = "timestamp",
    params: dict[str, Any] | None = None,
) -> EvaluationReport:
    """Split an interactions frame under `protocol`, then `evaluate_split`."""
    canonical = canonical_frame(frame, member_col=member_col, title_col=title_col, time_col=time_col)
    split = make_split(canonical, protocol, seed=seed)
    estimator = make_model(model, **(params or {})) if isinstance(model, str) else model
    log.info("evaluate: %s on %d members × %d titles", protocol, split.n_members, split.train.n_titles)
    return evaluate_split(split, estimator, k, seed=seed)


def chance_precision(split: Split, k: int) -> float:
    """Expected Precision@K of a uniformly random ranking of each member's unseen titles."""
    unseen = split.train.n_titles - split.history.getnnz(axis=1)
    relevant = split.truth.getnnz(axis=1)
    keep = relevant > 0
    return float(np.mean(relevant[keep] / np.maximum(unseen[keep], 1)))
