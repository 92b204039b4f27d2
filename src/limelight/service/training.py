"""Train a recommender on the spine's interactions and publish it as a new registry version.

Used by `limelight train` (server down: it opens the file itself) and by `POST /v1/models/train`
(server up: the server owns the file and trains on a background thread, reporting progress).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import DataError, InputError
from limelight.registry import ModelRegistry, ModelVersion
from limelight.spine.store import Store

__all__ = ["Progress", "leave_last_out", "load_model", "make_model", "train_and_publish"]

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


def _noop(step: str, fraction: float) -> None:
    log.info("%s (%.0f%%)", step, 100 * fraction)


def load_model(version: ModelVersion) -> Any:
    """The fitted recommender stored in a registry version."""
    from limelight.personalize.base import Recommender

    files = sorted(version.model_path.glob("*.npz"))
    if not files:
        raise DataError("the version folder holds no model file", origin=str(version.model_path))
    return Recommender.load(files[0])


def make_model(name: str, params: dict[str, Any] | None = None) -> Any:
    """A fresh model by name (`limelight.personalize.models.MODEL_NAMES`) with `params`, told it is judged by
    leave-last-out — what the service reports and serves: each member's next title. `auto` (the
    default) then validates on each member's latest title; it leaves EASE out of catalogs too large
    for EASE's dense inverse."""
    from limelight.personalize.models import make_model as factory

    model = factory(name, **(params or {}))
    model.set_protocol("leave-last-out")
    return model


def load_interactions(store: Store) -> tuple[Any, pd.DataFrame]:
    """Members x recommendable titles, built exactly as the engine builds them (same title axis)."""
    from limelight.personalize.base import Interactions
    from limelight.personalize.catalog import load_catalog, load_members
    from limelight.personalize.foldin import Histories

    catalog = load_catalog(store)
    members = load_members(store)
    histories = Histories.from_store(store, catalog, list(members.country))
    if len(histories.pieces) == 0 or catalog.n_titles == 0:
        raise DataError("the spine has no viewing events nor ratings to train on", origin=str(store.path))
    matrix = histories.matrix()
    pairs = histories.interactions()
    rows = pairs["member_id"].map(histories.member_pos).to_numpy(np.int64)
    last_at = sp.csr_matrix(  # latest time per (member, title): `auto` validates on each member's latest
        (pairs["last_at"].to_numpy(np.float64), (rows, pairs["title_idx"].to_numpy(np.int64))), shape=matrix.shape
    )
    frame = pairs[["member_id", "title_id"]].assign(weight=1.0, last_at=pairs["last_at"])
    inter = Interactions(
        matrix=matrix,
        member_ids=np.asarray(histories.member_ids, dtype=object),
        title_ids=np.asarray(catalog.axis_ids, dtype=object),
        last_at=last_at,
    )
    return inter, frame


#: what a version's recorded metrics are: leave-last-out at this K, on at most this many sampled members
EVALUATION_K = 10
EVALUATION_MEMBERS = 2000


def leave_last_out(
    make: Callable[[], Any], frame: pd.DataFrame, *, k: int = EVALUATION_K, max_members: int = EVALUATION_MEMBERS,
    seed: int = 7,
) -> dict[str, float]:
    """The harness's leave-last-out protocol (`limelight evaluate`'s) on a sample of members.

    Each of up to `max_members` sampled members' latest title is held out, the model is fitted on
    the rest and ranks the whole catalog; returns recall@k, nDCG@k with its 95% interval over
    members, catalog coverage and the number of members evaluated ({} when no member has two titles).
    """
    from limelight.personalize.evaluate import evaluate_split
    from limelight.personalize.splits import canonical_frame, leave_last_out_split

    canonical = canonical_frame(frame, time_col="last_at", rating_col=None)
    if not (canonical.groupby("member_id").size() >= 2).any():
        return {}
    split = leave_last_out_split(canonical, seed=seed, max_members=max_members)
    metrics = evaluate_split(split, make(), k, seed=seed).metrics
    ndcg = metrics[f"ndcg@{k}"]
    return {
        f"recall@{k}": float(metrics[f"recall@{k}"].mean),
        f"ndcg@{k}": float(ndcg.mean),
        f"ndcg@{k}_low": float(ndcg.low),
        f"ndcg@{k}_high": float(ndcg.high),
        "catalog_coverage": float(metrics["catalog_coverage"].mean),
        "members": float(split.n_members),
    }


def _chosen(model: Any) -> dict[str, str]:
    """What `auto` picked, in one line for the registry."""
    from limelight.personalize.models.blend import describe_choice

    chosen = getattr(model, "chosen_", None)
    return {"chosen": describe_choice(chosen)} if chosen else {}


def activation_verdict(metrics: dict[str, Any], registry: ModelRegistry) -> tuple[bool, str]:
    """Whether a new version's leave-last-out nDCG@10 is not worse than the serving one's beyond noise
    (at least the lower end of its 95% interval over members), and the comparison in words."""
    name = f"ndcg@{EVALUATION_K}"
    new = metrics.get("leave-last-out", {}).get(name)
    current = registry.current()
    old = current.metrics.get("leave-last-out", {}) if current is not None else {}
    if new is None or current is None or name not in old:
        return True, f"no earlier leave-last-out nDCG@{EVALUATION_K} to compare with"
    floor = float(old.get(f"{name}_low", old[name]))
    compared = (f"nDCG@{EVALUATION_K} {new:.4f} against version {current.version}'s {old[name]:.4f} "
                f"(95% low {floor:.4f})")
    return float(new) >= floor, ("not worse: " if float(new) >= floor else "worse: ") + compared


def train_and_publish(
    store: Store,
    registry: ModelRegistry,
    model: str = "auto",
    *,
    evaluate: bool = True,
    progress: Progress | None = None,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    activate: bool = True,
    only_if_not_worse: bool = False,
) -> ModelVersion:
    """Fit `model` (with `params`, e.g. auto's `max_seconds`) on every interaction in the spine, evaluate it,
    publish it, and (unless `activate=False`: look at its metrics first, then `models activate N`) serve it.

    `only_if_not_worse` serves it only when its leave-last-out nDCG@10 is at least the current version's
    lower 95% bound (`activation_verdict`); the verdict is in the version's notes either way."""
    from limelight.settings import get_settings

    seed = get_settings().seed if seed is None else seed  # LIMELIGHT_SEED
    report = progress or _noop
    started = time.perf_counter()
    registry.check_writable()  # a read-only or full registry stops here, not after minutes of training
    report("reading interactions", 0.05)
    inter, frame = load_interactions(store)
    make_model(model, params)  # an unknown name or parameter stops here, with one sentence, before any fit
    if only_if_not_worse and not evaluate:
        raise InputError("only_if_not_worse compares leave-last-out metrics, so it needs evaluate, got evaluate off")
    metrics: dict[str, Any] = {}
    if evaluate:
        report(f"evaluating {model} (leave-last-out)", 0.15)
        metrics["leave-last-out"] = leave_last_out(lambda: make_model(model, params), frame, seed=seed)
    report(f"fitting {model} on {inter.n_members:,} members x {inter.n_titles:,} titles", 0.55)
    fitted = make_model(model, params).fit(inter)
    report("publishing", 0.9)
    data = {
        "db": str(Path(store.path).resolve()),
        "members": inter.n_members,
        "titles": inter.n_titles,
        "interactions": int(inter.matrix.nnz),
        "latest_interaction": str(pd.to_datetime(frame["last_at"].max(), unit="s", utc=True)),
    }
    if metrics:  # what the figures are: a member's latest title held out of a separate fit, not the published one
        data["evaluation"] = {"protocol": "leave-last-out", "k": EVALUATION_K, "seed": seed,
                              "max_members": EVALUATION_MEMBERS,
                              "fitted_without_the_held_out_titles": True, "published_model": "refit on every interaction"}
    verdict = ""
    if only_if_not_worse:  # the comparison is written down even when the version is published only
        not_worse, compared = activation_verdict(metrics, registry)
        activate = activate and not_worse
        verdict = f"{'activated' if activate else 'not activated'}, {compared}"
    version = registry.publish(
        lambda folder: fitted.save(folder / "model.npz"),
        model_name=model,
        data=data,
        metrics=metrics,
        params={
            k: v for k, v in fitted.get_params().items() if isinstance(v, int | float | str | bool | None)
        } | _chosen(fitted),
        notes=f"trained in {time.perf_counter() - started:.1f} s" + (f"; {verdict}" if verdict else ""),
        activate=activate,
    )
    report(f"published version {version.version}" + (f" ({verdict})" if verdict else "" if activate else " (not activated)"),
           1.0)
    return version
