"""Viewing events over HTTP: validated, idempotent by client event id, durable before the reply.

A batch is committed to the spine's `viewing_events` table in one DuckDB transaction (DuckDB
writes and syncs its write-ahead log on commit) before the service answers 2xx, so an
acknowledged event survives `kill -9`. The table's primary key is the client's event id:
sending a batch again — after a timeout, a crash, a retry — stores nothing twice. An id sent again
with *other* values is a client bug (two events under one id), not a resend: the batch is refused
with 409 and nothing is stored, rather than dropping the second event without a word.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from limelight.errors import ConflictError, DataError, storage_error
from limelight.service.config import EVENT_ID_PATTERN, ID_PATTERN
from limelight.spine.store import rollback

__all__ = ["EventBatch", "EventIn", "EventsAccepted", "store_events"]


class EventIn(BaseModel):
    """One viewing event, as a client sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN, description="The client's id for this event; resending the same event is harmless, "
        "reusing the id for another event is a 409.",
    )
    member_id: str = Field(pattern=ID_PATTERN)
    title_id: str = Field(pattern=ID_PATTERN)
    started_at: datetime = Field(description="When playback started (ISO 8601; no zone means UTC).")
    # strict: "10" or true is a client bug worth hearing about, not a number to guess at
    seconds_viewed: int = Field(ge=0, le=7 * 24 * 3600, strict=True)
    device: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    @field_validator("started_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # A day of slack for clients' clocks; later than that is a bug that would skew every window.
        latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
        outside = ValueError(f"must be between 1970-01-01 and a day from now ({latest:%Y-%m-%d %H:%M} UTC)")
        if value.tzinfo is not None:
            try:  # 9999-12-31T23:59-14:00 is past the last datetime once in UTC
                value = value.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:
                raise outside from None
        if not datetime(1970, 1, 1) <= value <= latest:
            raise outside
        return value


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(
        min_length=1, description="The batch; its size limit is in the service settings."
    )


class EventsAccepted(BaseModel):
    """What was done with a batch. Every event id in it is now stored exactly once."""

    model_config = ConfigDict(extra="forbid")
    received: int
    stored: int = Field(description="New events written by this request.")
    duplicates: int = Field(description="Events whose id was already stored (or repeated in the batch).")
    folded_in: int = Field(description="Events folded into the live recommendations.")


_COLUMNS = ("event_id", "member_id", "title_id", "started_at", "seconds_viewed", "device", "country")


def store_events(
    con: duckdb.DuckDBPyConnection, events: list[EventIn], lock: AbstractContextManager[Any]
) -> tuple[pd.DataFrame, int]:
    """Commit the new events of a batch; returns (the rows newly stored, the number of duplicates).

    Unknown members or titles refuse the whole batch with a `DataError` naming the first offender.
    """
    frame = pd.DataFrame([e.model_dump() for e in events], columns=list(_COLUMNS))
    frame["started_at"] = pd.to_datetime(frame["started_at"])
    frame["seconds_viewed"] = frame["seconds_viewed"].astype("int64")
    for col in ("event_id", "member_id", "title_id", "device", "country"):
        frame[col] = frame[col].astype(object)
    unique = frame.drop_duplicates("event_id", keep="first").reset_index(drop=True)
    repeated = frame.drop_duplicates(keep="first").duplicated("event_id")
    if repeated.any():  # one id, two different events in the same batch
        row = int(repeated.index[np.flatnonzero(repeated.to_numpy())[0]])  # frame's label = the batch position
        raise ConflictError(_reused(row, str(frame.at[row, "event_id"]), "used earlier in this batch"))
    with lock:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("_incoming_events", unique)
            for column, table in (("member_id", "members"), ("title_id", "titles")):
                missing = con.execute(
                    f"SELECT i.{column} FROM _incoming_events i ANTI JOIN {table} t USING ({column}) LIMIT 1"
                ).fetchall()
                if missing:
                    value = missing[0][0]
                    row = int(frame.index[frame[column] == value][0])
                    raise DataError(f"events[{row}].{column} must name a known {table[:-1]}, got '{value}'")
            changed = con.execute(
                "SELECT i.event_id FROM _incoming_events i JOIN viewing_events v USING (event_id) WHERE "
                + " OR ".join(f"v.{c} IS DISTINCT FROM i.{c}" for c in _COLUMNS[1:])
                + " LIMIT 1"
            ).fetchall()
            if changed:
                value = changed[0][0]
                raise ConflictError(_reused(int(frame.index[frame["event_id"] == value][0]), value, "stored already"))
            existing = {
                r[0]
                for r in con.execute(
                    "SELECT v.event_id FROM viewing_events v SEMI JOIN _incoming_events i USING (event_id)"
                ).fetchall()
            }
            fresh = unique[~unique["event_id"].isin(existing)].reset_index(drop=True)
            if len(fresh):
                con.register("_fresh_events", fresh)
                con.execute(
                    "INSERT INTO viewing_events (event_id, member_id, title_id, started_at, seconds_viewed, device, country) "
                    "SELECT event_id, member_id, title_id, CAST(started_at AS TIMESTAMP), CAST(seconds_viewed AS INTEGER), device, country "
                    "FROM _fresh_events"
                )
                con.unregister("_fresh_events")
            con.unregister("_incoming_events")
            con.execute("COMMIT")
        except BaseException as exc:
            rollback(con)
            with contextlib.suppress(Exception):
                con.unregister("_incoming_events")
            refused = storage_error(exc, "the store") if isinstance(exc, Exception) else None
            if refused is not None:  # a full disk: 503, nothing stored, the client retries later
                raise refused from None
            raise
    return fresh, len(frame) - len(fresh)


def _reused(row: int, event_id: str, where: str) -> str:
    """`where`: "stored already" or "used earlier in this batch"."""
    return (
        f"events[{row}].event_id '{event_id}' was {where} with other values; an event id names one event, "
        "so a resend must repeat it exactly and a new event needs a new id"
    )


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
