"""Implicit ALS trained with Spark MLlib, returned as limelight's own `ALS` (title factors from MLlib).

For interaction matrices that do not fit one machine: the interactions stay on Spark (a Parquet
file or folder, a Spark DataFrame, or a pandas frame), member and title ids are numbered there,
and `pyspark.ml.recommendation.ALS` trains with its ratings and factors partitioned. Only the
title factors (titles × factors floats) and the title ids come back to the driver; they make a
fitted `limelight.personalize.models.als.ALS`, so `recommend`, fold-in, `explain`, `save`/`load`
and `limelight.scale.spark_scoring.score_all` work on it unchanged.

How limelight's ALS parameters map onto MLlib's
------------------------------------------------
Both minimise Hu, Koren & Volinsky's weighted least squares on binary preferences (every
(member, title) pair with a non-zero summed weight is one "watched"): confidence 1 for an
unobserved pair and `c` for an observed one.

- Confidence. limelight (and `implicit`) give an observed pair `alpha_ = 1 + 1/unobserved_weight`;
  MLlib gives `1 + alpha · |rating|`, so with rating 1 **MLlib `alpha` = 1/unobserved_weight**
  (2.0 for the default 0.5).
- Regularization. limelight trains `implicit` with one λ' (`ALS.implicit_parameters`: the geometric
  mean of Rendle et al.'s member-side and title-side constants at the mean frequencies). MLlib
  uses "ALS-WR" (Zhou et al. 2008): a member's λ is `regParam · n_u` and a title's `regParam · n_i`,
  with n the number of that member's / title's ratings. Only the product of the two sides'
  regularization matters (scale member factors by s and title factors by 1/s), so
  **`regParam = λ' / sqrt(mean n_u · mean n_i)`** makes MLlib's regularization equal to implicit's
  for a member and a title of mean frequency. What stays different: MLlib's λ grows in
  proportion to a member's (title's) count, limelight's is nearly flat (λ'·(n_u + α₀·|I|)/(mean
  n_u + α₀·|I|), dominated by α₀·|I|), so MLlib shrinks heavy members and popular titles more.
- Gauge. MLlib's title factors are rescaled by `(mean n_i / mean n_u)^(1/4)` (exact: it maps
  MLlib's problem onto the one whose member and title regularization are both λ' at the mean),
  so limelight's member solve — `ALS._fold_in` with its own per-member λ'_u — runs in the gauge
  it was written for.

Members' factors are *not* brought to the driver (that is the part that does not fit): the returned
model has no cached training members, so `score` folds every history in with limelight's exact
least squares (the same code, the same factors as a cached member would get), on the executors
when scored with `score_all`.

Spark settings chosen here: `checkpointInterval` (default 5) with a checkpoint folder set when the
session has none (else the interval is ignored and the RDD lineage grows by two stages per
iteration); intermediate and final storage `MEMORY_AND_DISK` (in local mode the driver's heap is
the executor's: blocks spill to local disk instead of being recomputed from the lineage); as many
member and title blocks as the session's default parallelism (MLlib's default of 10 makes 10 tasks
per half-iteration on a 2-core machine).
"""

from __future__ import annotations

import atexit
import logging
import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError, NotFoundError, first_line, require_fields
from limelight.personalize.base import check_number
from limelight.personalize.models.als import ALS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

__all__ = [
    "STORAGE_LEVEL", "fit_with_mllib", "interaction_pairs", "mllib_parameters", "read_parquet", "standard_columns",
    "train_als_spark",
]

log = logging.getLogger(__name__)

#: Storage level for MLlib's intermediate blocks and final factors (see the module docstring).
STORAGE_LEVEL = "MEMORY_AND_DISK"


def mllib_parameters(model: ALS, n_members: int, n_titles: int, n_pairs: int) -> dict[str, Any]:
    """MLlib `ALS` arguments equivalent to `model`'s (see the module docstring), plus the
    implicit-side values the fitted limelight model keeps.

    Returns rank, maxIter, regParam, alpha, implicitPrefs, seed, and `implicit_regularization`
    (λ', `ALS.scaled_regularization`, as implicit trains with), `mean_titles_per_member`,
    `mean_members_per_title` and `title_scale` (the gauge factor applied to MLlib's title factors).
    """
    if n_members < 1 or n_titles < 1 or n_pairs < 1:
        raise InputError(f"interactions must have at least one (member, title) pair, got {n_pairs}")
    mean_per_member = n_pairs / n_members
    mean_per_title = n_pairs / n_titles
    implicit_lambda = model.scaled_regularization(n_members, n_titles, n_pairs)
    return {
        "rank": int(model.factors),
        "maxIter": int(model.iterations),
        "regParam": implicit_lambda / math.sqrt(mean_per_member * mean_per_title),
        "alpha": model.alpha_ - 1.0,
        "implicitPrefs": True,
        "nonnegative": False,
        "seed": int(model.seed),
        "implicit_regularization": implicit_lambda,
        "mean_titles_per_member": mean_per_member,
        "mean_members_per_title": mean_per_title,
        "title_scale": (mean_per_title / mean_per_member) ** 0.25,
    }


def read_parquet(path: str | Path, spark: SparkSession) -> SparkDataFrame:
    """An interactions Parquet file or folder (local path or URL) on Spark, or one sentence saying why not."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    from limelight.spine.loaders.tabular import refuse_unfinished_write

    text = str(path)
    if "://" not in text and not Path(text).exists():
        raise NotFoundError(f"the interactions Parquet {text} does not exist")
    if "://" not in text:
        refuse_unfinished_write(text)  # as the in-process reader does: a job still writing is no input
    try:
        return spark.read.parquet(text)
    except (PySparkException, Py4JJavaError) as exc:  # a footer it cannot read is a Java error, not an analysis one
        reason = _java_reason(exc)
        raise DataError(f"the file must be readable Parquet, got: {reason}", origin=text) from None


def _java_reason(exc: Exception) -> str:
    """The sentence inside a Spark/Java error (its first line is a py4j call; the cause comes later)."""
    import re

    text = str(exc)
    found = re.search(r"\[([A-Z_.]+)\][^\n]*", text)  # Spark's error class line, e.g. [CANNOT_READ_FILE_FOOTER] …
    return (found.group(0) if found else first_line(exc))[:200]


def standard_columns(frame: SparkDataFrame) -> SparkDataFrame:
    """The columns the in-process reader takes: names trimmed and lower-cased, and MovieLens' own
    userId/movieId read as member_id/title_id (a ratings.parquet worked on one path and not the other)."""
    from limelight.personalize.batch import MOVIELENS_COLUMNS

    frame = frame.toDF(*[str(c).strip().lower() for c in frame.columns])
    if not {"member_id", "title_id"} & set(frame.columns) and set(MOVIELENS_COLUMNS) <= set(frame.columns):
        for old, new in MOVIELENS_COLUMNS.items():
            frame = frame.withColumnRenamed(old, new)
    return frame


def interaction_pairs(
    source: str | Path | pd.DataFrame | SparkDataFrame, spark: SparkSession, weight_col: str | None
) -> SparkDataFrame:
    """(member_id string, title_id string, weight float) on Spark, columns checked; rows without ids dropped."""
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import functions as F

    where = "the interactions"
    if isinstance(source, str | Path):
        where = f"the interactions Parquet {source}"
        frame = read_parquet(source, spark)
    elif isinstance(source, pd.DataFrame):
        if source.empty:
            raise InputError("interactions must have at least one row, got an empty table")
        frame = spark.createDataFrame(source)
    elif isinstance(source, SparkDataFrame):
        frame = source
    else:
        raise InputError(
            "interactions must be a Parquet path, a pandas DataFrame or a Spark DataFrame, "
            f"got {type(source).__name__}"
        )
    weight_col = weight_col.strip().lower() if weight_col else None
    frame = standard_columns(frame)
    columns = list(frame.columns)
    require_fields(columns, ("member_id", "title_id"), where)
    if weight_col is not None:
        require_fields(columns, (weight_col,), where)
    # A null weight counts as an interaction (as NaN does in the CSR path), pairs add up.
    weight = F.coalesce(F.col(weight_col).cast("float"), F.lit(1.0)) if weight_col else F.lit(1.0)
    # ids trimmed as the in-process reader trims them (" M1" and "M1 " are member M1 on both paths)
    return frame.select(
        F.trim(F.col("member_id").cast("string")).alias("member_id"),
        F.trim(F.col("title_id").cast("string")).alias("title_id"),
        weight.cast("float").alias("weight"),
    ).where(F.col("member_id").isNotNull() & F.col("title_id").isNotNull())


def _member_index(pairs: SparkDataFrame, spark: SparkSession) -> tuple[SparkDataFrame, int, SparkDataFrame]:
    """member_id → member_idx 0..n-1, numbered on Spark (nothing per member collected).

    The distinct ids (hash-partitioned by the `distinct` shuffle) are sorted within their
    partition, so the numbering is the same on every run over the same data and settings (MLlib's
    seeded start depends on it) without a global sort; each partition's rows are numbered by
    `monotonically_increasing_id` (partition << 33 | row) and shifted by the sizes of the
    partitions before it (one count per partition is all that reaches the driver).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    numbered = (
        pairs.select("member_id")
        .distinct()
        .sortWithinPartitions("member_id")
        .select(
            "member_id",
            F.spark_partition_id().alias("part"),
            (F.monotonically_increasing_id().bitwiseAND(F.lit((1 << 33) - 1))).alias("row"),
        )
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    counts = sorted((int(r["part"]), int(r["n"])) for r in numbered.groupBy("part").agg(F.count("*").alias("n")).collect())
    offsets, total = [], 0
    for part, n in counts:
        offsets.append((part, total))
        total += n
    starts = spark.createDataFrame(pd.DataFrame(offsets, columns=["part", "start"]), schema="part int, start long")
    index = numbered.join(F.broadcast(starts), "part").select(
        "member_id", (F.col("start") + F.col("row")).cast("int").alias("member_idx")
    )
    return index, total, numbered  # numbered is persisted: the caller unpersists it


def _ensure_checkpoint_dir(spark: SparkSession) -> None:
    context = spark.sparkContext
    if context.getCheckpointDir() is None:
        folder = tempfile.mkdtemp(prefix="limelight-spark-checkpoints-")
        context.setCheckpointDir(folder)
        # local mode's checkpoints are scratch: gone with the driver (a cluster sets its own folder)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        log.info("Spark checkpoint folder set to %s (ALS cuts its lineage there)", folder)


def train_als_spark(
    source: str | Path | pd.DataFrame | SparkDataFrame,
    *,
    spark: SparkSession | None = None,
    factors: int = 128,
    regularization: float = 0.01,
    unobserved_weight: float = 0.5,
    iterations: int = 15,
    seed: int = 7,
    weight_col: str | None = "weight",
    blocks: int | None = None,
    checkpoint_interval: int = 5,
) -> ALS:
    """Train implicit ALS with Spark MLlib on `source` and return a fitted limelight `ALS`.

    `source` is an interactions Parquet file or folder (local path or object-store URL), a Spark
    DataFrame or a pandas frame with member_id, title_id and (unless `weight_col` is None) a
    weight column; duplicate pairs add up, and a pair whose weights sum to zero is not an
    interaction (as in `interactions_from_parquet` followed by `binarize`). The hyperparameters
    are limelight `ALS`'s, mapped onto MLlib's by `mllib_parameters`. `spark` defaults to
    `limelight.spine.engines.spark_session()` (the active session, or a local one).
    """
    model = ALS(
        factors=factors,
        regularization=regularization,
        unobserved_weight=unobserved_weight,
        iterations=iterations,
        seed=seed,
        use_gpu=False,
    )
    return fit_with_mllib(
        model, source, spark=spark, weight_col=weight_col, blocks=blocks, checkpoint_interval=checkpoint_interval
    )


def fit_with_mllib(
    model: ALS,
    source: str | Path | pd.DataFrame | SparkDataFrame,
    *,
    spark: SparkSession | None = None,
    weight_col: str | None = "weight",
    blocks: int | None = None,
    checkpoint_interval: int = 5,
) -> ALS:
    """Fit the unfitted limelight `model` with Spark MLlib instead of `implicit`; returns it.

    Same hyperparameters (`model.factors`, `regularization`, `unobserved_weight`, `iterations`,
    `seed`), same fitted attributes; see `train_als_spark` for `source`.
    """
    if not isinstance(model, ALS):
        raise InputError(f"model must be a limelight ALS, got {type(model).__name__}")
    factors, iterations, seed = model.factors, model.iterations, model.seed
    check_number("ALS", "regularization", model.regularization, 0, 1e6)
    check_number("ALS", "unobserved_weight", model.unobserved_weight, 1e-9, 1e6)
    if model.rating_weight:
        raise InputError(
            f"rating_weight must be 0 for the MLlib trainer (MLlib reads a rating as its own confidence "
            f"1 + alpha·r), got {model.rating_weight}; train with trainer='implicit' to weight by rating"
        )
    check_number("ALS", "factors", factors, 1, 4096, integer=True)
    check_number("ALS", "iterations", iterations, 1, 1000, integer=True)
    check_number("ALS", "seed", seed, 0, 2**63 - 1, integer=True)
    check_number("train_als_spark", "checkpoint_interval", checkpoint_interval, 1, 1000, integer=True)
    if blocks is not None:
        check_number("train_als_spark", "blocks", blocks, 1, 100_000, integer=True)

    from pyspark import StorageLevel
    from pyspark.ml.recommendation import ALS as MLlibALS
    from pyspark.sql import functions as F

    if spark is None:
        from limelight.spine.engines import spark_session

        spark = spark_session("limelight-als")
    started = time.perf_counter()
    rows = interaction_pairs(source, spark, weight_col)
    pairs = (
        rows.groupBy("member_id", "title_id")
        .agg(F.sum("weight").alias("weight"))
        .where(F.col("weight") != 0)
        .select("member_id", "title_id")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    # Titles are few (thousands): their ids come to the driver, sorted as Interactions numbers them.
    title_ids = np.sort(np.asarray([str(r[0]) for r in pairs.select("title_id").distinct().collect()], dtype=str))
    if title_ids.size == 0:
        pairs.unpersist()
        raise InputError("interactions must have at least one (member, title) pair with a non-zero weight, got none")
    titles = spark.createDataFrame(
        pd.DataFrame({"title_id": title_ids.astype(object), "title_idx": np.arange(title_ids.size, dtype=np.int32)}),
        schema="title_id string, title_idx int",
    )
    members, n_members, numbered = _member_index(pairs, spark)
    ratings = (
        pairs.join(members, "member_id")
        .join(F.broadcast(titles), "title_id")
        .select("member_idx", "title_idx", F.lit(1.0).cast("float").alias("rating"))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    n_pairs = ratings.count()
    pairs.unpersist()
    numbered.unpersist()
    params = mllib_parameters(model, n_members, int(title_ids.size), n_pairs)
    n_blocks = int(blocks) if blocks is not None else max(1, spark.sparkContext.defaultParallelism)
    _ensure_checkpoint_dir(spark)
    prepared = time.perf_counter()
    estimator = MLlibALS(
        rank=params["rank"],
        maxIter=params["maxIter"],
        regParam=params["regParam"],
        alpha=params["alpha"],
        implicitPrefs=True,
        nonnegative=False,
        seed=params["seed"],
        userCol="member_idx",
        itemCol="title_idx",
        ratingCol="rating",
        numUserBlocks=n_blocks,
        numItemBlocks=n_blocks,
        checkpointInterval=int(checkpoint_interval),
        intermediateStorageLevel=STORAGE_LEVEL,
        finalStorageLevel=STORAGE_LEVEL,
    )
    try:
        fitted = estimator.fit(ratings)
        trained = time.perf_counter()
        item_rows = fitted.itemFactors.collect()
    finally:
        ratings.unpersist()
    ids = np.asarray([int(r["id"]) for r in item_rows], dtype=np.int64)
    vectors = np.asarray([r["features"] for r in item_rows], dtype=np.float64).reshape(len(item_rows), params["rank"])
    if ids.size != title_ids.size or not np.array_equal(np.sort(ids), np.arange(title_ids.size)):
        raise DataError(f"MLlib returned factors for {ids.size} titles, expected {title_ids.size}")
    title_factors = np.zeros((title_ids.size, params["rank"]), dtype=np.float64)
    title_factors[ids] = vectors * params["title_scale"]

    model.title_factors_ = title_factors.astype(np.float32)
    model.implicit_regularization_ = float(params["implicit_regularization"])
    model.mean_titles_per_member_ = float(params["mean_titles_per_member"])
    model.used_gpu_ = False
    model.title_ids_ = title_ids.astype(object)
    # No training member is cached: `score` folds every history in (same factors either way).
    model.member_hashes_ = np.zeros(0, dtype=np.uint64)
    model.member_factors_ = np.zeros((0, params["rank"]), dtype=np.float32)
    done = time.perf_counter()
    model.spark_fit_info_ = {  # type: ignore[attr-defined]
        "trainer": "mllib",
        "members": int(n_members),
        "titles": int(title_ids.size),
        "pairs": int(n_pairs),
        "blocks": n_blocks,
        "checkpoint_interval": int(checkpoint_interval),
        "prepare_s": round(prepared - started, 3),
        "als_fit_s": round(trained - prepared, 3),
        "collect_s": round(done - trained, 3),
        "mllib": {k: params[k] for k in ("rank", "maxIter", "regParam", "alpha", "implicitPrefs", "seed")},
    }
    log.info(
        "MLlib ALS: %d members × %d titles, %d pairs, rank %d, %d iterations, regParam=%.4g, alpha=%.4g, %d blocks",
        n_members, title_ids.size, n_pairs, params["rank"], params["maxIter"], params["regParam"], params["alpha"],
        n_blocks,
    )
    return model
