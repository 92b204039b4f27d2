"""Train a recommender on the spine's interactions and publish it as a new registry version.

Used by `limelight train` (server down: it opens the file itself) and by `POST /v1/models/train`
(server up: the server owns the file and trains on a background thread, reporting progress).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.registry import ModelRegistry, ModelVersion
from limelight.spine.store import Store

__all__ = ["Progress", "choose_model", "leave_last_out", "load_model", "make_model", "train_and_publish"]

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


def choose_model(name: str, n_members: int, n_titles: int) -> str:
    """`auto` picks EASE (best offline accuracy here) while the title axis fits a dense Gram matrix."""
    if name != "auto":
        return name
    return "ease" if n_titles <= 20_000 else "itemknn"


_FALLBACK_MODELS = {
    "ease": "limelight.personalize.models.ease:EASE",
    "itemknn": "limelight.personalize.models.itemknn:ItemKNN",
    "als": "limelight.personalize.models.als:ALS",
    "popularity": "limelight.personalize.models.popularity:Popularity",
}


def make_model(name: str) -> Any:
    """A fresh model by name, from the models package's factory (or its classes while it has none)."""
    try:
        from limelight.personalize.models import make_model as factory  # type: ignore[attr-defined]
    except ImportError:
        import importlib

        if name not in _FALLBACK_MODELS:
            raise InputError(f"model must be one of {', '.join(_FALLBACK_MODELS)} or auto, got '{name}'") from None
        module, _, cls = _FALLBACK_MODELS[name].partition(":")
        return getattr(importlib.import_module(module), cls)()
    return factory(name)


def load_interactions(store: Store) -> tuple[Any, pd.DataFrame]:
    """Members x recommendable titles, built exactly as the engine builds them (same title axis)."""
    from limelight.personalize.base import Interactions
    from limelight.personalize.catalog import load_catalog, load_members
    from limelight.personalize.foldin import Histories, load_pieces

    catalog = load_catalog(store)
    members = load_members(store)
    pieces = load_pieces(store)
    if len(pieces) == 0 or catalog.n_titles == 0:
        raise DataError("the spine has no viewing events nor ratings to train on", origin=str(store.path))
    histories = Histories(catalog, pieces, list(members.country))
    matrix = histories.matrix()
    viewers = histories.viewers()
    frame = pd.DataFrame(
        {
            "member_id": viewers["member_id"].astype(str),
            "title_id": np.asarray(catalog.axis_ids, dtype=object)[viewers["title_idx"].to_numpy(np.int64)],
            "weight": 1.0,
            "last_at": viewers["last_at"].astype("float64"),
        }
    )
    inter = Interactions(
        matrix=matrix,
        member_ids=np.asarray(histories.member_ids, dtype=object),
        title_ids=np.asarray(catalog.axis_ids, dtype=object),
    )
    return inter, frame


def leave_last_out(
    make: Callable[[], Any], frame: pd.DataFrame, *, k: int = 10, max_members: int = 2000, seed: int = 7
) -> dict[str, float]:
    """Hold out each sampled member's latest title, fit on the rest, report recall@k and nDCG@k."""
    from limelight.personalize.base import Interactions

    frame = frame.sort_values(["member_id", "last_at", "title_id"])
    counts = frame.groupby("member_id")["title_id"].transform("size")
    eligible = frame[counts >= 2]
    members = eligible["member_id"].unique()
    if len(members) == 0:
        return {}
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(members, size=min(max_members, len(members)), replace=False))
    last = eligible[eligible["member_id"].isin(chosen)].groupby("member_id").tail(1)
    train = frame.drop(index=last.index)
    title_axis = np.asarray(sorted(frame["title_id"].astype(str).unique()), dtype=object)
    inter = Interactions.from_frame(train, weight_col="weight", title_ids=title_axis)
    model = make().fit(inter)
    row_of = {m: i for i, m in enumerate(inter.member_ids)}
    rows = np.asarray([row_of[m] for m in last["member_id"]])
    col_of = {t: i for i, t in enumerate(title_axis)}
    truth = np.asarray([col_of[str(t)] for t in last["title_id"]])
    recs = model.recommend(inter.matrix[rows], k=k)
    hit = recs.titles == truth[:, None]
    found = hit.any(axis=1)
    rank = np.argmax(hit, axis=1)
    ndcg = np.where(found, 1.0 / np.log2(rank + 2), 0.0)
    return {f"recall@{k}": float(found.mean()), f"ndcg@{k}": float(ndcg.mean()), "members": float(len(rows))}


def train_and_publish(
    store: Store,
    registry: ModelRegistry,
    model: str = "auto",
    *,
    evaluate: bool = True,
    progress: Progress | None = None,
    seed: int = 7,
) -> ModelVersion:
    """Fit `model` on every interaction in the spine, evaluate it, publish and activate it."""
    report = progress or _noop
    started = time.perf_counter()
    report("reading interactions", 0.05)
    inter, frame = load_interactions(store)
    name = choose_model(model, inter.n_members, inter.n_titles)
    try:
        make_model(name)
    except (KeyError, ValueError) as exc:
        raise InputError(f"model must be a known model name or 'auto', got '{model}' ({exc})") from None
    metrics: dict[str, Any] = {}
    if evaluate:
        report(f"evaluating {name} (leave-last-out)", 0.15)
        metrics["leave-last-out"] = leave_last_out(lambda: make_model(name), frame, seed=seed)
    report(f"fitting {name} on {inter.n_members:,} members x {inter.n_titles:,} titles", 0.55)
    fitted = make_model(name).fit(inter)
    report("publishing", 0.9)
    data = {
        "db": str(store.path),
        "members": inter.n_members,
        "titles": inter.n_titles,
        "interactions": int(inter.matrix.nnz),
        "latest_interaction": str(pd.to_datetime(frame["last_at"].max(), unit="s", utc=True)),
    }
    version = registry.publish(
        lambda folder: fitted.save(folder / "model.npz"),
        model_name=name,
        data=data,
        metrics=metrics,
        params={
            k: v for k, v in fitted.get_params().items() if isinstance(v, int | float | str | bool | None)
        },
        notes=f"trained in {time.perf_counter() - started:.1f} s",
    )
    report(f"published version {version.version}", 1.0)
    return version
