"""Batch mode: train on a CSV or Parquet file of interactions and write every member's top-K.

Input columns: member_id, title_id (required), rating, timestamp (optional); every row is one
interaction, whatever its rating (relevance is binary). A rating is the strength EASE and ALS read
with `rating_weight` > 0 (`auto` tries it); the other models read only that the interaction
happened. Output columns: member_id, title_id, rank (1 = best), score — K rows per member, never a
title the member already has in the input. The file format follows the suffix
(`.csv`, `.csv.gz`, `.parquet`/`.pq`). Scoring runs in blocks of members so memory stays bounded;
`engine="spark"` hands the fitted model to `limelight.scale.spark_scoring.score_all` instead.
With `engine="spark"` and `model="als"` the training runs on Spark too, with Spark MLlib's ALS
(`limelight.scale.spark_als`), unless `trainer="implicit"` asks for `implicit` on the driver; a
Parquet file is then read by Spark itself and never gathered on the driver (only title factors and
the top-K rows come back), so its size is bounded by the cluster, not by this machine.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import ConfigError, DataError, InputError, NotFoundError, first_line
from limelight.personalize.base import (
    Interactions,
    Recommender,
    binarize,
    check_number,
    latest_per_pair,
    rating_strength,
    top_k_rows,
)
from limelight.personalize.models import MODEL_NAMES, make_model
from limelight.spine.sql import duckdb_reason, sql_string

__all__ = [
    "BatchResult",
    "read_interactions",
    "read_store_interactions",
    "recommend_file",
    "resolve_trainer",
    "top_k_frame",
    "top_k_from_factors",
    "write_frame",
]

log = logging.getLogger(__name__)

REQUIRED = ("member_id", "title_id")
OPTIONAL = ("rating", "timestamp")
ENGINES = ("duckdb", "spark")
EMPTY_FILE = "the file must have at least one interaction row, got none"
MAX_RATING = 1e9
MAX_EPOCH_SECONDS = 1e11  # year 5138: past it a "second" is a millisecond or a wrapped number
TRAINERS = ("implicit", "mllib")


@dataclass
class BatchResult:
    """What a batch run wrote."""

    out: Path
    model: str
    n_members: int
    n_titles: int
    n_rows: int
    fit_seconds: float
    recommend_seconds: float
    chosen: Any = None
    trainer: str | None = None


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        return "csv"
    raise DataError("the file must end in .csv, .csv.gz, .parquet or .pq", origin=str(path))


#: MovieLens' ratings.csv header (lower-cased), read as limelight's interaction columns
MOVIELENS_COLUMNS = {"userid": "member_id", "movieid": "title_id"}


def read_interactions(path: str | Path) -> pd.DataFrame:
    """Read and validate an interactions file; the first bad row raises one `DataError` sentence.

    Row numbers are file lines for CSV (the header is line 1) and 1-based rows for Parquet.
    """
    import duckdb

    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"interactions file '{path}' does not exist")
    if path.is_dir() and not path.name.lower().endswith((".parquet", ".pq")):  # Spark writes Parquet folders
        raise DataError("is a folder, not a file: give the interactions file inside it", origin=str(path))
    kind = _kind(path)
    if kind == "parquet":
        from limelight.spine.loaders.tabular import refuse_unfinished_write

        refuse_unfinished_write(path)
    con = duckdb.connect()
    lines: np.ndarray | None = None
    try:
        if kind == "csv":
            # The quote is the standard one, not guessed: DuckDB's sniffer took "'" for the quote of a
            # file whose first id was '1', and merged members '1' and 1 into one. The separator is still
            # detected (comma, tab, semicolon, pipe).
            frame = con.execute(
                "SELECT * FROM read_csv(?, all_varchar = true, header = true, auto_detect = true, "
                "quote = '\"', escape = '\"')",
                [str(path)],
            ).df()
        else:
            frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    except duckdb.Error as exc:
        if kind != "csv":
            raise DataError(f"the file must be readable Parquet ({duckdb_reason(exc)})", origin=str(path)) from None
        frame, lines = _read_csv_line_by_line(path, exc)
    finally:
        con.close()
    frame = _named_columns(frame)
    if kind == "csv" and lines is None and not set(REQUIRED) <= set(frame.columns):
        # DuckDB's sniffer guesses a file it cannot make sense of (a ragged row, no header, nothing at all)
        # into one odd column; the line-by-line reader says what is wrong and where
        frame, lines = _read_csv_line_by_line(path, None)
        frame = _named_columns(frame)
    if lines is None:  # file lines for CSV (the header is line 1), 1-based rows for Parquet
        lines = np.arange(2 if kind == "csv" else 1, len(frame) + (2 if kind == "csv" else 1))
    frame = frame.reset_index(drop=True)
    _require_columns(list(frame.columns), path)
    if kind == "parquet":
        _check_parquet_types(frame, path)
    if frame.empty:
        raise DataError(EMPTY_FILE, origin=str(path))
    for column in REQUIRED:
        values = frame[column].astype("string").str.strip()
        bad = values.isna() | (values == "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{column} must not be empty", origin=str(path), row=int(lines[row]), column=column)
        frame[column] = values.astype(str)
    if "rating" in frame.columns:
        ratings = pd.to_numeric(frame["rating"], errors="coerce")
        bad = ratings.isna() & frame["rating"].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"rating must be a number, got {frame['rating'].iloc[row]!r}", origin=str(path), row=int(lines[row]),
                column="rating",
            )
        as_float64 = ratings.to_numpy(np.float64, na_value=np.nan)
        # inf made every strength NaN (0 rows written, exit 0); ±3e38 passed as float32 but overflowed
        # when shifted into strengths. No scale of stars, thumbs or play counts comes near 1e9.
        outside = ratings.notna().to_numpy() & ~(np.abs(as_float64) <= MAX_RATING)
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise DataError(
                f"rating must be a finite number between -{MAX_RATING:.0e} and {MAX_RATING:.0e}, "
                f"got {frame['rating'].iloc[row]!r}", origin=str(path), row=int(lines[row]), column="rating",
            )
        frame["rating"] = as_float64.astype(np.float32)  # an empty rating still an interaction: see rating_strength
    if "timestamp" in frame.columns:
        frame["timestamp"] = _parse_times(frame["timestamp"], path, lines)
    return frame[[c for c in (*REQUIRED, *OPTIONAL) if c in frame.columns]]


def _check_parquet_types(frame: pd.DataFrame, path: Path) -> None:
    """Parquet columns of a type no interaction has: a list, struct or boolean id was written out as
    Python text ("[1 2]", "True") and a boolean timestamp read as epoch 0 or 1."""
    for column in (*REQUIRED, *OPTIONAL):
        if column not in frame.columns:
            continue
        values = frame[column]
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            ok = False
        elif column in REQUIRED:
            ok = bool(pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_string_dtype(values) or (
                pd.api.types.is_object_dtype(dtype) and values.map(lambda v: v is None or isinstance(v, str | int)).all()
            ))
        elif column == "rating":
            ok = pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_string_dtype(values)
        else:
            ok = (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
                  or pd.api.types.is_string_dtype(values))
        if not ok:
            shown = type(values.dropna().iloc[0]).__name__ if values.notna().any() else str(dtype)
            want = "text or whole numbers" if column in REQUIRED else (
                "numbers" if column == "rating" else "epoch seconds, a timestamp or ISO-8601 text")
            raise DataError(f"{column} must hold {want}, got {shown} values", origin=str(path), column=column)


def _check_spark_id_types(schema: Any, path: Path) -> None:
    """`_check_parquet_types` for ids read by Spark: a list, struct, boolean or fractional id was
    written out as its text ("[1, 2]", "true", "2.5") where the in-process reader refuses it."""
    from pyspark.sql.types import IntegralType, StringType

    for column in REQUIRED:
        kind = schema[column].dataType
        if not isinstance(kind, StringType | IntegralType):
            raise DataError(f"{column} must hold text or whole numbers, got {kind.simpleString()} values",
                            origin=str(path), column=column)


def _require_columns(columns: list[str], path: Path) -> None:
    """A `DataError` naming the first required column the file lacks."""
    for column in REQUIRED:
        if column not in columns:
            raise DataError(
                f"the file must have a '{column}' column, got columns {', '.join(map(str, columns))}",
                origin=str(path),
                column=column,
            )


def _named_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if not {"member_id", "title_id"} & set(frame.columns) and {"userid", "movieid"} <= set(frame.columns):
        # MovieLens' own ratings.csv (userId, movieId, rating, timestamp): the file users reach for first
        frame = frame.rename(columns=MOVIELENS_COLUMNS)
    return frame


def _read_csv_line_by_line(path: Path, error: Exception | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The spine's CSV reader (strings, each row's file line in the index): for a file DuckDB refused or
    misread — mixed line endings, a ragged row, binary or non-UTF-8 bytes, no rows — it reads what can be
    read and names the file line of what cannot."""
    from limelight.spine.loaders._common import read_delimited

    sep = "\t" if path.name.lower().endswith(".tsv") else ","
    try:
        frame = read_delimited(path, sep=sep)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeError) as exc:  # e.g. a compressed file the line reader cannot open
        reason = duckdb_reason(error) if error is not None else first_line(exc)
        raise DataError(f"the file must be readable CSV ({reason})", origin=str(path)) from None
    return frame, frame.index.to_numpy()


def _parse_times(column: pd.Series, path: Path, lines: np.ndarray) -> pd.Series:
    """Epoch seconds from numbers or ISO-8601 texts; a value that is neither is a `DataError`."""
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
        return pd.Series(parsed.dt.as_unit("s").astype("int64").to_numpy(np.float64), index=column.index)
    numbers = pd.to_numeric(column, errors="coerce")
    out = numbers.to_numpy(np.float64, na_value=np.nan).copy()
    text = numbers.isna() & column.notna()
    if text.any():
        parsed = pd.to_datetime(column[text], utc=True, errors="coerce", format="mixed")
        if parsed.isna().any():
            row = int(np.flatnonzero(text.to_numpy())[int(np.flatnonzero(parsed.isna().to_numpy())[0])])
            raise DataError(
                f"timestamp must be epoch seconds or an ISO-8601 time, got {column.iloc[row]!r}",
                origin=str(path), row=int(lines[row]), column="timestamp",
            )
        out[text.to_numpy()] = parsed.dt.as_unit("s").astype("int64").to_numpy(np.float64)
    if np.isnan(out).any():
        row = int(np.flatnonzero(np.isnan(out))[0])
        raise DataError("timestamp must not be empty", origin=str(path), row=int(lines[row]), column="timestamp")
    far = ~(np.abs(out) <= MAX_EPOCH_SECONDS)  # 1e20 wrapped to INT64_MIN and changed which title was "last"
    if far.any():
        row = int(np.flatnonzero(far)[0])
        raise DataError(
            f"timestamp must be epoch seconds between -{MAX_EPOCH_SECONDS:.0e} and {MAX_EPOCH_SECONDS:.0e} "
            f"(milliseconds? divide by 1,000), got {column.iloc[row]!r}",
            origin=str(path), row=int(lines[row]), column="timestamp",
        )
    return pd.Series(out, index=column.index)


def recommendations_frame(
    model: Recommender,
    member_ids: np.ndarray,
    history: sp.csr_matrix,
    k: int,
    *,
    exclude_seen: bool = True,
    block_size: int = 4096,
) -> pd.DataFrame:
    """`model.recommend` on history rows, as long rows (member_id, title_id, rank, score).

    With `exclude_seen`, a member who has nearly every title gets fewer than K rows, never one they
    already have (the top-K fills up with seen titles at −inf). The one frame builder of both engines:
    Spark's partitions call it too, so their lists are the same.
    """
    history = history.tocsr()
    if not getattr(model, "uses_order", False):  # a sequence model's rows are times: float32 would blur them
        history = history.astype(np.float32)
        history.sum_duplicates()  # canonical: sorted title indexes, so sums run in one order everywhere
    recs = model.recommend(history, k, exclude_seen=exclude_seen, block_size=block_size)
    n, width = recs.titles.shape
    title_ids: np.ndarray = np.asarray(model.title_ids_, dtype=object)  # type: ignore[attr-defined]
    frame = pd.DataFrame(
        {
            "member_id": np.repeat(np.asarray(member_ids, dtype=object), width),
            "title_id": title_ids[recs.titles.ravel()],
            "rank": np.tile(np.arange(1, width + 1, dtype=np.int32), n),
            "score": recs.scores.ravel().astype(np.float32),
        }
    )
    scores = frame["score"].to_numpy()
    if np.isnan(scores).any():  # dropped with the −inf of seen titles, it emptied a whole file silently
        raise DataError(f"the model scored {int(np.isnan(scores).sum()):,} titles as NaN; nothing was written")
    if exclude_seen:
        frame = frame[np.isfinite(scores)].reset_index(drop=True)
    return frame


def top_k_frame(model: Recommender, interactions: Interactions, k: int, *, block_size: int = 4096) -> pd.DataFrame:
    """Every member's top-K as long rows (member_id, title_id, rank, score), seen titles left out."""
    uses_order = bool(getattr(model, "uses_order", False)) and interactions.last_at is not None
    history = interactions.last_at if uses_order else interactions.matrix
    assert history is not None
    return recommendations_frame(model, interactions.member_ids, history, k, block_size=block_size)


def top_k_from_factors(
    member_factors: np.ndarray,
    title_factors: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
    block_size: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-K titles per member from factor matrices, one (block × titles) score matrix at a time.

    Memory is `block_size × n_titles × 4` bytes for scores beyond the inputs and outputs, so a
    million members × 20k titles stays within a few hundred MiB of working space. `exclude`
    (members × titles) marks titles to leave out (what each member already has).
    """
    n_members, n_titles = member_factors.shape[0], title_factors.shape[0]
    check_number("top_k_from_factors", "k", k, 1, n_titles, integer=True)
    titles_t = np.ascontiguousarray(title_factors.T, dtype=np.float32)
    out_titles = np.empty((n_members, k), dtype=np.int32)
    out_scores = np.empty((n_members, k), dtype=np.float32)
    for start in range(0, n_members, block_size):
        stop = min(start + block_size, n_members)
        scores = np.asarray(member_factors[start:stop], dtype=np.float32) @ titles_t
        if exclude is not None:
            block = exclude[start:stop].tocoo()
            scores[block.row, block.col] = -np.inf
        out_titles[start:stop], out_scores[start:stop] = top_k_rows(scores, k)
    return out_titles, out_scores


def write_frame(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write CSV or Parquet by suffix, through DuckDB."""
    import duckdb

    out = Path(out)
    kind = _kind(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.register("recommendations", frame)
        fmt = "(FORMAT parquet)" if kind == "parquet" else "(FORMAT csv, HEADER true)"
        con.execute(f"COPY recommendations TO {sql_string(out)} {fmt}")
    finally:
        con.close()
    return out


def recommend_file(
    interactions_path: str | Path,
    out: str | Path,
    *,
    k: int = 10,
    model: str | Recommender = "auto",
    engine: str = "duckdb",
    params: dict[str, Any] | None = None,
    spark: Any = None,
    trainer: str | None = None,
) -> BatchResult:
    """Train `model` on the file and write every member's top-`k` to `out`.

    `trainer` (ALS only): "implicit" trains on this machine with `implicit`, "mllib" with Spark
    MLlib on the Spark session; by default "mllib" when `engine` is "spark" and `model` is "als".
    """
    check_number("recommend", "k", k, 1, 10_000, integer=True)
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if isinstance(model, str) and model not in MODEL_NAMES:
        raise InputError(f"model must be one of {', '.join(MODEL_NAMES)}, got {model!r}")
    _kind(Path(out))
    estimator = make_model(model, **(params or {})) if isinstance(model, str) else model
    if engine == "spark" and (estimator.name == "sasrec" or "sasrec" in (getattr(estimator, "families", None) or [])):
        raise ConfigError(_ORDER_ON_SPARK)
    chosen_trainer = resolve_trainer(trainer, estimator, engine)
    if chosen_trainer == "mllib" and _kind(Path(interactions_path)) == "parquet":
        return _recommend_all_on_spark(Path(interactions_path), Path(out), estimator, k, spark)
    frame = read_interactions(interactions_path)
    time_col = "timestamp" if "timestamp" in frame.columns else None
    weight_col = None
    if "rating" in frame.columns:  # the strength EASE may read (rating_weight); every row still counts as watched
        frame["rating"] = rating_strength(frame["rating"])
        weight_col = "rating"
        # A rating is a state, not an event: a title rated twice is its latest rating, as `evaluate` reads it
        # (summed, a 5 given twice was a strength of 11 and the shipped lists were not the evaluated model's).
        order = frame["timestamp"] if time_col else pd.Series(np.arange(len(frame)), index=frame.index)
        frame = latest_per_pair(frame, order)
    interactions = Interactions.from_frame(frame, time_col=time_col, weight_col=weight_col)
    own_session = False
    if chosen_trainer == "mllib" and spark is None:
        spark, own_session = _local_spark()
    try:
        started = time.perf_counter()
        pairs: Any = None  # the (member, title, weight) rows on Spark, made once for training and scoring
        if chosen_trainer == "mllib":
            from limelight.personalize.models.als import ALS
            from limelight.scale.spark_als import fit_with_mllib

            assert isinstance(estimator, ALS)
            # MLlib reads a weight as confidence 1 + α·weight; `implicit` sees plain interactions, and so must it
            pairs = spark.createDataFrame(_long_frame(interactions, binary=True))
            fit_with_mllib(estimator, pairs, spark=spark)
        else:
            estimator.fit(interactions)
        fitted = time.perf_counter()
        if engine == "spark":
            if getattr(estimator, "uses_order", False):
                raise ConfigError(_ORDER_ON_SPARK)
            result = _score_on_spark(estimator, _long_frame(interactions) if pairs is None else pairs, k, spark)
        else:
            result = top_k_frame(estimator, interactions, k)
        done = time.perf_counter()
    finally:
        if own_session:
            spark.stop()
    path = write_frame(result, out)
    log.info("batch: %s on %d members, %d rows written to %s", estimator.name, interactions.n_members, len(result), path)
    return BatchResult(
        out=path,
        model=estimator.name,
        n_members=interactions.n_members,
        n_titles=interactions.n_titles,
        n_rows=len(result),
        fit_seconds=fitted - started,
        recommend_seconds=done - fitted,
        chosen=getattr(estimator, "chosen_", None),
        trainer=chosen_trainer if estimator.name == "als" else None,
    )


def _recommend_all_on_spark(path: Path, out: Path, estimator: Recommender, k: int, spark: Any) -> BatchResult:
    """Parquet in, MLlib trains, Spark scores: the interactions never gather on the driver.

    Only the title factors (titles × factors) and the top-K rows come back. Checks run on Spark,
    in one pass over the file: the columns, at least one row, and no row without a member_id or
    title_id (counted, named by column; Parquet rows have no line number worth quoting on Spark).
    Ratings are not read (MLlib's confidence).
    """
    from pyspark.sql import functions as F

    from limelight.personalize.models.als import ALS
    from limelight.scale.spark_als import fit_with_mllib, interaction_pairs, read_parquet, standard_columns

    assert isinstance(estimator, ALS)
    own_session = spark is None
    if own_session:
        spark, own_session = _local_spark()
    try:
        started = time.perf_counter()
        raw = standard_columns(read_parquet(path, spark))
        _require_columns(list(raw.columns), path)
        _check_spark_id_types(raw.schema, path)
        missing = {c: F.sum((F.col(c).isNull() | (F.trim(F.col(c).cast("string")) == "")).cast("long")) for c in REQUIRED}
        row = raw.agg(F.count(F.lit(1)).alias("rows"), *[v.alias(c) for c, v in missing.items()]).first()
        counts = row.asDict() if row is not None else {}
        if not counts.get("rows"):
            raise DataError(EMPTY_FILE, origin=str(path))
        for column in REQUIRED:
            if counts[column]:
                raise DataError(f"{column} must not be empty, got {counts[column]:,} rows without one",
                                origin=str(path), column=column)
        pairs = interaction_pairs(raw, spark, None).persist()
        fit_with_mllib(estimator, pairs, spark=spark)
        fitted = time.perf_counter()
        result = _score_on_spark(estimator, pairs, k, spark)
        pairs.unpersist()
        n_members = int(estimator.spark_fit_info_["members"])  # type: ignore[attr-defined]  # counted by the fit
        done = time.perf_counter()
    finally:
        if own_session:
            spark.stop()
    written = write_frame(result, out)
    log.info("batch: als (MLlib, all on Spark) on %d members, %d rows written to %s", n_members, len(result), written)
    return BatchResult(
        out=written, model=estimator.name, n_members=n_members, n_titles=len(estimator.title_ids_),
        n_rows=len(result), fit_seconds=fitted - started, recommend_seconds=done - fitted, trainer="mllib",
    )


def resolve_trainer(trainer: str | None, model: Recommender, engine: str) -> str:
    """Which library trains: "mllib" (Spark MLlib, ALS on the Spark engine) or "implicit"/the model's own.

    By default ALS on the Spark engine trains with MLlib; everything else trains in process.
    """
    is_als = getattr(model, "name", None) == "als"
    if trainer is None:
        return "mllib" if engine == "spark" and is_als else "implicit"
    if trainer not in TRAINERS:
        raise InputError(f"trainer must be one of {', '.join(TRAINERS)}, got {trainer!r}")
    if trainer == "mllib" and not (engine == "spark" and is_als):
        raise InputError(
            f"trainer 'mllib' must go with --model als and --engine spark, got model "
            f"{getattr(model, 'name', type(model).__name__)!r} on engine {engine!r}"
        )
    return trainer


def _long_frame(interactions: Interactions, *, binary: bool = False) -> pd.DataFrame:
    """member_id, title_id, weight: one row per stored entry of the matrix (weight 1 when `binary`)."""
    coo = (binarize(interactions.matrix) if binary else interactions.matrix).tocoo()
    return pd.DataFrame(
        {
            "member_id": np.asarray(interactions.member_ids, dtype=object)[coo.row].astype(str),
            "title_id": np.asarray(interactions.title_ids, dtype=object)[coo.col].astype(str),
            "weight": coo.data.astype(np.float32),
        }
    )


#: Spark partitions score members from (member, title, weight) rows; a sequence model reads the order
#: of the watches, which those rows do not carry (its lists differed from the single-machine ones)
_ORDER_ON_SPARK = (
    "--engine spark scores members from their interactions' weights, but sasrec reads the order they "
    "watched in; use --engine duckdb for sasrec (or a blend with it)"
)


def _score_on_spark(model: Recommender, pairs: Any, k: int, spark: Any) -> pd.DataFrame:
    """`score_all` on `pairs` (member_id, title_id, weight; pandas or Spark), as one sorted pandas frame."""
    try:
        from limelight.scale.spark_scoring import score_all
    except ImportError as exc:
        raise ConfigError(
            "engine 'spark' needs limelight.scale.spark_scoring.score_all and pyspark "
            "(pip install 'limelight[spark]'); use --engine duckdb"
        ) from exc
    own_session = False
    if spark is None:
        spark, own_session = _local_spark()
    try:
        frame = score_all(model, pairs, k, spark=spark).toPandas()
    except Exception as exc:  # a limelight error raised in a Spark worker comes back as Java's text
        mapped = _worker_error(exc)
        if mapped is exc:
            raise
        raise mapped from exc
    finally:
        if own_session:
            spark.stop()
    if frame.empty:  # no rows: give the columns their types, or Parquet stores them as null-typed
        frame = frame.astype({"member_id": "string", "title_id": "string", "rank": "int32", "score": "float32"})
    return frame.sort_values(["member_id", "rank"], kind="stable").reset_index(drop=True)


_WORKER_ERROR = re.compile(r"limelight\.errors\.(\w+): (.+)")


def _worker_error(exc: Exception) -> Exception:
    """The limelight error a Spark worker raised (its class and sentence), or `exc` itself."""
    import limelight.errors as errors

    found = _WORKER_ERROR.findall(str(exc))
    if found:
        name, message = found[-1]
        kind = getattr(errors, name, None)
        if isinstance(kind, type) and issubclass(kind, errors.LimelightError):
            return kind(message.strip())
    return exc


def _local_spark() -> tuple[Any, bool]:
    """The active Spark session, or a new local one (returned with True: the caller stops it)."""
    from pyspark.sql import SparkSession

    from limelight.spine.engines import spark_session

    created = SparkSession.getActiveSession() is None
    return spark_session("limelight-recommend"), created


def read_store_interactions(db: str | Path) -> pd.DataFrame:
    """member_id, title_id, timestamp from the spine: the interactions the service trains on, read by
    the same code (`Histories`), so `limelight evaluate --db` scores the model the service would serve.

    Episodes and seasons count as their series — the titles the home page recommends. Left as
    episodes, "the next episode of the series you are watching" made up half of the top picks and
    leave-last-out scored 0.59 nDCG@10 on a task the service never serves. A sample (a few seconds of a
    title, never watched through) and a title the member gave a thumbs-down are not interactions.

    One row per (member, title) at its latest time, ordered by member and title: unordered, the rows
    came in another order each run, and splits that draw by row position gave different results from
    the same store.
    """
    from limelight.personalize.catalog import load_catalog, load_members
    from limelight.personalize.foldin import Histories
    from limelight.spine.store import Store

    db = Path(db)
    if not db.exists():
        raise NotFoundError(f"the store '{db}' does not exist; run 'limelight ingest' or 'limelight demo' first")
    with Store(db, read_only=True) as store:
        catalog = load_catalog(store)
        histories = Histories.from_store(store, catalog, list(load_members(store).country))
    frame = histories.interactions()[["member_id", "title_id", "last_at"]].rename(columns={"last_at": "timestamp"})
    if frame.empty:
        raise DataError("the store must hold viewing events or ratings, got none", origin=str(db))
    return frame.sort_values(["member_id", "title_id"], kind="stable").reset_index(drop=True)
