"""The spine's store: one embedded DuckDB file, all-or-nothing ingest, Parquet in and out.

Ingest validates every row (types, enums, bounds, foreign keys, repeated keys) *before* the file is
opened for writing, so a refused batch leaves the store byte-for-byte as it was. Rows whose primary key
is already present are skipped, so ingesting the same file twice adds nothing the second time.

Keys are enforced by set-based checks, not by a DuckDB PRIMARY KEY: maintaining the key's ART index
made big inserts 2-5x slower (docs/benchmarks/loaders.md). Each write (1) refuses a batch in which one
key carries two different rows (`DataError` naming the later row) and collapses exact repeats, (2)
inserts, in one statement inside the transaction, only the rows whose key the table does not hold
(an anti-join, which sees this transaction's own earlier inserts), and (3) runs under a per-file lock,
so two writers in one process cannot both insert the same new key; DuckDB's file lock keeps other
processes out. Stores created before this change keep their PRIMARY KEY; the same statements work on them.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import duckdb
import numpy as np
import pandas as pd

from limelight.errors import ConflictError, DataError, InputError, NotFoundError, first_line, storage_error
from limelight.spine.schema import SCHEMA, TABLE_ORDER, Table, ddl, tables
from limelight.spine.sql import duckdb_reason, sql_string
from limelight.spine.validate import Rows, coerce_rows

if TYPE_CHECKING:
    import ibis

__all__ = ["IngestReport", "Rows", "Store", "check_batch_keys", "connect", "open_store", "write_lock"]

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """How many rows each table received (rows already present are not counted)."""

    inserted: dict[str, int] = field(default_factory=dict)
    offered: dict[str, int] = field(default_factory=dict)
    linked: int = 0  # engagement rows newly matched to a catalog title (see loaders.title_match)

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


_LOCK_HINT = "stop it (a running 'limelight serve'?) and try again, or use the service's API while it runs"


def connect(
    path: str | Path, *, read_only: bool = False, when_locked: str = _LOCK_HINT
) -> duckdb.DuckDBPyConnection:
    """Open the store file at `path`: the one place limelight opens a spine, so every refusal is one sentence.

    A folder, an empty (0-byte) file, a file that is not DuckDB's and a file another process holds
    open each raise a `LimelightError` naming the path and what is wrong (`when_locked` ends the
    lock sentence: what the user can do instead). Nothing is created or changed when it refuses;
    a path that does not exist yet is created (with its folder) unless `read_only`.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"the store {path} is a folder, not a DuckDB file; give --db the path of a .duckdb file")
    if path.exists():
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"the store {path} cannot be read ({exc.strerror or exc})") from None
        if size == 0:
            raise InputError(
                f"the store {path} is an empty (0-byte) file, not a DuckDB database; "
                "delete it or give --db another path"
            )
    elif read_only:
        raise NotFoundError(f"the store {path} does not exist; run 'limelight ingest' or 'limelight demo' first")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"the store {path} cannot be created: its folder {path.parent} cannot be made ({exc.strerror or exc})"
            ) from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(path, exc, when_locked) from None
    try:
        _check_is_spine(con, path)
    except InputError:
        con.close()
        raise
    return con


# Tables limelight makes besides the spine's (the service's keys).
_OWN_TABLES = {"service_keys": ("key_id", "key_hash", "role")}


def _check_is_spine(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse, before anything is written, a DuckDB file that is some other program's database: one with
    tables but none of limelight's, or whose spine tables lack the spine's required columns (creating the
    missing tables into it, or inserting into a foreign `members`, would change someone else's data)."""
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall():
        found.setdefault(str(table), set()).add(str(column))
    if not found:
        return  # a new file, or one with no tables yet
    expected = {t.name: t.required for t in tables()} | _OWN_TABLES
    ours = [name for name in found if name in expected]
    if not ours:
        shown = ", ".join(sorted(found)[:5]) + (" …" if len(found) > 5 else "")
        raise InputError(
            f"the store {path} is a DuckDB database but not a limelight store (it holds {shown} and none of the "
            "spine's tables); give --db the spine's .duckdb file or a new path"
        )
    for name in ours:
        missing = [c for c in expected[name] if c not in found[name]]
        if missing:
            raise InputError(
                f"the store {path} is not a limelight store: its table '{name}' has no '{missing[0]}' column "
                "as the spine's has; give --db the spine's .duckdb file or a new path"
            )


def _open_error(path: Path, exc: duckdb.Error, when_locked: str) -> Exception:
    """The one-sentence error for a DuckDB refusal to open `path`."""
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = re.search(r"PID (\d+)", text)
        holder = f"another process (PID {pid.group(1)})" if pid else "another process"
        return ConflictError(f"the store {path} is in use by {holder}; {when_locked}")
    if "not a valid DuckDB database file" in text:
        return InputError(
            f"the store {path} is not a DuckDB database file; give --db the spine's .duckdb file or a new path"
        )
    return InputError(f"the store {path} cannot be opened as a DuckDB database ({duckdb_reason(exc)})")


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
            self._con = connect(self.path, read_only=self.read_only)
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
        """Create missing tables. Keys are not declared: the store enforces them (see the module doc)."""
        con = self.con
        for t in tables():
            con.execute(ddl(t, primary_key=False))
        # Files made by an earlier version lack columns added to the schema since (all nullable): add them.
        have = set(con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall())
        for t in tables():
            for c in t.columns:
                if (t.name, c.name) not in have and c.nullable:
                    con.execute(f'ALTER TABLE "{t.name}" ADD COLUMN "{c.name}" {c.type}')

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
            cards=counts["cards"],
        )
        # every table that records where its rows came from (engagement reports, Top 10, financials too)
        with_source = [name for name in TABLE_ORDER if counts[name] and "source" in SCHEMA[name].column_names]
        sources = (
            self.query(" UNION ".join(f"SELECT DISTINCT source FROM {name}" for name in with_source))["source"].tolist()
            if with_source
            else []
        )
        out["sources"] = sorted(str(s) for s in sources if s is not None)
        out["synthetic"] = "demo" in out["sources"]
        return out

    # -- ingest -----------------------------------------------------------------------------
    def ingest(self, batch: Iterable[Rows]) -> IngestReport:
        """Validate every row, then insert all of it in one transaction, or nothing."""
        prepared = prepare(batch)
        stacked = check_batch_keys(prepared)
        if self._con is not None:
            check_foreign_keys(prepared, self._con)
        elif self.path.exists():
            # Read-only until every row is known good: a refused batch must not touch the file.
            with connect(self.path, read_only=True) as reader:
                check_foreign_keys(prepared, reader)
        else:
            check_foreign_keys(prepared, None)
        return self._write(stacked)

    def _write(self, stacked: dict[str, Stacked]) -> IngestReport:
        report = IngestReport()
        con = self.con
        with write_lock(self.path):
            con.execute("BEGIN TRANSACTION")
            try:
                for name in TABLE_ORDER:
                    part = stacked.get(name)
                    if part is None:
                        continue
                    report.offered[name] = part.distinct
                    _check_stored(con, SCHEMA[name], part)
                    report.inserted[name] = _insert_new(con, SCHEMA[name], part.frame, dedupe=part.repeats > 0)
                if report.inserted.get("engagement") or report.inserted.get("titles"):
                    # New report rows, or a catalog that may name what earlier reports left unmatched.
                    from limelight.spine.loaders.title_match import link_engagement_titles

                    report.linked = link_engagement_titles(con)
                con.execute("COMMIT")
            except Exception as exc:
                raise _rolled_back(con, exc, self.path) from None
        log.info("ingested %s", report.inserted)
        return report

    def bulk_insert(self, parts: Iterable[tuple[str, pd.DataFrame]]) -> IngestReport:
        """Insert frames generated to the schema (the demo world) in one transaction, or nothing.

        For trusted generated data only: it skips `ingest`'s per-cell coercion and foreign-key
        check (the generator guarantees both), which would dominate at millions of rows. Values are
        still CAST to the column types, the schema's NOT NULL/CHECK constraints still hold, a key
        repeated with different values in one frame raises `DataError`, and rows whose primary key is
        already present are skipped, as with `ingest`. `parts` may be a generator of (table name,
        frame) pairs, so chunks stream through without piling up.
        """
        report = IngestReport()
        con = self.con
        with write_lock(self.path):
            con.execute("BEGIN TRANSACTION")
            try:
                for name, frame in parts:
                    spec = SCHEMA[name]
                    origin = f"generated {name}"
                    rows = Rows(name, frame, origin)
                    part = _checked_stack(con, spec, [(rows, frame[list(spec.column_names)])])
                    inserted = _insert_new(con, spec, part.frame, dedupe=part.repeats > 0)
                    report.offered[name] = report.offered.get(name, 0) + part.distinct
                    report.inserted[name] = report.inserted.get(name, 0) + inserted
                con.execute("COMMIT")
            except Exception as exc:
                raise _rolled_back(con, exc, self.path) from None
        log.info("bulk-inserted %s", report.inserted)
        return report

    # -- parquet ----------------------------------------------------------------------------
    def export_parquet(self, folder: str | Path) -> list[Path]:
        """One Parquet file per spine table; a table an older store lacks is written empty, with its columns."""
        folder = Path(folder)
        con = self.con  # open (or refuse) before making the folder
        present = {name for name in TABLE_ORDER if self.has_table(name)}
        if not present:
            raise InputError(f"{self.path} holds no spine tables, so there is nothing to export")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot write the export to {folder}: {exc.strerror or first_line(exc)}") from exc
        written = []
        for name in TABLE_ORDER:
            target = folder / f"{name}.parquet"
            if name in present:
                query = f'"{name}"'
            else:
                empty = ", ".join(f'CAST(NULL AS {c.type}) AS "{c.name}"' for c in SCHEMA[name].columns)
                query = f"(SELECT {empty} WHERE false)"
            con.execute(f"COPY {query} TO {sql_string(target)} (FORMAT PARQUET)")
            written.append(target)
        return written


_POSITION = "_limelight_position"  # the row's place in the stacked batch (named so no schema column clashes)
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock(path: Path) -> threading.RLock:
    """One lock per store file in this process: key checks and inserts of two writers never interleave.

    The service's own writes (events, keys, training jobs) take the same lock, so an ingest and an
    event post in one process cannot both store a new key; re-entrant, so a writer may nest.
    """
    key = str(Path(path).resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


@dataclass
class Stacked:
    """One table's validated parts as one frame, with each row's position and where each part came from."""

    frame: pd.DataFrame  # the schema's columns plus `_POSITION` (0..n-1 over the parts, in order)
    parts: list[Rows]
    offsets: list[int]  # offsets[i] = position of parts[i]'s first row
    repeats: int = 0  # rows whose key (and every value) an earlier row of the batch already has
    distinct: int = 0  # rows with distinct keys

    def locate(self, position: int) -> tuple[Rows, int]:
        """The part holding stacked row `position`, and the row's position inside that part."""
        i = bisect.bisect_right(self.offsets, position) - 1
        return self.parts[i], position - self.offsets[i]


def _checked_stack(con: duckdb.DuckDBPyConnection, spec: Table, parts: list[tuple[Rows, pd.DataFrame]]) -> Stacked:
    """`parts` stacked into one frame with each row's batch position, its keys checked (`_check_keys`)."""
    offsets, total = [], 0
    frames = []
    for _, frame in parts:
        offsets.append(total)
        frames.append(frame.assign(**{_POSITION: np.arange(total, total + len(frame), dtype=np.int64)}))
        total += len(frame)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    part = Stacked(frame, [rows for rows, _ in parts], offsets, distinct=total)
    part.repeats, part.distinct = _check_keys(con, spec, part)
    if spec.content_key:
        _check_content_in_batch(con, spec, part)
    return part


def _check_content_in_batch(con: duckdb.DuckDBPyConnection, spec: Table, part: Stacked) -> None:
    """Refuse a batch holding one row twice under two keys (`Table.content_key`): a report and a renamed
    copy of it ("… (1).xlsx") loaded in one command were both stored, doubling every figure in it."""
    content = ", ".join(f'"{k}"' for k in spec.content_key)
    key = "struct_pack(" + ", ".join(f'"{k}" := "{k}"' for k in spec.primary_key) + ")"
    con.register("_content_incoming", part.frame)
    try:
        found = con.execute(
            f"""
            WITH incoming AS ({_cast_sql(spec, '_content_incoming')}),
            ranked AS (SELECT {_POSITION}, {key} AS k, first_value({key}) OVER w AS first_k,
                              first_value({_POSITION}) OVER w AS first_pos
                       FROM incoming WINDOW w AS (PARTITION BY {content} ORDER BY {_POSITION}))
            SELECT {_POSITION}, first_pos FROM ranked WHERE k IS DISTINCT FROM first_k ORDER BY {_POSITION} LIMIT 1
            """
        ).fetchall()
    finally:
        _unregister(con, "_content_incoming")
    if not found:
        return
    position, first = int(found[0][0]), int(found[0][1])
    first_rows, first_at = part.locate(first)
    _refuse_content(
        part, spec, position,
        lambda shown: f"this {spec.name} row ({shown}) repeats row {first_rows.row_label(first_at)} of "
        f"{first_rows.origin}, under another name; the same data would be counted twice (load one of the two files)",
    )


def _refuse_content(part: Stacked, spec: Table, position: int, says: Callable[[str], str]) -> NoReturn:
    """Raise `DataError` at the batch row `position`, `says` given its content key as words."""
    rows, at = part.locate(position)
    shown = ", ".join(f"{k} '{_shown(part.frame[k].iloc[position])}'" for k in spec.content_key)
    raise DataError(says(shown), origin=rows.origin, row=rows.row_label(at),
                    column=_source_column(rows, spec.content_key[0]))


def _key_sql(spec: Table) -> str:
    return ", ".join(f'"{k}"' for k in spec.primary_key)


def _cast_sql(spec: Table, source: str) -> str:
    """The incoming rows in the table's types (keys compare as stored), with their batch position."""
    casts = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in spec.columns)
    return f"SELECT {casts}, {_POSITION} FROM {source}"


def _check_keys(con: duckdb.DuckDBPyConnection, spec: Table, part: Stacked) -> tuple[int, int]:
    """Refuse a batch in which one key has two different rows; return (exact repeats, distinct keys).

    One GROUP BY over the batch finds repeated keys; only when there are some does a second query
    look for the first row that differs from its key's first row (and raise `DataError` naming it).
    """
    key = _key_sql(spec)
    con.register("_keys_incoming", part.frame)
    try:
        repeated = con.execute(
            f"SELECT count(*), coalesce(sum(n - 1), 0) FROM "
            f"(SELECT count(*) AS n FROM ({_cast_sql(spec, '_keys_incoming')}) GROUP BY {key} HAVING count(*) > 1)"
        ).fetchall()[0]
        if not repeated[0]:
            return 0, len(part.frame)
        others = [c for c in spec.column_names if c not in spec.primary_key]
        value = "struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in others) + ")"
        clash = con.execute(
            f"""
            WITH incoming AS ({_cast_sql(spec, '_keys_incoming')}),
            repeated AS (SELECT * FROM incoming SEMI JOIN
                         (SELECT {key} FROM incoming GROUP BY {key} HAVING count(*) > 1) USING ({key})),
            ranked AS (SELECT {_POSITION}, {value} AS v,
                              first_value({value}) OVER w AS first_v, first_value({_POSITION}) OVER w AS first_pos
                       FROM repeated WINDOW w AS (PARTITION BY {key} ORDER BY {_POSITION}))
            SELECT {_POSITION}, first_pos FROM ranked WHERE v IS DISTINCT FROM first_v
            ORDER BY {_POSITION} LIMIT 1
            """
        ).fetchall()
    finally:
        _unregister(con, "_keys_incoming")
    if clash:
        position, first = int(clash[0][0]), int(clash[0][1])
        rows, at = part.locate(position)
        first_rows, first_at = part.locate(first)
        where = f"row {first_rows.row_label(first_at)}"
        if first_rows.origin != rows.origin:
            where += f" of {first_rows.origin}"
        frame = part.frame
        shown = ", ".join(f"{k} '{frame[k].iloc[position]}'" for k in spec.primary_key)
        raise DataError(
            f"the key ({shown}) repeats {where} with different values; a key may appear once per batch",
            origin=rows.origin,
            row=rows.row_label(at),
            column=_source_column(rows, spec.primary_key[0]),
        )
    return int(repeated[1]), len(part.frame) - int(repeated[1])


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if there still is one: after a failed COMMIT (a full disk) DuckDB
    has ended it already, and the rollback's own error ("no transaction is active") hid the real one."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def _rolled_back(con: duckdb.DuckDBPyConnection, exc: Exception, path: Path) -> BaseException:
    """Roll back, then the error to raise: a refused write as one sentence, anything else as it was."""
    rollback(con)
    return storage_error(exc, f"the store {path}") or exc


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered frame; after a failed statement the transaction is aborted and unregistering
    raises too, which would hide the error that matters."""
    with suppress(duckdb.Error):
        con.unregister(name)


def _check_stored(con: duckdb.DuckDBPyConnection, spec: Table, part: Stacked) -> None:
    """Refuse a row whose key the store holds with other values (a corrected figure, or two datasets
    that use one id for different things) instead of skipping it unseen. A value the row leaves empty
    is no difference: columns the store fills in later (a title matched to a report row) stay as stored."""
    if spec.content_key:
        _check_loaded_elsewhere(con, spec, part)
    others = [c for c in spec.column_names if c not in spec.primary_key]
    if not others:
        return
    on = " AND ".join(f'held."{k}" = i."{k}"' for k in spec.primary_key)
    differs = [f'(i."{c}" IS NOT NULL AND i."{c}" IS DISTINCT FROM held."{c}")' for c in others]
    con.register("_incoming_stored", part.frame)
    try:
        found = con.execute(
            f"SELECT i.{_POSITION}, " + ", ".join(f"{d} AS d{n}" for n, d in enumerate(differs))
            + ", " + ", ".join(f'CAST(held."{c}" AS VARCHAR)' for c in others)
            + f' FROM ({_cast_sql(spec, "_incoming_stored")}) i JOIN "{spec.name}" held ON {on} WHERE '
            + " OR ".join(differs) + f" ORDER BY i.{_POSITION} LIMIT 1"
        ).fetchall()
    finally:
        _unregister(con, "_incoming_stored")
    if not found:
        return
    position, flags, held = int(found[0][0]), found[0][1 : 1 + len(others)], found[0][1 + len(others) :]
    n = next(i for i, flag in enumerate(flags) if flag)
    column = others[n]
    rows, at = part.locate(position)
    shown = ", ".join(f"{k} '{part.frame[k].iloc[position]}'" for k in spec.primary_key)
    raise DataError(
        f"the store already holds {spec.name} ({shown}) with {column} '{held[n]}', and this row says "
        f"'{_shown(part.frame[column].iloc[position])}'; a stored row is never changed by a later load (if these are "
        "two datasets that use one id for different things, load them into separate stores)",
        origin=rows.origin,
        row=rows.row_label(at),
        column=_source_column(rows, column),
    )


def _shown(value: object) -> str:
    """A cell as a sentence shows it: a date without its midnight."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return f"{value:%Y-%m-%d}"
    return str(value)


def _check_loaded_elsewhere(con: duckdb.DuckDBPyConnection, spec: Table, part: Stacked) -> None:
    """Refuse rows the store holds already under another key (`Table.content_key`): the same report
    saved under another file name would otherwise be counted twice."""
    same = " AND ".join(f'held."{k}" = i."{k}"' for k in spec.content_key)
    other = " OR ".join(f'held."{k}" IS DISTINCT FROM i."{k}"' for k in spec.primary_key)
    con.register("_incoming_content", part.frame)
    try:
        found = con.execute(
            f"SELECT i.{_POSITION}, " + ", ".join(f'CAST(held."{k}" AS VARCHAR)' for k in spec.primary_key)
            + f' FROM ({_cast_sql(spec, "_incoming_content")}) i JOIN "{spec.name}" held ON {same}'
            + f" WHERE {other} ORDER BY i.{_POSITION} LIMIT 1"
        ).fetchall()
    finally:
        _unregister(con, "_incoming_content")
    if not found:
        return
    position, held = int(found[0][0]), found[0][1:]
    stored_as = ", ".join(f"{k} '{v}'" for k, v in zip(spec.primary_key, held, strict=True))
    _refuse_content(
        part, spec, position,
        lambda shown: f"the store already holds this {spec.name} row ({shown}) as {stored_as}; the same data "
        "under another name would be counted twice",
    )


def check_batch_keys(prepared: dict[str, list[tuple[Rows, pd.DataFrame]]]) -> dict[str, Stacked]:
    """Stack each table's parts and check its keys (in memory, before the store is opened for writing)."""
    stacked: dict[str, Stacked] = {}
    with duckdb.connect() as con:
        for name, parts in prepared.items():
            stacked[name] = _checked_stack(con, SCHEMA[name], parts)
    return stacked


def _insert_new(con: duckdb.DuckDBPyConnection, spec: Table, frame: pd.DataFrame, *, dedupe: bool) -> int:
    """Insert the rows whose key the table does not hold, in one statement; returns how many."""
    key = _key_sql(spec)
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    first = f" QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {_POSITION}) = 1" if dedupe else ""
    on = " AND ".join(f'held."{k}" = i."{k}"' for k in spec.primary_key)
    con.register("_incoming", frame)
    try:
        result = con.execute(
            f'INSERT INTO "{spec.name}" ({cols}) SELECT {cols} FROM ({_cast_sql(spec, "_incoming")}{first}) i '
            f'WHERE NOT EXISTS (SELECT 1 FROM "{spec.name}" held WHERE {on})'
        ).fetchall()
    finally:
        _unregister(con, "_incoming")
    return int(result[0][0]) if result else 0


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
