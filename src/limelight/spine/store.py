"""The spine's store: one embedded DuckDB file, all-or-nothing ingest, Parquet in and out.

Ingest validates every row (types, enums, bounds, foreign keys) *before* the file is opened for
writing, so a refused batch leaves the store byte-for-byte as it was. Rows whose primary key is
already present are skipped, so ingesting the same file twice adds nothing the second time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from limelight.errors import DataError, NotFoundError
from limelight.spine.schema import SCHEMA, TABLE_ORDER, ddl, tables
from limelight.spine.validate import Rows, coerce_rows

if TYPE_CHECKING:
    import ibis

__all__ = ["IngestReport", "Rows", "Store", "open_store"]

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """How many rows each table received (rows already present are not counted)."""

    inserted: dict[str, int] = field(default_factory=dict)
    offered: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


class Store:
    """A DuckDB file holding the spine. Use `open_store(path)` as a context manager."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise NotFoundError(f"the store {self.path} does not exist; run 'limelight ingest' or 'limelight demo' first")
        self._con: duckdb.DuckDBPyConnection | None = None

    # -- connection -------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=self.read_only)
            if not self.read_only:
                self.create_schema()
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_schema(self) -> None:
        con = self.con
        for t in tables():
            con.execute(ddl(t))

    def ibis(self) -> ibis.BaseBackend:
        """An Ibis backend on this store (read-only when the store is)."""
        import ibis

        from limelight.spine.engines import patch_duckdb_for_ibis

        patch_duckdb_for_ibis()  # Ibis 12 calls cursor methods DuckDB 2 renamed
        return ibis.duckdb.from_connection(self.con)

    # -- queries ----------------------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def has_table(self, name: str) -> bool:
        return bool(
            self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
        )

    def count(self, name: str) -> int:
        if not self.has_table(name):
            return 0
        return int(self.scalar(f'SELECT count(*) FROM "{name}"'))

    def info(self) -> dict[str, Any]:
        """The summary printed by `limelight info`."""
        out: dict[str, Any] = {"db": str(self.path)}
        counts = {name: self.count(name) for name in TABLE_ORDER}
        out.update(
            titles=counts["titles"],
            people=counts["people"],
            credits=counts["credits"],
            members=counts["members"],
            ratings=counts["ratings"],
            tags=counts["tags"],
            viewing_events=counts["viewing_events"],
            engagement_rows=counts["engagement"],
            engagement_hours=int(self.scalar("SELECT coalesce(sum(hours_viewed), 0) FROM engagement") or 0)
            if counts["engagement"]
            else 0,
            top10_rows=counts["top10_weekly"],
            subscriber_rows=counts["subscribers"],
            payment_attempts=counts["payment_attempts"],
        )
        sources = self.query(
            "SELECT DISTINCT source FROM titles UNION SELECT DISTINCT source FROM members"
        )["source"].tolist() if counts["titles"] or counts["members"] else []
        out["sources"] = sorted(str(s) for s in sources)
        out["synthetic"] = "demo" in out["sources"]
        return out

    # -- ingest -----------------------------------------------------------------------------
    def ingest(self, batch: Iterable[Rows]) -> IngestReport:
        """Validate every row, then insert all of it in one transaction, or nothing."""
        prepared = prepare(batch)
        if self._con is not None:
            check_foreign_keys(prepared, self._con)
        elif self.path.exists():
            # Read-only until every row is known good: a refused batch must not touch the file.
            with duckdb.connect(str(self.path), read_only=True) as reader:
                check_foreign_keys(prepared, reader)
        else:
            check_foreign_keys(prepared, None)
        return self._write(prepared)

    def _write(self, prepared: dict[str, list[tuple[Rows, pd.DataFrame]]]) -> IngestReport:
        report = IngestReport()
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for name in TABLE_ORDER:
                parts = prepared.get(name)
                if not parts:
                    continue
                frame = pd.concat([f for _, f in parts], ignore_index=True)
                frame = frame.drop_duplicates(subset=list(SCHEMA[name].primary_key), keep="first")
                before = self.count(name)
                cols = ", ".join(f'"{c}"' for c in SCHEMA[name].column_names)
                casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in SCHEMA[name].columns)
                con.register("_incoming", frame)
                con.execute(f'INSERT OR IGNORE INTO "{name}" ({cols}) SELECT {casts} FROM _incoming')
                con.unregister("_incoming")
                report.offered[name] = len(frame)
                report.inserted[name] = self.count(name) - before
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("ingested %s", report.inserted)
        return report

    def bulk_insert(self, parts: Iterable[tuple[str, pd.DataFrame]]) -> IngestReport:
        """Insert frames generated to the schema (the demo world) in one transaction, or nothing.

        For trusted generated data only: it skips `ingest`'s per-cell coercion and foreign-key
        check (the generator guarantees both), which would dominate at millions of rows. Values are
        still CAST to the column types, the schema's NOT NULL/CHECK constraints still hold, and rows
        whose primary key is already present are skipped, as with `ingest`. `parts` may be a
        generator of (table name, frame) pairs, so chunks stream through without piling up.
        """
        report = IngestReport()
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, frame in parts:
                spec = SCHEMA[name]
                before = self.count(name)
                cols = ", ".join(f'"{c}"' for c in spec.column_names)
                casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in spec.columns)
                con.register("_incoming", frame[list(spec.column_names)])
                con.execute(f'INSERT OR IGNORE INTO "{name}" ({cols}) SELECT {casts} FROM _incoming')
                con.unregister("_incoming")
                report.offered[name] = report.offered.get(name, 0) + len(frame)
                report.inserted[name] = report.inserted.get(name, 0) + self.count(name) - before
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("bulk-inserted %s", report.inserted)
        return report

    # -- parquet ----------------------------------------------------------------------------
    def export_parquet(self, folder: str | Path) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in TABLE_ORDER:
            target = folder / f"{name}.parquet"
            self.con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT PARQUET)")
            written.append(target)
        return written


def prepare(batch: Iterable[Rows]) -> dict[str, list[tuple[Rows, pd.DataFrame]]]:
    """Coerce every part of a batch to the schema; the first bad cell raises `DataError`."""
    prepared: dict[str, list[tuple[Rows, pd.DataFrame]]] = defaultdict(list)
    for rows in batch:
        if rows.table not in SCHEMA:
            raise DataError(f"unknown table '{rows.table}'", origin=rows.origin)
        prepared[rows.table].append((rows, coerce_rows(rows, SCHEMA[rows.table])))
    return prepared


def check_foreign_keys(
    prepared: dict[str, list[tuple[Rows, pd.DataFrame]]], store_con: duckdb.DuckDBPyConnection | None
) -> None:
    """Every referenced member/title/person must be in the batch or already in the store."""
    existing: dict[tuple[str, str], set[str] | None] = {}
    for name, parts in prepared.items():
        for fk in SCHEMA[name].foreign_keys:
            for rows, frame in parts:
                values = frame[fk.column].dropna()
                if values.empty:
                    continue
                in_batch = pd.concat(
                    [f[fk.ref_column] for _, f in prepared.get(fk.table, [])] or [pd.Series([], dtype="string")]
                )
                missing = ~_isin(values, in_batch)
                if missing.any() and store_con is not None:
                    key = (fk.table, fk.ref_column)
                    if key not in existing:
                        existing[key] = _existing_keys(store_con, fk.table, fk.ref_column)
                    known = existing[key]
                    if known:
                        missing &= ~_isin(values, known)
                if missing.any():
                    position = int(np.flatnonzero(missing.to_numpy())[0])
                    position = int(values.index[position])
                    raise DataError(
                        f"unknown {fk.table[:-1] if fk.table.endswith('s') else fk.table} "
                        f"'{frame[fk.column].iloc[position]}' (not in this batch nor in the store)",
                        origin=rows.origin,
                        row=rows.row_label(position),
                        column=_source_column(rows, fk.column),
                    )


def _isin(values: pd.Series, reference: pd.Series | set[str]) -> pd.Series:
    """`values.isin(reference)` with Arrow's hash kernel: pandas' Arrow-string `isin` loops in Python,
    and going through object arrays builds a Python string per row (slow at millions of rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(strings: pd.Series | list[str]) -> pa.Array:
        arr = pa.array(strings, from_pandas=True)
        return arr if arr.type == pa.large_string() else pc.cast(arr, pa.large_string())

    try:
        ref = arrow(list(reference) if isinstance(reference, set) else reference)
        found = pc.is_in(arrow(values), value_set=ref).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # not strings: plain pandas
        ref_values = list(reference) if isinstance(reference, set) else reference.to_numpy(dtype=object)
        return pd.Series(values.to_numpy(dtype=object), index=values.index).isin(pd.Index(ref_values, dtype=object))
    return pd.Series(found, index=values.index)


def _source_column(rows: Rows, column: str) -> str:
    mapping = rows.frame.attrs.get("source_columns", {})
    return str(mapping.get(column, column))


def _existing_keys(con: duckdb.DuckDBPyConnection, table_name: str, column: str) -> set[str] | None:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table_name]
    ).fetchall()[0][0]
    if not found:
        return None
    return set(con.execute(f'SELECT "{column}" FROM "{table_name}"').df()[column].astype(str))


@contextmanager
def open_store(path: str | Path, *, read_only: bool = False) -> Iterator[Store]:
    store = Store(path, read_only=read_only)
    try:
        yield store
    finally:
        store.close()
