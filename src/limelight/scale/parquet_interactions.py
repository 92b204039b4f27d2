"""Interactions for the single-machine trainers, straight from Parquet into a CSR matrix.

At 100M viewing events the interaction table has ~48M (member, title) rows; a pandas frame of
them (two string columns) costs several GiB before the matrix is even built. Here DuckDB reads the
Parquet, numbers members and titles (sorted ids, as `Interactions.from_frame` numbers them) and
hands back only three numeric columns — member index, title index, weight — which become the CSR
matrix. Nothing but those arrays and the id lists reaches Python.

- `interactions_from_parquet(path)`: a Parquet file or folder of (member_id, title_id, weight)
  rows, as the `interactions` pipeline writes them on either engine.
- `interactions_from_events(world)`: a world folder of Parquet tables (viewing events and titles);
  the Ibis `interactions` pipeline runs on DuckDB and its rows go straight into the matrix.

Both give the same `Interactions` as `Interactions.from_frame` on the same rows (tested).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.errors import InputError, NotFoundError, require_fields
from limelight.personalize.base import Interactions
from limelight.spine.loaders.tabular import refuse_unfinished_write
from limelight.spine.sql import memory_limit_setting, sql_string

__all__ = ["interactions_from_events", "interactions_from_parquet"]

log = logging.getLogger(__name__)
_MEMORY_FIELD = "the DuckDB memory limit (memory_limit or LIMELIGHT_DUCKDB_MEMORY)"


def _duckdb(memory_limit: str | None, threads: int | None) -> Any:
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(memory_limit_setting(memory_limit, _MEMORY_FIELD))
    if threads:
        con.execute(f"SET threads={int(threads)}")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")
    return con


def _arrow(con: Any, sql: str, params: list[Any] | None = None) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = con.execute(sql, params or [])
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.fetch_arrow_table()


def _numpy(column: Any, dtype: Any) -> np.ndarray:
    return np.asarray(column.combine_chunks().to_numpy(zero_copy_only=False), dtype=dtype)


def _ids(con: Any, sql: str) -> np.ndarray:
    """Ids placed by their number (an ORDER BY does not survive every DuckDB → Arrow export)."""
    table = _arrow(con, sql)
    ids = np.empty(table.num_rows, dtype=object)
    ids[_numpy(table["pos"], np.int64)] = np.asarray(table["id"].to_pylist(), dtype=object)
    return ids


def _matrix_from_relation(con: Any, relation: str, title_ids: np.ndarray | None) -> Interactions:
    """`relation` is a DuckDB view with member_id, title_id, weight; numbers and builds the CSR."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _members AS SELECT member_id, "
        f"(row_number() OVER (ORDER BY member_id) - 1)::INTEGER AS r "
        f"FROM (SELECT DISTINCT CAST(member_id AS VARCHAR) AS member_id FROM {relation})"
    )
    if title_ids is None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _titles AS SELECT title_id, "
            f"(row_number() OVER (ORDER BY title_id) - 1)::INTEGER AS c "
            f"FROM (SELECT DISTINCT CAST(title_id AS VARCHAR) AS title_id FROM {relation})"
        )
    else:
        import pyarrow as pa

        given = pa.table(
            {
                "title_id": pa.array([str(t) for t in title_ids], pa.string()),
                "c": pa.array(np.arange(len(title_ids), dtype=np.int32)),
            }
        )
        con.register("_given_titles", given)
        con.execute("CREATE OR REPLACE TEMP TABLE _titles AS SELECT title_id, c FROM _given_titles")
        con.unregister("_given_titles")
    n_members = int(con.execute("SELECT count(*) FROM _members").fetchall()[0][0])
    if n_members == 0:
        raise InputError("interactions must have at least one row, got an empty table")
    member_ids = _ids(con, "SELECT member_id AS id, r AS pos FROM _members")
    titles = _ids(con, "SELECT title_id AS id, c AS pos FROM _titles")
    coo = _arrow(
        con,
        f"SELECT m.r, t.c, CAST(i.weight AS FLOAT) AS w FROM {relation} AS i "
        f"JOIN _members AS m ON CAST(i.member_id AS VARCHAR) = m.member_id "
        f"JOIN _titles AS t ON CAST(i.title_id AS VARCHAR) = t.title_id",
    )
    rows = _numpy(coo["r"], np.int32)
    cols = _numpy(coo["c"], np.int32)
    weights = _numpy(coo["w"], np.float32)
    del coo
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=(n_members, len(titles)), dtype=np.float32)
    del rows, cols, weights
    matrix.sum_duplicates()
    log.info("interactions: %d members × %d titles, %d entries", n_members, len(titles), matrix.nnz)
    return Interactions(matrix=matrix, member_ids=member_ids, title_ids=titles)


def _parquet_glob(path: str | Path) -> str:
    text = str(path)
    if "://" in text or (text.endswith(".parquet") and not Path(text).is_dir()):
        return text
    if not Path(text).exists():
        raise NotFoundError(f"the Parquet path {text} does not exist")
    refuse_unfinished_write(text)
    return f"{text.rstrip('/')}/**/*.parquet" if Path(text).is_dir() else text


def interactions_from_parquet(
    path: str | Path,
    *,
    weight_col: str | None = "weight",
    title_ids: np.ndarray | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Interactions:
    """The members × titles matrix of an interactions Parquet file or folder, without pandas.

    Rows are (member_id, title_id[, weight]); duplicates add up, as in `Interactions.from_frame`.
    With `title_ids` the columns follow that axis (a trained model's) and other titles are dropped.
    `memory_limit` (e.g. "4GB") caps DuckDB, which spills beyond it.
    """
    source = _parquet_glob(path)
    con = _duckdb(memory_limit or os.environ.get("LIMELIGHT_DUCKDB_MEMORY"), threads)
    try:
        columns = [str(row[0]) for row in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [source]).fetchall()]
        require_fields(columns, ("member_id", "title_id"), f"the interactions Parquet {path}")
        if weight_col is not None:
            require_fields(columns, (weight_col,), f"the interactions Parquet {path}")
        weight = f'"{weight_col}"' if weight_col is not None else "1.0"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _interactions AS SELECT member_id, title_id, {weight} AS weight "
            f"FROM read_parquet({sql_string(source)})"
        )
        return _matrix_from_relation(con, "_interactions", title_ids)
    finally:
        con.close()


def interactions_from_events(
    world: str | Path,
    *,
    weight: str = "fraction",
    title_ids: np.ndarray | None = None,
    memory_limit: str | None = None,
) -> Interactions:
    """The matrix of the `interactions` pipeline (events, rolled up to series) run on DuckDB over a
    Parquet world folder; the aggregated rows never become a pandas frame."""
    from limelight.spine.engines import connect
    from limelight.spine.pipelines import interactions

    backend = connect("duckdb", parquet_dir=world, tables=("titles", "viewing_events"))
    limit = memory_limit or os.environ.get("LIMELIGHT_DUCKDB_MEMORY")
    if limit:
        backend.raw_sql(memory_limit_setting(limit, _MEMORY_FIELD))
    expr = interactions(backend, source="events", weight=weight, ordered=False)  # type: ignore[arg-type]
    sql = str(backend.compile(expr))
    con = backend.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _interactions AS {sql}")
    try:
        return _matrix_from_relation(con, "_interactions", title_ids)
    finally:
        con.execute("DROP TABLE IF EXISTS _interactions")
