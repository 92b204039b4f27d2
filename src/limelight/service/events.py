"""Viewing events over HTTP: validated, idempotent by client event id, durable before the reply.

A batch is committed to the spine's `viewing_events` table in one DuckDB transaction (DuckDB
writes and syncs its write-ahead log on commit) before the service answers 2xx, so an
acknowledged event survives `kill -9`. The table's primary key is the client's event id:
sending a batch again — after a timeout, a crash, a retry — stores nothing twice.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from limelight.errors import DataError
from limelight.service.config import ID_PATTERN

__all__ = ["EventBatch", "EventIn", "EventsAccepted", "store_events"]


class EventIn(BaseModel):
    """One viewing event, as a client sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    event_id: str = Field(
        pattern=ID_PATTERN, description="The client's id for this event; resending it is harmless."
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
        except BaseException:
            con.execute("ROLLBACK")
            with contextlib.suppress(Exception):
                con.unregister("_incoming_events")
            raise
    return fresh, len(frame) - len(fresh)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
