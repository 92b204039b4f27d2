"""Batch scoring on Apache Spark: top-K titles for every member, members partitioned, the model broadcast.

Training stays on one machine, where it is fastest (an EASE inverse or implicit's ALS); what
parallelises is scoring every member. The trained model — its item-item weights (EASE, item-kNN)
or title factors (ALS), which is all a fitted `Recommender` holds — is broadcast once to every
executor; members are hash-partitioned, each member's history travels as one row (title indexes
and weights), and each Arrow batch of members is scored with the model's own `recommend`, in
numpy blocks (`mapInArrow`: a batch's list columns are the CSR's indices and offsets as they
are, no Python object per member). The lists are therefore the single-machine lists: same code,
same history rows in the same (sorted) order, row by row.

Output: one row per (member, rank) with member_id, title_id, rank (1 = best) and score.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import InputError, require_fields
from limelight.personalize.base import Interactions, Recommender
from limelight.personalize.batch import recommendations_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

__all__ = ["SCORES_SCHEMA", "recommendations_frame", "score_all", "score_all_local"]

log = logging.getLogger(__name__)

SCORES_SCHEMA = "member_id string, title_id string, rank int, score float"


def _title_ids(model: Recommender) -> np.ndarray:
    titles: np.ndarray = np.asarray(getattr(model, "title_ids_"), dtype=object)  # noqa: B009 - set by fit
    return titles


def _check(model: Recommender, k: int) -> None:
    if not isinstance(model, Recommender):
        raise InputError(f"model must be a fitted limelight Recommender, got {type(model).__name__}")
    model.check_fitted()
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= 10_000:
        raise InputError(f"k must be an int in [1, 10000], got {k!r}")


def _aligned_history(model: Recommender, interactions: Interactions) -> sp.csr_matrix:
    """The interactions' matrix re-indexed onto the model's title axis (unknown titles dropped)."""
    model_titles = _title_ids(model)
    if len(interactions.title_ids) == len(model_titles) and np.array_equal(
        interactions.title_ids, model_titles
    ):
        return interactions.matrix.tocsr()
    position = pd.Index(model_titles).get_indexer(pd.Index(interactions.title_ids))
    coo = interactions.matrix.tocoo()
    keep = position[coo.col] >= 0
    return sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], position[coo.col[keep]])),
        shape=(interactions.n_members, len(model_titles)),
        dtype=np.float32,
    )


def score_all_local(
    model: Recommender, interactions: Interactions, k: int = 10, *, exclude_seen: bool = True
) -> pd.DataFrame:
    """The single-machine reference: every member's top-K from `model.recommend`, as long rows."""
    _check(model, k)
    return recommendations_frame(
        model,
        interactions.member_ids,
        _aligned_history(model, interactions),
        int(k),
        exclude_seen=exclude_seen,
    )


def _member_rows(model: Recommender, interactions: Any, spark: SparkSession) -> SparkDataFrame:
    """One row per member: member_id, title_idx (sorted list), weight (list), on Spark.

    From an `Interactions` the rows are built on the driver (its matrix is in memory already);
    from a pandas or Spark frame of (member_id, title_id[, weight]) they are built on Spark:
    titles mapped onto the model's axis by a broadcast join, duplicates added up.
    """
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import functions as F

    schema = "member_id string, title_idx array<int>, weight array<float>"
    model_titles = _title_ids(model)
    if isinstance(interactions, Interactions):
        history = _aligned_history(model, interactions).astype(np.float32)
        history.sum_duplicates()
        keep = np.flatnonzero(np.diff(history.indptr) > 0)
        if keep.size == 0:
            raise InputError("interactions must have at least one row on the model's titles, got none")
        indices = np.split(history.indices, history.indptr[1:-1])
        weights = np.split(history.data, history.indptr[1:-1])
        frame = pd.DataFrame(
            {
                "member_id": np.asarray(interactions.member_ids, dtype=object)[keep].astype(str),
                "title_idx": [indices[i] for i in keep],
                "weight": [weights[i] for i in keep],
            }
        )
        return spark.createDataFrame(frame, schema=schema)
    if isinstance(interactions, pd.DataFrame):
        interactions = spark.createDataFrame(interactions)
    if not isinstance(interactions, SparkDataFrame):
        raise InputError(
            "interactions must be an Interactions, a pandas DataFrame or a Spark DataFrame, "
            f"got {type(interactions).__name__}"
        )
    require_fields(interactions.columns, ("member_id", "title_id"), "interactions")
    titles = spark.createDataFrame(
        pd.DataFrame(
            {"title_id": model_titles.astype(str), "title_idx": np.arange(len(model_titles), dtype=np.int32)}
        ),
        schema="title_id string, title_idx int",
    )
    weight = F.col("weight").cast("float") if "weight" in interactions.columns else F.lit(1.0).cast("float")
    rows = interactions.select(
        F.col("member_id").cast("string").alias("member_id"),
        F.col("title_id").cast("string"),
        weight.alias("weight"),
    )
    rows = rows.join(F.broadcast(titles), "title_id", "inner")
    return (
        rows.groupBy("member_id", "title_idx")
        .agg(F.sum("weight").cast("float").alias("weight"))
        .groupBy("member_id")
        .agg(F.sort_array(F.collect_list(F.struct("title_idx", "weight"))).alias("history"))
        .select(
            "member_id",
            F.col("history.title_idx").alias("title_idx"),
            F.col("history.weight").alias("weight"),
        )
    )


def score_all(
    model: Recommender,
    interactions: Interactions | pd.DataFrame | SparkDataFrame,
    k: int = 10,
    *,
    spark: SparkSession,
    exclude_seen: bool = True,
    partitions: int | None = None,
) -> SparkDataFrame:
    """Top-`k` for every member on Spark; the same lists as `score_all_local` on the same model.

    `interactions` is an `Interactions` (its matrix), a pandas frame or a Spark DataFrame with
    member_id, title_id and optionally weight (duplicates add up, titles the model does not know
    are dropped). Returns a lazy Spark DataFrame (member_id, title_id, rank, score); write it with
    `.write.parquet(...)` or bring it home with `.toPandas()`.
    """
    from pyspark import cloudpickle

    _check(model, k)
    k = int(k)
    n_titles = len(model.title_ids_)  # type: ignore[attr-defined]
    per_member = _member_rows(model, interactions, spark)
    n_parts = int(partitions) if partitions else spark.sparkContext.defaultParallelism
    per_member = per_member.repartition(n_parts, "member_id")
    # The fitted model (its weights or factors) goes to each executor once. cloudpickle, so that a
    # model class defined in a notebook or a script travels by value.
    shared = spark.sparkContext.broadcast(cloudpickle.dumps(model))
    log.info("scoring on Spark: %d partitions, %d titles, k=%d", n_parts, n_titles, k)

    def score_partition(batches: Iterable[Any]) -> Iterator[Any]:
        # Arrow batches straight from the JVM: each list column is one flat array plus offsets,
        # which are the CSR's indices and indptr as they are (no Python object per member).
        import pickle

        import pyarrow as pa

        fitted = pickle.loads(shared.value)
        schema = pa.schema(
            [("member_id", pa.string()), ("title_id", pa.string()), ("rank", pa.int32()), ("score", pa.float32())]
        )
        for batch in batches:
            if batch.num_rows == 0:
                continue
            idx = batch.column("title_idx")
            offsets = np.asarray(idx.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
            indptr = offsets - offsets[0]
            indices = np.asarray(idx.flatten().to_numpy(zero_copy_only=False), dtype=np.int32)
            data = np.asarray(batch.column("weight").flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
            history = sp.csr_matrix((data, indices, indptr), shape=(batch.num_rows, n_titles), dtype=np.float32)
            members = np.asarray(batch.column("member_id").to_pylist(), dtype=object)
            frame = recommendations_frame(fitted, members, history, k, exclude_seen=exclude_seen)
            yield pa.RecordBatch.from_pandas(frame, schema=schema, preserve_index=False)

    return per_member.mapInArrow(score_partition, schema=SCORES_SCHEMA)
