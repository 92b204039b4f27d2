"""What one service process holds: the spine's write connection, keys, limits, metrics, the live engine.

DuckDB allows one writing process per file, so the server owns the write connection; readers
get their own cursor (`ServiceState.reader()`), writes go through `write_lock`. The personalization
engine sits in an `EngineSlot`: a new model version is loaded on a background thread and swapped
in by replacing one reference on the event loop, so no request ever sees a half-built engine.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from limelight.errors import NotFoundError
from limelight.registry import ModelRegistry, ModelVersion
from limelight.service.cache import ResponseCache
from limelight.service.config import ServiceConfig
from limelight.service.keys import KeyRing, ensure_key_table
from limelight.service.metrics import ServiceMetrics
from limelight.service.ratelimit import RateLimiter
from limelight.spine.store import Store, rollback, write_lock

__all__ = ["EngineSlot", "ServiceState", "TrainingStatus"]

log = logging.getLogger(__name__)


def _settle_heap() -> None:
    """Collect once, then freeze what is alive (the engine, the cached answers) out of the GC's scans.

    A full collection walks every tracked object — the engine holds a couple of hundred thousand —
    and stops the event loop while it does; after `gc.freeze()` collections only scan objects made
    since, so no request waits behind one. `_install` unfreezes before each swap.
    """
    gc.collect()
    gc.freeze()


class _CursorStore(Store):
    """A `Store` on an existing DuckDB cursor (one per thread of use); closing it closes the cursor."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Any) -> None:
        super().__init__(path, read_only=False)
        self._con = con
        self.read_only = True  # by convention: routes read; writes go through ServiceState


class CommitTicket:
    """The store's write lock for one event batch; once its transaction has committed, `seq` is the
    batch's place in commit order (what `ServiceState.observe` compares with an engine's snapshot)."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self.seq: int | None = None

    def __enter__(self) -> CommitTicket:
        self._state.write_lock.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._state.commit_seq += 1
                self.seq = self._state.commit_seq
        finally:
            self._state.write_lock.release()


@dataclass
class EngineSlot:
    """The engine being served, the registry version it came from, and what happened last."""

    engine: Any | None = None
    version: ModelVersion | None = None
    error: str | None = None
    building: bool = False
    pending: list[pd.DataFrame] = field(default_factory=list)
    swapped_at: float | None = None
    # The last event commit the served engine's snapshot holds, and the one the engine being built will
    # hold: a batch is folded into an engine (or replayed into a new one) only if committed after it.
    snapshot_seq: int = 0
    building_seq: int = 0
    pending_members: list[tuple[str, str | None, str | None]] = field(default_factory=list)


@dataclass
class TrainingStatus:
    """Progress of the training job started from the API or dashboard (one at a time)."""

    state: str = "idle"  # idle | running | done | failed
    step: str = ""
    progress: float = 0.0
    model: str | None = None
    version: int | None = None
    message: str = ""
    started_at: float | None = None
    finished_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _member_value(value: object) -> str:
    """A member field as compared between a repeat and the stored row: case-blind, none as ""."""
    return "" if value is None or value != value else str(value).strip().upper()


class ServiceState:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.write_lock = write_lock(config.db_path)  # the store's own per-file lock: ingests and posts never interleave
        self.con = self._connect()
        self.store = _CursorStore(self.con, config.db_path)
        Store.create_schema(self.store)
        ensure_key_table(self.con)
        # Defence in depth: the server's SQL is constants and placeholders, but were any of it ever
        # injectable, DuckDB could read any file (read_text), write one (COPY … TO), ATTACH another
        # database or install an extension. The server needs none of these, so this process's database
        # turns them off for good (lock_configuration: no request can turn them back on).
        for setting in ("enable_external_access = false", "autoinstall_known_extensions = false",
                        "autoload_known_extensions = false", "lock_configuration = true"):
            self.con.execute(f"SET {setting}")
        self.keys = KeyRing(self.con.cursor())
        self.limiter = RateLimiter()
        self.metrics = ServiceMetrics()
        self.registry = ModelRegistry(config.registry_dir)
        self.slot = EngineSlot()
        self.registry_problems: list[str] = []  # versions passed over at the last load, in words
        self.precomputed = 0
        self.precompute_done = False
        self.folds = 0  # batches of events observed: precomputed answers older than a fold are dropped
        self.commit_seq = 0  # event batches committed by this process (under `write_lock`), in order
        self.cache = ResponseCache(config.cache_entries, config.cache_bytes)
        self.training = TrainingStatus()
        self.synthetic = self._is_synthetic()
        self.data_counts = self._data_counts()
        self._counts_lock = threading.Lock()
        self.routers: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._pointer_stamp: Any = None
        self._swap_lock = threading.Lock()
        # Fold-ins run on worker threads (a batch can take a while) and a new engine's install on the
        # event loop; this lock orders them, so no event lands between the replay and the swap.
        self._fold_lock = threading.Lock()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        from limelight.spine.store import connect

        return connect(self.config.db_path, when_locked="is another 'limelight serve' running on it?")

    def _is_synthetic(self) -> bool:
        rows = (
            self.con.cursor()
            .execute(
                "SELECT EXISTS (SELECT 1 FROM titles WHERE source = 'demo') "
                "OR EXISTS (SELECT 1 FROM members WHERE source = 'demo')"
            )
            .fetchall()
        )
        return bool(rows[0][0])

    def stored(self, table: str, rows: int) -> None:
        """Count rows this server committed (events, members), so /v1/me's `data` is not the start-up's."""
        if rows and table in self.data_counts:
            with self._counts_lock:
                self.data_counts[table] += rows

    def _data_counts(self) -> dict[str, int]:
        """Rows per spine table at start-up (kept current by `stored`), so the dashboard skips pages whose
        data is absent."""
        cur = self.con.cursor()
        try:
            return {
                name: int(cur.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
                for name in ("titles", "members", "viewing_events", "ratings", "engagement", "payment_attempts", "credits")
            }
        finally:
            cur.close()

    # -- readers ------------------------------------------------------------------------------
    def reader(self) -> Store:
        """A Store on a fresh cursor, for one thread's reads."""
        return _CursorStore(self.con.cursor(), self.config.db_path)

    # -- engine lifecycle ---------------------------------------------------------------------
    def engine_or_none(self) -> Any | None:
        return self.slot.engine

    def build_engine(self, version: ModelVersion | None, store: Store | None = None) -> Any:
        """Load the model of `version` (or let the engine pick its default) and build an engine on `store`
        (a reader in the snapshot `_swap_to` took, or a fresh one)."""
        from limelight.personalize.engine import PersonalizationEngine

        model = None
        if version is not None:
            from limelight.service.training import load_model

            model = load_model(version)
        return PersonalizationEngine.from_store(store if store is not None else self.reader(), model=model)

    def committing(self) -> CommitTicket:
        """The write lock for an event batch, as a ticket that learns the batch's place in commit order."""
        return CommitTicket(self)

    def start_engine(self) -> None:
        """Build the first engine (blocking) and start the registry watcher."""
        if self.config.load_engine:
            self._pointer_stamp = self.registry.pointer_stamp()
            self._swap_to(self._current_version(), initial=True)
        if self.config.watch_registry_s > 0:
            self._watcher = threading.Thread(target=self._watch, name="limelight-registry-watch", daemon=True)
            self._watcher.start()

    def _current_version(self) -> ModelVersion | None:
        """The registry's current version, or — when its files are missing or changed — the most recent
        earlier one that is whole, never a silent untracked default: what was passed over is kept in
        `registry_problems` and reported by /health and GET /v1/models."""
        try:
            version, problems = self.registry.newest_usable()
        except Exception as exc:  # a broken registry must not stop the service
            version, problems = None, [f"cannot read the model registry {self.registry.root}: {exc}"]
        self.registry_problems = problems
        for problem in problems:
            log.error("model registry: %s", problem)
        return version

    @staticmethod
    def _trained_elsewhere(engine: Any, version: ModelVersion | None) -> str | None:
        """A sentence when most of the model's titles are not in the served store: it was trained on
        another store (a registry pointed at the wrong folder). Compared by content, so a copy of the
        store (a second server behind a balancer) or a store that has grown since is not flagged."""
        model_titles = getattr(engine.model, "title_ids_", None)
        if version is None or model_titles is None or len(model_titles) == 0:
            return None
        known = np.isin(np.asarray(model_titles, dtype=object), engine.catalog.axis_ids).mean()
        if known >= 0.5:
            return None
        return (f"model version {version.version} knows {len(model_titles):,} titles and only {known:.0%} of them "
                f"are in this store: it was trained on another one ({version.data.get('db', 'unknown')})")

    def _watch(self) -> None:
        while not self._stop.wait(self.config.watch_registry_s):
            try:
                stamp = self.registry.pointer_stamp()
                if stamp != self._pointer_stamp:
                    self._pointer_stamp = stamp
                    current = self._current_version()
                    served = self.slot.version.version if self.slot.version else None
                    if current is not None and current.version != served:
                        self._swap_to(current)
            except Exception:  # pragma: no cover - keep watching
                log.exception("registry watch failed")

    def reload_now(self) -> None:
        """Swap to the registry's current version now (used after an API rollback)."""
        self._pointer_stamp = self.registry.pointer_stamp()
        self._swap_to(self._current_version())

    def _swap_to(self, version: ModelVersion | None, *, initial: bool = False) -> None:
        with self._swap_lock:
            reader = self.reader()
            # The new engine reads the store in one transaction whose snapshot is taken here, under the
            # write lock, so each event batch is either in it or committed after `building_seq`, and
            # replayed — never both. (Decided at fold time, a batch committed just before the read but
            # folded just after was in the snapshot AND replayed: its seconds counted twice, and a film
            # half-watched looked finished.)
            with self.write_lock:
                reader.con.execute("BEGIN TRANSACTION")
                reader.con.execute("SELECT count(*) FROM viewing_events").fetchall()  # the snapshot, now
                with self._fold_lock:
                    self.slot.building = True
                    self.slot.building_seq = self.commit_seq
                    self.slot.pending = []
                    self.slot.pending_members = []
            try:
                engine = self.build_engine(version, reader)
            except ImportError as exc:
                self.slot.building = False
                self.slot.error = f"the personalization engine is not available: {exc}"
                log.warning(self.slot.error)
                return
            except Exception as exc:
                self.slot.building = False
                what = f"model version {version.version}" if version is not None else "the default model (none published)"
                self.slot.error = f"could not build the engine with {what}: {exc}"
                log.exception("engine build failed; keeping the current engine")
                return
            finally:
                rollback(reader.con)
                reader.close()
            if initial or self.loop is None:
                self._install(engine, version)
            else:
                done = threading.Event()

                def _finish() -> None:
                    try:
                        self._install(engine, version)
                    finally:
                        done.set()

                self.loop.call_soon_threadsafe(_finish)
                done.wait(timeout=30)

    def _install(self, engine: Any, version: ModelVersion | None) -> None:
        # Runs on the event loop (or before it starts): replay events that arrived during the build.
        with self._fold_lock:
            for member in self.slot.pending_members:  # signed up after the new engine's snapshot
                engine.add_member(*member)
            self.slot.pending_members = []
            for frame in self.slot.pending:  # committed after the new engine's snapshot
                try:
                    engine.observe(frame)
                except Exception:  # pragma: no cover - fold-in is best effort; the events are stored
                    log.exception("replaying events into the new engine failed")
            self.slot.pending = []
            self.slot.engine = engine
            self.slot.snapshot_seq = self.slot.building_seq
            self.cache.clear()
            self.slot.version = version
            if (elsewhere := self._trained_elsewhere(engine, version)) is not None:
                self.registry_problems = [*self.registry_problems, elsewhere]
                log.error("model registry: %s", elsewhere)
            self.slot.building = False
        self.slot.error = None
        self.slot.swapped_at = time.time()
        self.precomputed = 0
        self.precompute_done = False
        gc.unfreeze()  # the old engine's objects become collectable again
        if self.config.precompute and self.config.cache_entries > 0:
            threading.Thread(target=self._precompute, args=(engine,), name="limelight-precompute", daemon=True).start()
        self.metrics.model_version.set(version.version if version else 0)
        self.metrics.model_swaps.inc()
        log.info("serving model version %s", version.version if version else "default")

    def _precompute(self, engine: Any) -> None:
        """The offline tier: render every member's answers once so requests are served from memory."""
        from pydantic import TypeAdapter

        from limelight.personalize.rows import RecommendedTitle

        recs = TypeAdapter(list[RecommendedTitle])
        cur = self.con.cursor()
        try:
            members = [str(r[0]) for r in cur.execute("SELECT member_id FROM members ORDER BY member_id").fetchall()]
        finally:
            cur.close()
        for member in members:
            if self._stop.is_set() or self.slot.engine is not engine:
                return
            folds = self.folds
            try:
                live: Any = engine
                home = live.home(member).model_dump_json().encode()
                top = recs.dump_json(live.recommend(member, 10))
            except Exception:  # unknown to the engine, or a fold-in raced us: served on demand instead
                continue
            # Keep them only if no events were folded in meanwhile (they could be this member's).
            if self.slot.engine is engine and self.folds == folds and self.cache.peek("home", member) is None:
                self.cache.put("home", member, None, home)
                self.cache.put("recs", member, 10, top)
            self.precomputed += 1
        log.info("precomputed answers for %d members", self.precomputed)
        _settle_heap()
        self.precompute_done = True

    def store_member(self, fields: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Store one member (the spine's validation: one sentence naming the field). Returns whether it
        is new (False: already stored with exactly these values) and the member as stored.

        A repeat must say what the stored member holds, every field (a field left out is "none"); any
        difference is a `ConflictError` that names no stored value. It once quoted them ("stored with
        country 'DE'"), so an ingest key — which may not read members — could read any member's country,
        plan, sign-up date and maturity limit, one field at a time.
        """
        from limelight.errors import ConflictError, storage_error
        from limelight.spine.store import Rows

        member_id = str(fields["member_id"])
        with self.write_lock:
            cur = self.con.cursor()
            try:
                held = cur.execute(
                    "SELECT country, plan, signup_date, maturity_limit FROM members WHERE member_id = ?", [member_id]
                ).fetchall()
                if held:
                    stored = dict(zip(("country", "plan", "signup_date", "maturity_limit"), held[0], strict=True))
                    if any(_member_value(fields.get(name)) != _member_value(value) for name, value in stored.items()):
                        raise ConflictError(
                            f"member '{member_id}' is already stored with other values; a stored member is not "
                            "changed here (a repeat gives every field as first sent)"
                        )
                    return False, {"member_id": member_id, **stored}
                writer = _CursorStore(cur, self.config.db_path)
                writer.read_only = False
                frame = pd.DataFrame([{**fields, "source": "api"}])
                try:
                    writer.ingest([Rows("members", frame, origin="POST /v1/members")])
                except Exception as exc:  # the caller is told "the store", never the server's file path
                    refused = storage_error(exc, "the store")
                    if refused is not None:
                        raise refused from None
                    raise
            finally:
                cur.close()
        return True, fields

    def add_member(self, member_id: str, country: str | None, maturity_limit: str | None) -> None:
        """Make a member stored just now known to the live engine (and to the one being built)."""
        with self._fold_lock:
            if self.slot.building:
                self.slot.pending_members.append((member_id, country, maturity_limit))
            self.cache.forget({member_id})
            if self.slot.engine is not None:
                self.slot.engine.add_member(member_id, country, maturity_limit)

    def observe(self, frame: pd.DataFrame, seq: int | None = None) -> int:
        """Fold a committed batch (`seq`: its place in commit order, `committing`) into the live engine
        unless that engine's snapshot already holds it, and keep it for the engine being built unless its
        snapshot will. Call from a worker thread: it may take a while."""
        if frame.empty:
            return 0
        seq = self.commit_seq if seq is None else seq
        members = set(frame["member_id"].astype(str))
        with self._fold_lock:
            if self.slot.building and seq > self.slot.building_seq:
                self.slot.pending.append(frame)
            self.folds += 1
            self.cache.forget(members)
            engine = self.slot.engine
            if engine is None or seq <= self.slot.snapshot_seq:  # read from the store with the engine
                return 0
            try:
                folded = int(engine.observe(frame))
            except NotFoundError:
                folded = 0
            except Exception:
                log.exception("fold-in failed; the events are stored and will be used at the next training")
                folded = 0
            # and again once folded in: a page rendered from the old view during the fold is not kept
            self.cache.forget(members)
        self.metrics.folded.inc(folded)
        return folded

    # -- shutdown -----------------------------------------------------------------------------
    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        try:
            with self.write_lock:
                self.keys.flush_last_used()
                self.con.execute("CHECKPOINT")
        except Exception:  # pragma: no cover
            log.exception("checkpoint at shutdown failed")
        self.con.close()
